// SPDX-License-Identifier: MIT OR Apache-2.0
// The Flow protocol mode (no arguments): one request on stdin, its response on stdout.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_PROTOCOL_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_PROTOCOL_HPP

#include <socketcap/flow/config.hpp>
#include <socketcap/flow/request.hpp>

#include <string>
#include <string_view>

namespace source_socket {

/// Reads the request, answers it (open: runs the capture) and returns the exit code.
int run_protocol();

/// The checks validate does before connecting: the config, the bindings (exactly one, with a
/// stream), TLS files, and TLS availability. Every problem, joined by "; " on one line; empty
/// when all is well. `streams` receives the bindings' stream names.
std::string check_capture(const socketcap::flow::parsed<socketcap::flow::endpoint_config>& config,
                          const std::vector<socketcap::flow::binding_request>& bindings,
                          std::vector<std::string>& streams);

/// The message for a config asking for TLS in a build without it (empty if fine).
std::string check_tls_support(const socketcap::flow::endpoint_config& config);

/// Writes all of `s` to stdout (blocking until it is out).
bool write_stdout(std::string_view s);

} // namespace source_socket

#endif
