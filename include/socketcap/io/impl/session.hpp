// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IO_IMPL_SESSION_HPP
#define SOCKETCAP_IO_IMPL_SESSION_HPP

#include <socketcap/error.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <optional>
#include <tuple>

namespace socketcap {

// The idle timer outlives the session if its handler is still queued when the session ends,
// so its state is shared and the handler only acts while the session is alive.
// Idleness is time spent in a read without bytes: while the session waits for its sink
// (back-pressure) the server is not idle, so the timer only expires during a read.
template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
struct session<Transport, Codec, CheckpointPolicy, Timer, Framer>::watchdog {
    explicit watchdog(const typename Transport::executor_type& ex) : timer(ex) {}
    Timer timer;
    typename Timer::time_point last_activity; // start of the read, or its last bytes
    typename Timer::duration limit{};
    Transport* transport = nullptr; // null once the session ended
    bool reading = false;
    bool expired = false;

    static void arm(const std::shared_ptr<watchdog>& self) {
        self->timer.expires_at(self->last_activity + self->limit);
        self->timer.async_wait([weak = std::weak_ptr<watchdog>(self)](std::error_code ec) {
            auto w = weak.lock();
            if (ec || !w || w->transport == nullptr) return;
            auto now = Timer::clock_type::now();
            if (w->reading && now >= w->last_activity + w->limit) {
                w->expired = true;
                std::error_code ignored;
                w->transport->lowest_layer().cancel(ignored);
                return;
            }
            if (!w->reading) w->last_activity = now; // re-check one limit later
            arm(w);
        });
    }
};

// The writer of a conversation: a coroutine beside the read loop, so that a server slow to take
// our bytes never delays reading. `wake` holds the heartbeat's due time and is cancelled to say
// "bytes are queued" or "the session is ending"; `done_signal` is cancelled when the writer ends.
template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
struct session<Transport, Codec, CheckpointPolicy, Timer, Framer>::writer_state {
    explicit writer_state(const typename Transport::executor_type& ex) : wake(ex), done_signal(ex) {
        done_signal.expires_at(Timer::time_point::max());
    }
    Timer wake;
    Timer done_signal;
    typename Timer::time_point last_write{}; // the start of the last write (or of the session)
    bool idle = false;    // waiting on `wake`
    bool writing = false; // a write is outstanding
    bool closing = false; // the read loop has ended
    bool done = false;
};

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
asio::awaitable<void> session<Transport, Codec, CheckpointPolicy, Timer, Framer>::write_loop(
    std::shared_ptr<writer_state> w, session_result& result) {
    using asio::experimental::as_tuple;
    using asio::use_awaitable;
    if constexpr (duplex_transport<Transport>) {
        const auto interval =
            std::chrono::duration_cast<typename Timer::duration>(conversation_->plan().heartbeat_interval());
        std::string batch;
        w->last_write = Timer::clock_type::now();
        while (!w->closing) {
            if (conversation_->unsent_bytes() == 0) {
                w->wake.expires_at(interval.count() > 0 ? w->last_write + interval : Timer::time_point::max());
                w->idle = true;
                auto [ec] = co_await w->wake.async_wait(as_tuple(use_awaitable));
                w->idle = false;
                if (w->closing) break;
                // Due only if nothing was written meanwhile: a heartbeat fills silence.
                if (!ec && interval.count() > 0 && Timer::clock_type::now() >= w->last_write + interval)
                    conversation_->heartbeat(std::chrono::system_clock::now());
                continue;
            }
            std::size_t messages = conversation_->take(batch);
            w->last_write = Timer::clock_type::now();
            w->writing = true;
            auto [ec, n] = co_await asio::async_write(transport_, asio::buffer(batch), as_tuple(use_awaitable));
            w->writing = false;
            if (ec) {
                // Aborted: the session is ending (stop, idle timeout, end of stream) and says why.
                if (!w->closing && ec != asio::error::operation_aborted && !result.write_failed) {
                    result.ec = ec;
                    result.write_failed = true;
                    std::error_code ignored;
                    transport_.lowest_layer().cancel(ignored); // ends the read loop
                }
                break;
            }
            result.messages_sent += messages;
            result.bytes_sent += n;
        }
    } else {
        (void)w;
        (void)result;
        co_return;
    }
}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
session<Transport, Codec, CheckpointPolicy, Timer, Framer>::session(Transport& transport, Codec codec,
                                                                    session_options opts, CheckpointPolicy policy)
    requires std::constructible_from<Framer, std::size_t>
    : transport_(transport),
      opts_(std::move(opts)),
      policy_(std::move(policy)),
      pipeline_(std::move(codec), read_options(opts_.pipeline)),
      env_(opts_.source_host, opts_.source_port, opts_.document_prefix, opts_.document_suffix) {}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
template <std::same_as<Framer> F>
session<Transport, Codec, CheckpointPolicy, Timer, Framer>::session(Transport& transport, Codec codec, F framer,
                                                                    session_options opts, CheckpointPolicy policy)
    : transport_(transport),
      opts_(std::move(opts)),
      policy_(std::move(policy)),
      pipeline_(std::move(codec), std::move(framer), read_options(opts_.pipeline)),
      env_(opts_.source_host, opts_.source_port, opts_.document_prefix, opts_.document_suffix) {}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
void session<Transport, Codec, CheckpointPolicy, Timer, Framer>::stop() {
    stopped_ = true;
    std::error_code ignored;
    transport_.lowest_layer().cancel(ignored);
}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
bool session<Transport, Codec, CheckpointPolicy, Timer, Framer>::deliver(std::string_view bytes, std::size_t messages) {
    if (!writer_ || writer_->closing || writer_->done) return false;
    conversation_->send(bytes, messages);
    if (writer_->idle) writer_->wake.cancel();
    return true;
}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
void session<Transport, Codec, CheckpointPolicy, Timer, Framer>::write_checkpoint(output_buffer& out) {
    if (opts_.write_checkpoint) {
        auto& s = pipeline_.stats();
        session_progress p{env_.session_id(), env_.sequence(), s.bytes, s.documents};
        if (conversation_) {
            p.position = conversation_->last_position();
            p.acks = conversation_->take_acks();
        }
        opts_.write_checkpoint(out, p);
    }
    checkpointed_documents_ = pipeline_.stats().documents;
    ++checkpoints_;
    policy_.on_checkpoint();
}

template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy, class Timer, framer Framer>
template <sink Sink>
asio::awaitable<session_result> session<Transport, Codec, CheckpointPolicy, Timer, Framer>::run(Sink& sink) {
    using asio::experimental::as_tuple;
    using asio::use_awaitable;
    session_result result;
    output_buffer out;

    std::shared_ptr<writer_state> writer;
    if (opts_.conversation && (opts_.conversation->filters() || opts_.conversation->writes())) {
        conversation_ = std::make_unique<conversation>(opts_.conversation, env_.session_id(), opts_.history);
        if (opts_.conversation->filters()) pipeline_.set_frame_filter(conversation_.get());
    }
    if (opts_.conversation && opts_.conversation->writes()) {
        if constexpr (duplex_transport<Transport>) {
            conversation_->start(std::chrono::system_clock::now());
            writer = writer_ = std::make_shared<writer_state>(transport_.get_executor());
            asio::co_spawn(transport_.get_executor(), write_loop(writer, result), [writer](std::exception_ptr e) {
                writer->done = true;
                writer->done_signal.cancel();
                if (e) std::rethrow_exception(e); // bad_alloc: to the edge
            });
        } else {
            result.ec = make_error_code(std::errc::operation_not_supported); // this transport cannot write
            result.write_failed = true;
            co_return result;
        }
    }

    if (opts_.idle_timeout.count() > 0) {
        watchdog_ = std::make_shared<watchdog>(transport_.get_executor());
        watchdog_->transport = &transport_;
        watchdog_->limit = std::chrono::duration_cast<typename Timer::duration>(opts_.idle_timeout);
        watchdog_->last_activity = Timer::clock_type::now();
        watchdog::arm(watchdog_);
    }

    auto flush = [&]() -> asio::awaitable<bool> {
        if (out.size() == 0) co_return true;
        // write_whole: one write_some per buffer, so a sink shared by several sessions (an
        // ordered_sink) never puts another session's bytes inside this one's documents.
        auto [ec, n] = co_await asio::async_write(sink, asio::buffer(out.data(), out.size()), write_whole,
                                                  as_tuple(use_awaitable));
        (void)n;
        out.clear();
        if (ec) {
            result.ec = ec;
            result.sink_failed = true;
            co_return false;
        }
        co_return true;
    };

    // The checkpoint policy's latency bound: documents pending since `pending_since` are
    // checkpointed at pending_since + latency, whether or not a read completes by then.
    const auto latency = std::chrono::duration_cast<typename Timer::duration>(checkpoint_max_latency(policy_));
    std::optional<Timer> due_timer;
    if (latency.count() > 0) due_timer.emplace(transport_.get_executor());
    typename Timer::time_point pending_since{};
    bool last_read_full = false; // the last read filled its whole area: more is likely waiting

    // A read (or a wait for readability) that must not hold pending documents past their
    // deadline. The read is never cancelled (a TLS stream may not survive that): it stays
    // outstanding while the checkpoint is written, and the timer doubles as the wake-up when the
    // read completes. `start(handler)` starts the operation.
    auto with_deadline = [&](auto start) -> asio::awaitable<std::tuple<std::error_code, std::size_t>> {
        bool done = false;
        std::error_code read_ec;
        std::size_t read_n = 0;
        Timer& wake = *due_timer;
        wake.expires_at(pending_since + latency);
        start([&](std::error_code e, std::size_t k) {
            read_ec = e;
            read_n = k;
            done = true;
            wake.cancel();
        });
        while (!done) {
            auto [wait_ec] = co_await wake.async_wait(as_tuple(use_awaitable));
            if (done || wait_ec || !pending()) continue;
            write_checkpoint(out);
            if (watchdog_) watchdog_->reading = false; // waiting for the sink is not idleness
            bool written = co_await flush();
            if (watchdog_) {
                watchdog_->reading = true;
                watchdog_->last_activity = Timer::clock_type::now();
            }
            if (!written) {
                std::error_code ignored;
                transport_.lowest_layer().cancel(ignored); // the session ends: the read must first
            }
            wake.expires_at(Timer::time_point::max()); // now only the read can wake us
        }
        co_return std::tuple{read_ec, read_n};
    };

    while (!stopped_) {
        // Between frames the connection may be about to go quiet for good (docs/design.md,
        // "Memory"), unless the last read filled its whole area: then more bytes are likely
        // waiting (a flood, or chunks framed one per read). A socket is asked instead (one
        // ioctl) when that, or a large output buffer, is at stake: a wait would cost a reactor
        // round trip and a new read area, a freed output buffer its regrowth, for every read of
        // a flood. A line now and then asks nothing.
        const bool empty = pipeline_.pending_bytes() == 0;
        bool may_idle = empty && !last_read_full;
        if constexpr (waitable_transport<Transport>) {
            if (empty && (last_read_full || out.capacity() > max_idle_output_bytes)) {
                std::error_code ignored;
                may_idle = transport_.available(ignored) == 0;
            }
        }
        // The documents of a burst (a 64 KiB read of short lines renders ~270 KB) are not worth
        // keeping the buffer they grew while idle; a busy stream keeps it.
        if (may_idle && out.capacity() > max_idle_output_bytes) out = output_buffer{};
        if (watchdog_) {
            watchdog_->reading = true;
            watchdog_->last_activity = Timer::clock_type::now();
        }
        std::error_code ec;
        std::size_t n = 0;
        bool read = true;
        if constexpr (waitable_transport<Transport>) {
            if (may_idle) {
                // Idle until proven otherwise: wait for readability holding no read area, and
                // take one only when there are bytes to put in it (docs/design.md, "Memory").
                pipeline_.release_buffer();
                auto wait = [&](auto handler) {
                    transport_.async_wait(asio::socket_base::wait_read,
                                          [h = std::move(handler)](std::error_code e) mutable { h(e, 0); });
                };
                if (due_timer && pending()) {
                    std::tie(ec, n) = co_await with_deadline(wait);
                } else {
                    auto [wait_ec] =
                        co_await transport_.async_wait(asio::socket_base::wait_read, as_tuple(use_awaitable));
                    ec = wait_ec;
                }
                // A stop() or a failed sink between the wait's completion and now found nothing to
                // cancel: the read must not start (it could wait for ever).
                read = !ec && !stopped_ && !result.sink_failed;
                if (read && watchdog_) watchdog_->last_activity = Timer::clock_type::now();
            }
        }
        if (read) {
            auto span = pipeline_.prepare();
            auto area = asio::buffer(span.data(), span.size());
            // No co_await inside a conditional expression: g++ 12 miscompiled one whose operand
            // was a temporary lambda (a timer awaited with a null service).
            if (due_timer && pending()) {
                auto start = [&](auto handler) { transport_.async_read_some(area, std::move(handler)); };
                std::tie(ec, n) = co_await with_deadline(start);
            } else {
                std::tie(ec, n) = co_await transport_.async_read_some(area, as_tuple(use_awaitable));
            }
            last_read_full = n != 0 && n == area.size();
        }
        if (result.sink_failed) break;
        if (watchdog_) {
            watchdog_->reading = false;
            if (watchdog_->expired && ec != asio::error::operation_aborted) {
                // The read completed before the expiry's cancel reached it: keep watching.
                watchdog_->expired = false;
                watchdog::arm(watchdog_);
            }
        }
        if (n != 0) {
            env_.stamp(std::chrono::system_clock::now());
            auto docs_before = pipeline_.stats().documents;
            bool was_pending = pending();
            std::size_t out_before = out.size();
            pipeline_.commit(n, env_, out);
            std::size_t docs = pipeline_.stats().documents - docs_before;
            bool now_due = policy_.after_read(docs, out.size() - out_before);
            if (due_timer && !now_due && pending()) {
                auto now = Timer::clock_type::now();
                if (!was_pending) pending_since = now;
                now_due = now - pending_since >= latency; // reads keep coming, but not the counts
            }
            if (now_due) write_checkpoint(out);
            if (conversation_) {
                if (conversation_->backlogged()) {
                    // The server stopped reading: unbounded queueing is not an option.
                    result.ec = error::send_backlog;
                    result.write_failed = true;
                    break;
                }
                if (writer->idle && conversation_->unsent_bytes() > 0) writer->wake.cancel();
            }
        }
        if (ec || result.write_failed) {
            if (!result.write_failed) result.ec = ec; // else the writer's error says why
            break;
        }
        // Back-pressure: the next read waits for this write, so a slow reader of the sink
        // slows the socket down instead of growing memory.
        if (!co_await flush()) break;
    }

    if (writer) {
        // The writer ends before the session does: it uses the transport and `result`.
        writer->closing = true;
        writer->wake.cancel();
        if (writer->writing) {
            std::error_code ignored;
            transport_.lowest_layer().cancel(ignored);
        }
        while (!writer->done) co_await writer->done_signal.async_wait(as_tuple(use_awaitable));
    }
    if (conversation_) result.replies = conversation_->replies();
    if (watchdog_) {
        if (watchdog_->expired && result.ec == asio::error::operation_aborted) result.ec = error::idle_timeout;
        watchdog_->transport = nullptr;
        watchdog_->timer.cancel();
    }
    if (stopped_ && !result.ec) result.ec = asio::error::operation_aborted;
    if (!result.sink_failed) {
        pipeline_.finish(env_, out);
        if (pipeline_.stats().documents != checkpointed_documents_) write_checkpoint(out);
        co_await flush();
    }
    if (conversation_) result.last_position = conversation_->last_position();
    result.bytes = pipeline_.stats().bytes;
    result.documents = pipeline_.stats().documents;
    result.checkpoints = checkpoints_;
    result.stats = pipeline_.stats();
    co_return result;
}

} // namespace socketcap

#endif
