// SPDX-License-Identifier: MIT OR Apache-2.0
// json::write_string round trip: escape, parse with simdjson's DOM (strict), compare with the
// input when it is valid UTF-8 and with its U+FFFD-replaced form otherwise. Output is valid
// UTF-8 with no raw control character and no lone surrogate escape. Integers round-trip too.
#include "fuzz_common.hpp"

#include <socketcap/json_writer.hpp>
#include <socketcap/utf8.hpp>

#include <cstring>
#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static simdjson::dom::parser parser;
    fuzz_data d(data, size);
    std::uint64_t number = 0;
    for (int i = 0; i < 8; ++i) number = (number << 8) | d.byte();
    std::size_t offset = d.byte() % 8; // the writer reads 8 bytes at a time: vary alignment
    const std::string_view input = d.rest();

    // Unaligned copy of exactly the input's size, so ASan sees any read past the end.
    std::string storage(offset, 'x');
    storage.append(input);
    std::string_view s = std::string_view(storage).substr(offset);

    output_buffer out;
    append(out, "[");
    json::write_string(out, s);
    out.push_back(',');
    json::write_uint(out, number);
    out.push_back(',');
    json::write_int(out, static_cast<std::int64_t>(number));
    out.push_back(']');
    std::string_view json = view(out);

    simdjson::dom::element root;
    FUZZ_CHECK(fuzz::parses_strictly(parser, json, &root));
    FUZZ_CHECK(simdjson::validate_utf8(json.data(), json.size()));
    FUZZ_CHECK(!fuzz::has_lone_surrogate_escape(json));
    for (char c : json) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);

    simdjson::dom::array arr;
    FUZZ_CHECK(!root.get_array().get(arr) && arr.size() == 3);
    std::string_view str;
    FUZZ_CHECK(!arr.at(0).get_string().get(str));
    std::string expected = fuzz::replace_invalid_utf8(input);
    FUZZ_CHECK(str == expected);
    if (utf8::is_valid(input)) FUZZ_CHECK(str == input);
    std::uint64_t u = 0;
    FUZZ_CHECK(!arr.at(1).get_uint64().get(u) && u == number);
    std::int64_t i = 0;
    FUZZ_CHECK(!arr.at(2).get_int64().get(i) && i == static_cast<std::int64_t>(number));

    // write_escaped is write_string without the quotes.
    output_buffer bare;
    json::write_escaped(bare, s);
    FUZZ_CHECK(view(bare) == json.substr(2, bare.size()));
    return 0;
}
