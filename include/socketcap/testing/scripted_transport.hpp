// SPDX-License-Identifier: MIT OR Apache-2.0
// A transport that plays a script instead of reading a socket: bytes, pauses, errors, end of
// stream. With the manual clock, a test drives a session through idle timeouts, slow servers
// and failures in microseconds and knows exactly what each read returned.
//
//   scripted_transport t(ctx.get_executor());
//   t.data("one\ntw").pause(10s).data("o\n").eof();
//
// A read takes the next step: `data` returns up to the buffer's size of its bytes (the rest
// stays for the next read), `fail` completes with its error, `pause` holds the read until the
// clock has moved past it (then the read goes on with the step after). With the script played
// out, a read waits like a silent server until cancel() or close(). It models `transport`.
//
// Writes (a conversation's) are recorded in written(): each completes whole, unless the test
// made the server stop reading (stall_writes(): writes wait until cancel() or close()) or made
// them fail (fail_writes(ec)). So it models duplex_transport too.
//
// scripted_transport<Timer, true> is a socket's double: it also models waitable_transport.
// async_wait(wait_read) goes through pauses and silence as a read would, but completes without
// taking the step (with success before data or an error, as readability says "a read will not
// block"), so a session waits on it while its buffer is empty; available() is the size of a
// data step at the front.
#ifndef SOCKETCAP_TESTING_SCRIPTED_TRANSPORT_HPP
#define SOCKETCAP_TESTING_SCRIPTED_TRANSPORT_HPP

#include <socketcap/testing/manual_clock.hpp>
#include <socketcap/io/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <cstring>
#include <deque>
#include <string>
#include <system_error>
#include <vector>

namespace socketcap::testing {

template <class Timer = manual_timer, bool Waitable = false>
class scripted_transport {
public:
    using executor_type = asio::any_io_executor;
    using duration = typename Timer::duration;

    explicit scripted_transport(const executor_type& ex) : ex_(ex), timer_(ex), write_timer_(ex) {}

    scripted_transport& data(std::string bytes) { return add({step::bytes, std::move(bytes), {}, {}}); }
    scripted_transport& fail(std::error_code ec) { return add({step::error, {}, ec, {}}); }
    scripted_transport& eof() { return fail(asio::error::eof); }
    scripted_transport& pause(duration d) { return add({step::pause, {}, {}, d}); }

    executor_type get_executor() const noexcept { return ex_; }

    template <class Token>
    auto async_read_some(asio::mutable_buffer buffer, Token&& token) {
        read_sizes_.push_back(buffer.size());
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(basic_read_op<false>{this, buffer}, token,
                                                                               ex_);
    }

    /// Only the socket double (Waitable): the bytes a read would return now (those of a data
    /// step at the front; none before a pause or an error).
    std::size_t available(std::error_code& ec) const
        requires Waitable
    {
        ec = {};
        if (!open_ || script_.empty() || script_.front().kind != step::bytes) return 0;
        return script_.front().data.size();
    }

    /// Only the socket double (Waitable): completes when a read would not block, taking nothing.
    template <class Token>
        requires Waitable
    auto async_wait(asio::socket_base::wait_type, Token&& token) {
        return asio::async_compose<Token, void(std::error_code)>(basic_read_op<true>{this, {}}, token, ex_);
    }

    template <class Token>
    auto async_write_some(asio::const_buffer buffer, Token&& token) {
        return asio::async_compose<Token, void(std::error_code, std::size_t)>(write_op{this, buffer}, token, ex_);
    }
    /// From now on writes wait (a server that stopped reading) until cancel() or close().
    scripted_transport& stall_writes() {
        stalled_ = true;
        return *this;
    }
    /// From now on writes fail with `ec` (a peer that reset the connection, say).
    scripted_transport& fail_writes(std::error_code ec) {
        write_error_ = ec;
        return *this;
    }
    /// Every byte written so far, in order.
    const std::string& written() const noexcept { return written_; }

    /// The "socket underneath" is the transport itself.
    scripted_transport& lowest_layer() noexcept { return *this; }
    void cancel(std::error_code& ec) {
        timer_.cancel();
        write_timer_.cancel();
        ec = {};
    }
    void cancel() {
        std::error_code ignored;
        cancel(ignored);
    }
    void close(std::error_code& ec) {
        open_ = false;
        cancel(ec);
    }
    void close() { open_ = false, cancel(); }
    bool is_open() const noexcept { return open_; }

