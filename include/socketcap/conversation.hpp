// SPDX-License-Identifier: MIT OR Apache-2.0
// What a connection says to the server (sans I/O): messages on connect (login, subscribe), a
// heartbeat, and replies to frames that match a pattern (IRC's PING → PONG).
//
//   conversation_config  what a user writes: message texts, patterns, an interval, variables
//   conversation_plan    compiled once per capture (templates parsed, patterns compiled), shared
//   conversation         one connection's side: the frame_filter that answers frames, and the
//                        bytes waiting to be written; the session does the writing (io/session.hpp)
//
// Every message is a message_template. Its placeholders (conversation_plan::placeholder_names):
//   ${session_id}       this connection's session id (the documents' session_id)
//   ${time}             now, RFC 3339 UTC (the documents' timestamp format)
//   ${unix_time}        now, whole seconds since 1970; ${unix_time_ms} in milliseconds
//   ${last_session_id}  the previous connection's session id (empty before the first)
//   ${last_sequence}    the sequence of the last document of that connection (0 if none)
//   ${documents}        documents captured so far by this endpoint, across connections
//   ${position}         the position of the last document (see positions below); empty if none
//   ${next_position}    an integer position + 1 (1 if none): where a resumable server goes on
//   ${<variable>}       each variable of the config (a password, a token), as given
// and in a reply: ${0} (the whole match), ${1}… (groups) and ${<name>} (named groups).
//
// Positions (issue 16): each frame's place in the server's stream, taken from the frame (a
// pattern's first group, or a JSON pointer) or counted. Documents carry it (frame_filter::
// annotate), checkpoints record the last one, and `ack` messages, rendered per frame or per
// checkpoint, wait until the caller says the checkpoint covering them is committed.
#ifndef SOCKETCAP_CONVERSATION_HPP
#define SOCKETCAP_CONVERSATION_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/error.hpp>
#include <socketcap/frame_filter.hpp>
#include <socketcap/frame_pattern.hpp>
#include <socketcap/message_template.hpp>
#include <socketcap/output_buffer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace socketcap {

struct reply_rule_config {
    std::string match;    ///< RE2 pattern, searched in each complete frame
    std::string reply;    ///< the message sent when it matches
    bool capture = true;  ///< the matched frame also becomes a document
};

/// Where each document's position comes from.
enum class position_source : std::uint8_t {
    none,    ///< no positions
    pattern, ///< group 1 of `position_config::pattern`, searched in the frame
    pointer, ///< the value at `position_config::pointer` in the frame, parsed as JSON
    counted, ///< frames counted from ${next_position} on each connection
};

struct position_config {
    position_source source = position_source::none;
    std::string pattern; ///< RE2, for position_source::pattern
    std::string pointer; ///< RFC 6901, for position_source::pointer
    bool is_string = false; ///< positions are strings (message ids), not unsigned integers
};

/// An acknowledgement sent to the server once the frames it covers are committed.
struct ack_config {
    std::string message;     ///< a template; ${position} and, per frame, the position pattern's groups
    bool per_frame = true;   ///< one per frame; false: one per checkpoint, for its last position
};

struct conversation_config {
    std::vector<std::string> on_connect;  ///< sent in order once connected (after TLS)
    std::string heartbeat;                ///< sent whenever nothing was written for heartbeat_interval
    std::chrono::steady_clock::duration heartbeat_interval{}; ///< zero: no heartbeat
    std::vector<reply_rule_config> replies; ///< the first rule that matches a frame answers it
    /// ${name} → value, for every message (a password, a token). Values are never in messages
    /// of the library.
    std::vector<std::pair<std::string, std::string>> variables;
    /// Bytes allowed to wait for the server to read them; more ends the session
    /// (error::send_backlog): a server that stops reading must not grow memory.
    std::size_t max_unsent_bytes = std::size_t{1} << 20;
    position_config position;
    std::optional<ack_config> ack;
};

/// What a connection's messages may say about the capture so far.
struct conversation_history {
    std::string last_session_id;
    std::uint64_t last_sequence = 0;
    std::uint64_t documents = 0;
    std::string last_position; ///< as text (an integer's digits); empty: none yet
};

class conversation_plan {
public:
    /// The placeholders every message may use, in the order of values a plan renders with.
    static constexpr std::array<std::string_view, 9> placeholder_names{
        "session_id",    "time",      "unix_time", "unix_time_ms", "last_session_id",
        "last_sequence", "documents", "position",  "next_position"};

    /// Compiles `config`. On failure (ec: error::invalid_template, error::invalid_pattern or
    /// error::invalid_conversation) `diag` names the member: "on_connect[1]: unknown escape \q
    /// at byte 3; …", "replies[0].match: missing ): (a".
    static std::shared_ptr<const conversation_plan> compile(const conversation_config& config, error_code& ec,
                                                            diagnostics& diag);

