// SPDX-License-Identifier: MIT OR Apache-2.0
// session on the scripted transport and the manual clock: idle timeouts to the nanosecond,
// reads split anywhere, transport errors, with no socket and no sleep.
#include <socketcap/session.hpp>
#include <socketcap/testing/manual_clock.hpp>
#include <socketcap/testing/scripted_transport.hpp>
#include <socketcap/text_codec.hpp>

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <optional>
#include <string>
#include <vector>

using namespace socketcap;
using namespace std::chrono_literals;
using testing::manual_clock;
using transport_t = testing::scripted_transport<>;
using session_t = session<transport_t, line_codec, checkpoint_per_read, testing::manual_timer>;

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

struct harness {
    asio::io_context ctx;
    transport_t transport{ctx.get_executor()};
    memory_sink sink{ctx.get_executor()};
    std::optional<session_result> result;
    std::unique_ptr<session_t> s;

    explicit harness(std::chrono::steady_clock::duration idle = {}) {
        manual_clock::reset();
        session_options o;
        o.source_host = "h";
        o.source_port = 7;
        o.idle_timeout = idle;
        o.write_checkpoint = [](output_buffer& out, const session_progress& p) {
            append(out, fmt::format("checkpoint {} {}\n", p.sequence, p.documents));
        };
        s = std::make_unique<session_t>(transport, line_codec{}, std::move(o));
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

TEST_CASE("session: the idle timeout ends a silent read at exactly the limit, in manual time") {
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

TEST_CASE("session: a pause shorter than the idle limit keeps the session, and the timer restarts per read") {
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

TEST_CASE("session: the same documents wherever the reads split the stream") {
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

TEST_CASE("session: a transport error ends it with that error; what was read is written and checkpointed") {
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

TEST_CASE("session: stop() during a silent read ends it at once with operation_aborted") {
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
