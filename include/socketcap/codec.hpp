// SPDX-License-Identifier: MIT OR Apache-2.0
// The codec concept: one frame in, the body of one document out. A codec does not know how
// frames are cut: that is the framer's business (pipeline<Codec, Framer>).
#ifndef SOCKETCAP_CODEC_HPP
#define SOCKETCAP_CODEC_HPP

#include <socketcap/frame.hpp>
#include <socketcap/output_buffer.hpp>

#include <concepts>
#include <cstdint>

namespace socketcap {

enum class encode_result : std::uint8_t {
    skipped,        ///< nothing written: the frame makes no document (e.g. a blank NDJSON line)
    document,       ///< a document body was written
    error_document, ///< an error document body was written (bad input, oversized frame)
};

/// Codec requirements (docs/design.md has the table):
///  - c.encode(frame, out) appends the document body: `"data":<value>` and, for text codecs,
///    `,"raw":<string>`. It is handed complete, oversized and partial frames; an oversized
///    frame carries the limit it exceeded (frame::max_frame_bytes). Never throws
///    (std::bad_alloc aside) and always writes valid JSON.
///  - c.reset(): a new stream begins (e.g. the json codec accepts a BOM again).
/// Optional: C::default_framer names the framer a pipeline uses when none is given
/// (default_framer_t in pipeline.hpp).
template <class C>
concept codec = std::movable<C> && requires(C& c, const frame& f, output_buffer& out) {
    { c.encode(f, out) } -> std::same_as<encode_result>;
    { c.reset() } noexcept;
};

/// How many bytes of an oversized frame an error document keeps in `_raw`.
inline constexpr std::size_t default_error_raw_bytes = 1024;

} // namespace socketcap

#endif
