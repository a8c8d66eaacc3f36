// SPDX-License-Identifier: MIT OR Apache-2.0
// HL7 v2's Minimal Lower Layer Protocol: a frame is the start byte 0x0B, the message, then the
// end bytes 0x1C 0x0D. The payload is the message; the CRs that end its segments stay in it.
// Between frames, CR, LF, space and tab are skipped (senders add them; they make no document).
// Errors and how the framer resynchronises:
//  - Other bytes between frames: `invalid`, ending before the next start byte 0x0B, or after
//    0x1C 0x0D when those come first (a frame whose start byte was lost); the bytes are the
//    payload. A run longer than max_frame_bytes is cut at max_frame_bytes and the rest skipped
//    up to the next start byte.
//  - A start byte 0x0B inside a frame: the unfinished frame (from its start byte) is `invalid`;
//    the new start byte begins the next frame.
//  - 0x1C not followed by 0x0D: the frame (from its start byte through 0x1C) is `invalid`; the
//    bytes after it are skipped up to the next start byte.
//  - A message longer than max_frame_bytes: `oversized` with its first max_frame_bytes bytes;
//    the rest is skipped up to the next start byte.
// Error payloads hold at most max_frame_bytes bytes. At end of stream a started frame without
// its end is `partial` (the bytes after the start byte).
// It holds at most max_frame_bytes + 2 bytes without a frame (a start byte, a message of
// max_frame_bytes and its 0x1C waiting for the 0x0D): slack_bytes() tells the pipeline.
#ifndef SOCKETCAP_MLLP_FRAMER_HPP
#define SOCKETCAP_MLLP_FRAMER_HPP

#include <socketcap/framer.hpp>
#include <socketcap/impl/quote_bytes.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace socketcap {

class mllp_framer {
public:
    static constexpr char start_byte = '\x0B';
    static constexpr char end_byte = '\x1C';
    static constexpr char end_cr = '\x0D';

