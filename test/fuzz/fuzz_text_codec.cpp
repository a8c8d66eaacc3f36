// SPDX-License-Identifier: MIT OR Apache-2.0
// The `line` and `plain` codecs on one frame of fuzzer bytes. Invariants: the body makes a
// strict JSON object; `data.value` and `raw` both equal the payload (U+FFFD-replaced); an
// oversized frame's error body keeps at most error_raw_bytes of it in `_raw` (and in `raw`).
#include "fuzz_common.hpp"

#include <socketcap/text_codec.hpp>

#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

std::string_view string_at(simdjson::dom::element el, const char* pointer) {
    std::string_view s;
    FUZZ_CHECK(!el.at_pointer(pointer).get_string().get(s));
    return s;
}

template <class Codec>
void check(Codec codec, frame_kind kind, std::size_t raw_bytes, std::string_view input) {
    static simdjson::dom::parser checker;
    output_buffer out;
    encode_result r = codec.encode({kind, input, input.size(), 0, 512, false, "line", "up to the next newline"}, out); // as the line framer makes them
    std::string body = "{" + std::string(view(out)) + "}";
    simdjson::dom::element root = fuzz::check_document(checker, body);
    if (kind == frame_kind::oversized) {
        FUZZ_CHECK(r == encode_result::error_document);
        std::string expected = fuzz::replace_invalid_utf8(input.substr(0, raw_bytes));
        FUZZ_CHECK(string_at(root, "/data/_raw") == expected);
        FUZZ_CHECK(string_at(root, "/raw") == expected);
        bool is_error = false;
        FUZZ_CHECK(!root.at_pointer("/data/_error").get_bool().get(is_error) && is_error);
        std::string message = "line exceeds max_frame_bytes (512 bytes): its first " +
                              std::to_string(std::min(raw_bytes, input.size())) + " bytes are in _raw";
        FUZZ_CHECK(string_at(root, "/data/_error_message").starts_with(message));
    } else {
        FUZZ_CHECK(r == encode_result::document);
        std::string expected = fuzz::replace_invalid_utf8(input);
        FUZZ_CHECK(string_at(root, "/data/value") == expected);
        FUZZ_CHECK(string_at(root, "/raw") == expected);
        FUZZ_CHECK(root.get_object().size() == 2);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::uint8_t mode = d.byte();
    std::size_t raw_bytes = d.byte();
    if (raw_bytes == 255) raw_bytes = default_error_raw_bytes;
    std::uint8_t k = (mode >> 1) % 3;
    frame_kind kind = k == 0 ? frame_kind::complete : k == 1 ? frame_kind::partial : frame_kind::oversized;
    const std::string_view input = d.rest();
    if (mode & 1) check(plain_codec(raw_bytes), kind, raw_bytes, input);
    else check(line_codec(raw_bytes), kind, raw_bytes, input);
    return 0;
}
