// SPDX-License-Identifier: MIT OR Apache-2.0
#include "backoff.hpp"

#include <algorithm>
#include <cmath>

namespace source_socket {

reconnect_backoff::reconnect_backoff(double delay, std::optional<double> max_delay)
    : delay_(delay), max_delay_(max_delay), rng_(std::random_device{}()) {}

reconnect_backoff::wait reconnect_backoff::next(bool healthy) {
    if (!max_delay_ || healthy) {
        unhealthy_ = 0;
        return {delay_, delay_};
    }
    if (unhealthy_ < 64) ++unhealthy_; // 2^63 times any delay is past every cap
    double bound = std::min(*max_delay_, delay_ * std::ldexp(1.0, unhealthy_ - 1));
    return {std::uniform_real_distribution<double>(0.0, bound)(rng_), bound};
}

} // namespace source_socket
