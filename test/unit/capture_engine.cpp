// SPDX-License-Identifier: MIT OR Apache-2.0
// capture_engine on the scripted connector and transport, in manual time: reconnects at exact
// times, backoff with a fixed random source, attempt limits, idle and connection timeouts,
// totals across connections, several endpoints into one sink, stop. No sockets, no sleeps.
#include <socketcap/io/capture_engine.hpp>
#include <socketcap/testing/manual_clock.hpp>
#include <socketcap/testing/scripted_connector.hpp>
#include <socketcap/chunk_framer.hpp>
#include <socketcap/text_codec.hpp>

#include "test_sinks.hpp"

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace socketcap;
using namespace std::chrono_literals;
using testing::manual_clock;
using testing::scripted_connector;

namespace {

/// Always the same 64-bit value: the jitter fraction is fixed (2^63 -> 0.5).
struct fixed_random {
    using result_type = std::uint64_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    result_type value = result_type{1} << 63;
    result_type operator()() { return value; }
};

template <class Policy>
using engine_t = capture_engine<scripted_connector, line_codec, Policy, checkpoint_per_read, testing::manual_timer>;

/// Every event as one short line, with the manual time in milliseconds.
struct recording_observer {
    std::vector<std::string> lines;
    void on_event(const capture_event& e) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(manual_clock::now().time_since_epoch()).count();
        std::string s = fmt::format("{} #{} ", ms, e.endpoint);
        switch (e.kind) {
        case capture_event_kind::connecting: s += "connecting"; break;
        case capture_event_kind::connected: s += "connected"; break;
        case capture_event_kind::connect_failed:
            s += fmt::format("failed ({}) failures={}", e.reason, e.decision->failures);
            break;
        case capture_event_kind::session_started: s += "session"; break;
        case capture_event_kind::disconnected:
            s += fmt::format("disconnected ({}) docs={}", e.reason, e.result->documents);
            break;
        case capture_event_kind::waiting:
            s += fmt::format("wait {}ms",
                             std::chrono::duration_cast<std::chrono::milliseconds>(e.decision->delay).count());
            break;
        case capture_event_kind::gave_up: s += fmt::format("gave up ({})", e.reason); break;
        }
        lines.push_back(std::move(s));
    }
};

/// The documents' `data.value`s and the checkpoints in the sink, in order.
std::vector<std::string> outputs(const std::string& out) {
    std::vector<std::string> v;
    simdjson::dom::parser p;
    for (std::size_t at = 0; at < out.size();) {
        auto nl = out.find('\n', at);
        std::string line = out.substr(at, nl - at);
        at = nl + 1;
        if (line.rfind("checkpoint", 0) == 0) {
            v.push_back(line);
            continue;
        }
        std::string_view value;
        REQUIRE(p.parse(line)["data"]["value"].get_string().get(value) == simdjson::SUCCESS);
        v.emplace_back(value);
    }
    return v;
}

template <class Policy>
struct harness {
    asio::io_context ctx;
    memory_sink sink{ctx.get_executor()};
    recording_observer observer;
    diagnostics diag;
    std::optional<std::error_code> result;
    std::unique_ptr<engine_t<Policy>> engine;

    harness() { manual_clock::reset(); }

    using endpoint = typename engine_t<Policy>::endpoint_type;
    static endpoint make_endpoint(scripted_connector c, Policy p) {
        endpoint e(std::move(c), std::move(p));
        e.session.source_host = e.connector.host();
        e.session.source_port = e.connector.port();
        e.write_checkpoint = [](output_buffer& out, const session_progress& s, const capture_totals& before) {
            append(out, fmt::format("checkpoint seq={} total_docs={} total_bytes={}\n", s.sequence,
                                    before.documents + s.documents, before.bytes + s.bytes));
        };
        return e;
    }
    void start(std::vector<endpoint> endpoints) {
        engine = std::make_unique<engine_t<Policy>>(ctx.get_executor(), std::move(endpoints));
        engine->async_run(sink, observer, diag, [this](std::error_code ec) { result = ec; });
        ctx.poll();
    }
    void advance(std::chrono::nanoseconds d) {
        manual_clock::advance(d);
        ctx.poll();
    }
};

} // namespace

