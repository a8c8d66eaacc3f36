// SPDX-License-Identifier: MIT OR Apache-2.0
// Resolving and connecting a TCP socket within a deadline. Every resolved address is tried in
// turn (IPv6 and IPv4 alike) until one accepts; TCP keepalive is switched on so that a peer
// that vanished is eventually noticed even without idle_timeout.
#ifndef SOCKETCAP_CONNECT_HPP
#define SOCKETCAP_CONNECT_HPP

#include <socketcap/error.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace socketcap {

struct connect_result {
    /// Empty on success; error::connect_timeout when the deadline passed, else the error of the
    /// resolver or of the last address tried.
    error_code ec;
    asio::ip::tcp::endpoint endpoint; ///< the address connected to
    /// What failed, for messages: "resolve", "connect", "handshake" or "" on success.
    std::string_view stage;
    /// A sentence when the code alone says too little (a TLS layer's explanation); may be empty.
    std::string message;
};

/// Resolves `host`, then connects `socket` (closed, owned by the caller) to the first resolved
/// address that accepts, all within `timeout`. Completes on the socket's executor.
asio::awaitable<connect_result> async_connect(asio::ip::tcp::socket& socket, std::string host, std::uint16_t port,
                                              std::chrono::steady_clock::duration timeout);

} // namespace socketcap

#endif
