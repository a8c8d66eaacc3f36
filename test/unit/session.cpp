// SPDX-License-Identifier: MIT OR Apache-2.0
// session on the scripted transport and the manual clock: idle timeouts to the nanosecond,
// reads split anywhere, transport errors, with no socket and no sleep.
#include <socketcap/chunk_framer.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/testing/manual_clock.hpp>
#include <socketcap/testing/scripted_transport.hpp>
#include <socketcap/text_codec.hpp>

#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/tls.hpp>
#include <asio/ssl/stream.hpp>
#endif

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

using namespace socketcap;
using namespace std::chrono_literals;
using testing::manual_clock;
using transport_t = testing::scripted_transport<>;
/// The socket double: a session waits for its readability while the buffer is empty.
using socket_t = testing::scripted_transport<testing::manual_timer, true>;
template <class Transport>
using per_read_session = session<Transport, line_codec, checkpoint_per_read, testing::manual_timer>;
template <class Transport>
using every_session = session<Transport, line_codec, checkpoint_every, testing::manual_timer>;

namespace {

/// Each document's fields from "data" up to "sequence" (the timestamp and id vary), and the
/// checkpoint lines as they are.
std::vector<std::string> bodies(const std::string& out) {
    std::vector<std::string> v;
    for (std::size_t at = 0; at < out.size();) {
        auto nl = out.find('\n', at);
        std::string line = out.substr(at, nl - at);
        at = nl + 1;
        auto b = line.find(R"("data":)");
        auto e = line.find(R"(,"sequence":)");
        v.push_back(b == std::string::npos || e == std::string::npos ? line : line.substr(b, e - b));
    }
    return v;
}

std::string text(std::string_view value, bool partial = false) {
    std::string s = fmt::format(R"("data":{{"value":"{}"}},"raw":"{}")", value, value);
    if (partial) s += R"(,"partial":true)";
    return s;
}

template <class Session>
struct transport_of;
template <class T, class C, class P, class Tm, class F>
struct transport_of<session<T, C, P, Tm, F>> {
    using type = T;
};

template <class Session>
struct basic_harness {
    asio::io_context ctx;
    typename transport_of<Session>::type transport{ctx.get_executor()};
    memory_sink sink{ctx.get_executor()};
    std::optional<session_result> result;
    std::unique_ptr<Session> s;

    explicit basic_harness(std::chrono::steady_clock::duration idle = {}, auto... policy_and_framer) {
        manual_clock::reset();
        session_options o;
        o.source_host = "h";
        o.source_port = 7;
        o.idle_timeout = idle;
        o.write_checkpoint = [](output_buffer& out, const session_progress& p) {
            append(out, fmt::format("checkpoint {} {}\n", p.sequence, p.documents));
        };
        s = std::make_unique<Session>(transport, line_codec{}, std::move(o), policy_and_framer...);
    }
    void start() {
        s->async_run(sink, [this](std::exception_ptr e, session_result r) {
            REQUIRE(!e);
            result = r;
        });
        ctx.poll();
    }
    void advance(std::chrono::nanoseconds d) {
        manual_clock::advance(d);
        ctx.poll();
    }
};


} // namespace

TEMPLATE_TEST_CASE("session: the idle timeout ends a silent read at exactly the limit, in manual time",
                   "", transport_t, socket_t) {
    using harness = basic_harness<per_read_session<TestType>>;
    harness h(5s);
    h.transport.data("a\n").pause(10s).data("b\n");
    h.start();
    CHECK(!h.result);
    h.advance(4999ms);
    CHECK(!h.result);
    h.advance(999'999ns);
    CHECK(!h.result); // one nanosecond short
    h.advance(1ns);
    REQUIRE(h.result);
    CHECK(h.result->ec == error::idle_timeout);
    CHECK(h.result->documents == 1);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1"});
}

TEMPLATE_TEST_CASE("session: a pause shorter than the idle limit keeps the session, and the timer restarts per read",
                   "", transport_t, socket_t) {
    using harness = basic_harness<per_read_session<TestType>>;
    harness h(5s);
    h.transport.data("a\n").pause(4s).data("b\n").pause(4s).data("c\n").eof();
    h.start();
    h.advance(4s);
    CHECK(!h.result);
    h.advance(4s); // 8 s since the start, 4 s since the last bytes
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(h.result->documents == 3);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1", text("b"), "checkpoint 2 2",
                                                           text("c"), "checkpoint 3 3"});
}

