// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/tls/connector.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <array>

namespace socketcap::tls {

asio::awaitable<std::error_code> tls_connector::connect(transport_type& t, std::string dial_host,
                                                        std::uint16_t dial_port, connection_info& info,
                                                        diagnostics& diag) const {
    // One deadline for both steps: a slow TCP connect leaves less time for the handshake.
    auto deadline_at = std::chrono::steady_clock::now() + timeout_;
    auto ec = co_await detail::connect_tcp(t.next_layer(), dial_host, dial_port, timeout_, info, diag);
    if (ec) co_return ec;
    auto hs = co_await handshake(t, host_, opts_, deadline_at);
    info.warning = hs.warning;
    if (hs.ec) {
        diag.assign(hs.message);
        co_return hs.ec;
    }
    info.tls_version = hs.version;
    info.tls_cipher = hs.cipher;
    co_return std::error_code{};
}

asio::awaitable<std::error_code> tls_connector::probe(transport_type& t, diagnostics& diag) const {
    using asio::experimental::as_tuple;
    diag.clear();
    asio::steady_timer timer(t.get_executor());
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(500), timeout_));
    timer.async_wait([&t](std::error_code ec) {
        std::error_code ignored;
        if (!ec) t.lowest_layer().cancel(ignored);
    });
    std::array<char, 4096> buf;
    auto [ec, n] = co_await t.async_read_some(asio::buffer(buf), as_tuple(asio::use_awaitable));
    (void)n;
    timer.cancel();
    // Quiet (cancelled), data, or a clean or abrupt close: the server took the client.
    if (!ec || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated)
        co_return std::error_code{};
    diag.assign(describe_read_error(t, ec));
    co_return classify_read_error(t, ec);
}

} // namespace socketcap::tls
