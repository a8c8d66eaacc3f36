// SPDX-License-Identifier: MIT OR Apache-2.0
// Delimiter framing: frames end at a fixed byte string of 1 to 16 bytes ("\r", "\0", "\r\n",
// "|||"). Matching is exact and strict: with "\r\n" only CR LF ends a frame, a lone LF or CR is
// data. The delimiter is dropped from the frame, or kept at its end (keep_delimiter).
//
// Errors and how the framer resynchronises:
//  - A frame longer than max_frame_bytes (with keep_delimiter, the delimiter counts toward
//    its size) is `oversized`: its first max_frame_bytes are the payload, the rest is skipped
//    up to and including the next delimiter (message "up to the next delimiter"), and framing
//    resumes right after that delimiter. The framer says so as soon as no delimiter can end the
//    frame within the limit, so it never holds more than max_frame_bytes + delimiter size - 1
//    bytes (slack_bytes()).
//  - End of stream: bytes after the last delimiter are a `partial` frame, or `oversized` (the
//    same message: no delimiter came) if longer than max_frame_bytes.
// Every byte is data, so nothing is `invalid`.
#ifndef SOCKETCAP_DELIMITER_FRAMER_HPP
#define SOCKETCAP_DELIMITER_FRAMER_HPP

#include <socketcap/framer.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace socketcap {

class delimiter_framer {
public:
    static constexpr std::size_t max_delimiter_bytes = 16;

    /// `delimiter`: 1 to max_delimiter_bytes bytes (a precondition: configuration validates
    /// it; a longer one is cut to max_delimiter_bytes, an empty one means "\n").
    /// keep_delimiter: the frame ends with its delimiter. max_frame_bytes is at least 1.
    explicit delimiter_framer(std::string_view delimiter, bool keep_delimiter = false,
                              std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : max_(std::max<std::size_t>(max_frame_bytes, 1)),
          size_(std::clamp<std::size_t>(delimiter.size(), 1, max_delimiter_bytes)),
          keep_(keep_delimiter) {
        if (delimiter.empty()) delimiter = "\n";
        std::memcpy(delimiter_.data(), delimiter.data(), size_);
    }

    frame next(std::string_view in, bool eof) noexcept;
    void reset() noexcept { scanned_ = 0; discarding_ = false; }
    std::size_t max_frame_bytes() const noexcept { return max_; }
    /// A frame of max_frame_bytes waits for its delimiter's bytes after it (the pipeline sizes
    /// its buffer with this).
    std::size_t slack_bytes() const noexcept { return size_ - 1; }

    std::string_view delimiter() const noexcept { return {delimiter_.data(), size_}; }
    bool keep_delimiter() const noexcept { return keep_; }

private:
    static constexpr std::string_view skip_rule = "up to the next delimiter";
    static constexpr std::size_t npos = std::string_view::npos;

    std::size_t find(std::string_view in, std::size_t from) const noexcept;
    /// Bytes of `in` that cannot be the start of a delimiter not yet complete in it.
    std::size_t settled(std::string_view in) const noexcept {
        return in.size() >= size_ ? in.size() - (size_ - 1) : 0;
    }
    frame oversized(std::string_view in, std::size_t consumed, std::string_view rule) const noexcept {
        return {frame_kind::oversized, in.substr(0, max_), consumed, 0, max_, false, "frame", rule};
    }

    std::size_t max_;
    std::size_t size_;
    std::array<char, max_delimiter_bytes> delimiter_{};
    bool keep_;
    std::size_t scanned_ = 0;  // delimiter start positions below this are known not to match
    bool discarding_ = false;  // skipping the rest of an oversized frame
};

// Hot path, written by hand: memchr finds the delimiter's first byte, memcmp checks the rest.
inline std::size_t delimiter_framer::find(std::string_view in, std::size_t from) const noexcept {
    std::size_t starts = settled(in); // positions where a whole delimiter fits
    if (from >= starts) return npos;
    const char* base = in.data();
    const char* p = base + from;
    const char* last = base + starts;
    while (p < last) {
        p = static_cast<const char*>(std::memchr(p, delimiter_[0], static_cast<std::size_t>(last - p)));
        if (p == nullptr) return npos;
        if (size_ == 1 || std::memcmp(p + 1, delimiter_.data() + 1, size_ - 1) == 0)
            return static_cast<std::size_t>(p - base);
        ++p;
    }
    return npos;
}

inline frame delimiter_framer::next(std::string_view in, bool eof) noexcept {
    std::size_t at = find(in, scanned_);
    if (discarding_) {
        if (at != npos) {
            scanned_ = 0;
            discarding_ = false;
            return {frame_kind::skipped, {}, at + size_};
        }
        if (eof) {
            scanned_ = 0;
            discarding_ = false;
            if (in.empty()) return {};
            return {frame_kind::skipped, {}, in.size()};
        }
        // Keep the bytes that may begin a delimiter; they are not scanned yet.
        std::size_t n = settled(in);
        scanned_ = 0;
        if (n == 0) return {};
        return {frame_kind::skipped, {}, n};
    }
    if (at != npos) {
        scanned_ = 0;
        std::size_t end = at + size_;
        std::string_view body = in.substr(0, keep_ ? end : at);
        if (body.size() > max_) return oversized(in, end, skip_rule);
        return {frame_kind::complete, body, end};
    }
    scanned_ = settled(in);
    // No delimiter can end the frame within the limit: the earliest one would start at
    // settled(in), so the frame has at least that many bytes, and a kept delimiter adds at
    // least one. Nor can the end of the stream (a partial frame of every byte). Only settled
    // bytes are consumed: the rest may begin the delimiter that ends the skip.
    if ((keep_ ? scanned_ >= max_ : scanned_ > max_) && in.size() > max_) {
        std::size_t n = scanned_;
        scanned_ = 0;
        discarding_ = true;
        return oversized(in, n, skip_rule);
    }
    if (eof && !in.empty()) {
        scanned_ = 0;
        if (in.size() > max_) return oversized(in, in.size(), skip_rule);
        return {frame_kind::partial, in, in.size()};
    }
    return {};
}

static_assert(framer<delimiter_framer>);

} // namespace socketcap

#endif