    /// True when a connection may write at all.
    bool writes() const noexcept {
        return !on_connect_.empty() || heartbeat_interval_.count() > 0 || !replies_.empty() || ack_;
    }
    bool has_replies() const noexcept { return !replies_.empty(); }
    /// The plan needs to see frames: replies or positions.
    bool filters() const noexcept { return !replies_.empty() || position_.source != position_source::none; }
    const position_config& positions() const noexcept { return position_; }
    bool acks() const noexcept { return ack_; }
    std::chrono::steady_clock::duration heartbeat_interval() const noexcept { return heartbeat_interval_; }
    std::size_t max_unsent_bytes() const noexcept { return max_unsent_bytes_; }

private:
    friend class conversation;
    struct reply_rule {
        frame_pattern match;
        message_template reply;
        bool capture = true;
    };
    std::vector<message_template> on_connect_;
    message_template heartbeat_;
    std::chrono::steady_clock::duration heartbeat_interval_{};
    std::vector<reply_rule> replies_;
    position_config position_;
    frame_pattern position_pattern_;
    message_template ack_message_;
    bool ack_ = false;
    bool ack_per_frame_ = true;
    std::vector<std::string> variable_values_;
    std::size_t max_unsent_bytes_ = 0;
    std::size_t max_groups_ = 0;
};

/// One connection's conversation. Not thread-safe: the session's executor uses it.
struct json_pointer_reader;

class conversation final : public frame_filter {
public:
    conversation(std::shared_ptr<const conversation_plan> plan, std::string session_id, conversation_history history);
    ~conversation();

    /// Queues the on_connect messages.
    void start(std::chrono::system_clock::time_point now);
    /// Queues the heartbeat.
    void heartbeat(std::chrono::system_clock::time_point now);
    /// frame_filter: takes the frame's position (and renders its ack), queues the reply of the
    /// first rule that matches; false when that rule does not capture.
    bool pass(const frame& f) override;
    /// frame_filter: `,"position":…` when positions are on. A document whose frame has none of
    /// its own (an error document, a frame the pattern misses) gets "<session_id>/<sequence>",
    /// a string no position equals, so Flow's dedup by position never merges it with another.
    void annotate(const frame& f, std::uint64_t sequence, output_buffer& out) override;

    /// The acks waiting for the checkpoint being written now (per frame: each frame's since the
    /// last call; per checkpoint: one for the last position, if it moved). The caller sends
    /// them with send() once that checkpoint is committed.
    struct acks {
        std::string bytes;
        std::size_t messages = 0;
    };
    acks take_acks();
    /// Queues bytes rendered earlier (committed acks): `messages` of them.
    void send(std::string_view bytes, std::size_t messages);
    /// The position of the last document, as text; empty before the first.
    const std::string& last_position() const noexcept { return last_position_; }
    /// Acks waiting for a checkpoint (a test's view).
    std::size_t pending_acks() const noexcept { return pending_ack_count_; }

    /// Moves the queued bytes to `batch` (replacing its content) and returns how many messages
    /// they are; the session writes them while new ones queue up.
    std::size_t take(std::string& batch);
    std::size_t unsent_bytes() const noexcept { return queued_.size(); }
    /// More than max_unsent_bytes are queued: the server is not reading.
    bool backlogged() const noexcept { return queued_.size() > plan_->max_unsent_bytes(); }
    std::uint64_t replies() const noexcept { return replies_; }
    const conversation_plan& plan() const noexcept { return *plan_; }

private:
    /// Appends `m` to `into` with the values of now (and any groups pushed onto values_).
    void render(const message_template& m, std::chrono::system_clock::time_point now, std::string& into);
    /// Renders `m` into the bytes waiting to be written, as one more message.
    void queue(const message_template& m, std::chrono::system_clock::time_point now);

    std::shared_ptr<const conversation_plan> plan_;
    bool take_position(const frame& f);

    std::string session_id_;
    conversation_history history_;
    std::string last_position_;
    std::string next_position_;    // for ${next_position}
    std::uint64_t counter_ = 0;    // counted positions: the next frame's
    bool have_counter_ = false;
    std::uint64_t frame_offset_ = 0; // the frame pass() took a position from
    bool frame_has_position_ = false;
    std::string frame_position_;   // its position, as JSON text
    std::string pending_acks_;
    std::size_t pending_ack_count_ = 0;
    std::string acked_position_;   // per checkpoint: the last position acked
    std::vector<std::string_view> position_groups_;
    std::unique_ptr<json_pointer_reader> json_;
    std::string last_sequence_;
    std::string documents_;
    std::string queued_;
    std::size_t queued_messages_ = 0;
    std::uint64_t replies_ = 0;
    std::vector<std::string_view> values_;  // placeholders, variables, then groups
    std::vector<std::string_view> groups_;  // a match's groups, by number
};

} // namespace socketcap

#endif
