// SPDX-License-Identifier: MIT OR Apache-2.0
// Syslog over TCP (RFC 6587). Each message is framed on its own, by its first byte, as rsyslog's
// imtcp does:
//  - A digit: octet counting (§3.4.1), `MSG-LEN SP SYSLOG-MSG` with MSG-LEN = NONZERO-DIGIT
//    *DIGIT; the message is the MSG-LEN bytes after the space, whatever they hold (LF included).
//  - Anything else: non-transparent framing (§3.4.2): the message ends at LF; one CR before the
//    LF is stripped (as line_framer).
// Errors and how the framer resynchronises:
//  - A count not followed by a space ("12x"), a count of more than 10 digits, or a count that
//    starts with 0 ("0 ", "012 "): `invalid`. The message is skipped up to and including the
//    next LF; the bytes before that LF (at most max_frame_bytes of them) are the payload.
//  - A count above max_frame_bytes: `oversized` with the message's first max_frame_bytes bytes;
//    exactly the declared rest is skipped, so the next message is framed where it starts.
//  - A non-transparent message longer than max_frame_bytes: `oversized`, skipped up to the
//    next LF.
// At end of stream an unfinished message is `partial`: an octet-counted message cut short (the
// bytes after the space), a count without its space (the digits; `oversized` if there are more
// than max_frame_bytes of them), a line without LF.
// It holds at most max_frame_bytes + 10 bytes without a frame (a 10-digit count and its space
// before a message of max_frame_bytes): slack_bytes() tells the pipeline.
#ifndef SOCKETCAP_OCTET_COUNTING_FRAMER_HPP
#define SOCKETCAP_OCTET_COUNTING_FRAMER_HPP

#include <socketcap/framer.hpp>
#include <socketcap/impl/quote_bytes.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace socketcap {

class octet_counting_framer {
public:
    /// Digits of the longest count accepted (RFC 6587 sets none; 10 is beyond any real one).
    static constexpr std::size_t max_count_digits = 10;

    explicit octet_counting_framer(std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : max_(max_frame_bytes) {}

    frame next(std::string_view in, bool eof) noexcept;
    void reset() noexcept {
        state_ = state::start;
        scanned_ = 0;
        count_ = 0;
        header_ = 0;
        skip_ = 0;
        discarding_ = false;
    }
    std::size_t max_frame_bytes() const noexcept { return max_; }
    /// The count and its space ride along with a message of max_frame_bytes.
    std::size_t slack_bytes() const noexcept { return max_count_digits; }

private:
    enum class state : std::uint8_t {
        start,    // at the start of a message
        count,    // reading MSG-LEN digits
        body,     // count and space read: waiting for count_ bytes
        line,     // a non-transparent message: up to LF
        bad_line, // a framing error: the message is skipped up to LF
    };
    enum class error : std::uint8_t { not_space, too_many_digits, leading_zero };

    static constexpr std::string_view unit = "message";
    static constexpr std::string_view line_skip_rule = "up to the next newline";
    static constexpr std::string_view eof_skip_rule = "at the end of the stream";

    static std::string_view strip_cr(std::string_view s) noexcept {
        return (!s.empty() && s.back() == '\r') ? s.substr(0, s.size() - 1) : s;
    }
    frame read_count(std::string_view in, bool eof) noexcept;
    frame read_line(std::string_view in, bool eof) noexcept;
    frame read_bad_line(std::string_view in, bool eof) noexcept;
    frame fail(error e, std::size_t header, std::string_view in, bool eof) noexcept;
    frame done(frame f) noexcept {
        state_ = state::start;
        scanned_ = 0;
        count_ = 0;
        header_ = 0;
        return f;
    }
    std::string_view format_error(std::string_view in) noexcept;

    std::size_t max_;
    state state_ = state::start;
    std::size_t scanned_ = 0; // count: digits read; line, bad_line: bytes known to hold no LF
    std::uint64_t count_ = 0; // MSG-LEN so far
    std::size_t header_ = 0;  // body: bytes of the count and its space; bad_line: of the bad count
    error error_ = error::not_space;
    std::uint64_t skip_ = 0;  // bytes of an oversized counted message still to skip
    bool discarding_ = false; // skipping up to the next LF
    std::array<char, 48> quoted_{};
    std::array<char, 160> message_{};
};

inline frame octet_counting_framer::next(std::string_view in, bool eof) noexcept {
    if (skip_ != 0) {
        if (in.empty()) {
            if (eof) skip_ = 0;
            return {};
        }
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, in.size()));
        skip_ -= n;
        return {frame_kind::skipped, {}, n};
    }
    if (discarding_) {
        if (in.empty()) {
            if (eof) discarding_ = false;
            return {};
        }
        auto* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
        if (nl == nullptr) return {frame_kind::skipped, {}, in.size()};
        discarding_ = false;
        return {frame_kind::skipped, {}, static_cast<std::size_t>(nl - in.data()) + 1};
    }
    if (in.empty()) return {};
    switch (state_) {
    case state::start:
        if (in[0] >= '0' && in[0] <= '9') {
            state_ = state::count;
            return read_count(in, eof);
        }
        state_ = state::line;
        return read_line(in, eof);
    case state::count:
        return read_count(in, eof);
    case state::body:
        break;
    case state::line:
        return read_line(in, eof);
    case state::bad_line:
        return read_bad_line(in, eof);
    }

    // The body of an octet-counted message: no scan, only a size check (the hot path).
    std::size_t have = in.size() - header_;
    if (count_ <= max_) {
        auto n = static_cast<std::size_t>(count_);
        if (have >= n) return done({frame_kind::complete, in.substr(header_, n), header_ + n, 0, 0, false, unit});
        if (eof) return done({frame_kind::partial, in.substr(header_), in.size(), 0, 0, false, unit});
        return {};
    }
    if (have >= max_) {
        // Cut early: the first max bytes are all a document keeps; the rest is skipped exactly.
        std::uint64_t total = header_ + count_;
        std::size_t consumed = static_cast<std::size_t>(std::min<std::uint64_t>(total, in.size()));
        skip_ = total - consumed;
        auto r = fmt::format_to_n(message_.data(), message_.size(), "(its declared length, {} bytes)", count_);
        return done({frame_kind::oversized, in.substr(header_, max_), consumed, 0, max_, false, unit,
                     {message_.data(), r.size}});
    }
    if (eof) return done({frame_kind::partial, in.substr(header_), in.size(), 0, 0, false, unit});
    return {};
}

