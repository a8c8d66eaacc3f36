// SPDX-License-Identifier: MIT OR Apache-2.0
// bridge_sink: writers on two threads share one ordered output on a third. Every line stays
// whole, each writer's lines keep their order, and each completion runs on its writer's thread.
#include <socketcap/io/bridge_sink.hpp>
#include <socketcap/io/capture_engine.hpp>

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
#include <sstream>
#include <thread>

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