    explicit mllp_framer(std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept : max_(max_frame_bytes) {}

    frame next(std::string_view in, bool eof) noexcept;
    void reset() noexcept {
        scanned_ = 0;
        discarding_ = false;
    }
    std::size_t max_frame_bytes() const noexcept { return max_; }
    /// A start byte and a lone 0x1C ride along with a message of max_frame_bytes.
    std::size_t slack_bytes() const noexcept { return 2; }

private:
    static constexpr std::string_view unit = "message";
    static constexpr std::string_view skip_rule = "up to the next MLLP start byte";

    static bool is_space(char c) noexcept { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }
    frame read_frame(std::string_view in, bool eof) noexcept;
    frame read_junk(std::string_view in, bool eof) noexcept;
    frame invalid(std::string_view payload, std::size_t consumed, std::string_view message) noexcept {
        scanned_ = 0;
        return {frame_kind::invalid, payload.substr(0, std::min(payload.size(), max_)), consumed, 0, 0, false, unit,
                message};
    }
    template <class... T>
    std::string_view format(fmt::format_string<T...> f, T&&... args) noexcept {
        auto r = fmt::format_to_n(message_.data(), message_.size(), f, std::forward<T>(args)...);
        return {message_.data(), std::min(r.size, message_.size())};
    }

    std::size_t max_;
    std::size_t scanned_ = 0; // bytes of the frame or run at the input's start known to hold no marker
    bool discarding_ = false; // skipping up to the next start byte
    std::array<char, 64> quoted_{};
    std::array<char, 192> message_{};
};

inline frame mllp_framer::next(std::string_view in, bool eof) noexcept {
    if (discarding_) {
        if (in.empty()) {
            if (eof) discarding_ = false;
            return {};
        }
        auto* s = static_cast<const char*>(std::memchr(in.data(), start_byte, in.size()));
        if (s == nullptr) return {frame_kind::skipped, {}, in.size()};
        discarding_ = false;
        if (s != in.data()) return {frame_kind::skipped, {}, static_cast<std::size_t>(s - in.data())};
    }
    if (in.empty()) return {};
    if (in[0] == start_byte) return read_frame(in, eof);
    if (scanned_ == 0 && is_space(in[0])) {
        std::size_t n = 1;
        while (n < in.size() && is_space(in[n])) ++n;
        return {frame_kind::skipped, {}, n};
    }
    return read_junk(in, eof);
}

inline frame mllp_framer::read_frame(std::string_view in, bool eof) noexcept {
    // Markers are looked for in the start byte and max + 1 bytes after it: a message with no
    // end by then is oversized, whatever follows.
    const std::size_t limit = std::min(in.size(), max_ + 2);
    std::size_t from = std::max<std::size_t>(scanned_, 1);
    const char* end = from < limit
        ? static_cast<const char*>(std::memchr(in.data() + from, end_byte, limit - from))
        : nullptr;
    std::size_t end_at = end ? static_cast<std::size_t>(end - in.data()) : limit;
    // A second pass for a start byte, only over the bytes before the end byte (both memchr).
    const char* restart = from < end_at
        ? static_cast<const char*>(std::memchr(in.data() + from, start_byte, end_at - from))
        : nullptr;
    if (restart != nullptr) {
        auto at = static_cast<std::size_t>(restart - in.data());
        return invalid(in.substr(0, at), at,
                       "MLLP frame not ended (0x1C 0x0D) before the next start byte 0x0B");
    }
    if (end != nullptr) {
        if (end_at + 1 < in.size()) {
            if (in[end_at + 1] == end_cr) {
                scanned_ = 0;
                return {frame_kind::complete, in.substr(1, end_at - 1), end_at + 2, 0, 0, false, unit};
            }
            auto q = detail::quote_bytes(in.substr(end_at + 1, 1), quoted_);
            discarding_ = true;
            return invalid(in.substr(0, end_at + 1), end_at + 1,
                           format("MLLP end byte 0x1C followed by \"{}\", not 0x0D; skipped up to the next start "
                                  "byte 0x0B",
                                  q));
        }
        scanned_ = end_at; // look at the end byte again once its successor is here
    } else if (limit == max_ + 2) {
        scanned_ = 0;
        discarding_ = true;
        return {frame_kind::oversized, in.substr(1, max_), limit, 0, max_, false, unit, skip_rule};
    } else {
        scanned_ = limit;
    }
    if (!eof) return {};
    scanned_ = 0;
    // A lone 0x1C at the end is the message's last byte after all; max + 1 bytes are too many.
    if (in.size() - 1 > max_)
        return {frame_kind::oversized, in.substr(1, max_), in.size(), 0, max_, false, unit, skip_rule};
    return {frame_kind::partial, in.substr(1), in.size(), 0, 0, false, unit};
}

inline frame mllp_framer::read_junk(std::string_view in, bool eof) noexcept {
    // A cold path (bytes that break the framing): a plain loop, resumed where it stopped.
    const std::size_t limit = std::min(in.size(), max_ + 1);
    std::size_t i = scanned_;
    for (; i < limit; ++i) {
        if (in[i] == start_byte) {
            auto q = detail::quote_bytes(in.substr(0, i), quoted_);
            return invalid(in.substr(0, i), i, format("{} bytes before the MLLP start byte 0x0B: \"{}\"", i, q));
        }
        // An end pair that would make the run longer than max bytes does not end it.
        if (in[i] != end_byte || i + 2 > max_) continue;
        if (i + 1 == in.size()) break; // is it an end? the next read tells
        if (in[i + 1] == end_cr) {
            auto q = detail::quote_bytes(in.substr(0, i + 2), quoted_);
            return invalid(in.substr(0, i + 2), i + 2,
                           format("{} bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: \"{}\"", i + 2, q));
        }
    }
    scanned_ = i;
    if (i == max_ + 1) {
        auto q = detail::quote_bytes(in.substr(0, max_), quoted_);
        discarding_ = true;
        return invalid(in.substr(0, max_), i,
                       format("more than {} bytes without an MLLP start byte 0x0B: \"{}\"; skipped up to the next "
                              "start byte",
                              max_, q));
    }
    if (!eof) return {};
    auto q = detail::quote_bytes(in, quoted_);
    return invalid(in, in.size(),
                   format("{} bytes without an MLLP start byte 0x0B at the end of the stream: \"{}\"", in.size(), q));
}

static_assert(framer<mllp_framer>);

} // namespace socketcap

#endif
