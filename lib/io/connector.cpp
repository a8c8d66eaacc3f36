// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/io/connector.hpp>
#include <socketcap/io/deadline.hpp>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/socket_base.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

namespace socketcap {

namespace {

std::string seconds_text(std::chrono::steady_clock::duration d) {
    return fmt::format("{}s", std::chrono::duration<double>(d).count());
}

/// Why a socket could not be opened; out of descriptors names the limit.
std::string open_failure(std::error_code ec) {
    rlimit lim{};
    if (ec == asio::error::no_descriptors && ::getrlimit(RLIMIT_NOFILE, &lim) == 0)
        return fmt::format("cannot open a socket: {} (RLIMIT_NOFILE is {})", ec.message(), lim.rlim_cur);
    return fmt::format("cannot open a socket: {}", ec.message());
}

} // namespace

namespace detail {

asio::awaitable<std::error_code> connect_tcp(asio::ip::tcp::socket& socket, const std::string& host,
                                             std::uint16_t port, std::chrono::steady_clock::duration timeout,
                                             connection_info& info, diagnostics& diag) {
    using asio::experimental::as_tuple;
    using asio::use_awaitable;
    diag.clear();
    asio::ip::tcp::resolver resolver(socket.get_executor());
    // The deadline cancels whichever step is running.
    deadline<> limit(socket.get_executor(), std::chrono::steady_clock::now() + timeout, [&] {
        resolver.cancel();
        std::error_code ignored;
        socket.cancel(ignored);
        socket.close(ignored);
    });
    auto timed_out = [&] {
        diag.assign(fmt::format("no connection within connection_timeout ({})", seconds_text(timeout)));
        return make_error_code(error::connect_timeout);
    };

    auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), as_tuple(use_awaitable));
    if (limit.expired()) co_return timed_out();
    if (rec) {
        diag.assign(fmt::format("cannot resolve host \"{}\": {}", host, rec.message()));
        co_return rec;
    }
    // Each address in turn, opening the socket here rather than through asio::async_connect:
    // that reports a socket that could not be opened (out of descriptors, an address family
    // the kernel lacks) as operation_aborted and tries no further address.
    std::error_code last = asio::error::host_not_found;
    asio::ip::tcp::endpoint ep;
    for (const auto& entry : endpoints) {
        std::error_code ignored;
        socket.close(ignored);
        std::error_code oec;
        socket.open(entry.endpoint().protocol(), oec);
        if (oec) {
            diag.assign(open_failure(oec));
            last = oec;
            continue;
        }
        auto [cec] = co_await socket.async_connect(entry.endpoint(), as_tuple(use_awaitable));
        if (limit.expired()) co_return timed_out();
        if (!cec) {
            ep = entry.endpoint();
            last.clear();
            break;
        }
        diag.assign(cec.message());
        last = cec;
        if (cec == asio::error::operation_aborted) break; // cancelled or closed by a stop
    }
    limit.finish();
    if (last) {
        std::error_code ignored;
        socket.close(ignored);
        co_return last;
    }
    diag.clear();
    info.endpoint = ep;
    std::error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    co_return std::error_code{};
}

asio::awaitable<std::error_code> connect_tcp_to(asio::ip::tcp::socket& socket, std::string host, std::uint16_t port,
                                                std::chrono::steady_clock::duration timeout, connection_info& info,
                                                diagnostics& diag) {
    co_return co_await connect_tcp(socket, host, port, timeout, info, diag);
}

} // namespace detail

std::string tcp_connector::describe_end(transport_type&, std::error_code ec) const {
    if (ec == asio::error::eof) return "the server closed the connection";
    return ec.message();
}

} // namespace socketcap
