// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IMPL_RECONNECT_POLICY_HPP
#define SOCKETCAP_IMPL_RECONNECT_POLICY_HPP

#include <algorithm>
#include <cmath>
#include <limits>

namespace socketcap {

inline bool attempt_limit::exceeded(attempt_end end) noexcept {
    if (end != attempt_end::connect_failed) {
        failures_ = 0;
        return false;
    }
    if (failures_ < std::numeric_limits<std::int64_t>::max()) ++failures_;
    return max_ >= 0 && failures_ > max_;
}

inline reconnect_decision fixed_delay::next(attempt_end end) noexcept {
    bool give_up = limit_.exceeded(end);
    return {give_up, delay_, delay_, limit_.failures()};
}

template <class Random>
exponential_backoff<Random>::exponential_backoff(std::chrono::steady_clock::duration delay,
                                                 std::chrono::steady_clock::duration max_delay,
                                                 std::int64_t max_attempts, Random random)
    : delay_(delay), max_delay_(std::max(delay, max_delay)), limit_(max_attempts), random_(std::move(random)) {
    static_assert(Random::min() == 0 && Random::max() == std::numeric_limits<std::uint64_t>::max(),
                  "exponential_backoff needs a generator of uniform 64-bit values");
}

template <class Random>
reconnect_decision exponential_backoff<Random>::next(attempt_end end) {
    reconnect_decision d;
    d.give_up = limit_.exceeded(end);
    d.failures = limit_.failures();
    if (end == attempt_end::healthy) {
        unhealthy_ = 0;
        d.delay = d.bound = delay_;
        return d;
    }
    if (unhealthy_ < 64) ++unhealthy_; // 2^63 times any delay is past every cap
    // In double: delay * 2^63 overflows the duration's integer, and the cap bounds it anyway.
    double bound = std::min(double(max_delay_.count()), double(delay_.count()) * std::ldexp(1.0, unhealthy_ - 1));
    d.bound = std::chrono::steady_clock::duration(static_cast<std::chrono::steady_clock::rep>(bound));
    // Full jitter: the top 53 bits as a fraction in [0, 1).
    double fraction = double(static_cast<std::uint64_t>(random_()) >> 11) * 0x1.0p-53;
    d.delay = std::chrono::steady_clock::duration(static_cast<std::chrono::steady_clock::rep>(bound * fraction));
    return d;
}

} // namespace socketcap

#endif
