// SPDX-License-Identifier: MIT OR Apache-2.0
// json_codec::encode on one frame of fuzzer bytes. Invariants: the body always makes a strict
// JSON object; a line becomes a document exactly when a strict DOM parser (same depth limit)
// accepts it as an object, and then `data` is its bytes verbatim; otherwise the error body's
// `_raw` is the line (U+FFFD-replaced); a blank line is skipped and writes nothing. Parsing in
// place (padding) and from a copy (no padding) give the same output.
#include "fuzz_common.hpp"

#include <socketcap/json_codec.hpp>

#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

std::string_view trim(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return s;
}

std::string_view string_field(simdjson::dom::element el, const char* key) {
    std::string_view s;
    FUZZ_CHECK(!el[key].get_string().get(s));
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static simdjson::dom::parser checker;
    fuzz_data d(data, size);
    std::size_t depth = d.byte();
    if (depth == 0 || depth > 200) depth = 1024;
    std::size_t raw_bytes = d.byte();
    if (raw_bytes == 255) raw_bytes = default_error_raw_bytes;
    std::uint8_t k = d.byte() % 3;
    frame_kind kind = k == 0 ? frame_kind::complete : k == 1 ? frame_kind::partial : frame_kind::oversized;
    const std::string input(d.rest()); // exactly sized: no padding

    json_codec codec({.max_depth = depth, .error_raw_bytes = raw_bytes});
    (void)codec.make_framer(4096);

    // Once without padding (the codec must copy), once in place with 64 readable bytes after.
    output_buffer copied, in_place;
    encode_result r1 = codec.encode({kind, input, input.size(), 0}, copied);
    std::string padded = input + std::string(simdjson::SIMDJSON_PADDING, '}');
    codec.reset();
    encode_result r2 = codec.encode({kind, std::string_view(padded).substr(0, input.size()), input.size(),
                                     simdjson::SIMDJSON_PADDING}, in_place);
    FUZZ_CHECK(r1 == r2 && view(copied) == view(in_place));

    std::string_view line = input;
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3); // at stream start only
    std::string_view doc = trim(line);

    if (r1 == encode_result::skipped) {
        FUZZ_CHECK(kind != frame_kind::oversized && doc.empty() && copied.size() == 0);
        return 0;
    }
    std::string body = "{" + std::string(view(copied)) + "}";
    simdjson::dom::element root = fuzz::check_document(checker, body);
    simdjson::dom::element field;
    FUZZ_CHECK(!root["data"].get(field));

    // The reference verdict, from a parser with the same depth limit.
    simdjson::dom::parser reference;
    FUZZ_CHECK(!reference.allocate(doc.size() + 1, depth));
    simdjson::dom::element ref_root;
    bool accepted = !doc.empty() && !reference.parse(doc.data(), doc.size(), true).get(ref_root) &&
                    ref_root.is_object();

    if (r1 == encode_result::document) {
        FUZZ_CHECK(kind != frame_kind::oversized && accepted);
        FUZZ_CHECK(view(copied) == "\"data\":" + std::string(doc));
        return 0;
    }
    FUZZ_CHECK(r1 == encode_result::error_document);
    bool is_error = false;
    FUZZ_CHECK(!field["_error"].get_bool().get(is_error) && is_error);
    std::string_view message = string_field(field, "_error_message");
    std::string_view raw = string_field(field, "_raw");
    if (kind == frame_kind::oversized) {
        FUZZ_CHECK(raw == fuzz::replace_invalid_utf8(line.substr(0, raw_bytes)));
        FUZZ_CHECK(message.find("exceeds max_frame_bytes (4096 bytes)") != std::string_view::npos);
    } else {
        FUZZ_CHECK(!accepted && !doc.empty());
        FUZZ_CHECK(raw == fuzz::replace_invalid_utf8(line));
        FUZZ_CHECK(message.starts_with("invalid JSON: ") || message.starts_with("expected a JSON object, got "));
        FUZZ_CHECK((kind == frame_kind::partial) ==
                   message.ends_with(" (the stream ended before the line's newline)") ||
                   message.starts_with("expected"));
    }
    return 0;
}
