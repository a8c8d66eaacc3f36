// SPDX-License-Identifier: MIT OR Apache-2.0
// Length-prefixed framing: each frame is [header][length field][body]. The header is a fixed
// number of bytes (0-64: a message type, a version) that the framer does not interpret; the
// length field is 1, 2, 4 or 8 bytes (big or little endian) or a varint (LEB128: 7 bits a byte,
// least significant first, high bit set on all but the last byte, as protobuf's delimited
// streams). The declared length counts the body, or with length_includes_prefix the header and
// length field too. The frame is the body alone, or with keep_prefix the whole thing. A length
// of 0 is a complete empty frame. Prefixes split across reads are fine (varints included).
//
// Errors and how the framer resynchronises:
//  - A frame (as returned) longer than max_frame_bytes is `oversized`: the framer waits only
//    until max_frame_bytes of it are there, returns them, then skips exactly the rest of the
//    declared length, across as many reads as it takes (message "(its declared length, N
//    bytes)", N as declared), and reads the next prefix right after. Lengths up to 2^64-1 are
//    fine: nothing overflows, the skip just never ends on a real stream.
//  - A varint longer than 10 bytes, or whose 10th byte carries more than bit 63, is `invalid`
//    ("…is longer than 10 bytes", "…overflows 64 bits"): the header and those 10 bytes are
//    skipped and a new prefix is read right after them.
//  - With length_includes_prefix, a declared length smaller than header + length field is
//    `invalid` ("…is less than its own prefix…"): header and length field are skipped and a new
//    prefix is read right after them.
//  A binary stream has no marker to find the next frame by: after a corrupted prefix these
//  rules keep the framer going and its memory bounded, but the bytes it then reads as a prefix
//  are whatever came next, so what follows a corruption is garbage until the peer reconnects.
//  A corrupted length that is merely wrong (not invalid) cannot be detected at all.
//  - End of stream: an unfinished frame is `partial`: the frame's bytes received so far (the
//    prefix included if keep_prefix, or if the prefix itself is incomplete). If an incomplete
//    prefix is longer than max_frame_bytes it is `oversized` ("up to the end of the stream").
#ifndef SOCKETCAP_LENGTH_PREFIX_FRAMER_HPP
#define SOCKETCAP_LENGTH_PREFIX_FRAMER_HPP

#include <socketcap/framer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace socketcap {

struct length_prefix_options {
    /// Bytes of the length field: 1, 2, 4 or 8; 0 = a varint (LEB128, as protobuf's delimited streams).
    std::uint8_t length_bytes = 4;
    std::endian byte_order = std::endian::big; ///< fixed-size fields only
    /// The length counts the header and the length field too, not just the body.
    bool length_includes_prefix = false;
    /// Fixed bytes before the length field (a message type, a version); 0 to 64.
    std::uint8_t header_bytes = 0;
    /// The frame keeps the header and the length field; otherwise it is the body alone.
    bool keep_prefix = false;
};

class length_prefix_framer {
public:
    static constexpr std::size_t max_header_bytes = 64;
    static constexpr std::size_t max_varint_bytes = 10;

