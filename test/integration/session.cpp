// SPDX-License-Identifier: MIT OR Apache-2.0
// session<tcp_transport, Codec> end to end: a server coroutine on 127.0.0.1 writes bytes, the
// session turns them into documents and checkpoints in a sink the test controls.
#include <socketcap/json_codec.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/text_codec.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

using namespace socketcap;
using namespace std::chrono_literals;
using asio::ip::tcp;

namespace {

// A sink whose writes complete at once while open, and wait for open() while closed.
class gated_sink {
public:
    using executor_type = asio::any_io_executor;

    explicit gated_sink(executor_type ex, bool open = true) : ex_(std::move(ex)), open_(open) {}

    executor_type get_executor() const noexcept { return ex_; }
    const std::string& str() const noexcept { return data_; }
    std::size_t writes() const noexcept { return writes_; }
    bool blocked() const noexcept { return static_cast<bool>(pending_); }
    std::function<void()> on_write; // called when a write has completed

    void open() {
        open_ = true;
        if (pending_) std::exchange(pending_, {})();
    }

    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer buf) {
                auto h = std::make_shared<decltype(handler)>(std::move(handler));
                pending_ = [this, h, buf] {
                    data_.append(static_cast<const char*>(buf.data()), buf.size());
                    ++writes_;
                    auto ex = asio::get_associated_executor(*h, ex_);
                    asio::post(ex, [h, n = buf.size()] { (*h)(std::error_code{}, n); });
                    if (on_write) on_write();
                };
                if (open_) std::exchange(pending_, {})();
            },
            token, b);
    }

private:
    executor_type ex_;
    bool open_;
    std::string data_;
    std::size_t writes_ = 0;
    std::function<void()> pending_;
};

static_assert(sink<gated_sink>);

// A connected client/server pair on 127.0.0.1.
struct loopback {
    asio::io_context ctx;
    tcp::socket client{ctx};
    tcp::socket server{ctx};

    explicit loopback(int buffer_size = 0) {
        tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        client.open(tcp::v4());
        if (buffer_size) client.set_option(asio::socket_base::receive_buffer_size(buffer_size));
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        if (buffer_size) server.set_option(asio::socket_base::send_buffer_size(buffer_size));
    }
};

session_options options() {
    session_options o;
    o.source_host = "127.0.0.1";
    o.source_port = 5514;
    o.write_checkpoint = [](output_buffer& out, const session_progress& p) {
        fmt::format_to(fmt::appender(out), "CHECKPOINT {} seq={} bytes={} docs={}\n", p.session_id, p.sequence,
                       p.bytes, p.documents);
    };
    return o;
}

// Checks every timestamp (YYYY-MM-DDTHH:MM:SS.ffffffZ) and replaces it with T, and the
// session id with SID. Linear: outputs of the back-pressure test are megabytes long.
std::string normalise(const std::string& out, const std::string& session_id) {
    static const std::string key = R"("timestamp":")";
    static const std::string_view shape = "dddd-dd-ddTdd:dd:dd.ddddddZ\"";
    std::string s;
    s.reserve(out.size());
    std::size_t bad = 0;
    for (std::size_t at = 0; at < out.size();) {
        auto ts = out.find(key, at);
        auto id = out.find(session_id, at);
        if (ts == std::string::npos && id == std::string::npos) {
            s.append(out, at);
            break;
        }
        if (ts < id) {
            s.append(out, at, ts - at).append(key).append("T\"");
            std::string_view v = std::string_view(out).substr(ts + key.size(), shape.size());
            bool ok = v.size() == shape.size();
            for (std::size_t k = 0; ok && k < v.size(); ++k)
                ok = shape[k] == 'd' ? (v[k] >= '0' && v[k] <= '9') : v[k] == shape[k];
            bad += !ok;
            at = ts + key.size() + shape.size();
        } else {
            s.append(out, at, id - at).append("SID");
            at = id + session_id.size();
        }
    }
    CHECK(bad == 0);
    return s;
}

