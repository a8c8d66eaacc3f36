// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IO_IMPL_CAPTURE_ENGINE_HPP
#define SOCKETCAP_IO_IMPL_CAPTURE_ENGINE_HPP

#include <asio/associated_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <span>
#include <utility>

namespace socketcap {

template <sink Sink>
template <class Handler>
struct ordered_sink<Sink>::pending final : pending_base {
    pending(Handler h, asio::const_buffer b, executor_type ex) : handler(std::move(h)), fallback(std::move(ex)) {
        this->buffer = b;
    }
    // Runs from the underlying write's completion, never from the initiating call, so the
    // handler may run inline on its executor: a post here would let other ready events (a stop
    // request, say) overtake the writer's next read.
    void complete(std::error_code ec, std::size_t n) override {
        auto ex = asio::get_associated_executor(handler, fallback);
        asio::dispatch(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
    }
    Handler handler;
    executor_type fallback;
};

template <sink Sink>
template <class Token>
auto ordered_sink<Sink>::async_write_some(asio::const_buffer b, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, asio::const_buffer buf) {
            queue_.push_back(std::make_unique<pending<decltype(handler)>>(std::move(handler), buf, get_executor()));
            if (group_size_ == 0) start();
        },
        token, b);
}

template <sink Sink>
void ordered_sink<Sink>::start() {
    first_ = completed_ = 0;
    if constexpr (gather_sink<Sink>) {
        if (queue_.size() > 1) {
            while (!queue_.empty() && group_size_ < max_group) {
                rest_[group_size_] = queue_.front()->buffer;
                group_[group_size_++] = std::move(queue_.front());
                queue_.pop_front();
            }
            return write_group();
        }
    }
    // Whole: the next stream may itself be shared (a bridge_sink into another ordered_sink).
    rest_[0] = queue_.front()->buffer;
    group_[0] = std::move(queue_.front());
    group_size_ = 1;
    queue_.pop_front();
    asio::async_write(next_, rest_[0], write_whole, [this](std::error_code ec, std::size_t n) {
        if (n == rest_[0].size()) first_ = 1;
        else rest_[0] += n;
        finish(ec);
    });
}

// The loop of a gather write, by hand rather than asio::async_write: that one hands the sink
// 16 buffers per call, and its larger operation, first allocated in a burst of writes, stays
// cached on top of the heap (glibc then cannot trim: +3 KiB RSS per idle connection, measured).
// A write may stop inside a buffer and go on in the next call: only a gather_sink gets one,
// and a sink that is shared takes one buffer per call. A writer whose bytes are all out hears
// so at once, not when the group ends: it may read again while stdout's reader catches up.
template <sink Sink>
void ordered_sink<Sink>::write_group() {
    next_.async_write_some(std::span<const asio::const_buffer>(rest_.data() + first_, group_size_ - first_),
                           [this](std::error_code ec, std::size_t n) {
                               for (; first_ < group_size_ && n >= rest_[first_].size(); ++first_)
                                   n -= rest_[first_].size();
                               if (first_ < group_size_) rest_[first_] += n;
                               if (ec || first_ == group_size_) return finish(ec);
                               const std::size_t from = std::exchange(completed_, first_), to = first_;
                               write_group(); // the rest first: stdout stays busy
                               for (std::size_t i = from; i < to; ++i) {
                                   auto p = std::move(group_[i]);
                                   p->complete({}, p->buffer.size());
                               }
                           });
}

