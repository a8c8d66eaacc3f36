// SPDX-License-Identifier: MIT OR Apache-2.0
// json_codec::encode on one frame of fuzzer bytes. Invariants: the body always makes a strict
// JSON object; a line becomes a document exactly when Flow's runtime would take it: a strict
// DOM parser accepts it as an object once integers beyond 64 bits are read as doubles (as
// serde_json does), and it nests at most max_depth levels; then `data` is its bytes verbatim; otherwise the error body's
// `_raw` is the line (U+FFFD-replaced); a blank line is skipped and writes nothing. Parsing in
// place (padding) and from a copy (no padding) give the same output.
#include "fuzz_common.hpp"

#include <socketcap/json_codec.hpp>

#include <algorithm>
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

// `doc` with each integer of 19 to 308 digits (outside strings) replaced by 0: a double reads
// it without overflow. Returns false for a 309-digit integer, whose verdict depends on rounding.
bool narrow_wide_integers(std::string_view doc, std::string& out) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    bool in_string = false;
    for (std::size_t i = 0; i < doc.size();) {
        char c = doc[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < doc.size()) out += doc[++i];
            else if (c == '"') in_string = false;
            ++i;
            continue;
        }
        if (c == '"') in_string = true;
        bool starts = (c == '-' || digit(c)) && (i == 0 || !(digit(doc[i - 1]) || doc[i - 1] == '.' ||
                                                            doc[i - 1] == 'e' || doc[i - 1] == 'E' ||
                                                            doc[i - 1] == '+' || doc[i - 1] == '-'));
        if (!starts) {
            out += c;
            ++i;
            continue;
        }
        std::size_t j = i + (c == '-');
        std::size_t first = j;
        while (j < doc.size() && digit(doc[j])) ++j;
        std::size_t n = j - first;
        bool integer = j >= doc.size() || (doc[j] != '.' && doc[j] != 'e' && doc[j] != 'E');
        if (integer && n == 309 && doc[first] != '0') return false;
        if (integer && n > 18 && n < 309 && doc[first] != '0') out += "0";
        else out.append(doc.substr(i, j - i));
        i = j;
    }
    return true;
}

// Deepest nesting of containers in valid JSON.
std::size_t nesting(std::string_view doc) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < doc.size(); ++i) {
        char c = doc[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return deepest;
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

    // Once without padding (the codec must copy), once in place with 64 readable bytes after.
    output_buffer copied, in_place;
    encode_result r1 = codec.encode({kind, input, input.size(), 0, 4096, false, "line", "up to the next newline"}, copied);
    std::string padded = input + std::string(simdjson::SIMDJSON_PADDING, '}');
    codec.reset();
    encode_result r2 = codec.encode({kind, std::string_view(padded).substr(0, input.size()), input.size(),
                                     simdjson::SIMDJSON_PADDING, 4096, false, "line", "up to the next newline"}, in_place);
    FUZZ_CHECK(r1 == r2 && view(copied) == view(in_place));

    std::string_view line = input;
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3); // at stream start only
    std::string_view doc = trim(line);

    if (r1 == encode_result::skipped) {
        FUZZ_CHECK(kind != frame_kind::oversized && doc.empty() && copied.size() == 0);
        return 0;
    }
    // The body is strict JSON once its integers beyond 64 bits are narrowed (as Flow reads them).
    std::string body;
    if (!narrow_wide_integers("{" + std::string(view(copied)) + "}", body)) return 0;
    simdjson::dom::element root = fuzz::check_document(checker, body);
    simdjson::dom::element field;
    FUZZ_CHECK(!root["data"].get(field));

    // The reference verdict: a strict parser on the line with wide integers narrowed, allowed
    // deeper than the limit, which is then checked on its own.
    std::string narrowed;
    if (!narrow_wide_integers(doc, narrowed)) return 0;
    simdjson::dom::parser reference;
    FUZZ_CHECK(!reference.allocate(narrowed.size() + 1, depth + 2));
    simdjson::dom::element ref_root;
    bool accepted = !doc.empty() && !reference.parse(narrowed.data(), narrowed.size(), true).get(ref_root) &&
                    ref_root.is_object() && nesting(narrowed) <= depth;

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
