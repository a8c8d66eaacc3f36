// SPDX-License-Identifier: MIT OR Apache-2.0
// tunneled_connector<Inner>: a connector (socketcap/io/connector.hpp) that reaches its endpoint
// through an ssh_tunnel. Every connect first makes sure the tunnel is up (starting ssh again
// if it ended, so a dead tunnel is one more failed attempt for the reconnect policy), then has
// the inner connector dial the tunnel's local end while host(), port() and the TLS name stay
// as configured, then waits for ssh to say whether the bastion opened the connection: a TCP
// connect to ssh's local end succeeds either way. Without a tunnel (null) it is the inner
// connector: one type for both, so a program that decides at run time compiles one engine.
#ifndef SOCKETCAP_IO_TUNNELED_CONNECTOR_HPP
#define SOCKETCAP_IO_TUNNELED_CONNECTOR_HPP

#include <socketcap/io/connector.hpp>
#include <socketcap/io/ssh_tunnel.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>

namespace socketcap {

/// Inner: a connector with async_connect_via(t, dial_host, dial_port, info, diag, token), as
/// tcp_connector and tls::tls_connector have.
template <class C>
concept dialable_connector =
    connector<C> && requires(const C& c, typename C::transport_type& t, connection_info& info, diagnostics& diag) {
        c.async_connect_via(t, std::string(), std::uint16_t{}, info, diag, detail::connect_handler_archetype{});
        { c.timeout() } -> std::convertible_to<std::chrono::steady_clock::duration>;
    };

template <dialable_connector Inner>
class tunneled_connector {
public:
    using transport_type = typename Inner::transport_type;

    /// `tunnel` forwards to inner's host and port (as the bastion reaches them); shared, so
    /// that copies of the connector use one ssh. Null: connect directly.
    tunneled_connector(Inner inner, std::shared_ptr<ssh_tunnel> tunnel)
        : inner_(std::move(inner)), tunnel_(std::move(tunnel)) {}

    std::unique_ptr<transport_type> make_transport(const asio::any_io_executor& ex) const {
        return inner_.make_transport(ex);
    }
    /// The tunnel (within the timeout), then the inner connect to 127.0.0.1:<local port>
    /// (within its own), then the bastion's word on the forwarded connection.
    template <class Token>
    auto async_connect(transport_type& t, connection_info& info, diagnostics& diag, Token&& token) const {
        return detail::async_spawn(t.get_executor(), connect(t, info, diag), std::forward<Token>(token));
    }
    template <class Token>
    auto async_probe(transport_type& t, diagnostics& diag, Token&& token) const {
        return inner_.async_probe(t, diag, std::forward<Token>(token));
    }
    /// "the SSH tunnel ended (…)" when ssh is gone, else the inner connector's reading.
    std::string describe_end(transport_type& t, std::error_code ec) const {
        if (tunnel_)
            if (auto why = tunnel_->end_reason(); !why.empty()) return "the SSH tunnel ended: " + why;
        return inner_.describe_end(t, ec);
    }

    decltype(auto) host() const noexcept { return inner_.host(); }
    std::uint16_t port() const noexcept { return inner_.port(); }
    std::chrono::steady_clock::duration timeout() const noexcept { return inner_.timeout(); }
    const Inner& inner() const noexcept { return inner_; }
    ssh_tunnel* tunnel() const noexcept { return tunnel_.get(); }

private:
    asio::awaitable<std::error_code> connect(transport_type& t, connection_info& info, diagnostics& diag) const {
        using asio::experimental::as_tuple;
        using asio::use_awaitable;
        if (!tunnel_) co_return std::get<0>(co_await inner_.async_connect(t, info, diag, as_tuple(use_awaitable)));
        auto ex = t.get_executor();
        auto& socket = t.lowest_layer();
        // The engine abandons an attempt by closing the socket; opening it here makes that
        // visible while no connect is under way (the connect reopens it anyway).
        std::error_code ignored;
        socket.open(asio::ip::tcp::v4(), ignored);
        auto [sec] = co_await tunnel_->async_start(ex, [&socket] { return !socket.is_open(); }, diag,
                                                   as_tuple(use_awaitable));
        if (sec) co_return sec;
        const auto mark = tunnel_->channel_mark();
        auto [ec] = co_await inner_.async_connect_via(t, "127.0.0.1", tunnel_->local_port(), info, diag,
                                                      as_tuple(use_awaitable));
        if (ec == asio::error::operation_aborted) co_return ec; // stopped
        // Connected: the bastion has the connection timeout to open it. Failed: ssh's report,
        // if any, comes at once and says more than the EOF the inner connector saw.
        auto now = std::chrono::steady_clock::now();
        auto limit = ec ? now + std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(1), timeout())
                        : now + timeout();
        diagnostics why;
        auto [cec] = co_await tunnel_->async_wait_channel(ex, mark, limit, why, as_tuple(use_awaitable));
        if (!cec) co_return ec; // the bastion opened it: the inner connector's verdict stands
        if (ec && cec == error::connect_timeout) co_return ec; // no word from ssh: keep the inner reason
        socket.close(ignored);
        diag.assign(why.message());
        co_return cec;
    }

    Inner inner_;
    std::shared_ptr<ssh_tunnel> tunnel_;
};

static_assert(connector<tunneled_connector<tcp_connector>>);

} // namespace socketcap

#endif
