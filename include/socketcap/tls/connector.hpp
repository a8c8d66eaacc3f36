// SPDX-License-Identifier: MIT OR Apache-2.0
// tls_connector: TCP connect and the verified TLS handshake under one deadline, as a model of
// the connector concept (socketcap/io/connector.hpp).
#ifndef SOCKETCAP_TLS_CONNECTOR_HPP
#define SOCKETCAP_TLS_CONNECTOR_HPP

#include <socketcap/io/connector.hpp>
#include <socketcap/tls/tls.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace socketcap::tls {

class tls_connector {
public:
    using transport_type = tls_transport;

    /// `context` from make_context(opts), shared by every connection; `opts` as given to it.
    tls_connector(std::string host, std::uint16_t port, std::chrono::steady_clock::duration timeout,
                  std::shared_ptr<asio::ssl::context> context, client_options opts)
        : host_(std::move(host)), port_(port), timeout_(timeout), context_(std::move(context)), opts_(std::move(opts)) {}

    std::unique_ptr<transport_type> make_transport(const asio::any_io_executor& ex) const {
        return std::make_unique<transport_type>(ex, *context_);
    }
    /// TCP connect, then the handshake (server name and certificate verified per the options);
    /// info receives the TLS version and cipher, and the warning when verification is off.
    template <class Token>
    auto async_connect(transport_type& t, connection_info& info, diagnostics& diag, Token&& token) const {
        return detail::async_spawn(t.get_executor(), connect(t, host_, port_, info, diag), std::forward<Token>(token));
    }
    /// As async_connect, but the TCP connection goes to `dial_host`:`dial_port` (a tunnel's
    /// local end); the handshake still sends and verifies the configured name (server_hostname,
    /// else host()).
    template <class Token>
    auto async_connect_via(transport_type& t, std::string dial_host, std::uint16_t dial_port, connection_info& info,
                           diagnostics& diag, Token&& token) const {
        return detail::async_spawn(t.get_executor(), connect(t, std::move(dial_host), dial_port, info, diag),
                                   std::forward<Token>(token));
    }
    /// Waits briefly (500 ms, or the timeout if shorter) for a first read: a TLS 1.3 server
    /// rejects a missing or untrusted client certificate only then, with an alert.
    template <class Token>
    auto async_probe(transport_type& t, diagnostics& diag, Token&& token) const {
        return detail::async_spawn(t.get_executor(), probe(t, diag), std::forward<Token>(token));
    }
    /// The TLS reading of why a connection ended (close_notify, truncation, alerts such as
    /// certificate_required, a declined renegotiation).
    std::string describe_end(transport_type& t, std::error_code ec) const { return describe_read_error(t, ec); }

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    std::chrono::steady_clock::duration timeout() const noexcept { return timeout_; }
    const client_options& options() const noexcept { return opts_; }

private:
    asio::awaitable<std::error_code> connect(transport_type& t, std::string dial_host, std::uint16_t dial_port,
                                             connection_info& info, diagnostics& diag) const;
    asio::awaitable<std::error_code> probe(transport_type& t, diagnostics& diag) const;

    std::string host_;
    std::uint16_t port_;
    std::chrono::steady_clock::duration timeout_;
    std::shared_ptr<asio::ssl::context> context_;
    client_options opts_;
};

static_assert(connector<tls_connector>);

} // namespace socketcap::tls

#endif
