// SPDX-License-Identifier: MIT OR Apache-2.0
// Downstream check (pkg-config): a session<tcp_transport, upper_codec, checkpoint_at_end> reads
// a real loopback connection and must produce exactly the expected documents.
#include <socketcap/error.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/io/sink.hpp>
#include <socketcap/io/transport.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cctype>
#include <cstdio>
#include <regex>
#include <string>

// A custom codec: each line, upper-cased in data.value, as it came in raw.
struct upper_codec {
    using framer_type = socketcap::line_framer;
    framer_type make_framer(std::size_t max) noexcept { return framer_type(max); }
    socketcap::encode_result encode(const socketcap::frame& f, socketcap::output_buffer& out) const {
        std::string upper(f.payload);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        socketcap::append(out, R"("data":{"value":)");
        socketcap::json::write_string(out, upper);
        socketcap::append(out, R"(},"raw":)");
        socketcap::json::write_string(out, f.payload);
        return socketcap::encode_result::document;
    }
    void reset() noexcept {}
};
static_assert(socketcap::codec<upper_codec>);

// A custom checkpoint policy: none while reading; the session still checkpoints at the end.
struct checkpoint_at_end {
    bool after_read(std::size_t, std::size_t) noexcept { return false; }
    void on_checkpoint() noexcept {}
};
static_assert(socketcap::checkpoint_policy<checkpoint_at_end>);

int main() {
    using asio::ip::tcp;
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = acceptor.local_endpoint().port();

    // The feed: three lines (CRLF, UTF-8, no final newline), then it closes the connection.
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto peer = co_await acceptor.async_accept(asio::use_awaitable);
        co_await asio::async_write(peer, asio::buffer(std::string_view("hello\nsocket wörld\r\nlast")),
                                   asio::use_awaitable);
        peer.shutdown(tcp::socket::shutdown_send);
    }, asio::detached);

    socketcap::tcp_transport socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});

    socketcap::session_options opts;
    opts.source_host = "127.0.0.1";
    opts.source_port = port;
    opts.write_checkpoint = [](socketcap::output_buffer& out, const socketcap::session_progress& p) {
        fmt::format_to(fmt::appender(out), "{{\"checkpoint\":{{\"documents\":{}}}}}\n", p.documents);
    };
    socketcap::session<socketcap::tcp_transport, upper_codec, checkpoint_at_end> session(socket, upper_codec{}, opts);
    socketcap::memory_sink sink(io.get_executor());
    socketcap::session_result result;
    session.async_run(sink, [&](std::exception_ptr e, socketcap::session_result r) {
        if (e) std::rethrow_exception(e);
        result = r;
    });
    io.run();

    std::string out = std::regex_replace(sink.str(), std::regex(R"("timestamp":"[^"]+")"), R"("timestamp":"T")");
    out = std::regex_replace(out, std::regex(session.session_id()), "S");
    std::string head = R"({"timestamp":"T","source_host":"127.0.0.1","source_port":)" + std::to_string(port) + ",";
    std::string expected =
        head + R"("data":{"value":"HELLO"},"raw":"hello","sequence":1,"session_id":"S"})" "\n" +
        head + R"("data":{"value":"SOCKET WöRLD"},"raw":"socket wörld","sequence":2,"session_id":"S"})" "\n" +
        head + R"("data":{"value":"LAST"},"raw":"last","partial":true,"sequence":3,"session_id":"S"})" "\n"
        R"({"checkpoint":{"documents":3}})" "\n";
    std::fputs(out.c_str(), stdout);
    if (out != expected || result.ec != asio::error::eof || result.checkpoints != 1) {
        std::fprintf(stderr, "upper_capture: unexpected output or result (%s, %llu checkpoints)\n",
                     result.ec.message().c_str(), static_cast<unsigned long long>(result.checkpoints));
        return 1;
    }
    std::puts("upper_capture: ok");
    return 0;
}
