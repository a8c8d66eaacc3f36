// SPDX-License-Identifier: MIT OR Apache-2.0
// Raw-chunk framing (the `plain` codec's default): every read is one frame, cut to max_frame_bytes.
// By default an incomplete UTF-8 sequence at the end of a chunk is left for the next one, so text
// codecs never break a character that arrived across two reads.
#ifndef SOCKETCAP_CHUNK_FRAMER_HPP
#define SOCKETCAP_CHUNK_FRAMER_HPP

#include <socketcap/framer.hpp>
#include <socketcap/utf8.hpp>

#include <algorithm>

namespace socketcap {

class chunk_framer {
public:
    /// `whole_characters` false: cut anywhere (binary codecs have no characters to keep whole).
    explicit chunk_framer(std::size_t max_frame_bytes = std::size_t{1} << 20, bool whole_characters = true) noexcept
        : max_(std::max<std::size_t>(max_frame_bytes, 4)), whole_characters_(whole_characters) {}

    frame next(std::string_view in, bool eof) noexcept {
        if (in.empty()) return {};
        std::size_t n = std::min(in.size(), max_);
        if (whole_characters_ && (n < in.size() || !eof)) {
            std::size_t keep = n - utf8::incomplete_tail(in.substr(0, n));
            if (keep == 0 && n == in.size()) return {}; // only a character's first bytes so far
            if (keep != 0) n = keep;
        }
        return {frame_kind::complete, in.substr(0, n), n};
    }
    void reset() noexcept {}
    std::size_t max_frame_bytes() const noexcept { return max_; }

private:
    std::size_t max_;
    bool whole_characters_;
};

/// chunk_framer for binary codecs (base64): every read as it came, cut only at max_frame_bytes.
class binary_chunk_framer : public chunk_framer {
public:
    explicit binary_chunk_framer(std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : chunk_framer(max_frame_bytes, false) {}
};

static_assert(framer<chunk_framer>);
static_assert(framer<binary_chunk_framer>);

} // namespace socketcap

#endif