inline frame octet_counting_framer::read_count(std::string_view in, bool eof) noexcept {
    // Hand-written digit loop: at most 11 bytes, each looked at once across calls.
    std::size_t i = scanned_;
    for (; i < in.size(); ++i) {
        char c = in[i];
        if (c >= '0' && c <= '9') {
            if (i == max_count_digits) return fail(error::too_many_digits, i + 1, in, eof);
            count_ = count_ * 10 + static_cast<std::uint64_t>(c - '0');
            continue;
        }
        if (c != ' ') return fail(error::not_space, i + 1, in, eof);
        if (in[0] == '0') return fail(error::leading_zero, i, in, eof);
        state_ = state::body;
        scanned_ = 0;
        header_ = i + 1;
        return next(in, eof);
    }
    scanned_ = i;
    if (!eof) return {};
    // A count without its space: the digits are what came of the message (up to 10 of them,
    // so with a tiny max_frame_bytes they can be too many).
    if (in.size() > max_)
        return done({frame_kind::oversized, in.substr(0, max_), in.size(), 0, max_, true, unit, eof_skip_rule});
    return done({frame_kind::partial, in, in.size(), 0, 0, true, unit});
}

inline frame octet_counting_framer::fail(error e, std::size_t header, std::string_view in, bool eof) noexcept {
    state_ = state::bad_line;
    error_ = e;
    header_ = header;
    count_ = 0;
    // The count's bytes hold no LF, except a bad byte after the digits: scan from that byte.
    scanned_ = e == error::not_space ? header - 1 : header;
    return read_bad_line(in, eof);
}

inline std::string_view octet_counting_framer::format_error(std::string_view in) noexcept {
    auto q = detail::quote_bytes(in.substr(0, header_), quoted_);
    fmt::format_to_n_result<char*> r{};
    switch (error_) {
    case error::not_space:
        r = fmt::format_to_n(message_.data(), message_.size(),
                             "octet count \"{}\" is not followed by a space; skipped up to the next newline", q);
        break;
    case error::too_many_digits:
        r = fmt::format_to_n(message_.data(), message_.size(),
                             "octet count \"{}\" has more than {} digits; skipped up to the next newline", q,
                             max_count_digits);
        break;
    case error::leading_zero:
        r = fmt::format_to_n(message_.data(), message_.size(),
                             "octet count \"{}\" starts with 0; skipped up to the next newline", q);
        break;
    }
    return {message_.data(), std::min(r.size, message_.size())};
}

inline frame octet_counting_framer::read_bad_line(std::string_view in, bool eof) noexcept {
    const char* nl = scanned_ < in.size()
        ? static_cast<const char*>(std::memchr(in.data() + scanned_, '\n', in.size() - scanned_))
        : nullptr;
    if (nl != nullptr) {
        auto end = static_cast<std::size_t>(nl - in.data());
        auto msg = format_error(in);
        return done({frame_kind::invalid, in.substr(0, std::min(end, max_)), end + 1, 0, 0, false, unit, msg});
    }
    scanned_ = in.size();
    if (in.size() > max_) {
        auto msg = format_error(in);
        discarding_ = true;
        return done({frame_kind::invalid, in.substr(0, max_), in.size(), 0, 0, false, unit, msg});
    }
    if (eof) return done({frame_kind::invalid, in, in.size(), 0, 0, false, unit, format_error(in)});
    return {};
}

inline frame octet_counting_framer::read_line(std::string_view in, bool eof) noexcept {
    // As line_framer: memchr from where the last call stopped, one byte of slack for a CR.
    const char* nl = scanned_ < in.size()
        ? static_cast<const char*>(std::memchr(in.data() + scanned_, '\n', in.size() - scanned_))
        : nullptr;
    if (nl != nullptr) {
        auto end = static_cast<std::size_t>(nl - in.data());
        auto line = strip_cr(in.substr(0, end));
        if (line.size() > max_)
            return done({frame_kind::oversized, line.substr(0, max_), end + 1, 0, max_, true, unit, line_skip_rule});
        return done({frame_kind::complete, line, end + 1, 0, 0, true, unit});
    }
    scanned_ = in.size();
    if (in.size() > max_ + 1 || (eof && in.size() > max_)) {
        discarding_ = !eof;
        return done({frame_kind::oversized, in.substr(0, max_), in.size(), 0, max_, true, unit, line_skip_rule});
    }
    if (eof) return done({frame_kind::partial, in, in.size(), 0, 0, true, unit});
    return {};
}

static_assert(framer<octet_counting_framer>);

} // namespace socketcap

#endif