TEST_CASE("capture_engine: exponential backoff at exact times, a healthy connection resets it, the limit gives up") {
    harness<exponential_backoff<fixed_random>> h;
    scripted_connector c("feed.example", 9000, 5s);
    c.refuse().refuse().accept([](auto& t) { t.data("a\nb\n").eof(); }).refuse().refuse().refuse();
    auto ep = h.make_endpoint(c, exponential_backoff<fixed_random>(1s, 10s, 2, fixed_random{}));
    h.start({std::move(ep)});
    // Refused at 0, waits 0.5 of 1 s; refused at 500 ms, waits 0.5 of 2 s.
    h.advance(500ms);
    h.advance(1000ms);
    REQUIRE(!h.result);
    // Connected at 1500 ms: data, then EOF: healthy, so exactly the base delay.
    h.advance(1000ms); // 2500 ms: refused; the 1st failure again (a connection reset the count)
    h.advance(500ms);  // 3000 ms: refused, the 2nd
    REQUIRE(!h.result);
    h.advance(999ms);
    REQUIRE(!h.result);
    h.advance(1ms);    // 4000 ms: the 3rd in a row is one more than max_attempts 2
    CHECK(h.observer.lines == std::vector<std::string>{
        "0 #0 connecting", "0 #0 failed (Connection refused) failures=1", "0 #0 wait 500ms",
        "500 #0 connecting", "500 #0 failed (Connection refused) failures=2", "500 #0 wait 1000ms",
        "1500 #0 connecting", "1500 #0 connected", "1500 #0 session",
        "1500 #0 disconnected (the server closed the connection) docs=2", "1500 #0 wait 1000ms",
        "2500 #0 connecting", "2500 #0 failed (Connection refused) failures=1", "2500 #0 wait 500ms",
        "3000 #0 connecting", "3000 #0 failed (Connection refused) failures=2", "3000 #0 wait 1000ms",
        "4000 #0 connecting", "4000 #0 gave up (Connection refused)"});
    REQUIRE(h.result);
    CHECK(*h.result == error::reconnects_exhausted);
    CHECK(h.diag.message() ==
          "cannot connect to feed.example:9000: Connection refused (gave up after 3 failed attempts)");
    CHECK(c.attempt_times() == std::vector<manual_clock::duration>{0ms, 500ms, 1500ms, 2500ms, 3000ms, 4000ms});
    CHECK(outputs(h.sink.str()) ==
          std::vector<std::string>{"a", "b", "checkpoint seq=2 total_docs=2 total_bytes=4"});
}

TEST_CASE("capture_engine: totals carry across connections into checkpoints; each connection is a new session") {
    harness<fixed_delay> h;
    scripted_connector c("feed", 1, 5s);
    c.accept([](auto& t) { t.data("one\ntw").eof(); }).accept([](auto& t) { t.data("three\n").eof(); });
    auto ep = h.make_endpoint(c, fixed_delay(2s));
    ep.initial = {100, 10}; // from an earlier run's checkpoint
    h.start({std::move(ep)});
    h.advance(2s);
    CHECK(outputs(h.sink.str()) == std::vector<std::string>{
        "one", "checkpoint seq=1 total_docs=11 total_bytes=106", "tw", "checkpoint seq=2 total_docs=12 total_bytes=106",
        "three", "checkpoint seq=1 total_docs=13 total_bytes=112"});
    auto s = h.engine->stats();
    CHECK(s.totals.bytes == 112);
    CHECK(s.totals.documents == 13);
    CHECK(s.sessions == 2);
    CHECK(s.connected == 0);
    h.engine->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(!*h.result);
    CHECK(h.diag.empty());
}

TEST_CASE("capture_engine: the idle timeout ends a silent connection at the limit, then it reconnects") {
    harness<fixed_delay> h;
    scripted_connector c("feed", 1, 5s);
    c.accept([](auto& t) { t.data("x\n").pause(1h); }).accept([](auto& t) { t.data("y\n"); });
    auto ep = h.make_endpoint(c, fixed_delay(1s));
    ep.session.idle_timeout = 30s;
    h.start({std::move(ep)});
    auto live = h.engine->stats();
    CHECK(live.connected == 1);
    CHECK(live.totals.documents == 1); // the live session counts
    h.advance(29999ms);
    CHECK(h.observer.lines.back() == "0 #0 session");
    h.advance(1ms);
    h.advance(1s);
    CHECK(h.observer.lines == std::vector<std::string>{
        "0 #0 connecting", "0 #0 connected", "0 #0 session",
        "30000 #0 disconnected (no data within idle_timeout) docs=1", "30000 #0 wait 1000ms",
        "31000 #0 connecting", "31000 #0 connected", "31000 #0 session"});
    h.engine->stop();
    h.ctx.poll();
    CHECK(h.observer.lines.back() == "31000 #0 disconnected (the capture is stopping) docs=1");
    REQUIRE(h.result);
    CHECK(!*h.result);
}

