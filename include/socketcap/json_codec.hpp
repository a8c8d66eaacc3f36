// SPDX-License-Identifier: MIT OR Apache-2.0
// The `json` codec: NDJSON by default. Each line (each frame, over another framer) must be a
// JSON object; it is validated with simdjson's DOM parser (On-Demand does not validate what it
// does not touch) and its original bytes are copied into `data`. Anything Flow's runtime would reject becomes an error document
// (docs/connector.md, "What Flow accepts").
#ifndef SOCKETCAP_JSON_CODEC_HPP
#define SOCKETCAP_JSON_CODEC_HPP

#include <socketcap/codec.hpp>
#include <socketcap/line_framer.hpp> // the default framer

#include <memory>

namespace socketcap {

class json_codec {
public:
    /// NDJSON by default; pipeline<json_codec, F> reads one JSON value per frame of F.
    using default_framer = line_framer;

    struct options {
        /// Deeper nesting is an error. 126: Flow's runtime parses a captured document with
        /// serde_json (recursion limit 128, so 127 levels) whenever simdjson declines it, and
        /// the document envelope is one level (docs/connector.md, "What Flow accepts").
        std::size_t max_depth = 126;
        std::size_t error_raw_bytes = default_error_raw_bytes; ///< `_raw` kept of an oversized line
    };

    json_codec();
    explicit json_codec(options opts);
    json_codec(json_codec&&) noexcept;
    json_codec& operator=(json_codec&&) noexcept;
    ~json_codec();

    /// Never throws (std::bad_alloc aside). Frames with padding >= 64 are parsed in place.
    encode_result encode(const frame& f, output_buffer& out);

    void reset() noexcept { at_stream_start_ = true; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    options opts_;
    bool at_stream_start_ = true;
};

static_assert(codec<json_codec>);

} // namespace socketcap

#endif