    /// Options outside their ranges are preconditions (configuration validates them): a
    /// length_bytes other than 0, 1, 2, 4, 8 means 4, header_bytes is cut to 64, and
    /// max_frame_bytes is at least 1.
    explicit length_prefix_framer(length_prefix_options opts = {},
                                  std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : opts_(sanitized(opts)), max_(std::max<std::size_t>(max_frame_bytes, 1)) {}

    frame next(std::string_view in, bool eof) noexcept;
    void reset() noexcept {
        state_ = state::prefix;
        varint_bytes_ = 0;
        length_ = 0;
        remaining_ = 0;
    }
    std::size_t max_frame_bytes() const noexcept { return max_; }
    /// The longest prefix: a body of max_frame_bytes waits with it in front.
    std::size_t slack_bytes() const noexcept {
        return opts_.header_bytes + (opts_.length_bytes != 0 ? opts_.length_bytes : max_varint_bytes);
    }
    const length_prefix_options& options() const noexcept { return opts_; }

private:
    enum class state : std::uint8_t { prefix, body, skipping };

    static length_prefix_options sanitized(length_prefix_options o) noexcept {
        if (o.length_bytes != 0 && o.length_bytes != 1 && o.length_bytes != 2 && o.length_bytes != 4 &&
            o.length_bytes != 8)
            o.length_bytes = 4;
        o.header_bytes = static_cast<std::uint8_t>(std::min<std::size_t>(o.header_bytes, max_header_bytes));
        return o;
    }

    frame parse_prefix(std::string_view in, bool eof) noexcept;
    frame invalid(std::string_view in, std::string_view message) noexcept;
    std::string_view quote_length_field(std::string_view in) noexcept;

    length_prefix_options opts_;
    std::size_t max_;
    state state_ = state::prefix;
    std::size_t varint_bytes_ = 0; // varint bytes decoded so far (prefix state)
    std::uint64_t length_ = 0;     // the declared length (being decoded, in the prefix state)
    std::size_t prefix_ = 0;       // header + length field, once decoded
    std::uint64_t frame_ = 0;      // bytes of the frame as returned, saturated at 2^64-1
    std::uint64_t remaining_ = 0;  // bytes still to skip after an oversized frame
    std::array<char, 4 * max_varint_bytes> quoted_{};
    std::array<char, 192> message_{};
};

// The length field's bytes as \xNN each: it is binary, so even printable bytes read better in hex.
inline std::string_view length_prefix_framer::quote_length_field(std::string_view in) noexcept {
    constexpr std::string_view hex = "0123456789ABCDEF";
    std::string_view field = in.substr(opts_.header_bytes, prefix_ - opts_.header_bytes);
    std::size_t n = 0;
    for (char c : field) {
        auto b = static_cast<unsigned char>(c);
        quoted_[n++] = '\\';
        quoted_[n++] = 'x';
        quoted_[n++] = hex[b >> 4];
        quoted_[n++] = hex[b & 0xF];
    }
    return {quoted_.data(), n};
}

inline frame length_prefix_framer::invalid(std::string_view in, std::string_view message) noexcept {
    state_ = state::prefix;
    varint_bytes_ = 0;
    length_ = 0;
    return {frame_kind::invalid, in.substr(0, std::min(prefix_, max_)), prefix_, 0, 0, false, "frame",
            message};
}

// Decodes the prefix as far as `in` goes, resuming where the last call stopped (varints).
inline frame length_prefix_framer::parse_prefix(std::string_view in, bool eof) noexcept {
    const std::size_t h = opts_.header_bytes;
    bool done = false;
    if (opts_.length_bytes != 0) {
        const std::size_t l = opts_.length_bytes;
        if (in.size() >= h + l) {
            std::uint64_t v = 0;
            for (std::size_t k = 0; k < l; ++k) {
                std::size_t i = opts_.byte_order == std::endian::little ? h + l - 1 - k : h + k;
                v = (v << 8) | static_cast<unsigned char>(in[i]);
            }
            length_ = v;
            prefix_ = h + l;
            done = true;
        }
    } else {
        while (h + varint_bytes_ < in.size()) {
            auto b = static_cast<unsigned char>(in[h + varint_bytes_]);
            std::size_t k = varint_bytes_++;
            if (k == max_varint_bytes - 1 && b > 1) {
                // Bit 63 is the 10th byte's only room: anything more is an error.
                prefix_ = h + varint_bytes_;
                auto field = quote_length_field(in);
                auto r = (b & 0x80) != 0
                    ? fmt::format_to_n(message_.data(), message_.size(),
                                       "length_prefixed framing: the varint length \"{}\" is longer than 10 bytes; "
                                       "skipped the prefix", field)
                    : fmt::format_to_n(message_.data(), message_.size(),
                                       "length_prefixed framing: the varint length \"{}\" overflows 64 bits; "
                                       "skipped the prefix", field);
                return invalid(in, {message_.data(), std::min(r.size, message_.size())});
            }
            length_ |= std::uint64_t{b & 0x7Fu} << (7 * k);
            if ((b & 0x80) == 0) {
                prefix_ = h + varint_bytes_;
                done = true;
                break;
            }
        }
    }
    if (!done) {
        if (!eof || in.empty()) return {};
        // The stream ended inside the prefix: what came is the partial frame.
        reset();
        if (in.size() > max_)
            return {frame_kind::oversized, in.substr(0, max_), in.size(), 0, max_, false, "frame",
                    "up to the end of the stream"};
        return {frame_kind::partial, in, in.size()};
    }
    std::uint64_t body = length_;
    if (opts_.length_includes_prefix) {
        if (length_ < prefix_) {
            auto r = fmt::format_to_n(message_.data(), message_.size(),
                                      "length_prefixed framing: declared length {} (\"{}\") is less than its own "
                                      "prefix ({} bytes); skipped the prefix",
                                      length_, quote_length_field(in), prefix_);
            return invalid(in, {message_.data(), std::min(r.size, message_.size())});
        }
        body = length_ - prefix_;
    }
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    frame_ = !opts_.keep_prefix ? body : body > top - prefix_ ? top : body + prefix_;
    state_ = state::body;
    return {};
}

inline frame length_prefix_framer::next(std::string_view in, bool eof) noexcept {
    if (state_ == state::skipping) {
        if (in.empty()) {
            if (eof) reset();
            return {};
        }
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
        remaining_ -= n;
        if (remaining_ == 0) reset();
        return {frame_kind::skipped, {}, n};
    }
    if (state_ == state::prefix) {
        frame f = parse_prefix(in, eof);
        if (state_ != state::body) return f;
    }
    // The body: every check is O(1), the prefix is decoded once.
    const std::size_t start = opts_.keep_prefix ? 0 : prefix_;
    if (frame_ <= max_) {
        std::size_t end = start + static_cast<std::size_t>(frame_);
        if (in.size() >= end) {
            reset();
            return {frame_kind::complete, in.substr(start, end - start), end};
        }
    } else if (in.size() >= start + max_) {
        // Too long: the first max_frame_bytes now, then exactly the rest of the declared length.
        state_ = state::skipping;
        varint_bytes_ = 0;
        remaining_ = frame_ - max_;
        auto r = fmt::format_to_n(message_.data(), message_.size(), "(its declared length, {} bytes)", length_);
        length_ = 0;
        return {frame_kind::oversized, in.substr(start, max_), start + max_, 0, max_, false, "frame",
                {message_.data(), std::min(r.size, message_.size())}};
    }
    if (!eof) return {};
    reset();
    return {frame_kind::partial, in.substr(std::min(start, in.size())), in.size()};
}

static_assert(framer<length_prefix_framer>);

} // namespace socketcap

#endif
