// SPDX-License-Identifier: MIT OR Apache-2.0
// Frames and the framer concept: incremental, sans-I/O splitting of a byte stream.
#ifndef SOCKETCAP_FRAME_HPP
#define SOCKETCAP_FRAME_HPP

#include <concepts>
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
};

/// Framer requirements (docs/design.md has the table):
///  - f.next(input, eof): `input` is every unconsumed byte; after need_more the next call passes
///    the same bytes followed by new ones (a framer may remember how far it already scanned).
///    With eof true, a trailing frame is returned as `partial`. Never throws.
///  - f.reset(): forget all state (a new stream begins).
///  - f.max_frame_bytes(): the largest payload it returns; memory a caller needs is bounded by
///    max_frame_bytes() + a read, because longer frames come out as `oversized` early.
template <class F>
concept framer = std::movable<F> && requires(F& f, const F& cf, std::string_view in, bool eof) {
    { f.next(in, eof) } noexcept -> std::same_as<frame>;
    { f.reset() } noexcept;
    { cf.max_frame_bytes() } noexcept -> std::convertible_to<std::size_t>;
};

} // namespace socketcap

#endif
