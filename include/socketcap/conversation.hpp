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
//   ${<variable>}       each variable of the config (a password, a token), as given
// and in a reply: ${0} (the whole match), ${1}… (groups) and ${<name>} (named groups).
#ifndef SOCKETCAP_CONVERSATION_HPP
#define SOCKETCAP_CONVERSATION_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/error.hpp>
#include <socketcap/frame_filter.hpp>
#include <socketcap/frame_pattern.hpp>
#include <socketcap/message_template.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
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
};

/// What a connection's messages may say about the capture so far.
struct conversation_history {
    std::string last_session_id;
    std::uint64_t last_sequence = 0;
    std::uint64_t documents = 0;
};

class conversation_plan {
public:
    /// The placeholders every message may use, in the order of values a plan renders with.
    static constexpr std::array<std::string_view, 7> placeholder_names{
        "session_id", "time", "unix_time", "unix_time_ms", "last_session_id", "last_sequence", "documents"};

    /// Compiles `config`. On failure (ec: error::invalid_template, error::invalid_pattern or
    /// error::invalid_conversation) `diag` names the member: "on_connect[1]: unknown escape \q
    /// at byte 3; …", "replies[0].match: missing ): (a".
    static std::shared_ptr<const conversation_plan> compile(const conversation_config& config, error_code& ec,
                                                            diagnostics& diag);

    /// True when a connection may write at all.
    bool writes() const noexcept { return !on_connect_.empty() || heartbeat_interval_.count() > 0 || !replies_.empty(); }
    bool has_replies() const noexcept { return !replies_.empty(); }
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
    std::vector<std::string> variable_values_;
    std::size_t max_unsent_bytes_ = 0;
    std::size_t max_groups_ = 0;
};

/// One connection's conversation. Not thread-safe: the session's executor uses it.
class conversation final : public frame_filter {
public:
    conversation(std::shared_ptr<const conversation_plan> plan, std::string session_id, conversation_history history);

    /// Queues the on_connect messages.
    void start(std::chrono::system_clock::time_point now);
    /// Queues the heartbeat.
    void heartbeat(std::chrono::system_clock::time_point now);
    /// frame_filter: queues the reply of the first rule that matches; false when that rule
    /// does not capture.
    bool pass(const frame& f) override;

    /// Moves the queued bytes to `batch` (replacing its content) and returns how many messages
    /// they are; the session writes them while new ones queue up.
    std::size_t take(std::string& batch);
    std::size_t unsent_bytes() const noexcept { return queued_.size(); }
    /// More than max_unsent_bytes are queued: the server is not reading.
    bool backlogged() const noexcept { return queued_.size() > plan_->max_unsent_bytes(); }
    std::uint64_t replies() const noexcept { return replies_; }
    const conversation_plan& plan() const noexcept { return *plan_; }

private:
    void queue(const message_template& m, std::chrono::system_clock::time_point now,
               std::span<const std::string_view> groups);

    std::shared_ptr<const conversation_plan> plan_;
    std::string session_id_;
    conversation_history history_;
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