TEMPLATE_TEST_CASE("session: the same documents wherever the reads split the stream",
                   "", transport_t, socket_t) {
    using harness = basic_harness<per_read_session<TestType>>;
    const std::string input = "one\r\ntwo\n\nthree";
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        INFO("cut at " << cut);
        harness h;
        h.transport.data(input.substr(0, cut)).data(input.substr(cut)).eof();
        h.start();
        REQUIRE(h.result);
        CHECK(h.result->ec == asio::error::eof);
        CHECK(h.result->documents == 4);
        std::vector<std::string> docs;
        for (auto& b : bodies(h.sink.str()))
            if (b.rfind("checkpoint", 0) != 0) docs.push_back(b);
        CHECK(docs == std::vector<std::string>{text("one"), text("two"), text(""), text("three", true)});
        CHECK(h.transport.played());
    }
}

TEMPLATE_TEST_CASE("session: a transport error ends it with that error; what was read is written and checkpointed",
                   "", transport_t, socket_t) {
    using harness = basic_harness<per_read_session<TestType>>;
    harness h;
    h.transport.data("x\ny").fail(asio::error::connection_reset).data("never read\n");
    h.start();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::connection_reset);
    CHECK_FALSE(h.result->sink_failed);
    CHECK(h.result->documents == 2);
    CHECK(h.result->checkpoints == 2);
    CHECK(bodies(h.sink.str()) ==
          std::vector<std::string>{text("x"), "checkpoint 1 1", text("y", true), "checkpoint 2 2"});
    CHECK(h.transport.reads() == 2);
    CHECK_FALSE(h.transport.played());
}

TEMPLATE_TEST_CASE("session: stop() during a silent read ends it at once with operation_aborted",
                   "", transport_t, socket_t) {
    using harness = basic_harness<per_read_session<TestType>>;
    harness h(1h);
    h.transport.data("a\npart");
    h.start();
    CHECK(!h.result);
    h.s->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::operation_aborted);
    CHECK(bodies(h.sink.str()) ==
          std::vector<std::string>{text("a"), "checkpoint 1 1", text("part", true), "checkpoint 2 2"});
}

// The checkpoint policy's latency bound, on the manual clock.
namespace {
checkpoint_every every_1000_or_2s() { return checkpoint_every{.documents = 1000, .latency = 2s}; }
} // namespace

TEMPLATE_TEST_CASE("session: checkpoint_every's latency checkpoints a pending document after exactly 2 s of silence",
                   "", transport_t, socket_t) {
    using every_harness = basic_harness<every_session<TestType>>;
    every_harness h({}, every_1000_or_2s());
    h.transport.data("a\n");
    h.start();
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a")});
    h.advance(1999ms);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a")});
    h.advance(999'999ns);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a")}); // one nanosecond short
    h.advance(1ns);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1"});
    CHECK(!h.result); // the read goes on
    h.advance(1h);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1"}); // nothing pending
    h.s->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::operation_aborted);
    CHECK(h.result->documents == 1);
    CHECK(h.result->checkpoints == 1);
}

TEMPLATE_TEST_CASE("session: the latency counts from the oldest pending document, through reads that keep coming",
                   "", transport_t, socket_t) {
    using every_harness = basic_harness<every_session<TestType>>;
    every_harness h({}, every_1000_or_2s());
    // t=0 a, t=1.5 b (pending since 0), t=2 checkpoint, t=3 c, t=4.5 d: due at 3+2 = 5 while
    // reading; t=5.5 e arrives 0.5 s after that checkpoint, then the stream ends.
    h.transport.data("a\n").pause(1500ms).data("b\n").pause(1500ms).data("c\n").pause(1500ms).data("d\n")
        .pause(1000ms).data("e\n").eof();
    h.start();
    h.advance(1500ms);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), text("b")});
    h.advance(500ms);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), text("b"), "checkpoint 2 2"});
    h.advance(1000ms);
    h.advance(1500ms);
    CHECK(bodies(h.sink.str()) ==
          std::vector<std::string>{text("a"), text("b"), "checkpoint 2 2", text("c"), text("d")});
    h.advance(499ms);
    CHECK(bodies(h.sink.str()).size() == 5);
    h.advance(1ms);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), text("b"), "checkpoint 2 2", text("c"),
                                                           text("d"), "checkpoint 4 4"});
    h.advance(500ms);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), text("b"), "checkpoint 2 2", text("c"),
                                                           text("d"), "checkpoint 4 4", text("e"), "checkpoint 5 5"});
}

