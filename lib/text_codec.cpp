// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/base64.hpp>
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

namespace {
void write_error_message(output_buffer& out, const frame& f, std::size_t kept) {
    auto o = fmt::appender(out);
    if (f.kind == frame_kind::invalid) {
        fmt::format_to(o, "{} (at byte {}", f.message, f.offset);
        if (kept < f.payload.size()) fmt::format_to(o, "; the first {} of its {} bytes are in _raw", kept, f.payload.size());
        out.push_back(')');
        return;
    }
    // The line framer's sentence predates `offset`; it stays byte for byte what it was.
    if (f.unit == "line")
        fmt::format_to(o, "line exceeds max_frame_bytes ({} bytes): its first {} bytes are in _raw, the rest was "
                          "skipped {}", f.max_frame_bytes, kept, f.message);
    else
        fmt::format_to(o, "{} at byte {} exceeds max_frame_bytes ({} bytes): its first {} bytes are in _raw, the "
                          "rest was skipped {}", f.unit, f.offset, f.max_frame_bytes, kept, f.message);
}
} // namespace

void write_framing_error_body(output_buffer& out, const frame& f, std::string_view head, error_raw form) {
    append(out, R"("data":{"_error":true,"_error_message":")");
    // A framer's message may quote the bytes it rejected: escape it (a cold path).
    output_buffer message;
    write_error_message(message, f, head.size());
    json::write_escaped(out, view(message));
    append(out, R"(","_raw":)");
    if (form == error_raw::base64) {
        out.push_back('"');
        base64::write(out, head);
        append(out, "\"}");
        return;
    }
    std::size_t start = out.size();
    json::write_string(out, head);
    std::size_t len = out.size() - start;
    out.push_back('}');
    if (form == error_raw::text_and_raw) {
        append(out, R"(,"raw":)");
        std::size_t raw_at = out.size();
        out.resize(raw_at + len);
        std::memcpy(out.data() + raw_at, out.data() + start, len);
    }
}

} // namespace socketcap::detail