    /// Reads completed so far, and bytes they returned.
    std::size_t reads() const noexcept { return reads_; }
    /// The buffer size of every read started, in order.
    const std::vector<std::size_t>& read_sizes() const noexcept { return read_sizes_; }
    /// Waits for readability completed so far (the socket double's).
    std::size_t waits() const noexcept { return waits_; }
    std::size_t bytes_read() const noexcept { return bytes_; }
    /// True when every step has been played.
    bool played() const noexcept { return script_.empty(); }

private:
    struct step {
        enum kind_t { bytes, error, pause } kind;
        std::string data;
        std::error_code ec;
        duration wait;
    };

    scripted_transport& add(step s) {
        script_.push_back(std::move(s));
        return *this;
    }

    // WaitOnly (async_wait): completes where a read would deliver, and takes nothing.
    template <bool WaitOnly>
    struct basic_read_op {
        scripted_transport* self;
        asio::mutable_buffer buffer;
        enum { start, deliver, paused } state = start;

        template <class Self>
        void operator()(Self& op, std::error_code ec = {}) {
            auto& t = *self;
            if (state == paused) {
                if (ec) return finish(op, ec, 0); // cancelled or closed during the pause
                if (!t.script_.empty() && t.script_.front().kind == step::pause) t.script_.pop_front();
            }
            if (state != deliver) {
                if (t.open_ && !t.script_.empty() && t.script_.front().kind == step::pause) {
                    state = paused;
                    t.timer_.expires_after(t.script_.front().wait);
                    return t.timer_.async_wait(std::move(op));
                }
                if (t.open_ && t.script_.empty()) { // a silent server
                    state = paused;
                    t.timer_.expires_at(Timer::time_point::max());
                    return t.timer_.async_wait(std::move(op));
                }
                // Never complete inside the initiating call: Asio's rule for every operation.
                state = deliver;
                return asio::post(t.ex_, std::move(op));
            }
            if (!t.open_) return finish(op, asio::error::bad_descriptor, 0);
            if (WaitOnly) return finish(op, {}, 0);
            step& s = t.script_.front();
            if (s.kind == step::error) {
                auto e = s.ec;
                t.script_.pop_front();
                return finish(op, e, 0);
            }
            std::size_t n = std::min(buffer.size(), s.data.size());
            std::memcpy(buffer.data(), s.data.data(), n);
            s.data.erase(0, n);
            if (s.data.empty()) t.script_.pop_front();
            finish(op, {}, n);
        }

        template <class Self>
        void finish(Self& op, std::error_code ec, std::size_t n) {
            if constexpr (WaitOnly) {
                ++self->waits_;
                op.complete(ec);
            } else {
                ++self->reads_;
                self->bytes_ += n;
                op.complete(ec, n);
            }
        }
    };

    struct write_op {
        scripted_transport* self;
        asio::const_buffer buffer;
        bool started = false;

        template <class Self>
        void operator()(Self& op, std::error_code ec = {}) {
            auto& t = *self;
            if (!started) {
                started = true;
                if (t.stalled_ && t.open_) {
                    t.write_timer_.expires_at(Timer::time_point::max());
                    return t.write_timer_.async_wait(std::move(op)); // completes on cancel or close
                }
                return asio::post(t.ex_, std::move(op));
            }
            if (ec) return op.complete(ec, 0);
            if (!t.open_) return op.complete(asio::error::bad_descriptor, 0);
            if (t.write_error_) return op.complete(t.write_error_, 0);
            t.written_.append(static_cast<const char*>(buffer.data()), buffer.size());
            op.complete({}, buffer.size());
        }
    };

    executor_type ex_;
    Timer timer_;
    Timer write_timer_;
    std::string written_;
    std::error_code write_error_;
    bool stalled_ = false;
    std::deque<step> script_;
    bool open_ = true;
    std::size_t reads_ = 0;
    std::size_t bytes_ = 0;
    std::size_t waits_ = 0;
    std::vector<std::size_t> read_sizes_;
};

static_assert(duplex_transport<scripted_transport<>>);
static_assert(!waitable_transport<scripted_transport<>>);
static_assert(waitable_transport<scripted_transport<manual_timer, true>>);

} // namespace socketcap::testing

#endif