TEMPLATE_TEST_CASE("session: checkpoint_every without latency still holds documents until the counts or the end",
                   "", transport_t, socket_t) {
    using every_harness = basic_harness<every_session<TestType>>;
    every_harness h({}, checkpoint_every{.documents = 2});
    h.transport.data("a\n").pause(1h).data("b\nc\n");
    h.start();
    h.advance(59min);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a")});
    h.advance(1min);
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), text("b"), text("c"), "checkpoint 3 3"});
}

TEST_CASE("session: another framer than the codec's, named or deduced") {
    using chunk_session_t = session<transport_t, line_codec, checkpoint_per_read, testing::manual_timer, chunk_framer>;
    basic_harness<chunk_session_t> h({}, checkpoint_per_read{});
    h.transport.data("a\nb").data("c").eof();
    h.start();
    REQUIRE(h.result);
    CHECK(bodies(h.sink.str()) ==
          std::vector<std::string>{text("a\\nb"), "checkpoint 1 1", text("c"), "checkpoint 2 2"});
    // `session s(transport, codec, framer, opts)` picks the framer (and the default clock).
    asio::io_context ctx;
    transport_t t(ctx.get_executor());
    session s(t, json_codec{}, chunk_framer(64), session_options{});
    STATIC_REQUIRE(std::is_same_v<decltype(s), session<transport_t, json_codec, checkpoint_per_read,
                                                       asio::steady_timer, chunk_framer>>);
}

// Memory: over a socket (waitable_transport) a session holds no read area while it waits.
namespace {
using socket_harness = basic_harness<per_read_session<socket_t>>;
constexpr std::size_t read_size = pipeline_options{}.read_size;
} // namespace