std::string doc(std::string_view body, std::uint64_t seq, bool partial = false) {
    return R"({"timestamp":"T","source_host":"127.0.0.1","source_port":5514,)" + std::string(body) +
           (partial ? R"(,"partial":true)" : "") + R"(,"sequence":)" + std::to_string(seq) +
           R"(,"session_id":"SID"})" + "\n";
}

std::string line_doc(std::string_view v, std::uint64_t seq, bool partial = false) {
    std::string s(v);
    return doc(R"("data":{"value":")" + s + R"("},"raw":")" + s + "\"", seq, partial);
}

std::string checkpoint(std::uint64_t seq, std::uint64_t bytes) {
    return "CHECKPOINT SID seq=" + std::to_string(seq) + " bytes=" + std::to_string(bytes) +
           " docs=" + std::to_string(seq) + "\n";
}

// Runs the session to its end (at most 20 s) with `server` scripted alongside it.
template <class Session, class Sink>
session_result run(loopback& net, Session& s, Sink& sink, std::function<asio::awaitable<void>()> server) {
    std::optional<session_result> result;
    asio::co_spawn(net.ctx, s.run(sink), [&](std::exception_ptr e, session_result r) {
        if (e) std::rethrow_exception(e);
        result = r;
        net.ctx.stop();
    });
    if (server) asio::co_spawn(net.ctx, server(), [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    net.ctx.run_for(20s);
    REQUIRE(result.has_value());
    return *result;
}

// Writes `bytes` in one send, then closes (or only shuts down sending).
std::function<asio::awaitable<void>()> send_then(tcp::socket& sock, std::string bytes, bool close = true) {
    return [&sock, bytes = std::move(bytes), close]() -> asio::awaitable<void> {
        co_await asio::async_write(sock, asio::buffer(bytes), asio::use_awaitable);
        if (close) {
            sock.shutdown(tcp::socket::shutdown_both);
            sock.close();
        } else {
            sock.shutdown(tcp::socket::shutdown_send);
        }
    };
}

} // namespace

TEST_CASE("session<tcp, line_codec>: documents and checkpoints end to end, a partial last line") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    session<tcp_transport, line_codec> s(net.client, line_codec{}, options());
    std::string payload = "hello\r\n\nw\"orld\ntail";
    auto r = run(net, s, sink, send_then(net.server, payload));
    CHECK(r.ec == asio::error::eof);
    CHECK_FALSE(r.sink_failed);
    CHECK(r.bytes == payload.size());
    CHECK(r.documents == 4);
    CHECK(r.checkpoints == 2);
    CHECK(r.stats.partial_frames == 1);
    CHECK(normalise(sink.str(), s.session_id()) ==
          line_doc("hello", 1) + line_doc("", 2) + line_doc("w\\\"orld", 3) + checkpoint(3, payload.size()) +
              line_doc("tail", 4, true) + checkpoint(4, payload.size()));
}

TEST_CASE("session<tcp, line_codec>: a stream ending in CR without LF keeps the CR in its partial document") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    session<tcp_transport, line_codec> s(net.client, line_codec{}, options());
    std::string payload = "one\r\ntwo\r";
    auto r = run(net, s, sink, send_then(net.server, payload));
    CHECK(r.ec == asio::error::eof);
    CHECK(r.bytes == payload.size());
    CHECK(r.documents == 2);
    CHECK(r.stats.partial_frames == 1);
    CHECK(normalise(sink.str(), s.session_id()) ==
          line_doc("one", 1) + checkpoint(1, payload.size()) + line_doc("two\\r", 2, true) +
              checkpoint(2, payload.size()));
}

