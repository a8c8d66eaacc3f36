// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IO_IMPL_CONNECTOR_HPP
#define SOCKETCAP_IO_IMPL_CONNECTOR_HPP

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>

namespace socketcap {

namespace detail {

/// Runs `op` (a coroutine returning an error_code) as an Asio asynchronous operation that
/// completes with (error_code), so callers may pass any completion token: use_awaitable, a
/// callback, use_future. The coroutines stay an implementation detail.
template <class Token>
auto async_spawn(const asio::any_io_executor& ex, asio::awaitable<std::error_code> op, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [ex](auto handler, asio::awaitable<std::error_code> a) mutable {
            auto handler_ex = asio::get_associated_executor(handler, ex);
            asio::co_spawn(ex, std::move(a),
                           asio::bind_executor(handler_ex, [h = std::move(handler)](std::exception_ptr e,
                                                                                    std::error_code ec) mutable {
                               if (e) std::rethrow_exception(e); // bad_alloc: to the edge
                               std::move(h)(ec);
                           }));
        },
        token, std::move(op));
}

} // namespace detail

template <class Token>
auto tcp_connector::async_connect(transport_type& t, connection_info& info, diagnostics& diag, Token&& token) const {
    return detail::async_spawn(t.get_executor(), detail::connect_tcp(t, host_, port_, timeout_, info, diag),
                               std::forward<Token>(token));
}

template <class Token>
auto tcp_connector::async_connect_via(transport_type& t, std::string dial_host, std::uint16_t dial_port,
                                      connection_info& info, diagnostics& diag, Token&& token) const {
    return detail::async_spawn(t.get_executor(),
                               detail::connect_tcp_to(t, std::move(dial_host), dial_port, timeout_, info, diag),
                               std::forward<Token>(token));
}

template <class Token>
auto tcp_connector::async_probe(transport_type& t, diagnostics& diag, Token&& token) const {
    diag.clear();
    return asio::async_initiate<Token, void(std::error_code)>(
        [ex = t.get_executor()](auto handler) {
            auto handler_ex = asio::get_associated_executor(handler, ex);
            asio::post(handler_ex, [h = std::move(handler)]() mutable { std::move(h)(std::error_code{}); });
        },
        token);
}

template <connector Connector, class Token>
auto async_check_connection(const Connector& c, const asio::any_io_executor& ex, connection_info& info,
                            diagnostics& diag, Token&& token) {
    auto op = [](const Connector& c, asio::any_io_executor ex, connection_info& info,
                 diagnostics& diag) -> asio::awaitable<std::error_code> {
        auto t = c.make_transport(ex);
        auto [ec] = co_await c.async_connect(*t, info, diag, asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) co_return ec;
        auto [pec] = co_await c.async_probe(*t, diag, asio::experimental::as_tuple(asio::use_awaitable));
        co_return pec;
    };
    return detail::async_spawn(ex, op(c, ex, info, diag), std::forward<Token>(token));
}

static_assert(connector<tcp_connector>);

} // namespace socketcap

#endif
