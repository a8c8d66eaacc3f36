// SPDX-License-Identifier: MIT OR Apache-2.0
// The `base64` codec: each frame's bytes, exactly, as `"data":{"base64":"…"}`. Text codecs
// replace ill-formed UTF-8 and so lose binary bytes; this one loses nothing. Its error
// documents carry `_raw` in base64 too.
#ifndef SOCKETCAP_BASE64_CODEC_HPP
#define SOCKETCAP_BASE64_CODEC_HPP

#include <socketcap/chunk_framer.hpp>
#include <socketcap/codec.hpp>

namespace socketcap {

class base64_codec {
public:
    /// Each read as one frame, cut anywhere (binary_chunk_framer): no characters to keep whole.
    using default_framer = binary_chunk_framer;

    explicit base64_codec(std::size_t error_raw_bytes = default_error_raw_bytes) noexcept
        : error_raw_bytes_(error_raw_bytes) {}

    /// Never throws (std::bad_alloc aside).
    encode_result encode(const frame& f, output_buffer& out) const;
    void reset() noexcept {}

private:
    std::size_t error_raw_bytes_;
};

static_assert(codec<base64_codec>);

} // namespace socketcap

#endif
