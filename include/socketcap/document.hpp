// SPDX-License-Identifier: MIT OR Apache-2.0
// The fields every document carries around its codec body, in the spec's order:
//   {"timestamp":…,"source_host":…,"source_port":…,<body>[,"partial":true],"sequence":…,"session_id":…}
// A configurable prefix and suffix wrap each document (a Flow `captured` message, or a newline).
#ifndef SOCKETCAP_DOCUMENT_HPP
#define SOCKETCAP_DOCUMENT_HPP

#include <socketcap/output_buffer.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace socketcap {

/// A random (version 4) UUID in its 36-character text form.
std::string make_session_id();

/// RFC 3339 UTC with microseconds and `Z`, e.g. 2024-01-15T10:30:00.123456Z.
void write_timestamp(output_buffer& out, std::chrono::system_clock::time_point t);

class document_envelope {
public:
    /// `prefix`/`suffix` surround every document; the default makes NDJSON.
    document_envelope(std::string_view source_host, std::uint16_t source_port,
                      std::string_view prefix = {}, std::string_view suffix = "\n");

    /// A new connection: a fresh session id, sequence restarts at 1.
    void start_session(std::string session_id);
    /// Stamps the documents that follow with `t` (the time their bytes were received).
    void stamp(std::chrono::system_clock::time_point t);

    /// Writes everything before the codec body.
    void open(output_buffer& out) const { append(out, head_); }
    /// Writes everything after the body and advances the sequence.
    void close(output_buffer& out, bool partial);

    const std::string& session_id() const noexcept { return session_id_; }
    /// The sequence of the last document closed (0 before the first).
    std::uint64_t sequence() const noexcept { return sequence_; }

private:
    std::string prefix_;
    std::string suffix_;
    std::string source_;     // ,"source_host":"…","source_port":N,
    std::string head_;       // prefix {"timestamp":"…" + source_
    std::string session_id_;
    std::string tail_;       // ,"session_id":"…"} + suffix
    std::uint64_t sequence_ = 0;
};

} // namespace socketcap

#endif
