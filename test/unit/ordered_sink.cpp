// SPDX-License-Identifier: MIT OR Apache-2.0
// ordered_sink: the writes that arrive while one is under way go out next as one group (a
// gather write), each whole and in order, and each writer completes once its bytes are out.
#include <socketcap/io/capture_engine.hpp>

#include "test_sinks.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace socketcap;

namespace {
struct completion {
    std::optional<std::error_code> ec;
    std::size_t n = 0;
};

template <class Sink>
void write(ordered_sink<Sink>& out, const std::string& s, completion& c) {
    out.async_write_some(asio::buffer(s), [&c](std::error_code ec, std::size_t n) {
        c.ec = ec;
        c.n = n;
    });
}
} // namespace

TEST_CASE("ordered_sink: writes that arrive during a write go out next as one gather write") {
    asio::io_context ctx;
    memory_sink out(ctx.get_executor());
    ordered_sink<memory_sink> ordered(out);
    const std::string a = "a1\n", b = "b1\nb2\n", c = "c1\n", d = "d1\n";
    completion ca, cb, cc, cd;
    write(ordered, a, ca); // written at once
    write(ordered, b, cb); // these three wait for it, then go together
    write(ordered, c, cc);
    write(ordered, d, cd);
    CHECK(out.writes() == 1);
    CHECK(out.str() == "a1\n");
    ctx.run_one(); // a's write completes; the group of three starts before a's writer hears
    CHECK(out.writes() == 2);
    CHECK(out.str() == "a1\nb1\nb2\nc1\nd1\n");
    CHECK(ca.ec == std::error_code{});
    CHECK(ca.n == 3);
    CHECK(!cb.ec);
    ctx.run();
    CHECK(out.writes() == 2);
    CHECK((cb.ec == std::error_code{} && cb.n == 6));
    CHECK((cc.ec == std::error_code{} && cc.n == 3));
    CHECK((cd.ec == std::error_code{} && cd.n == 3));
}

TEST_CASE("ordered_sink: a group written in pieces keeps every line whole and each writer's order") {
    asio::io_context ctx;
    partial_gather_sink out(ctx.get_executor(), 1000); // every write stops mid-buffer
    ordered_sink<partial_gather_sink> ordered(out);
    constexpr int writers = 5, writes = 40;
    int finished = 0;
    for (int w = 0; w < writers; ++w) {
        asio::co_spawn(
            ctx,
            [&, w]() -> asio::awaitable<void> {
                for (int i = 0; i < writes; ++i) {
                    // Several lines per write, of a length that no piece boundary respects.
                    std::string batch;
                    for (int k = 0; k < 3; ++k)
                        batch += fmt::format("w{} {:03} {} {}\n", w, i, k, std::string(100 + 37 * w + i, 'x'));
                    auto n = co_await asio::async_write(ordered, asio::buffer(batch), write_whole, asio::use_awaitable);
                    CHECK(n == batch.size());
                }
                ++finished;
            },
            asio::detached);
    }
    ctx.run();
    CHECK(finished == writers);
    std::size_t gathered = 0;
    for (auto n : out.calls) gathered += n > 1;
    CHECK(gathered > 0); // groups did form
    std::map<std::string, int> next;
    std::istringstream in(out.str());
    int lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
        std::string who = line.substr(0, 2);
        int i = std::stoi(line.substr(3, 3));
        int k = std::stoi(line.substr(7, 1));
        int w = who[1] - '0';
        CHECK(i * 3 + k == next[who]++);
        CHECK(line.size() == 9 + 100 + std::size_t(37 * w + i));
    }
    CHECK(lines == writers * writes * 3);
    CHECK(next.size() == std::size_t(writers));
}

