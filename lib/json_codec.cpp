// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/json_codec.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/receive_buffer.hpp>
#include <socketcap/text_codec.hpp>
#include <socketcap/utf8.hpp>

#include <simdjson.h>

namespace socketcap {

static_assert(receive_buffer::padding >= simdjson::SIMDJSON_PADDING,
              "frames from a receive_buffer must be parseable in place");

struct json_codec::impl {
    simdjson::dom::parser parser;
};

json_codec::json_codec() : json_codec(options{}) {}

json_codec::json_codec(options opts) : impl_(std::make_unique<impl>()), opts_(opts) {
    // Only fails for lack of memory; parse() reports that again as MEMALLOC.
    if (auto err = impl_->parser.allocate(4096, opts_.max_depth)) (void)err;
}

json_codec::json_codec(json_codec&&) noexcept = default;
json_codec& json_codec::operator=(json_codec&&) noexcept = default;
json_codec::~json_codec() = default;

namespace {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Byte offset of the first ill-formed UTF-8 sequence, or npos.
std::size_t first_invalid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        std::size_t n = utf8::sequence_length(s.substr(i));
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::size_t first_control(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (static_cast<unsigned char>(s[i]) < 0x20 && !is_ws(s[i])) return i;
    return std::string_view::npos;
}

void write_error_body(output_buffer& out, std::string_view message, std::string_view raw) {
    append(out, R"("data":{"_error":true,"_error_message":)");
    json::write_string(out, message);
    append(out, R"(,"_raw":)");
    json::write_string(out, raw);
    out.push_back('}');
}

std::string describe(simdjson::error_code err, std::string_view line, std::size_t max_depth) {
    using namespace simdjson;
    std::size_t at = std::string_view::npos;
    const char* what = nullptr;
    switch (err) {
    case UTF8_ERROR: what = "invalid UTF-8"; at = first_invalid_utf8(line); break;
    case UNESCAPED_CHARS: what = "unescaped control character in a string"; at = first_control(line); break;
    case STRING_ERROR: what = "invalid string (bad escape or lone surrogate)"; break;
    case NUMBER_ERROR: what = "invalid or out-of-range number"; break;
    case DEPTH_ERROR:
        return fmt::format("invalid JSON: nesting deeper than {} levels", max_depth);
    case T_ATOM_ERROR: case F_ATOM_ERROR: case N_ATOM_ERROR:
        what = "invalid literal (expected true, false or null)"; break;
    case TAPE_ERROR: what = "invalid structure (missing or extra comma, brace, bracket, colon or value, or trailing content)"; break;
    case CAPACITY: return "invalid JSON: line too large for the parser";
    case MEMALLOC: return "invalid JSON: parser out of memory";
    default: what = error_message(err); break;
    }
    if (at != std::string_view::npos) return fmt::format("invalid JSON: {} at byte {}", what, at);
    return fmt::format("invalid JSON: {}", what);
}

const char* type_name(simdjson::dom::element_type t) noexcept {
    using simdjson::dom::element_type;
    switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64: case element_type::UINT64: case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "a value";
}

} // namespace

encode_result json_codec::encode(const frame& f, output_buffer& out) {
    std::string_view line = f.payload;
    if (at_stream_start_) {
        at_stream_start_ = false;
        if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    }
    if (f.kind == frame_kind::oversized) {
        detail::write_oversized_body(out, "line", max_frame_, line.substr(0, opts_.error_raw_bytes), false);
        return encode_result::error_document;
    }
    std::string_view doc = trim(line);
    if (doc.empty()) return encode_result::skipped;

    // In place when the bytes after the line are readable padding; a copy otherwise.
    std::size_t tail = static_cast<std::size_t>(f.payload.data() + f.payload.size() - (doc.data() + doc.size()));
    bool in_place = tail + f.padding >= simdjson::SIMDJSON_PADDING;
    simdjson::dom::element root;
    auto err = impl_->parser.parse(doc.data(), doc.size(), !in_place).get(root);
    if (err) {
        auto message = describe(err, doc, opts_.max_depth);
        if (f.kind == frame_kind::partial) message += " (the stream ended before the line's newline)";
        write_error_body(out, message, line);
        return encode_result::error_document;
    }
    if (!root.is_object()) {
        write_error_body(out, fmt::format("expected a JSON object, got {}", type_name(root.type())), line);
        return encode_result::error_document;
    }
    append(out, R"("data":)");
    json::write_raw(out, doc);
    return encode_result::document;
}

} // namespace socketcap
