// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector concept: makes a transport and connects it within one deadline. tcp_connector
// resolves a host and tries every address; tls::tls_connector (socketcap/tls/connector.hpp)
// adds the verified handshake under the same deadline. A capture engine holds one connector
// per endpoint and calls it again for every reconnect.
#ifndef SOCKETCAP_IO_CONNECTOR_HPP
#define SOCKETCAP_IO_CONNECTOR_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/error.hpp>
#include <socketcap/io/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <string>

namespace socketcap {

/// What a connection attempt learned besides success.
struct connection_info {
    asio::ip::tcp::endpoint endpoint; ///< the address connected to
    std::string tls_version;          ///< e.g. "TLSv1.3"; empty for plain TCP
    std::string tls_cipher;           ///< e.g. "TLS13-CHACHA20-POLY1305-SHA256"
    /// Something the user should hear once per connection (TLS with verification off).
    std::string warning;
};

namespace detail {
struct connect_handler_archetype {
    void operator()(std::error_code) {}
};
} // namespace detail

/// Connector requirements (docs/design.md has the table):
///  - C::transport_type models transport; c.make_transport(executor) returns a fresh one;
///  - c.async_connect(t, info, diag, token): connects `t` within the connector's timeout and
///    completes with (error_code): error::connect_timeout at the deadline, else the failing
///    step's code; `diag` says it in a sentence, `info` says where it connected;
///  - c.async_probe(t, diag, token): after connecting, what a validation should wait for (a TLS
///    1.3 server rejects a client certificate only on the first read); completes at once for TCP;
///  - c.describe_end(t, ec): why a connection that was up ended, as a sentence;
///  - c.host(), c.port(): the configured endpoint, as documents report it.
/// Every operation requires the connector and its arguments to outlive it.
template <class C>
concept connector =
    transport<typename C::transport_type> &&
    requires(const C& c, const asio::any_io_executor& ex, typename C::transport_type& t, connection_info& info,
             diagnostics& diag, std::error_code ec) {
        { c.make_transport(ex) } -> std::same_as<std::unique_ptr<typename C::transport_type>>;
        c.async_connect(t, info, diag, detail::connect_handler_archetype{});
        c.async_probe(t, diag, detail::connect_handler_archetype{});
        { c.describe_end(t, ec) } -> std::convertible_to<std::string>;
        { c.host() } -> std::convertible_to<std::string_view>;
        { c.port() } -> std::convertible_to<std::uint16_t>;
    };

/// Plain TCP: resolve `host`, try every address (IPv6 and IPv4 alike) until one accepts, all
/// within `timeout`; TCP keepalive and no-delay on.
class tcp_connector {
public:
    using transport_type = tcp_transport;

    tcp_connector(std::string host, std::uint16_t port, std::chrono::steady_clock::duration timeout)
        : host_(std::move(host)), port_(port), timeout_(timeout) {}

    std::unique_ptr<transport_type> make_transport(const asio::any_io_executor& ex) const {
        return std::make_unique<transport_type>(ex);
    }
    template <class Token>
    auto async_connect(transport_type& t, connection_info& info, diagnostics& diag, Token&& token) const;
    /// As async_connect, but dials `dial_host`:`dial_port` instead (a tunnel's local end);
    /// host() and port() still name the endpoint.
    template <class Token>
    auto async_connect_via(transport_type& t, std::string dial_host, std::uint16_t dial_port, connection_info& info,
                           diagnostics& diag, Token&& token) const;
    template <class Token>
    auto async_probe(transport_type& t, diagnostics& diag, Token&& token) const;
    /// "the server closed the connection" for EOF, else the code's message.
    std::string describe_end(transport_type& t, std::error_code ec) const;

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    std::chrono::steady_clock::duration timeout() const noexcept { return timeout_; }

private:
    std::string host_;
    std::uint16_t port_;
    std::chrono::steady_clock::duration timeout_;
};

namespace detail {
/// The coroutine behind tcp_connector::async_connect (and the TCP half of TLS's).
asio::awaitable<std::error_code> connect_tcp(asio::ip::tcp::socket& socket, const std::string& host,
                                             std::uint16_t port, std::chrono::steady_clock::duration timeout,
                                             connection_info& info, diagnostics& diag);
/// connect_tcp that owns its host name: for a name the caller does not keep alive.
asio::awaitable<std::error_code> connect_tcp_to(asio::ip::tcp::socket& socket, std::string host, std::uint16_t port,
                                                std::chrono::steady_clock::duration timeout, connection_info& info,
                                                diagnostics& diag);
} // namespace detail

/// Connects a fresh transport of `c` and runs its probe: what a configuration check does
/// before a capture. Completes with (error_code); `info` and `diag` as for async_connect.
template <connector Connector, class Token>
auto async_check_connection(const Connector& c, const asio::any_io_executor& ex, connection_info& info,
                            diagnostics& diag, Token&& token);

} // namespace socketcap

#include <socketcap/io/impl/connector.hpp>

#endif
