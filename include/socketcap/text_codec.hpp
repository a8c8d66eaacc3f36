// SPDX-License-Identifier: MIT OR Apache-2.0
// The text codec: the frame as a string, in `data.value` and in `raw`. It works over any
// framer; `line_codec` and `plain_codec` are the text codec with a default framer each.
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

class text_codec {
public:
    explicit text_codec(std::size_t error_raw_bytes = default_error_raw_bytes) noexcept
        : error_raw_bytes_(error_raw_bytes) {}

    encode_result encode(const frame& f, output_buffer& out) const {
        if (f.kind == frame_kind::oversized) {
            detail::write_oversized_body(out, "line", f.max_frame_bytes, f.payload.substr(0, error_raw_bytes_),
                                         true);
            return encode_result::error_document;
        }
        detail::write_text_body(out, f.payload);
        return encode_result::document;
    }

    void reset() noexcept {}

private:
    std::size_t error_raw_bytes_;
};

/// The text codec with `Framer` as its default framer: pipeline<basic_text_codec<F>> frames
/// with F, and pipeline<basic_text_codec<F>, G> with G.
template <framer Framer>
class basic_text_codec : public text_codec {
public:
    using default_framer = Framer;
    using text_codec::text_codec;
};

/// `line`: newline-delimited text; an empty line is a document with "".
using line_codec = basic_text_codec<line_framer>;
/// `plain`: each read as one document (cut at max_frame_bytes, never inside a character).
using plain_codec = basic_text_codec<chunk_framer>;

static_assert(codec<text_codec>);
static_assert(codec<line_codec>);
static_assert(codec<plain_codec>);

} // namespace socketcap

#endif
