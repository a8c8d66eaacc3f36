// SPDX-License-Identifier: MIT OR Apache-2.0
// One deadline for one operation: when the time comes, a callback cancels whatever the
// operation is waiting on (a resolver, a socket, a handshake) and expired() says why it ended.
// Connect and the TLS handshake share it; a test passes testing::manual_timer.
#ifndef SOCKETCAP_IO_DEADLINE_HPP
#define SOCKETCAP_IO_DEADLINE_HPP

#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace socketcap {

template <class Timer = asio::steady_timer>
class deadline {
public:
    using time_point = typename Timer::time_point;

    /// Calls `on_expiry` once at `at`, unless finish() (or the destructor) comes first. The
    /// callback never runs after finish(): it may refer to the operation's locals.
    template <class Executor>
    deadline(const Executor& ex, time_point at, std::function<void()> on_expiry);
    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;
    ~deadline() { finish(); }

    /// The operation is over: the deadline no longer applies.
    void finish() noexcept;
    bool expired() const noexcept { return state_->expired; }

private:
    // Shared with the timer's handler, which may still be queued when the deadline is gone.
    struct state {
        template <class Executor>
        explicit state(const Executor& ex) : timer(ex) {}
        Timer timer;
        std::function<void()> on_expiry;
        bool expired = false;
    };
    std::shared_ptr<state> state_;
};

} // namespace socketcap

#include <socketcap/io/impl/deadline.hpp>

#endif
