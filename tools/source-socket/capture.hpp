// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector's capture (the library's capture_engine with the Flow envelope and logs), and
// the one-connection check of validate and `check`.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_CAPTURE_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_CAPTURE_HPP

#include <socketcap/flow/config.hpp>
#include <socketcap/flow/request.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace source_socket {

/// One binding this process captures: its endpoint and its state.
struct capture_binding {
    std::uint32_t index = 0;                  ///< its place in open's bindings (captured.binding)
    std::string stream;
    std::string state_key;                    ///< bindingStateV1 key of its checkpoints
    socketcap::flow::endpoint_config config;  ///< the endpoint it dials (endpoint_for)
    socketcap::flow::binding_state initial;   ///< from open.state: totals carry on from it
};

struct capture_options {
    /// The endpoint configuration: codec, framing, TLS and the rest every binding shares.
    socketcap::flow::endpoint_config config;
    /// The bindings this process dials; with the Flow protocol, those its key range owns (none:
    /// an idle shard). Empty without the Flow protocol: the config's endpoint, as binding 0.
    std::vector<capture_binding> bindings;
    /// true: Flow `captured` messages and checkpoints; false: plain NDJSON documents.
    bool flow_protocol = true;
    std::uint64_t max_documents = 0;          ///< stop after this many documents; 0 = never
    bool stop_on_stdin_eof = true;            ///< the Flow runtime ends a session by closing stdin
    /// opened said explicitAcknowledgements: stdin carries acknowledge lines, and committed
    /// checkpoints' acks go to the server.
    bool explicit_acknowledgements = false;
};

/// Runs until stopped (stdin EOF, SIGTERM, SIGINT, max_documents) → 0, or until a fatal error
/// (reconnect attempts exhausted, stdout closed) → 1 with the reason logged last.
int run_capture(const capture_options& opts);


/// Error text for a failed connection check, or empty when host:port accepted a connection
/// within connection_timeout (with TLS: a verified handshake, and a first read that the server
/// did not answer with an alert — TLS 1.3 servers reject a missing client certificate there). `address` receives the connected address.
std::string check_connection(const socketcap::flow::endpoint_config& config, std::string* address = nullptr);

} // namespace source_socket

#endif
