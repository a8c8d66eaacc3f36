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
/// How an error body carries the bytes it is about.
enum class error_raw : std::uint8_t {
    text,         ///< `"_raw":S` in data (the json codec)
    text_and_raw, ///< `"_raw":S` in data and `,"raw":S` after it (the text codec)
    base64,       ///< `"_raw":B` in data, the bytes in base64 (the base64 codec: lossless)
};
/// Writes the error body for an oversized or invalid frame: the framer's words (frame::unit,
/// frame::message), where it was (frame::offset) and `head`, the first bytes kept.
void write_framing_error_body(output_buffer& out, const frame& f, std::string_view head, error_raw form);
} // namespace detail

class text_codec {
public:
    explicit text_codec(std::size_t error_raw_bytes = default_error_raw_bytes) noexcept
        : error_raw_bytes_(error_raw_bytes) {}

    encode_result encode(const frame& f, output_buffer& out) const {
        if (f.kind == frame_kind::oversized || f.kind == frame_kind::invalid) {
            detail::write_framing_error_body(out, f, f.payload.substr(0, error_raw_bytes_),
                                             detail::error_raw::text_and_raw);
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
