// SPDX-License-Identifier: MIT OR Apache-2.0
// session<Transport, Codec, CheckpointPolicy, Timer, Framer>: one connection's life. It reads from a
// connected transport, runs the bytes through a pipeline, and writes documents and checkpoints
// to a sink.
// Connecting (and reconnecting) is the caller's business: a new connection is a new session,
// with a new session_id and sequence from 1, and frames never cross from one to the next.
#ifndef SOCKETCAP_IO_SESSION_HPP
#define SOCKETCAP_IO_SESSION_HPP

#include <socketcap/checkpoint_policy.hpp>
#include <socketcap/codec.hpp>
#include <socketcap/conversation.hpp>
#include <socketcap/document.hpp>
#include <socketcap/error.hpp>
#include <socketcap/framer.hpp>
#include <socketcap/pipeline.hpp>
#include <socketcap/io/sink.hpp>
#include <socketcap/io/transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace socketcap {

/// What a checkpoint records (the connector renders it as Flow state).
struct session_progress {
    std::string_view session_id;
    std::uint64_t sequence = 0;  ///< of the last document written
    std::uint64_t bytes = 0;     ///< read in this session
    std::uint64_t documents = 0; ///< written in this session
    /// With positions (conversation_config::position): the last document's, as text; empty
    /// before the first (or from the history when no frame had one yet).
    std::string_view position = {};
    /// With acks: what to send the server once this checkpoint is committed (deliver()).
    conversation::acks acks = {};
};

struct session_options {
    std::string source_host;             ///< the configured host, as documents report it
    std::uint16_t source_port = 0;
    std::string document_prefix;         ///< written before each document
    std::string document_suffix = "\n";  ///< written after each document
    pipeline_options pipeline;
    /// No bytes for this long ends the session with error::idle_timeout; zero disables it.
    std::chrono::steady_clock::duration idle_timeout{};
    /// Renders one checkpoint line; when empty the session writes no checkpoints.
    std::function<void(output_buffer&, const session_progress&)> write_checkpoint;
    /// What the session says to the server (on connect, heartbeats, replies); null or a plan
    /// that never writes: the session only reads. Writing needs a duplex_transport.
    std::shared_ptr<const conversation_plan> conversation;
    /// What the conversation's ${last_session_id}, ${last_sequence} and ${documents} say.
    conversation_history history;
};

struct session_result {
    /// Why the session ended: asio::error::eof (the server closed), error::idle_timeout,
    /// asio::error::operation_aborted (stop()), error::send_backlog, or the transport's or the
    /// sink's error.
    error_code ec;
    bool sink_failed = false;     ///< ec came from the sink: output may be incomplete
    bool write_failed = false;    ///< ec came from writing to the server (or send_backlog)
    std::uint64_t bytes = 0;
    std::uint64_t documents = 0;
    std::uint64_t checkpoints = 0;
    std::uint64_t messages_sent = 0; ///< conversation messages written whole to the server
    std::uint64_t bytes_sent = 0;
    std::uint64_t replies = 0;       ///< frames a reply rule answered
    std::string last_position;       ///< with positions: the last document's (empty: none)
    pipeline_stats stats;
};

/// `Timer`: the Asio timer (and so the clock) of the idle timeout and of the checkpoint
/// policy's max_latency(); tests pass testing::manual_timer to move time by hand.
/// `Framer`: how the stream is cut into frames for the codec (default_framer_t<Codec> unless named).
template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy = checkpoint_per_read,
          class Timer = asio::steady_timer, framer Framer = default_framer_t<Codec>>
class session {
public:
    /// `transport` is connected (and handshaken) by the caller and must outlive the session.
    /// The framer is Framer(opts.pipeline.max_frame_bytes).
    session(Transport& transport, Codec codec, session_options opts, CheckpointPolicy policy = {})
        requires std::constructible_from<Framer, std::size_t>;
    /// A framer configured by the caller; its max_frame_bytes() is the limit.
    template <std::same_as<Framer> F>
    session(Transport& transport, Codec codec, F framer, session_options opts, CheckpointPolicy policy = {});
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    /// Reads until the stream ends, fails, idles out or stop() is called. Documents still
    /// pending at the end (a partial last frame included) are written and checkpointed.
    template <sink Sink>
    asio::awaitable<session_result> run(Sink& out);

    /// run() as an Asio async operation: completes with (std::exception_ptr, session_result).
    template <sink Sink, class Token>
    auto async_run(Sink& out, Token&& token) {
        return asio::co_spawn(transport_.get_executor(), run(out), std::forward<Token>(token));
    }

    /// Ends run() soon: the pending read is cancelled; what was read is still written.
    void stop();

    /// Sends bytes rendered earlier, `messages` of them: the acks of a checkpoint the caller
    /// learned was committed (session_progress::acks). False when the session is not running
    /// or does not write (they are dropped: the server resends what it never got acked).
    bool deliver(std::string_view bytes, std::size_t messages);

    /// The most output-buffer memory a session keeps when it may go idle (its receive buffer
    /// is empty and its last read did not fill its area, or a socket says nothing is waiting): a
    /// buffer grown past it for a burst of documents is freed before the next read.
    static constexpr std::size_t max_idle_output_bytes = 16 * 1024;

    const std::string& session_id() const noexcept { return env_.session_id(); }
    const pipeline<Codec, Framer>& get_pipeline() const noexcept { return pipeline_; }

private:
    struct watchdog;
    struct writer_state;
    asio::awaitable<void> write_loop(std::shared_ptr<writer_state> w, session_result& result);
    void write_checkpoint(output_buffer& out);
    bool pending() const noexcept { return pipeline_.stats().documents != checkpointed_documents_; }
    /// No read asks more than the transport can return in one (a TLS record): a larger read
    /// area would only be memory that no read fills.
    static pipeline_options read_options(pipeline_options o) noexcept {
        o.read_size = std::min(o.read_size, max_read_bytes<Transport>);
        return o;
    }

    Transport& transport_;
    session_options opts_;
    CheckpointPolicy policy_;
    pipeline<Codec, Framer> pipeline_;
    document_envelope env_;
    std::shared_ptr<watchdog> watchdog_;
    std::unique_ptr<conversation> conversation_;
    std::shared_ptr<writer_state> writer_;
    std::uint64_t checkpointed_documents_ = 0;
    std::uint64_t checkpoints_ = 0;
    bool stopped_ = false;
};

// `session s(transport, codec, [framer,] opts[, policy]);` picks the template arguments.
template <transport Transport, codec Codec>
session(Transport&, Codec, session_options) -> session<Transport, Codec>;
template <transport Transport, codec Codec, checkpoint_policy CheckpointPolicy>
session(Transport&, Codec, session_options, CheckpointPolicy) -> session<Transport, Codec, CheckpointPolicy>;
template <transport Transport, codec Codec, framer Framer>
session(Transport&, Codec, Framer, session_options)
    -> session<Transport, Codec, checkpoint_per_read, asio::steady_timer, Framer>;
template <transport Transport, codec Codec, framer Framer, checkpoint_policy CheckpointPolicy>
session(Transport&, Codec, Framer, session_options, CheckpointPolicy)
    -> session<Transport, Codec, CheckpointPolicy, asio::steady_timer, Framer>;

} // namespace socketcap

#include <socketcap/io/impl/session.hpp>

#endif
