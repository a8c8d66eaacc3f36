// SPDX-License-Identifier: MIT OR Apache-2.0
// A clock that moves only when a test says so, and an Asio timer on it: timeouts, idle limits
// and backoff are tested in microseconds with exact times and no sleeps.
//
//   socketcap::testing::manual_clock::reset();
//   socketcap::testing::manual_timer t(ctx);  // what the code under test is given
//   t.expires_after(5s); t.async_wait(...);
//   manual_clock::advance(5s); ctx.poll();    // the wait completes now, not in 5 s
//
// The time is one per process (Asio asks the clock type, not an object); tests that use it
// run on one thread and reset() it first.
#ifndef SOCKETCAP_TESTING_MANUAL_CLOCK_HPP
#define SOCKETCAP_TESTING_MANUAL_CLOCK_HPP

#include <asio/basic_waitable_timer.hpp>

#include <chrono>
#include <cstdint>

namespace socketcap::testing {

struct manual_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<manual_clock, duration>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept { return time_point(now_); }
    /// Moves time forward; timers that fall due complete on the next poll() or run of their context.
    static void advance(duration d) noexcept { now_ += d; }
    /// Back to time zero.
    static void reset() noexcept { now_ = duration::zero(); }

private:
    static inline duration now_{};
};

/// Asio asks its wait traits how long the reactor may sleep before a timer is due. In manual
/// time that is never knowable, so the answer is "do not sleep": the reactor re-checks the
/// timers on every poll, and a timer fires as soon as advance() has passed its expiry.
struct manual_wait_traits {
    static manual_clock::duration to_wait_duration(const manual_clock::duration&) { return {}; }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point&) { return {}; }
};

using manual_timer = asio::basic_waitable_timer<manual_clock, manual_wait_traits>;

} // namespace socketcap::testing

#endif
