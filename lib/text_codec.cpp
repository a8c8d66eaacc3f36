// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/json_writer.hpp>
#include <socketcap/text_codec.hpp>

#include <cstring>

namespace socketcap::detail {

void write_text_body(output_buffer& out, std::string_view payload) {
    append(out, R"("data":{"value":)");
    std::size_t start = out.size();
    json::write_string(out, payload);
    std::size_t len = out.size() - start;
    append(out, R"(},"raw":)");
    // `raw` repeats `data.value`: copy the escaped bytes instead of escaping twice.
    std::size_t at = out.size();
    out.resize(at + len);
    std::memcpy(out.data() + at, out.data() + start, len);
}

void write_oversized_body(output_buffer& out, std::string_view what, std::size_t max_frame_bytes,
                          std::string_view head, bool with_raw) {
    append(out, R"("data":{"_error":true,"_error_message":")");
    fmt::format_to(fmt::appender(out),
                   "{} exceeds max_frame_bytes ({} bytes): its first {} bytes are in _raw, the rest "
                   "was skipped up to the next newline",
                   what, max_frame_bytes, head.size());
    append(out, R"(","_raw":)");
    std::size_t start = out.size();
    json::write_string(out, head);
    std::size_t len = out.size() - start;
    out.push_back('}');
    if (with_raw) {
        append(out, R"(,"raw":)");
        std::size_t at = out.size();
        out.resize(at + len);
        std::memcpy(out.data() + at, out.data() + start, len);
    }
}

} // namespace socketcap::detail