TEST_CASE("capture_engine: a connect that never answers fails at the connection timeout and counts as a failure") {
    harness<fixed_delay> h;
    scripted_connector c("feed", 1, 5s);
    c.hang().accept([](auto& t) { t.data("z\n"); });
    h.start({h.make_endpoint(c, fixed_delay(1s, 3))});
    h.advance(4999ms);
    CHECK(h.observer.lines == std::vector<std::string>{"0 #0 connecting"});
    h.advance(1ms);
    h.advance(1s);
    CHECK(h.observer.lines == std::vector<std::string>{
        "0 #0 connecting", "5000 #0 failed (no connection within the connection timeout) failures=1",
        "5000 #0 wait 1000ms", "6000 #0 connecting", "6000 #0 connected", "6000 #0 session"});
    h.engine->stop();
    h.ctx.poll();
    REQUIRE(h.result);
}

TEST_CASE("capture_engine: stop() while connecting or waiting ends the run at once") {
    SECTION("while an attempt hangs") {
        harness<fixed_delay> h;
        scripted_connector c("feed", 1, 1h);
        c.hang();
        h.start({h.make_endpoint(c, fixed_delay(1s))});
        h.engine->stop();
        h.ctx.poll();
        REQUIRE(h.result);
        CHECK(!*h.result);
        CHECK(h.observer.lines == std::vector<std::string>{"0 #0 connecting"});
    }
    SECTION("while waiting to reconnect") {
        harness<fixed_delay> h;
        scripted_connector c("feed", 1, 1h);
        h.start({h.make_endpoint(c, fixed_delay(1h))});
        CHECK(h.observer.lines.back() == "0 #0 wait 3600000ms");
        h.engine->stop();
        h.ctx.poll();
        REQUIRE(h.result);
        CHECK(!*h.result);
        CHECK(c.attempt_times().size() == 1);
    }
}

TEST_CASE("capture_engine: two endpoints share one sink; documents stay whole and in each endpoint's order") {
    harness<fixed_delay> h;
    scripted_connector a("a", 1, 5s), b("b", 2, 5s);
    a.accept([](auto& t) { t.data("a1\na2\n").pause(1s).data("a3\n").pause(1h); });
    b.accept([](auto& t) { t.data("b1\n").pause(500ms).data("b2\nb3\n").pause(1h); });
    h.start({h.make_endpoint(a, fixed_delay(1s)), h.make_endpoint(b, fixed_delay(1s))});
    h.advance(500ms);
    h.advance(500ms);
    auto out = outputs(h.sink.str());
    std::vector<std::string> from_a, from_b;
    for (auto& o : out) {
        if (o[0] == 'a') from_a.push_back(o);
        if (o[0] == 'b') from_b.push_back(o);
    }
    CHECK(from_a == std::vector<std::string>{"a1", "a2", "a3"});
    CHECK(from_b == std::vector<std::string>{"b1", "b2", "b3"});
    CHECK(out.size() == 6 + 4); // and one checkpoint per read that made documents
    auto s = h.engine->stats();
    CHECK(s.connected == 2);
    CHECK(s.totals.documents == 6);
    CHECK(h.engine->stats(0).totals.documents == 3);
    CHECK(h.engine->stats(1).totals.bytes == 9);
    h.engine->stop();
    h.ctx.poll();
    REQUIRE(h.result);
    CHECK(!*h.result);
}

TEST_CASE("capture_engine: a framer of the caller's choice, and checkpoints bounded in time on a slow stream") {
    manual_clock::reset();
    using engine = capture_engine<scripted_connector, line_codec, fixed_delay, checkpoint_every, testing::manual_timer,
                                  chunk_framer>;
    asio::io_context ctx;
    memory_sink sink(ctx.get_executor());
    recording_observer observer;
    diagnostics diag;
    scripted_connector c("feed", 1, 5s);
    // chunk framing: each read is one document, newlines and all.
    c.accept([](auto& t) { t.data("one\ntwo").pause(1s).data("three").pause(1h); });
    engine::endpoint_type ep(c, fixed_delay(1s));
    ep.checkpoints = checkpoint_every{.documents = 1000, .latency = 2s};
    ep.write_checkpoint = [](output_buffer& out, const session_progress& p, const capture_totals&) {
        append(out, fmt::format("checkpoint seq={}\n", p.sequence));
    };
    std::vector<engine::endpoint_type> eps;
    eps.push_back(std::move(ep));
    engine e(ctx.get_executor(), std::move(eps));
    std::optional<std::error_code> result;
    e.async_run(sink, observer, diag, [&](std::error_code ec) { result = ec; });
    ctx.poll();
    manual_clock::advance(1s);
    ctx.poll();
    CHECK(outputs(sink.str()) == std::vector<std::string>{"one\ntwo", "three"}); // no checkpoint yet
    manual_clock::advance(999ms);
    ctx.poll();
    CHECK(outputs(sink.str()).size() == 2);
    manual_clock::advance(1ms); // 2 s after the oldest pending document
    ctx.poll();
    CHECK(outputs(sink.str()) == std::vector<std::string>{"one\ntwo", "three", "checkpoint seq=2"});
    e.stop();
    ctx.poll();
    REQUIRE(result);
    CHECK(!*result);
}

