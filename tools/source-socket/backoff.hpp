// SPDX-License-Identifier: MIT OR Apache-2.0
// The wait before the next connection attempt: reconnect_delay, or with reconnect_max_delay
// set, exponential backoff (multiplier 2) with full jitter, reset by a healthy connection.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_BACKOFF_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_BACKOFF_HPP

#include <cstdint>
#include <optional>
#include <random>

namespace source_socket {

class reconnect_backoff {
public:
    struct wait {
        double seconds;     ///< how long to wait now
        double max_seconds; ///< the upper bound it was drawn from
    };

    /// `max_delay` none: always `delay` (the spec's fixed delay).
    reconnect_backoff(double delay, std::optional<double> max_delay);

    /// After a healthy connection (it delivered data or stayed up for `delay`): `delay`, and the
    /// count of unhealthy ends restarts. After the n-th unhealthy end in a row (a failed attempt,
    /// or a connection that closed at once without data): uniform in [0, min(max_delay,
    /// delay * 2^(n-1))], so many clients restarting together spread out.
    wait next(bool healthy);

private:
    double delay_;
    std::optional<double> max_delay_;
    int unhealthy_ = 0;
    std::mt19937_64 rng_;
};

} // namespace source_socket

#endif