TEST_CASE("session over a socket: it waits for readability holding no buffer, and takes read_size only to read") {
    socket_harness h;
    h.transport.data("a\n").pause(10s).data("b\n").pause(10s).eof();
    h.start();
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1"});
    CHECK(h.transport.waits() == 1);
    CHECK(h.transport.reads() == 1);
    CHECK(h.s->get_pipeline().buffer_capacity() == 0); // waiting again, with nothing
    h.advance(10s);
    CHECK(h.transport.waits() == 2);
    CHECK(h.transport.reads() == 2);
    CHECK(h.s->get_pipeline().buffer_capacity() == 0);
    h.advance(10s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(h.result->documents == 2);
    CHECK(h.transport.waits() == 3); // the end of stream is readable too: the read says eof
    CHECK(h.transport.read_sizes() == std::vector<std::size_t>(3, read_size));
}

TEST_CASE("session over a socket: an unfinished frame keeps its buffer and the next read goes straight into it") {
    socket_harness h;
    h.transport.data("a\npar").pause(10s).data("tial\nb").pause(10s).data("\n").eof();
    h.start();
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1"});
    CHECK(h.transport.waits() == 1);
    CHECK(h.transport.reads() == 1);
    CHECK(h.transport.read_sizes().size() == 2); // "par" is pending: a read is outstanding, no wait
    CHECK(h.s->get_pipeline().pending_bytes() == 3);
    CHECK(h.s->get_pipeline().buffer_capacity() == 2 * read_size); // "par" + a read
    h.advance(10s);
    CHECK(h.transport.waits() == 1);
    CHECK(h.transport.reads() == 2);
    CHECK(h.transport.read_sizes().size() == 3);
    CHECK(h.s->get_pipeline().pending_bytes() == 1);
    h.advance(10s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(h.transport.waits() == 2); // after "\n" the buffer is empty again
    CHECK(bodies(h.sink.str()) == std::vector<std::string>{text("a"), "checkpoint 1 1", text("partial"),
                                                           "checkpoint 2 2", text("b"), "checkpoint 3 3"});
}

TEST_CASE("session over a socket: after a read that filled its area, bytes already there are read, not waited for") {
    // 4,096 lines of 16 bytes fill one read area exactly and leave the buffer empty.
    std::string full;
    for (int i = 0; i < 4096; ++i) full += fmt::format("{:015}\n", i);
    REQUIRE(full.size() == read_size);
    socket_harness h;
    h.transport.data(full).data("tail\n").pause(1s).data(full).pause(1s).eof();
    h.start();
    CHECK(h.transport.waits() == 1);
    CHECK(h.transport.reads() == 2); // the full read, then "tail" at once: available() said so
    CHECK(h.s->get_pipeline().buffer_capacity() == 0);
    h.advance(1s);
    CHECK(h.transport.waits() == 2);
    CHECK(h.transport.reads() == 3); // full again, and nothing available: it waits, with no buffer
    CHECK(h.s->get_pipeline().buffer_capacity() == 0);
    h.advance(1s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(h.result->documents == 2 * 4096 + 1);
    CHECK(h.transport.waits() == 3);
}

TEST_CASE("session over a socket: with a large output buffer, bytes already there are read, not waited for") {
    // 200 lines of 100 bytes: a short read (not the whole area) whose documents grow the output
    // buffer past max_idle_output_bytes. Freeing it and waiting would cost a regrowth per read of
    // a flood, so the socket is asked first.
    std::string burst;
    for (int i = 0; i < 200; ++i) burst += fmt::format("{:099}\n", i);
    socket_harness h;
    h.transport.data(burst).data(burst).pause(1s).eof();
    h.start();
    CHECK(h.transport.reads() == 2);
    CHECK(h.transport.waits() == 1); // the second burst was read at once: available() said it was there
    h.advance(1s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(h.result->documents == 400);
    CHECK(h.transport.waits() == 2);
}

TEST_CASE("session over a socket: a stop() that finds the wait already complete starts no read") {
    socket_harness h;
    h.transport.pause(1s).data("a\n");
    h.start();
    CHECK(h.transport.waits() == 0);
    manual_clock::advance(1s);
    h.ctx.poll_one(); // the pause ends: the wait's completion is queued, not yet delivered
    CHECK(h.transport.waits() == 0);
    h.s->stop();      // nothing outstanding to cancel
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::operation_aborted);
    CHECK(h.transport.waits() == 1);
    CHECK(h.transport.reads() == 0); // a read now could wait for ever
    CHECK_FALSE(h.transport.played());
}

namespace {
/// A transport whose reads return at most 16 bytes, as a TLS record bounds a TLS read.
struct record_transport : socketcap::testing::scripted_transport<> {
    using scripted_transport::scripted_transport;
};
} // namespace
template <>
inline constexpr std::size_t socketcap::max_read_bytes<record_transport> = 16;

TEST_CASE("session: no read asks more than the transport's max_read_bytes (a TLS record: 16 KiB)") {
    STATIC_REQUIRE(max_read_bytes<transport_t> == std::numeric_limits<std::size_t>::max());
#if SOCKETCAP_HAS_TLS
    // Asio's TLS stream returns one record per read and may hold bytes its socket does not show;
    // tls::stream fills the buffer from several records and says when it holds bytes.
    STATIC_REQUIRE(max_read_bytes<asio::ssl::stream<asio::ip::tcp::socket>> == 16384);
    STATIC_REQUIRE_FALSE(waitable_transport<asio::ssl::stream<asio::ip::tcp::socket>>);
    STATIC_REQUIRE(max_read_bytes<tls::tls_transport> == std::numeric_limits<std::size_t>::max());
    STATIC_REQUIRE(waitable_transport<tls::tls_transport>);
#endif
    STATIC_REQUIRE(waitable_transport<tcp_transport>);
    basic_harness<per_read_session<record_transport>> h;
    h.transport.data(std::string(40, 'x') + "\n").eof();
    h.start();
    REQUIRE(h.result);
    CHECK(h.result->documents == 1);
    CHECK(h.s->get_pipeline().options().read_size == 16);
    for (auto n : h.transport.read_sizes()) CHECK(n <= 16);
    CHECK(h.transport.reads() == 4); // 16 + 16 + 9, then eof
}

// Talking to the server: the writer beside the read loop, on the scripted transport and the
// manual clock.
namespace {

/// The basic harness with a conversation and no checkpoints.
template <class Transport>
struct basic_talking_harness : basic_harness<per_read_session<Transport>> {
    using session_type = per_read_session<Transport>;
    explicit basic_talking_harness(const conversation_config& c, conversation_history history = {}) {
        session_options o;
        o.source_host = "h";
        o.source_port = 7;
        error_code ec;
        diagnostics diag;
        o.conversation = conversation_plan::compile(c, ec, diag);
        REQUIRE(!ec);
        o.history = std::move(history);
        this->s = std::make_unique<session_type>(this->transport, line_codec{}, std::move(o));
    }
    std::vector<std::string> documents() {
        std::vector<std::string> docs;
        for (auto& b : bodies(this->sink.str()))
            if (!b.empty()) docs.push_back(b);
        return docs;
    }
};

} // namespace

TEMPLATE_TEST_CASE("session: on_connect goes out before any byte arrives; replies follow their frames; capture off",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.on_connect = {"LOGIN ${session_id} ${last_session_id} ${last_sequence} ${documents}\\r\\n", "SUB\r\n"};
    c.replies = {{"^PING :(.*)$", "PONG :${1}\r\n", false}};
    talking_harness h(c, {"S-0", 17, 170, ""});
    h.transport.pause(1s).data("hello\nPING :x1\nwor").data("ld\n").pause(1s).data("PING :x2\n").eof();
    h.start();
    CHECK(h.transport.written() == fmt::format("LOGIN {} S-0 17 170\r\nSUB\r\n", h.s->session_id()));
    CHECK(h.transport.reads() == 0);
    h.advance(1s);
    CHECK(h.transport.written() == fmt::format("LOGIN {} S-0 17 170\r\nSUB\r\nPONG :x1\r\n", h.s->session_id()));
    h.advance(1s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(!h.result->write_failed);
    CHECK(h.transport.written() ==
          fmt::format("LOGIN {} S-0 17 170\r\nSUB\r\nPONG :x1\r\nPONG :x2\r\n", h.s->session_id()));
    CHECK(h.documents() == std::vector<std::string>{text("hello"), text("world")});
    CHECK(h.result->documents == 2);
    CHECK(h.result->messages_sent == 4);
    CHECK(h.result->bytes_sent == h.transport.written().size());
    CHECK(h.result->replies == 2);
    CHECK(h.result->stats.filtered_frames == 2);
}

TEMPLATE_TEST_CASE("session: replies split across reads at every offset give the same replies and documents",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    const std::string input = "a\nPING :1\nb\r\nPING :2\r\nPING :3";
    conversation_config c;
    c.replies = {{"^PING :(.*)$", "PONG ${1}\n", true}};
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        INFO("cut at " << cut);
        talking_harness h(c);
        h.transport.data(input.substr(0, cut)).data(input.substr(cut)).eof();
        h.start();
        REQUIRE(h.result);
        CHECK(h.transport.written() == "PONG 1\nPONG 2\n"); // a partial last frame is not answered
        CHECK(h.documents() == std::vector<std::string>{text("a"), text("PING :1"), text("b"), text("PING :2"),
                                                        text("PING :3", true)});
    }
}

TEMPLATE_TEST_CASE("session: a heartbeat fills each silence of exactly the interval, and any write restarts it",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.heartbeat = "HB\n";
    c.heartbeat_interval = 10s;
    c.replies = {{"^PING$", "PONG\n", false}};
    talking_harness h(c);
    h.transport.data("a\n").pause(25s).data("PING\n"); // then silent
    h.start();
    CHECK(h.transport.written().empty());
    h.advance(9999ms);
    h.advance(999'999ns);
    CHECK(h.transport.written().empty()); // one nanosecond short
    h.advance(1ns);
    CHECK(h.transport.written() == "HB\n");
    h.advance(10s);
    CHECK(h.transport.written() == "HB\nHB\n");
    h.advance(5s); // t = 25 s: the PING's reply
    CHECK(h.transport.written() == "HB\nHB\nPONG\n");
    h.advance(9999ms);
    CHECK(h.transport.written() == "HB\nHB\nPONG\n"); // silence since 25 s, not since 20 s
    h.advance(1ms);
    CHECK(h.transport.written() == "HB\nHB\nPONG\nHB\n");
    CHECK(!h.result);
    h.s->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::operation_aborted);
    CHECK(h.result->messages_sent == 4);
    CHECK(h.documents() == std::vector<std::string>{text("a")});
}

TEMPLATE_TEST_CASE("session: a server that does not read never holds up reading; its pending write ends with the session",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.on_connect = {"SUB\n"};
    talking_harness h(c);
    h.transport.stall_writes().data("one\ntwo\n").pause(1s).data("three\n").eof();
    h.start();
    CHECK(h.documents() == std::vector<std::string>{text("one"), text("two")});
    h.advance(1s);
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::eof);
    CHECK(!h.result->write_failed);
    CHECK(h.result->messages_sent == 0);
    CHECK(h.transport.written().empty());
    CHECK(h.documents() == std::vector<std::string>{text("one"), text("two"), text("three")});
}

TEMPLATE_TEST_CASE("session: unsent bytes past max_unsent_bytes end the session with send_backlog; what was read is kept",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.replies = {{"^x", std::string(100, 'r'), true}};
    c.max_unsent_bytes = 250;
    talking_harness h(c);
    h.transport.stall_writes().data("x\n").pause(1s).data("x\nx\nx\n").data("never read\n");
    h.start();
    CHECK(!h.result); // the first reply is being written (stalled); nothing waits behind it
    h.advance(1s);   // three more: 300 bytes wait
    REQUIRE(h.result);
    CHECK(h.result->ec == error::send_backlog);
    CHECK(h.result->write_failed);
    CHECK(h.result->ec.message() == "the server is not reading what the connector sends");
    CHECK(h.documents() == std::vector<std::string>{text("x"), text("x"), text("x"), text("x")});
    CHECK(h.transport.written().empty());
}

TEMPLATE_TEST_CASE("session: a failed write ends the session with the write's error, even while a read waits",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.on_connect = {"SUB\n"};
    talking_harness h(c);
    h.transport.fail_writes(asio::error::connection_reset).pause(1h).data("late\n");
    h.start();
    REQUIRE(h.result);
    CHECK(h.result->ec == asio::error::connection_reset);
    CHECK(h.result->write_failed);
    CHECK(h.result->messages_sent == 0);
    CHECK(h.result->documents == 0);
}

TEMPLATE_TEST_CASE("session: without a conversation, or with one that never writes, nothing is written",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    talking_harness h(conversation_config{});
    h.transport.data("PING :x\n").eof();
    h.start();
    REQUIRE(h.result);
    CHECK(h.transport.written().empty());
    CHECK(h.result->messages_sent == 0);
    CHECK(h.documents() == std::vector<std::string>{text("PING :x")});
}

TEMPLATE_TEST_CASE("session: acks travel with their checkpoint and go out only when delivered after the commit",
                   "", transport_t, socket_t) {
    using talking_harness = basic_talking_harness<TestType>;
    conversation_config c;
    c.position = {position_source::pattern, "^(\\d+) ", "", false};
    c.ack = ack_config{"ACK ${position}\n", true};
    c.on_connect = {"RESUME ${next_position}\n"};
    talking_harness h(c, {"S-0", 3, 3, "7"});
    std::vector<session_progress> checkpoints;
    std::vector<std::string> acks;
    // A session built by hand to see its checkpoints (the harness's writes none).
    session_options o;
    o.source_host = "h";
    o.source_port = 7;
    error_code ec;
    diagnostics diag;
    o.conversation = conversation_plan::compile(c, ec, diag);
    o.history = {"S-0", 3, 3, "7"};
    o.write_checkpoint = [&](output_buffer& out, const session_progress& p) {
        append(out, fmt::format("checkpoint {} {}\n", p.position, p.acks.messages));
        acks.push_back(p.acks.bytes);
    };
    h.s = std::make_unique<typename talking_harness::session_type>(h.transport, line_codec{}, std::move(o));
    h.transport.data("8 a\n9 b\n").pause(1s).data("x\n10 c\n").pause(1h);
    h.start();
    CHECK(h.transport.written() == "RESUME 8\n");
    CHECK(h.documents() == std::vector<std::string>{text("8 a") + R"(,"position":8)", text("9 b") + R"(,"position":9)",
                                                    "checkpoint 9 2"});
    REQUIRE(acks.size() == 1);
    CHECK(acks[0] == "ACK 8\nACK 9\n");
    h.advance(1s);
    REQUIRE(acks.size() == 2);
    CHECK(acks[1] == "ACK 10\n");
    CHECK(h.transport.written() == "RESUME 8\n"); // nothing acknowledged before its commit
    CHECK(h.s->deliver(acks[0], 2));               // the runtime committed the first checkpoint
    h.ctx.poll();
    CHECK(h.transport.written() == "RESUME 8\nACK 8\nACK 9\n");
    h.s->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(h.result->last_position == "10");
    CHECK(h.result->messages_sent == 3);
    CHECK(!h.s->deliver(acks[1], 1)); // that connection is gone: the server resends frame 10
    CHECK(h.transport.written() == "RESUME 8\nACK 8\nACK 9\n");
}
