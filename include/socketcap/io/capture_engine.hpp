// SPDX-License-Identifier: MIT OR Apache-2.0
// capture_engine: runs the captures of one or more endpoints on one executor. For each
// endpoint: connect (connector), run a session until the connection ends, ask the reconnect
// policy how long to wait, connect again; totals carry across connections. Documents of all
// endpoints go to one sink, each session's write whole and in order. What happens is reported
// to an observer the caller supplies (the library itself logs nothing); stats() can be polled
// at any time; stop() ends every session cleanly (pending documents written and checkpointed).
#ifndef SOCKETCAP_IO_CAPTURE_ENGINE_HPP
#define SOCKETCAP_IO_CAPTURE_ENGINE_HPP

#include <socketcap/checkpoint_policy.hpp>
#include <socketcap/codec.hpp>
#include <socketcap/io/connector.hpp>
#include <socketcap/diagnostics.hpp>
#include <socketcap/reconnect_policy.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/io/sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace socketcap {

/// Bytes read and documents written by one endpoint (or all), across connections.
struct capture_totals {
    std::uint64_t bytes = 0;
    std::uint64_t documents = 0;
};

/// A snapshot: consistent at the moment it is taken, cheap enough to poll every few seconds.
struct capture_stats {
    capture_totals totals;             ///< the initial totals, finished sessions and live ones
    std::uint64_t sessions = 0;        ///< connections that were made
    std::uint64_t failed_connects = 0; ///< attempts that did not connect
    std::size_t connected = 0;         ///< endpoints with a live session now

    /// Adds another snapshot (of other endpoints): the sum is the snapshot of both.
    capture_stats& operator+=(const capture_stats& o) noexcept {
        totals.bytes += o.totals.bytes;
        totals.documents += o.totals.documents;
        sessions += o.sessions;
        failed_connects += o.failed_connects;
        connected += o.connected;
        return *this;
    }
};

enum class capture_event_kind : std::uint8_t {
    connecting,      ///< an attempt starts
    connected,       ///< `connection` says where (and the TLS version and cipher)
    connect_failed,  ///< `reason`; `decision` has the failures in a row
    session_started, ///< `session_id`
    disconnected,    ///< `reason`, `session_id`, `result`
    waiting,         ///< `decision`: the delay before the next attempt
    gave_up,         ///< the attempt limit is reached: `reason` of the last failure, `decision`
};

/// What the engine reports. Views point into the engine and live only during the call.
struct capture_event {
    capture_event_kind kind{};
    std::size_t endpoint = 0;  ///< index into the engine's endpoints
    std::string_view host{};   ///< the endpoint's configured host and port
    std::uint16_t port = 0;
    std::string_view reason{}; ///< a sentence (connect_failed, disconnected, gave_up)
    std::string_view session_id{};
    const connection_info* connection = nullptr;  ///< connected, connect_failed
    const session_result* result = nullptr;       ///< disconnected
    const reconnect_decision* decision = nullptr; ///< connect_failed, waiting, gave_up
};

/// CaptureObserver requirements: o.on_event(const capture_event&), called on the engine's
/// executor. It must not call back into the engine except stop() and stats().
template <class O>
concept capture_observer = requires(O& o, const capture_event& e) { o.on_event(e); };

struct null_capture_observer {
    void on_event(const capture_event&) noexcept {}
};

/// One endpoint of a capture.
template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy,
          checkpoint_policy CheckpointPolicy = checkpoint_per_read, framer Framer = default_framer_t<Codec>>
struct capture_endpoint {
    capture_endpoint(Connector c, ReconnectPolicy r) : connector(std::move(c)), reconnect(std::move(r)) {}

    Connector connector;
    ReconnectPolicy reconnect;
    /// For every session of this endpoint. source_host/source_port: as documents report them
    /// (set them to the connector's host and port). write_checkpoint is replaced by the
    /// engine's wrapper around `write_checkpoint` below.
    session_options session;
    /// A fresh codec for each connection.
    std::function<Codec()> make_codec = [] { return Codec{}; };
    /// A fresh framer for each connection; empty: Framer(session.pipeline.max_frame_bytes).
    std::function<Framer()> make_framer;
    /// Copied into each session (checkpoint_every with a latency bound, say).
    CheckpointPolicy checkpoints{};
    /// A connection that delivered no data still counts as healthy (the backoff resets) once it
    /// stayed up this long (the connector uses its reconnect delay); zero: every connection does.
    std::chrono::steady_clock::duration healthy_after{};
    /// Totals to start from, e.g. from a checkpoint of an earlier run.
    capture_totals initial{};
    /// When this endpoint uses up its attempts: true, the whole capture stops
    /// (error::reconnects_exhausted); false, only this endpoint does (the observer hears
    /// gave_up) and the others go on; async_run completes once every endpoint has ended.
    bool stop_capture_on_give_up = true;
    /// Renders a checkpoint: the session's progress and the endpoint's totals before this
    /// session. Empty: no checkpoints.
    std::function<void(output_buffer&, const session_progress&, const capture_totals&)> write_checkpoint;
};