TEST_CASE("ordered_sink: a failed group write fails only the writers whose bytes did not all go out") {
    asio::io_context ctx;
    partial_gather_sink out(ctx.get_executor(), 1 << 20);
    ordered_sink<partial_gather_sink> ordered(out);
    const std::string a = "a1\n", b = "b1\n", c = "c1\nc2\n", d = "d1\n";
    out.fail_after = 3 + 3 + 4; // a, b, and part of c
    completion ca, cb, cc, cd;
    write(ordered, a, ca);
    write(ordered, b, cb);
    write(ordered, c, cc);
    write(ordered, d, cd);
    ctx.run();
    CHECK(out.str() == "a1\nb1\nc1\nc");
    CHECK((ca.ec == std::error_code{} && ca.n == 3));
    CHECK((cb.ec == std::error_code{} && cb.n == 3));
    CHECK((cc.ec == make_error_code(std::errc::broken_pipe) && cc.n == 4));
    CHECK((cd.ec == make_error_code(std::errc::broken_pipe) && cd.n == 0));
}

TEST_CASE("ordered_sink: a sink that takes one buffer per call gets one writer's bytes per call, in order") {
    asio::io_context ctx;
    one_buffer_sink out(ctx.get_executor());
    ordered_sink<one_buffer_sink> ordered(out);
    const std::string a = "a1\n", b = "b1\n", c = "c1\n";
    completion ca, cb, cc;
    write(ordered, a, ca);
    write(ordered, b, cb);
    write(ordered, c, cc);
    ctx.run();
    CHECK(out.calls == std::vector<std::size_t>{1, 1, 1});
    CHECK(out.str() == "a1\nb1\nc1\n");
    CHECK((ca.ec == std::error_code{} && cb.ec == std::error_code{} && cc.ec == std::error_code{}));
    CHECK((ca.n == 3 && cb.n == 3 && cc.n == 3));
}

TEST_CASE("ordered_sink: a group takes at most 64 writers; the rest go in the next one, in order") {
    asio::io_context ctx;
    memory_sink out(ctx.get_executor());
    ordered_sink<memory_sink> ordered(out);
    std::vector<std::string> lines;
    for (int i = 0; i < 70; ++i) lines.push_back(fmt::format("{:02}\n", i));
    std::vector<completion> done(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) write(ordered, lines[i], done[i]);
    CHECK(out.writes() == 1); // the first alone; 69 wait
    ctx.run_one();
    CHECK(out.writes() == 2); // 64 of them
    CHECK(out.str().size() == 65 * 3);
    ctx.run();
    CHECK(out.writes() == 3); // the last 5
    std::string all;
    for (auto& l : lines) all += l;
    CHECK(out.str() == all);
    for (auto& c : done) CHECK((c.ec == std::error_code{} && c.n == 3));
}

TEST_CASE("ordered_sink: a writer of a group hears as soon as its own bytes are out") {
    asio::io_context ctx;
    partial_gather_sink out(ctx.get_executor(), 8); // at most 8 bytes per call
    ordered_sink<partial_gather_sink> ordered(out);
    const std::string a = "a1\n", b = "b1\nb2\n", c = "c1\nc2\n", d = "d1\n";
    completion ca, cb, cc, cd;
    write(ordered, a, ca); // alone
    write(ordered, b, cb); // a group of three
    write(ordered, c, cc);
    write(ordered, d, cd);
    ctx.run_one(); // a is out; the group's first call takes b and 2 bytes of c
    CHECK((ca.ec == std::error_code{} && ca.n == 3));
    CHECK(out.str() == "a1\nb1\nb2\nc1");
    CHECK(!cb.ec);
    ctx.run_one(); // b hears now; the rest of c and d are under way
    CHECK((cb.ec == std::error_code{} && cb.n == 6));
    CHECK(!cc.ec);
    CHECK(!cd.ec);
    CHECK(out.str() == "a1\nb1\nb2\nc1\nc2\nd1\n");
    ctx.run();
    CHECK((cc.ec == std::error_code{} && cc.n == 6));
    CHECK((cd.ec == std::error_code{} && cd.n == 3));
    CHECK(out.calls == std::vector<std::size_t>{1, 3, 2});
}
