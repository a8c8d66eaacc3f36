// SPDX-License-Identifier: MIT OR Apache-2.0
// bridge_sink: writers on two threads share one ordered output on a third. Every line stays
// whole, each writer's lines keep their order, and each completion runs on its writer's thread.
#include <socketcap/io/bridge_sink.hpp>
#include <socketcap/io/capture_engine.hpp>

#include "test_sinks.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

using namespace socketcap;

TEST_CASE("bridge_sink: two writer threads, one ordered output, lines whole and in each writer's order") {
    asio::io_context home;
    memory_sink out(home.get_executor());
    ordered_sink<memory_sink> ordered(out);
    constexpr int writers = 2, lines = 2000;
    std::atomic<int> finished{0};
    std::atomic<int> wrong_thread{0};
    std::vector<std::unique_ptr<asio::io_context>> ctxs;
    std::vector<std::thread> threads;
    std::vector<std::unique_ptr<bridge_sink<ordered_sink<memory_sink>>>> bridges;
    for (int w = 0; w < writers; ++w) {
        auto& ctx = *ctxs.emplace_back(std::make_unique<asio::io_context>(1));
        auto& bridge = *bridges.emplace_back(
            std::make_unique<bridge_sink<ordered_sink<memory_sink>>>(ordered, ctx.get_executor()));
        asio::co_spawn(
            ctx,
            [&, w]() -> asio::awaitable<void> {
                const auto me = std::this_thread::get_id();
                for (int i = 0; i < lines; ++i) {
                    // Long enough that asio::async_write's default would cut it in pieces.
                    std::string line = fmt::format("w{} {:05} {}\n", w, i, std::string(70000, char('a' + w)));
                    co_await asio::async_write(bridge, asio::buffer(line), write_whole, asio::use_awaitable);
                    if (std::this_thread::get_id() != me) ++wrong_thread;
                    if (i == 10) break; // enough long lines; the rest short and many
                }
                for (int i = 11; i < lines; ++i) {
                    std::string line = fmt::format("w{} {:05}\n", w, i);
                    co_await asio::async_write(bridge, asio::buffer(line), write_whole, asio::use_awaitable);
                    if (std::this_thread::get_id() != me) ++wrong_thread;
                }
                ++finished;
            },
            asio::detached);
        threads.emplace_back([&ctx] { ctx.run(); });
    }
    auto guard = asio::make_work_guard(home);
    while (finished.load() < writers) home.run_one_for(std::chrono::milliseconds(100));
    for (auto& t : threads) t.join();
    home.poll();
    CHECK(wrong_thread.load() == 0);
    std::map<std::string, int> next;
    std::istringstream in(out.str());
    int count = 0;
    for (std::string line; std::getline(in, line); ++count) {
        auto sp = line.find(' ');
        REQUIRE(sp == 2);
        std::string who = line.substr(0, 2);
        int n = std::stoi(line.substr(3, 5));
        CHECK(n == next[who]++);
        if (n <= 10) CHECK(line.size() == 9 + 70000);
        else CHECK(line.size() == 8);
    }
    CHECK(count == writers * lines);
}

namespace {
struct outcome {
    std::optional<std::error_code> ec;
    std::size_t n = 0;
};

/// The connector's topology with worker threads: a worker's capture engine writes through its
/// own ordered_sink into a bridge, which hands the writes to the ordered output on the home
/// thread.
template <class Out>
struct worker_topology {
    asio::io_context home, worker;
    Out out{home.get_executor()};
    ordered_sink<Out> ordered{out};
    bridge_sink<ordered_sink<Out>> bridge{ordered, worker.get_executor()};
    ordered_sink<bridge_sink<ordered_sink<Out>>> local{bridge};

    /// Runs both contexts, as their threads would, until `done` or nothing is left to run.
    template <class Done>
    void run(Done done) {
        for (int i = 0; i < 1000 && !done(); ++i) {
            if (home.poll() + worker.poll() == 0) break;
            home.restart();
            worker.restart();
        }
    }
};
} // namespace

static_assert(gather_sink<bridge_sink<ordered_sink<memory_sink>>>);

TEST_CASE("bridge_sink: writes queued behind a crossing write cross together, each whole and in order") {
    // Before the bridge took gather writes, each of 50 writes crossed (and came back) on its own.
    worker_topology<memory_sink> t;
    constexpr int writers = 50;
    std::vector<std::string> lines;
    std::string expected;
    for (int i = 0; i < writers; ++i) expected += lines.emplace_back(fmt::format("line {:02}\n", i));
    std::vector<outcome> got(writers);
    for (int i = 0; i < writers; ++i)
        asio::async_write(t.local, asio::buffer(lines[i]), write_whole, [&got, i](std::error_code ec, std::size_t n) {
            got[i] = {ec, n};
        });
    t.run([&] { return got.back().ec.has_value(); });
    CHECK(t.out.str() == expected);
    for (int i = 0; i < writers; ++i) {
        INFO("writer " << i);
        CHECK((got[i].ec == std::error_code{} && got[i].n == lines[i].size()));
    }
    CHECK(t.bridge.crossings() == 2); // the first write, then the 49 that queued behind it
    CHECK(t.out.writes() == 3); // home's: the first; of the 49, one alone, then the 48 queued behind it
}

TEST_CASE("bridge_sink: a failed write in a crossing group fails the writers whose bytes did not all go out") {
    worker_topology<one_buffer_sink> t;
    const std::vector<std::string> lines = {"a1\n", "b1\n", "c1\nc2\n", "d1\n"};
    t.out.fail_after = 3 + 3 + 4; // a, b, and part of c
    std::vector<outcome> got(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i)
        t.local.async_write_some(asio::buffer(lines[i]), [&got, i](std::error_code ec, std::size_t n) { got[i] = {ec, n}; });
    t.run([&] { return got.back().ec.has_value(); });
    CHECK(t.out.str() == "a1\nb1\nc1\nc");
    CHECK((got[0].ec == std::error_code{} && got[0].n == 3));
    CHECK((got[1].ec == std::error_code{} && got[1].n == 3));
    CHECK((got[2].ec == make_error_code(std::errc::broken_pipe) && got[2].n == 4));
    CHECK((got[3].ec == make_error_code(std::errc::broken_pipe) && got[3].n == 0));
    CHECK(t.bridge.crossings() == 2);
}
