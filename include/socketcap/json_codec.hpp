// SPDX-License-Identifier: MIT OR Apache-2.0
// The `json` codec: NDJSON. Each line must be a JSON object; it is validated with simdjson's
// DOM parser (On-Demand does not validate what it does not touch) and its original bytes are
// copied into `data`. Anything a strict parser would reject becomes an error document.
#ifndef SOCKETCAP_JSON_CODEC_HPP
#define SOCKETCAP_JSON_CODEC_HPP

#include <socketcap/codec.hpp>
#include <socketcap/line_framer.hpp>

#include <memory>

namespace socketcap {

class json_codec {
public:
    using framer_type = line_framer;

    struct options {
        std::size_t max_depth = 1024;                       ///< deeper nesting is an error
        std::size_t error_raw_bytes = default_error_raw_bytes; ///< `_raw` kept of an oversized line
    };

    json_codec();
    explicit json_codec(options opts);
    json_codec(json_codec&&) noexcept;
    json_codec& operator=(json_codec&&) noexcept;
    ~json_codec();

    framer_type make_framer(std::size_t max_frame_bytes) noexcept {
        max_frame_ = max_frame_bytes;
        return framer_type(max_frame_bytes);
    }

    /// Never throws (std::bad_alloc aside). Frames with padding >= 64 are parsed in place.
    encode_result encode(const frame& f, output_buffer& out);

    void reset() noexcept { at_stream_start_ = true; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    options opts_;
    std::size_t max_frame_ = 0;
    bool at_stream_start_ = true;
};

static_assert(codec<json_codec>);

} // namespace socketcap

#endif