template <sink Sink>
void ordered_sink<Sink>::finish(std::error_code ec) {
    // The next group starts before this one's writers hear of theirs: a writer resumed inline
    // may queue its next write at once.
    std::array<std::unique_ptr<pending_base>, max_group> done;
    const std::size_t begin = completed_, end = std::exchange(group_size_, 0), out = first_;
    const std::size_t partial = out < end ? group_[out]->buffer.size() - rest_[out].size() : 0;
    std::move(group_.begin() + begin, group_.begin() + end, done.begin() + begin);
    if (!queue_.empty()) start();
    for (std::size_t i = begin; i < end; ++i) {
        // A failed write: the writers whose bytes were all written succeeded.
        auto p = std::move(done[i]); // freed before the next writer runs, as a lone write's is
        if (i < out) p->complete({}, p->buffer.size());
        else p->complete(ec, i == out ? partial : 0);
    }
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
struct capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::endpoint_state {
    explicit endpoint_state(const asio::any_io_executor& ex) : timer(ex) {}
    Timer timer;                            // the wait before reconnecting
    capture_totals totals;                  // finished sessions, initial included
    std::uint64_t sessions = 0;
    std::uint64_t failed_connects = 0;
    session_type* live = nullptr;           // the session running now
    conversation_history history;           // what the next session's messages may say
    std::function<void()> cancel_connect;   // set while an attempt is under way
};

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::capture_engine(
    asio::any_io_executor ex, std::vector<endpoint_type> endpoints)
    : ex_(std::move(ex)), endpoints_(std::move(endpoints)) {
    for (const auto& e : endpoints_) {
        states_.push_back(std::make_unique<endpoint_state>(ex_));
        states_.back()->totals = e.initial;
        states_.back()->history = e.session.history;
    }
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
template <sink Sink, capture_observer Observer, class Token>
auto capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::async_run(Sink& out,
                                                                                           Observer& observer,
                                                                                           diagnostics& diag,
                                                                                           Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [this, &out, &observer, &diag](auto handler) {
            diag.clear();
            result_ = {};
            auto h = std::make_shared<decltype(handler)>(std::move(handler));
            // Owned by the engine, not by the runs: a queued write's handler owns a suspended
            // run, so a run that owned the sink would own itself, and leak when the executor is
            // torn down mid-write (the connector's stop backstop does that).
            auto ordered = std::make_shared<ordered_sink<Sink>>(out);
            sink_ = ordered;
            auto complete = [this, h] {
                auto ex = asio::get_associated_executor(*h, ex_);
                asio::post(ex, [h, ec = result_]() mutable { std::move(*h)(ec); });
            };
            running_ = endpoints_.size();
            if (running_ == 0) return complete();
            for (std::size_t i = 0; i < endpoints_.size(); ++i) {
                asio::co_spawn(ex_, run_endpoint(i, *ordered, observer, diag),
                               [this, complete](std::exception_ptr e) {
                                   if (e) std::rethrow_exception(e); // bad_alloc: to the edge
                                   if (--running_ == 0) complete();
                               });
            }
        },
        token);
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
void capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::stop() {
    stopping_ = true;
    for (auto& st : states_) {
        if (st->live) st->live->stop();
        if (st->cancel_connect) st->cancel_connect();
        st->timer.cancel();
    }
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
void capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::finish_with(std::error_code ec,
                                                                                             diagnostics& diag,
                                                                                             std::string message) {
    if (!result_) {
        result_ = ec;
        diag.assign(std::move(message));
    }
    stop();
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
bool capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::deliver(
    std::size_t i, std::string_view session_id, std::string_view bytes, std::size_t messages) {
    auto* live = i < states_.size() ? states_[i]->live : nullptr;
    if (!live || live->session_id() != session_id) return false;
    return live->deliver(bytes, messages);
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
capture_stats capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::stats(std::size_t i) const {
    const auto& st = *states_[i];
    capture_stats s;
    s.totals = st.totals;
    s.sessions = st.sessions;
    s.failed_connects = st.failed_connects;
    if (st.live) {
        const auto& p = st.live->get_pipeline().stats();
        s.totals.bytes += p.bytes;
        s.totals.documents += p.documents;
        s.connected = 1;
    }
    return s;
}

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
capture_stats capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::stats() const {
    capture_stats all;
    for (std::size_t i = 0; i < states_.size(); ++i) all += stats(i);
    return all;
}

namespace detail {
template <class Endpoint>
std::size_t max_unsent_of(const Endpoint& ep) {
    return ep.session.conversation ? ep.session.conversation->max_unsent_bytes() : 0;
}
} // namespace detail

template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy, checkpoint_policy CheckpointPolicy,
          class Timer, framer Framer>
template <class Sink, class Observer>
asio::awaitable<void> capture_engine<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Timer, Framer>::run_endpoint(
    std::size_t i, Sink& out, Observer& observer, diagnostics& diag) {
    using asio::experimental::as_tuple;
    using asio::use_awaitable;
    auto& ep = endpoints_[i];
    auto& st = *states_[i];
    auto event = [&](capture_event_kind kind) {
        capture_event e;
        e.kind = kind;
        e.endpoint = i;
        e.host = ep.connector.host();
        e.port = ep.connector.port();
        return e;
    };

    while (!stopping_) {
        auto transport = ep.connector.make_transport(ex_);
        st.cancel_connect = [&transport] {
            std::error_code ignored;
            transport->lowest_layer().cancel(ignored);
            transport->lowest_layer().close(ignored);
        };
        observer.on_event(event(capture_event_kind::connecting));
        connection_info info;
        diagnostics why;
        auto [ec] = co_await ep.connector.async_connect(*transport, info, why, as_tuple(use_awaitable));
        st.cancel_connect = nullptr;
        if (stopping_) break;

        reconnect_decision next;
        if (ec) {
            ++st.failed_connects;
            next = ep.reconnect.next(attempt_end::connect_failed);
            std::string reason = why.empty() ? ec.message() : why.message();
            auto e = event(next.give_up ? capture_event_kind::gave_up : capture_event_kind::connect_failed);
            e.reason = reason;
            e.connection = &info;
            e.decision = &next;
            observer.on_event(e);
            if (next.give_up && !ep.stop_capture_on_give_up) co_return; // the others go on
            if (next.give_up) {
                finish_with(make_error_code(error::reconnects_exhausted), diag,
                            fmt::format("cannot connect to {}:{}: {} (gave up after {} failed attempt{})",
                                        ep.connector.host(), ep.connector.port(), reason, next.failures,
                                        next.failures == 1 ? "" : "s"));
                co_return;
            }
        } else {
            auto connected = event(capture_event_kind::connected);
            connected.connection = &info;
            observer.on_event(connected);

            session_options so = ep.session;
            so.history = st.history;
            so.history.documents = st.totals.documents;
            if (ep.write_checkpoint) {
                so.write_checkpoint = [&ep, &st](output_buffer& buf, const session_progress& p) {
                    ep.write_checkpoint(buf, p, st.totals);
                };
            }
            const std::size_t max_frame = so.pipeline.max_frame_bytes;
            session_type s(*transport, ep.make_codec(), ep.make_framer ? ep.make_framer() : Framer(max_frame),
                           std::move(so), ep.checkpoints);
            ++st.sessions;
            st.live = &s;
            auto started = event(capture_event_kind::session_started);
            started.session_id = s.session_id();
            observer.on_event(started);
            const auto began = Timer::clock_type::now();
            session_result result = co_await s.run(out);
            st.live = nullptr;
            st.totals.bytes += result.bytes;
            st.totals.documents += result.documents;
            st.history.last_session_id = s.session_id();
            st.history.last_sequence = result.documents; // sequences count a session's documents
            if (!result.last_position.empty()) st.history.last_position = result.last_position;

            std::string reason;
            if (result.ec == error::idle_timeout) reason = "no data within idle_timeout";
            else if (result.ec == asio::error::operation_aborted && stopping_) reason = "the capture is stopping";
            else if (result.sink_failed) reason = result.ec.message();
            else if (result.ec == error::send_backlog)
                reason = fmt::format("the server is not reading what the connector sends (more than {} bytes were "
                                     "waiting to be written)",
                                     detail::max_unsent_of(ep));
            else if (result.write_failed)
                reason = fmt::format("cannot write to the server: {}", ep.connector.describe_end(*transport, result.ec));
            else reason = ep.connector.describe_end(*transport, result.ec);
            auto ended = event(capture_event_kind::disconnected);
            ended.reason = reason;
            ended.session_id = s.session_id();
            ended.result = &result;
            observer.on_event(ended);

            if (result.sink_failed) {
                finish_with(result.ec, diag, fmt::format("cannot write the output: {}", result.ec.message()));
                co_return;
            }
            bool healthy = result.bytes > 0 || Timer::clock_type::now() - began >= ep.healthy_after;
            next = ep.reconnect.next(healthy ? attempt_end::healthy : attempt_end::unhealthy);
        }
        if (stopping_) break;
        auto waiting = event(capture_event_kind::waiting);
        waiting.decision = &next;
        observer.on_event(waiting);
        st.timer.expires_after(std::chrono::duration_cast<typename Timer::duration>(next.delay));
        co_await st.timer.async_wait(as_tuple(use_awaitable));
    }
}

} // namespace socketcap

#endif
