// SPDX-License-Identifier: MIT OR Apache-2.0
// Reconnect policies: exact delays from a scripted random source, attempt limits, resets.
#include <socketcap/reconnect_policy.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace socketcap;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

/// A 64-bit generator that returns the values it was given, in a loop.
struct scripted_random {
    using result_type = std::uint64_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    std::vector<result_type> values;
    std::size_t at = 0;
    result_type operator()() { return values[at++ % values.size()]; }
};

constexpr std::uint64_t half = std::uint64_t{1} << 63;   // fraction 0.5
constexpr std::uint64_t quarter = std::uint64_t{1} << 62; // fraction 0.25
constexpr std::uint64_t all_ones = ~std::uint64_t{0};     // fraction 1 - 2^-53

steady_clock::duration ms(std::int64_t n) { return milliseconds(n); }

} // namespace

TEST_CASE("fixed_delay: the same delay after every end, no jitter") {
    fixed_delay p(ms(250));
    for (auto end : {attempt_end::connect_failed, attempt_end::unhealthy, attempt_end::healthy,
                     attempt_end::connect_failed}) {
        auto d = p.next(end);
        CHECK(d.delay == ms(250));
        CHECK(d.bound == ms(250));
        CHECK_FALSE(d.give_up);
    }
}

TEST_CASE("attempt limit: consecutive failed connects only; any connection resets the count") {
    fixed_delay p(ms(10), 2);
    CHECK(p.next(attempt_end::connect_failed).failures == 1);
    auto second = p.next(attempt_end::connect_failed);
    CHECK(second.failures == 2);
    CHECK_FALSE(second.give_up);
    // A connection that ended at once still was a connection: the count starts again.
    CHECK(p.next(attempt_end::unhealthy).failures == 0);
    CHECK_FALSE(p.next(attempt_end::connect_failed).give_up);
    CHECK_FALSE(p.next(attempt_end::connect_failed).give_up);
    auto third = p.next(attempt_end::connect_failed);
    CHECK(third.give_up);
    CHECK(third.failures == 3);

    fixed_delay none(ms(10), 0); // max_reconnect_attempts 0: the first failure is fatal
    CHECK(none.next(attempt_end::connect_failed).give_up);

    fixed_delay unlimited(ms(10), -1);
    for (int i = 0; i < 10000; ++i) REQUIRE_FALSE(unlimited.next(attempt_end::connect_failed).give_up);
}

TEST_CASE("exponential_backoff: bounds double up to the cap, delays are the bound times the drawn fraction") {
    exponential_backoff<scripted_random> p(ms(100), ms(1000), -1, scripted_random{{half, quarter, 0, all_ones}});
    struct step {
        attempt_end end;
        steady_clock::duration bound, delay;
    };
    const std::vector<step> steps = {
        {attempt_end::connect_failed, ms(100), ms(50)},  // 1st: 100 ms * 0.5
        {attempt_end::connect_failed, ms(200), ms(50)},  // 2nd: 200 ms * 0.25
        {attempt_end::unhealthy, ms(400), ms(0)},        // 3rd: connected, closed at once, no data
        {attempt_end::connect_failed, ms(800), steady_clock::duration(799'999'999)}, // 800 ms * (1 - 2^-53)
        {attempt_end::connect_failed, ms(1000), ms(500)}, // capped
        {attempt_end::connect_failed, ms(1000), ms(250)},
        {attempt_end::healthy, ms(100), ms(100)},         // reset, exactly the delay, nothing drawn
        {attempt_end::connect_failed, ms(100), ms(0)},    // doubling starts again (drew 0)
        {attempt_end::connect_failed, ms(200), steady_clock::duration(199'999'999)},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("step " << i);
        auto d = p.next(steps[i].end);
        CHECK(d.bound == steps[i].bound);
        CHECK(d.delay == steps[i].delay);
        CHECK_FALSE(d.give_up);
    }
}

TEST_CASE("exponential_backoff: hours of failures never overflow, and the limit still applies") {
    exponential_backoff<scripted_random> p(24h, 24h, 100000, scripted_random{{all_ones}});
    reconnect_decision d;
    for (int i = 0; i < 100000; ++i) d = p.next(attempt_end::connect_failed);
    CHECK_FALSE(d.give_up);
    CHECK(d.bound == steady_clock::duration(24h));
    CHECK(d.delay <= d.bound);
    CHECK(d.delay > steady_clock::duration(24h) - 1ms);
    CHECK(p.next(attempt_end::connect_failed).give_up);

    // A cap below the delay is read as "no growth": the delay itself.
    exponential_backoff<scripted_random> q(ms(500), ms(100), -1, scripted_random{{half}});
    CHECK(q.next(attempt_end::connect_failed).bound == ms(500));
}
