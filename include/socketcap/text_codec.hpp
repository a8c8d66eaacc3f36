// SPDX-License-Identifier: MIT OR Apache-2.0
// The `line` and `plain` codecs: the frame as a string, in `data.value` and in `raw`.
#ifndef SOCKETCAP_TEXT_CODEC_HPP
#define SOCKETCAP_TEXT_CODEC_HPP

#include <socketcap/chunk_framer.hpp>
#include <socketcap/codec.hpp>
#include <socketcap/line_framer.hpp>

namespace socketcap {

namespace detail {
/// Writes `"data":{"value":S},"raw":S`, escaping the payload once.
void write_text_body(output_buffer& out, std::string_view payload);
/// Writes the error body for a frame longer than max_frame_bytes.
void write_oversized_body(output_buffer& out, std::string_view what, std::size_t max_frame_bytes,
                          std::string_view head, bool with_raw);
} // namespace detail

template <framer Framer>
class basic_text_codec {
public:
    using framer_type = Framer;

    explicit basic_text_codec(std::size_t error_raw_bytes = default_error_raw_bytes) noexcept
        : error_raw_bytes_(error_raw_bytes) {}

    framer_type make_framer(std::size_t max_frame_bytes) noexcept {
        max_frame_ = max_frame_bytes;
        return framer_type(max_frame_bytes);
    }

    encode_result encode(const frame& f, output_buffer& out) const {
        if (f.kind == frame_kind::oversized) {
            detail::write_oversized_body(out, "line", max_frame_, f.payload.substr(0, error_raw_bytes_),
                                         true);
            return encode_result::error_document;
        }
        detail::write_text_body(out, f.payload);
        return encode_result::document;
    }

    void reset() noexcept {}

private:
    std::size_t error_raw_bytes_;
    std::size_t max_frame_ = 0; // remembered for the oversized message
};

/// `line`: newline-delimited text; an empty line is a document with "".
using line_codec = basic_text_codec<line_framer>;
/// `plain`: each read as one document (cut at max_frame_bytes, never inside a character).
using plain_codec = basic_text_codec<chunk_framer>;

static_assert(codec<line_codec>);
static_assert(codec<plain_codec>);

} // namespace socketcap

#endif