/// `Timer`: the clock of reconnect waits and of the sessions' idle timeouts and checkpoint
/// latency (tests pass testing::manual_timer). `Framer`: how every endpoint's stream is framed.
template <connector Connector, codec Codec, reconnect_policy ReconnectPolicy,
          checkpoint_policy CheckpointPolicy = checkpoint_per_read, class Timer = asio::steady_timer,
          framer Framer = default_framer_t<Codec>>
class capture_engine {
public:
    using endpoint_type = capture_endpoint<Connector, Codec, ReconnectPolicy, CheckpointPolicy, Framer>;
    using session_type = session<typename Connector::transport_type, Codec, CheckpointPolicy, Timer, Framer>;

    capture_engine(asio::any_io_executor ex, std::vector<endpoint_type> endpoints);
    capture_engine(const capture_engine&) = delete;
    capture_engine& operator=(const capture_engine&) = delete;

    /// Runs every endpoint until stop(), until one gives up, or until the sink fails; then
    /// stops the others and completes with (error_code): empty after stop(),
    /// error::reconnects_exhausted when an endpoint used up its attempts, or the sink's error.
    /// `diag` says which and why. `out`, `observer`, `diag` and the engine must outlive it.
    template <sink Sink, capture_observer Observer, class Token>
    auto async_run(Sink& out, Observer& observer, diagnostics& diag, Token&& token);

    /// Ends the capture soon: live sessions stop (what they read is written and checkpointed),
    /// attempts and waits are cancelled.
    void stop();
    bool stopping() const noexcept { return stopping_; }

    /// Hands committed acks (session_progress::acks) to endpoint `i`'s session `session_id` if
    /// it is still the live one; false otherwise (that connection ended: the server resends).
    bool deliver(std::size_t i, std::string_view session_id, std::string_view bytes, std::size_t messages);

    capture_stats stats() const;
    capture_stats stats(std::size_t endpoint) const;
    std::size_t size() const noexcept { return endpoints_.size(); }
    const endpoint_type& endpoint(std::size_t i) const noexcept { return endpoints_[i]; }

private:
    struct endpoint_state;
    template <class Sink, class Observer>
    asio::awaitable<void> run_endpoint(std::size_t i, Sink& out, Observer& observer, diagnostics& diag);
    void finish_with(std::error_code ec, diagnostics& diag, std::string message);

    asio::any_io_executor ex_;
    std::vector<endpoint_type> endpoints_;
    std::vector<std::unique_ptr<endpoint_state>> states_;
    std::error_code result_;
    std::size_t running_ = 0;
    bool stopping_ = false;
    /// The ordered sink of the current run. Last, so destroyed first: the runs it holds are
    /// gone before the state they refer to.
    std::shared_ptr<void> sink_;
};

/// Many writers, one sink: each write goes out whole, in the order it was asked for, and
/// completes when it is written (back-pressure per writer is kept). The engine puts it in
/// front of the caller's sink so that endpoints never interleave inside a document.
/// Group commit: the writes that arrive while one is under way go out together next, in one
/// gather write when the sink takes several buffers (gather_sink; one after the other
/// otherwise), and each completes once the group is written. Many endpoints that each read a
/// line now and then would otherwise cost a write (and a wake-up of stdout's reader) per line.
template <sink Sink>
class ordered_sink {
public:
    using executor_type = typename Sink::executor_type;
    explicit ordered_sink(Sink& next) : next_(next) {}
    executor_type get_executor() { return next_.get_executor(); }
    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token);

private:
    struct pending_base {
        asio::const_buffer buffer;
        virtual ~pending_base() = default;
        virtual void complete(std::error_code ec, std::size_t n) = 0;
    };
    template <class Handler>
    struct pending;
    void start();
    void write_group();
    void finish(std::error_code ec);

    /// A writev takes at most 64 buffers from Asio. Fixed arrays keep the group off the heap.
    static constexpr std::size_t max_group = 64;
    Sink& next_;
    std::deque<std::unique_ptr<pending_base>> queue_;            // waiting for the write under way
    std::array<std::unique_ptr<pending_base>, max_group> group_; // the write under way
    std::array<asio::const_buffer, max_group> rest_;             // what of group_ is not written yet
    std::size_t group_size_ = 0;
    std::size_t first_ = 0;     // the first of rest_ with bytes left
    std::size_t completed_ = 0; // writers of the group told already (all bytes out)
};

} // namespace socketcap

#include <socketcap/io/impl/capture_engine.hpp>

#endif
