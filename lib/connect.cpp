// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/connect.hpp>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>

namespace socketcap {

asio::awaitable<connect_result> async_connect(asio::ip::tcp::socket& socket, std::string host, std::uint16_t port,
                                              std::chrono::steady_clock::duration timeout) {
    using asio::experimental::as_tuple;
    using asio::use_awaitable;
    connect_result result;

    // The deadline cancels whichever step is running; shared so that a handler still queued
    // after we return touches nothing of ours.
    struct deadline_state {
        explicit deadline_state(const asio::any_io_executor& ex) : timer(ex), resolver(ex) {}
        asio::steady_timer timer;
        asio::ip::tcp::resolver resolver;
        asio::ip::tcp::socket* socket = nullptr;
        bool expired = false;
    };
    auto st = std::make_shared<deadline_state>(socket.get_executor());
    st->socket = &socket;
    st->timer.expires_after(timeout);
    st->timer.async_wait([weak = std::weak_ptr<deadline_state>(st)](std::error_code ec) {
        auto s = weak.lock();
        if (ec || !s || s->socket == nullptr) return;
        s->expired = true;
        s->resolver.cancel();
        std::error_code ignored;
        s->socket->cancel(ignored);
        s->socket->close(ignored);
    });
    auto finish = [&](error_code ec, std::string_view stage) {
        if (st->expired) ec = error::connect_timeout;
        st->socket = nullptr;
        st->timer.cancel();
        result.ec = ec;
        result.stage = ec ? stage : std::string_view{};
        return result;
    };

    auto [rec, endpoints] = co_await st->resolver.async_resolve(host, std::to_string(port), as_tuple(use_awaitable));
    if (rec || st->expired) co_return finish(rec ? rec : asio::error::operation_aborted, "resolve");

    auto [cec, ep] = co_await asio::async_connect(socket, endpoints, as_tuple(use_awaitable));
    if (cec || st->expired) {
        std::error_code ignored;
        socket.close(ignored);
        co_return finish(cec ? cec : asio::error::operation_aborted, "connect");
    }
    result.endpoint = ep;
    std::error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return finish({}, "");
}

} // namespace socketcap
