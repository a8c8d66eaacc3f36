// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/base64.hpp>
#include <socketcap/base64_codec.hpp>
#include <socketcap/text_codec.hpp>

namespace socketcap {

encode_result base64_codec::encode(const frame& f, output_buffer& out) const {
    if (f.kind == frame_kind::oversized || f.kind == frame_kind::invalid) {
        detail::write_framing_error_body(out, f, f.payload.substr(0, error_raw_bytes_), detail::error_raw::base64);
        return encode_result::error_document;
    }
    append(out, R"("data":{"base64":")");
    base64::write(out, f.payload);
    append(out, "\"}");
    return encode_result::document;
}

} // namespace socketcap