TEST_CASE("session<tcp, json_codec>: objects verbatim, error documents, blank lines skipped") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    session<tcp_transport, json_codec> s(net.client, json_codec{}, options());
    std::string payload = "\xEF\xBB\xBF{ \"a\" : [1, 2] }\n\n{\"b\":1,}\r\n[1]\n{\"c\":\"\\ud83d\\ude00\"}\n{\"d\":";
    auto r = run(net, s, sink, send_then(net.server, payload));
    CHECK(r.ec == asio::error::eof);
    CHECK(r.documents == 5);
    CHECK(r.stats.error_documents == 3);
    CHECK(r.stats.blank_frames == 1);
    CHECK(normalise(sink.str(), s.session_id()) ==
          doc(R"("data":{ "a" : [1, 2] })", 1) +
              doc(R"("data":{"_error":true,"_error_message":"invalid JSON: expected a string key after ',' at byte 7","_raw":"{\"b\":1,}"})", 2) +
              doc(R"("data":{"_error":true,"_error_message":"expected a JSON object, got an array","_raw":"[1]"})", 3) +
              doc(R"("data":{"c":"\ud83d\ude00"})", 4) + checkpoint(4, payload.size()) +
              doc(R"j("data":{"_error":true,"_error_message":"invalid JSON: expected a value after ':' at byte 5 (the stream ended before the line's newline)","_raw":"{\"d\":"})j",
                  5, true) +
              checkpoint(5, payload.size()));
}

TEST_CASE("session: the server half-closes after sending") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    session<tcp_transport, line_codec> s(net.client, line_codec{}, options());
    auto r = run(net, s, sink, send_then(net.server, "a\nb", false));
    CHECK(r.ec == asio::error::eof);
    CHECK(normalise(sink.str(), s.session_id()) == line_doc("a", 1) + checkpoint(1, 3) + line_doc("b", 2, true) + checkpoint(2, 3));
    CHECK(net.server.is_open()); // the server's end is still there, only its sending side is shut
}

TEST_CASE("session: idle timeout ends the session with error::idle_timeout") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    auto o = options();
    o.idle_timeout = 300ms;
    session<tcp_transport, line_codec> s(net.client, line_codec{}, o);
    auto start = std::chrono::steady_clock::now();
    // The server sends once, then stays connected and silent.
    auto r = run(net, s, sink, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(net.server, asio::buffer(std::string_view("first\npending")), asio::use_awaitable);
    });
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(r.ec == socketcap::error::idle_timeout);
    CHECK(r.ec.message() == "no data received within idle_timeout");
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 15s);
    CHECK(normalise(sink.str(), s.session_id()) ==
          line_doc("first", 1) + checkpoint(1, 13) + line_doc("pending", 2, true) + checkpoint(2, 13));
}

TEST_CASE("session: stop() ends promptly with operation_aborted and checkpoints pending documents") {
    loopback net;
    gated_sink sink(net.ctx.get_executor());
    // No checkpoint after reads: the only one is the final checkpoint at stop().
    session<tcp_transport, line_codec, checkpoint_every> s(net.client, line_codec{}, options(), checkpoint_every{});
    asio::steady_timer later(net.ctx);
    std::chrono::steady_clock::time_point stopped_at;
    sink.on_write = [&] {
        if (sink.writes() != 1) return;
        // The documents of the first read are out; stop while the next read is pending.
        later.expires_after(50ms);
        later.async_wait([&](std::error_code) {
            stopped_at = std::chrono::steady_clock::now();
            s.stop();
        });
    };
    auto r = run(net, s, sink, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(net.server, asio::buffer(std::string_view("x\ny\nhalf")), asio::use_awaitable);
    });
    auto took = std::chrono::steady_clock::now() - stopped_at;
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK(took < 5s);
    CHECK(r.checkpoints == 1);
    CHECK(normalise(sink.str(), s.session_id()) ==
          line_doc("x", 1) + line_doc("y", 2) + line_doc("half", 3, true) + checkpoint(3, 8));
}

