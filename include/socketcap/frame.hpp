// SPDX-License-Identifier: MIT OR Apache-2.0
// A frame: one step of a framer (socketcap/framer.hpp has the framer concept).
#ifndef SOCKETCAP_FRAME_HPP
#define SOCKETCAP_FRAME_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace socketcap {

enum class frame_kind : std::uint8_t {
    need_more, ///< no frame yet: call again with the same bytes plus more (consumed is 0)
    complete,  ///< payload is one whole frame, without its delimiter
    oversized, ///< payload is the first max_frame_bytes of a frame that was longer
    partial,   ///< end of stream: payload is a trailing frame that never got its delimiter
    skipped,   ///< consumed bytes were discarded (the tail of an oversized frame)
    invalid,   ///< consumed bytes break the framing: `message` says how; payload holds (the start of)
               ///< them; the framer has resynchronised by its documented rule
};

/// One step of a framer. `payload` points into the caller's input; the caller uses it, then
/// drops `consumed` bytes from the front of its input before the next call.
struct frame {
    frame_kind kind = frame_kind::need_more;
    std::string_view payload;
    std::size_t consumed = 0;
    /// Readable bytes past payload.end(); frames from a receive_buffer have at least
    /// receive_buffer::padding, which lets the json codec parse them in place.
    std::size_t padding = 0;
    /// For `oversized`: the limit the frame exceeded, so a codec can say so without knowing
    /// the framer (a pipeline fills it in from the framer's max_frame_bytes() if left 0).
    std::size_t max_frame_bytes = 0;
    /// The framer guarantees the payload holds no '\n' (line_framer), so a codec that copies
    /// bytes into NDJSON output verbatim need not look for one.
    bool no_newline = false;
    /// What the framer calls a frame in messages: "line", "frame", "message".
    std::string_view unit = "frame";
    /// The framer's words, for error documents. oversized: how the rest was skipped ("up to
    /// the next newline"); invalid: what was wrong ("octet count \"12x\" is not followed by a
    /// space"). Points into the framer; valid until its next call.
    std::string_view message = {};
    /// Where payload starts, in bytes since the stream began; filled in by a pipeline.
    std::uint64_t offset = 0;
};

} // namespace socketcap

// The framer concept lived here before it got its own header; includers still get it.
#include <socketcap/framer.hpp>

#endif
