// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IO_IMPL_DEADLINE_HPP
#define SOCKETCAP_IO_IMPL_DEADLINE_HPP

#include <utility>

namespace socketcap {

template <class Timer>
template <class Executor>
deadline<Timer>::deadline(const Executor& ex, time_point at, std::function<void()> on_expiry)
    : state_(std::make_shared<state>(ex)) {
    state_->on_expiry = std::move(on_expiry);
    state_->timer.expires_at(at);
    state_->timer.async_wait([s = state_](std::error_code ec) {
        if (ec || !s->on_expiry) return;
        s->expired = true;
        std::exchange(s->on_expiry, nullptr)();
    });
}

template <class Timer>
void deadline<Timer>::finish() noexcept {
    if (!state_) return;
    state_->on_expiry = nullptr;
    state_->timer.cancel();
}

} // namespace socketcap

#endif