TEST_CASE("session: back-pressure stops reading while the sink is blocked, nothing is lost") {
    loopback net(32 * 1024);
    gated_sink sink(net.ctx.get_executor(), false);
    auto o = options();
    o.pipeline.read_size = 16 * 1024;
    session<tcp_transport, line_codec> s(net.client, line_codec{}, o);

    // 8 MiB of 1 KiB lines: far more than the socket buffers hold.
    const std::size_t lines = 8192;
    auto line = [](std::size_t i) {
        std::string l = fmt::format("{:08}", i);
        l.resize(1023, static_cast<char>('a' + i % 26));
        return l;
    };
    std::size_t sent = 0;
    bool server_done = false;
    std::optional<session_result> result;
    asio::co_spawn(net.ctx, s.run(sink), [&](std::exception_ptr e, session_result r) {
        if (e) std::rethrow_exception(e);
        result = r;
    });
    asio::co_spawn(net.ctx, [&]() -> asio::awaitable<void> {
        std::string chunk;
        for (std::size_t i = 1; i <= lines; ++i) {
            chunk += line(i) + "\n";
            if (chunk.size() >= 64 * 1024 || i == lines) {
                co_await asio::async_write(net.server, asio::buffer(chunk), asio::use_awaitable);
                sent += chunk.size();
                chunk.clear();
            }
        }
        net.server.shutdown(tcp::socket::shutdown_send);
        server_done = true;
    }, asio::detached);

    net.ctx.run_for(500ms);
    // The sink holds the first read's documents: no further read, so the server is stuck.
    CHECK(sink.blocked());
    CHECK(sink.writes() == 0);
    CHECK_FALSE(server_done);
    CHECK(sent < lines * 1024 / 2);
    CHECK(s.get_pipeline().stats().bytes <= o.pipeline.read_size);
    auto read_while_blocked = s.get_pipeline().stats().bytes;
    net.ctx.run_for(200ms);
    CHECK(s.get_pipeline().stats().bytes == read_while_blocked);

    sink.open();
    for (int i = 0; i < 200 && !result; ++i) net.ctx.run_for(100ms);
    REQUIRE(result.has_value());
    CHECK(server_done);
    CHECK(result->ec == asio::error::eof);
    CHECK(result->bytes == lines * 1024);
    CHECK(result->documents == lines);

    // Documents exact and in order; checkpoints (one per read) count up to all of them.
    std::string docs, cps;
    const std::string& out = sink.str();
    for (std::size_t at = 0; at < out.size();) {
        auto nl = out.find('\n', at);
        REQUIRE(nl != std::string::npos);
        (out.compare(at, 10, "CHECKPOINT") == 0 ? cps : docs) += out.substr(at, nl + 1 - at);
        at = nl + 1;
    }
    std::string want;
    for (std::size_t i = 1; i <= lines; ++i) want += line_doc(line(i), i);
    CHECK(normalise(docs, s.session_id()) == want);
    CHECK(std::count(cps.begin(), cps.end(), '\n') == static_cast<long>(result->checkpoints));
    CHECK(cps.substr(cps.rfind("CHECKPOINT")) ==
          fmt::format("CHECKPOINT {} seq={} bytes={} docs={}\n", s.session_id(), lines, lines * 1024, lines));
}

TEST_CASE("session: time blocked on a slow sink is not idleness; the server's silence after it is") {
    loopback net;
    gated_sink sink(net.ctx.get_executor(), false);
    auto o = options();
    o.idle_timeout = 200ms;
    session<tcp_transport, line_codec> s(net.client, line_codec{}, o);
    asio::steady_timer gate(net.ctx);
    std::chrono::steady_clock::time_point opened;
    auto r = run(net, s, sink, [&]() -> asio::awaitable<void> {
        co_await asio::async_write(net.server, asio::buffer(std::string_view("a\n")), asio::use_awaitable);
        // The sink holds the first write for longer than idle_timeout.
        gate.expires_after(600ms);
        co_await gate.async_wait(asio::use_awaitable);
        opened = std::chrono::steady_clock::now();
        sink.open();
        co_await asio::async_write(net.server, asio::buffer(std::string_view("b\n")), asio::use_awaitable);
        // Then the server stays connected and silent.
    });
    auto silent_for = std::chrono::steady_clock::now() - opened;
    CHECK(r.ec == socketcap::error::idle_timeout);
    CHECK(silent_for >= 200ms);
    CHECK(normalise(sink.str(), s.session_id()) ==
          line_doc("a", 1) + checkpoint(1, 2) + line_doc("b", 2) + checkpoint(2, 4));
}