TEST_CASE("capture_engine: partial writes of a slow sink never interleave two endpoints' documents") {
    manual_clock::reset();
    asio::io_context ctx;
    one_buffer_sink sink(ctx.get_executor(), 4099); // as a full pipe: writes complete partially
    recording_observer observer;
    diagnostics diag;
    using h = harness<fixed_delay>;
    scripted_connector a("a", 1, 5s), b("b", 2, 5s);
    std::string lines_a, lines_b;
    // Long lines: one read makes more than 64 KiB of documents, which asio::async_write's
    // default would hand the sink in 64 KiB pieces, and another endpoint's could go in between.
    for (int i = 0; i < 50; ++i) {
        lines_a += fmt::format("a{} {}\n", i, std::string(3000, 'a'));
        lines_b += fmt::format("b{} {}\n", i, std::string(3000, 'b'));
    }
    a.accept([&](auto& t) { t.data(lines_a).pause(1h); });
    b.accept([&](auto& t) { t.data(lines_b).pause(1h); });
    std::vector<h::endpoint> eps;
    eps.push_back(h::make_endpoint(a, fixed_delay(1s)));
    eps.push_back(h::make_endpoint(b, fixed_delay(1s)));
    for (auto& e : eps) e.session.pipeline.read_size = 1 << 20; // everything in one read
    engine_t<fixed_delay> engine(ctx.get_executor(), std::move(eps));
    engine.async_run(sink, observer, diag, [](std::error_code) {});
    for (int i = 0; i < 200000 && sink.str().size() < 2 * 50 * 3100; ++i) ctx.poll();
    auto out = outputs(sink.str()); // REQUIREs every line to parse
    std::vector<std::string> from_a, from_b;
    for (auto& o : out) {
        if (o[0] == 'a') from_a.push_back(o.substr(0, o.find(' ')));
        if (o[0] == 'b') from_b.push_back(o.substr(0, o.find(' ')));
    }
    CHECK(from_a.size() == 50);
    CHECK(from_a.front() == "a0");
    CHECK(from_b.back() == "b49");
    CHECK(from_b.size() == 50);
    engine.stop();
    ctx.poll();
}

TEST_CASE("capture_engine: an endpoint that gives up alone leaves the others running, then the run ends") {
    harness<fixed_delay> h;
    scripted_connector a("a", 1, 5s), b("b", 2, 5s);
    a.refuse().refuse();
    b.accept([](auto& t) { t.data("b1\n").pause(10s).data("b2\n").eof(); }).refuse();
    auto ea = h.make_endpoint(a, fixed_delay(1s, 1));
    auto eb = h.make_endpoint(b, fixed_delay(1s, 0));
    ea.stop_capture_on_give_up = false;
    eb.stop_capture_on_give_up = false;
    h.start({std::move(ea), std::move(eb)});
    h.advance(1s); // a: refused twice, gives up; b keeps going
    CHECK(std::count(h.observer.lines.begin(), h.observer.lines.end(), "1000 #0 gave up (Connection refused)") == 1);
    REQUIRE(!h.result);
    CHECK(h.engine->stats(1).connected == 1);
    h.advance(9s); // b2, the server closes; its one reconnect is refused: b gives up too
    h.advance(1s);
    REQUIRE(h.result);
    CHECK(!*h.result); // nobody stopped the capture: every endpoint ended by itself
    CHECK(h.diag.empty());
    CHECK(outputs(h.sink.str()) == std::vector<std::string>{"b1", "checkpoint seq=1 total_docs=1 total_bytes=3", "b2",
                                                            "checkpoint seq=2 total_docs=2 total_bytes=6"});
}
