// SPDX-License-Identifier: MIT OR Apache-2.0
// When to connect again after a connection attempt failed or a connection ended, and when to
// give up. Pure decisions: no clock and no timer here, so a caller (or a test) owns time, and
// the randomness of jitter is a template parameter.
#ifndef SOCKETCAP_RECONNECT_POLICY_HPP
#define SOCKETCAP_RECONNECT_POLICY_HPP

#include <chrono>
#include <concepts>
#include <cstdint>
#include <random>

namespace socketcap {

/// How the last attempt ended, as far as reconnecting is concerned.
enum class attempt_end : std::uint8_t {
    connect_failed, ///< no connection (resolve, connect or handshake failed or timed out)
    unhealthy,      ///< connected, but it ended at once without data: backoff keeps growing
    healthy,        ///< connected and delivered data, or stayed up for the base delay
};

/// A reconnect policy's answer.
struct reconnect_decision {
    bool give_up = false;                          ///< the attempt limit is reached: stop
    std::chrono::steady_clock::duration delay{};   ///< wait this long before the next attempt
    std::chrono::steady_clock::duration bound{};   ///< the most `delay` could have been (jitter)
    std::int64_t failures = 0;                     ///< consecutive failed connects, this one included
};

/// ReconnectPolicy requirements: p.next(attempt_end) decides after every attempt. Failed
/// connects in a row count towards the attempt limit; any connection resets the count.
template <class P>
concept reconnect_policy = requires(P& p, attempt_end end) {
    { p.next(end) } -> std::same_as<reconnect_decision>;
};

/// The attempt limit shared by the policies: `max_attempts` consecutive failed connects are
/// allowed, the next one gives up; -1 means never give up.
class attempt_limit {
public:
    explicit attempt_limit(std::int64_t max_attempts = -1) noexcept : max_(max_attempts) {}
    /// Counts the attempt; true when it is one failure too many.
    bool exceeded(attempt_end end) noexcept;
    std::int64_t failures() const noexcept { return failures_; }
    std::int64_t max_attempts() const noexcept { return max_; }

private:
    std::int64_t max_;
    std::int64_t failures_ = 0;
};

/// Always the same delay (the connector's `reconnect_delay` without `reconnect_max_delay`).
class fixed_delay {
public:
    explicit fixed_delay(std::chrono::steady_clock::duration delay, std::int64_t max_attempts = -1) noexcept
        : delay_(delay), limit_(max_attempts) {}
    reconnect_decision next(attempt_end end) noexcept;

private:
    std::chrono::steady_clock::duration delay_;
    attempt_limit limit_;
};

/// Exponential backoff with full jitter: after the n-th unhealthy end in a row the wait is
/// uniform in [0, min(max_delay, delay * 2^(n-1))], so clients that lost the same server
/// spread out. A healthy end waits exactly `delay` and restarts the doubling.
/// `Random`: a 64-bit uniform random bit generator; the jitter is computed from its raw output
/// (not through a standard distribution, whose results differ between libraries), so a fixed
/// generator gives the same delays everywhere.
template <class Random = std::mt19937_64>
class exponential_backoff {
public:
    exponential_backoff(std::chrono::steady_clock::duration delay, std::chrono::steady_clock::duration max_delay,
                        std::int64_t max_attempts = -1, Random random = Random(std::random_device{}()));
    reconnect_decision next(attempt_end end);

private:
    std::chrono::steady_clock::duration delay_;
    std::chrono::steady_clock::duration max_delay_;
    attempt_limit limit_;
    int unhealthy_ = 0;
    Random random_;
};

static_assert(reconnect_policy<fixed_delay>);
static_assert(reconnect_policy<exponential_backoff<>>);

} // namespace socketcap

#include <socketcap/impl/reconnect_policy.hpp>

#endif
