// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/json_writer.hpp>
#include <socketcap/utf8.hpp>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <cstdint>
#include <random>
#include <string>

using namespace socketcap;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

std::string str(std::string_view s) {
    output_buffer out;
    json::write_string(out, s);
    return {out.data(), out.size()};
}

const std::string fffd = "\xEF\xBF\xBD";

// Independent oracle for U+FFFD replacement (Unicode §3.9, maximal subparts, table 3-7).
std::string replace_invalid(std::string_view s) {
    std::string r;
    std::size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) { r += s[i++]; continue; }
        int len = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b == 0xE0) { len = 3; lo = 0xA0; }
        else if (b == 0xED) { len = 3; hi = 0x9F; }
        else if (b >= 0xE1 && b <= 0xEF) len = 3;
        else if (b == 0xF0) { len = 4; lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) len = 4;
        else if (b == 0xF4) { len = 4; hi = 0x8F; }
        std::size_t k = 1;
        if (len != 0) {
            for (; k < static_cast<std::size_t>(len) && i + k < s.size(); ++k) {
                auto c = static_cast<unsigned char>(s[i + k]);
                unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
                if (c < l || c > h) break;
            }
        }
        if (len != 0 && k == static_cast<std::size_t>(len)) r.append(s.substr(i, k));
        else r += fffd;
        i += k;
    }
    return r;
}

// Parses a JSON string literal with simdjson's DOM parser (the strict validator).
std::string parse_back(const std::string& json) {
    simdjson::dom::parser parser;
    std::string_view v;
    auto err = parser.parse(simdjson::padded_string(json)).get_string().get(v);
    INFO("json: " << json);
    REQUIRE_FALSE(err);
    return std::string(v);
}

} // namespace

TEST_CASE("json_writer escapes every control character exactly") {
    static const char* const expected[32] = {
        R"("\u0000")", R"("\u0001")", R"("\u0002")", R"("\u0003")", R"("\u0004")", R"("\u0005")",
        R"("\u0006")", R"("\u0007")", R"("\b")",     R"("\t")",     R"("\n")",     R"("\u000b")",
        R"("\f")",     R"("\r")",     R"("\u000e")", R"("\u000f")", R"("\u0010")", R"("\u0011")",
        R"("\u0012")", R"("\u0013")", R"("\u0014")", R"("\u0015")", R"("\u0016")", R"("\u0017")",
        R"("\u0018")", R"("\u0019")", R"("\u001a")", R"("\u001b")", R"("\u001c")", R"("\u001d")",
        R"("\u001e")", R"("\u001f")",
    };
    for (int c = 0; c < 32; ++c) {
        INFO("byte " << c);
        std::string one(1, static_cast<char>(c));
        CHECK(str(one) == expected[c]);
        // Also inside a long ASCII run, at every position of the 8-byte fast path.
        for (std::size_t at = 0; at < 17; ++at) {
            std::string s(17, 'a');
            s[at] = static_cast<char>(c);
            std::string inner(expected[c] + 1);
            inner.pop_back();
            CHECK(str(s) == "\"" + std::string(at, 'a') + inner + std::string(16 - at, 'a') + "\"");
        }
    }
}

TEST_CASE("json_writer escapes quote and backslash, and nothing else printable") {
    CHECK(str("\"") == R"("\"")");
    CHECK(str("\\") == R"("\\")");
    CHECK(str(R"(a"b\c)") == R"("a\"b\\c")");
    CHECK(str("0123456789\"abcdef\\xyz") == R"("0123456789\"abcdef\\xyz")");
    CHECK(str("/ \x7F ~") == "\"/ \x7F ~\""); // '/' and DEL need no escape
    CHECK(str("") == R"("")");
    output_buffer out;
    json::write_escaped(out, "a\nb");
    CHECK(view(out) == R"(a\nb)");
}

TEST_CASE("json_writer keeps valid UTF-8 as is") {
    CHECK(str("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
    CHECK(str("\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\xED\x9F\xBF") ==
          "\"\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xEF\xBF\xBF\xED\x9F\xBF\"");
}

TEST_CASE("json_writer replaces ill-formed UTF-8 with U+FFFD per maximal subpart") {
    struct tcase {
        std::string in, out;
    };
    const tcase cases[] = {
        {"\xC0\xAF", fffd + fffd},                                     // overlong '/'
        {"\xC1\xBF", fffd + fffd},                                     // overlong 2-byte
        {"\xE0\x80\x80", fffd + fffd + fffd},                          // overlong 3-byte
        {"\xE0\x9F\xBF", fffd + fffd + fffd},                          // overlong U+07FF
        {"\xF0\x80\x80\x80", fffd + fffd + fffd + fffd},               // overlong 4-byte
        {"\xF0\x8F\xBF\xBF", fffd + fffd + fffd + fffd},               // overlong U+FFFF
        {"\xED\xA0\x80", fffd + fffd + fffd},                          // surrogate D800
        {"\xED\xBF\xBF", fffd + fffd + fffd},                          // surrogate DFFF
        {"\xED\xA0\x80\xED\xB0\x80", fffd + fffd + fffd + fffd + fffd + fffd}, // CESU-8 pair
        {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},               // U+110000
        {"\xF5\x80\x80\x80", fffd + fffd + fffd + fffd},               // F5 never a lead
        {"\xE2\x82", fffd},                                            // truncated at the end
        {"\xE2\x82x", fffd + "x"},                                     // truncated before ASCII
        {"\xF0\x9F\x98", fffd},                                        // truncated 4-byte
        {"\xF0\x9F\x98\xE2\x82\xAC", fffd + "\xE2\x82\xAC"},           // truncated then valid
        {"\x80", fffd},                                                // lone continuation
        {"\x80\xBF", fffd + fffd},
        {"\xFF", fffd},
        {"\xFE\xFF", fffd + fffd},
        {"a\xC3", "a" + fffd},
        // Unicode 15 §3.9 table 3-8.
        {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
         "a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d"},
    };
    for (const auto& c : cases) {
        const std::string& want = c.out;
        INFO("input of " << c.in.size() << " bytes");
        CHECK(str(c.in) == "\"" + want + "\"");
        CHECK(replace_invalid(c.in) == want); // the oracle agrees on the examples
        // Same bytes at every offset of a longer ASCII string: inside, across and after the
        // writer's 16-byte (SSE2) or 8-byte (SWAR) blocks, and in its tail loop.
        for (std::size_t at = 0; at <= 40; ++at) {
            std::string s = std::string(at, 'q') + c.in + std::string(40 - at, 'z');
            CHECK(str(s) == "\"" + std::string(at, 'q') + want + std::string(40 - at, 'z') + "\"");
            // After a valid non-ASCII character the rest is validated in one go: ill-formed
            // bytes later in the string must still be found.
            std::string v = "\xC3\xA9" + s;
            CHECK(str(v) == "\"\xC3\xA9" + std::string(at, 'q') + want + std::string(40 - at, 'z') + "\"");
        }
    }
}

TEST_CASE("json_writer escapes at every offset, before and after valid non-ASCII text") {
    const std::pair<std::string, std::string> specials[] = {
        {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\x01", "\\u0001"}, {"\x1F", "\\u001f"}, {"\x7F", "\x7F"},
        {" ", " "}, {"\xE2\x82\xAC", "\xE2\x82\xAC"},
    };
    for (const auto& [in, want] : specials) {
        for (std::size_t at = 0; at <= 40; ++at) {
            INFO("special of " << in.size() << " bytes at " << at);
            std::string pad(at, 'a'), tail(40 - at, 'b');
            CHECK(str(pad + in + tail) == "\"" + pad + want + tail + "\"");
            // With a valid non-ASCII character first, only ASCII specials need escaping.
            CHECK(str("\xF0\x9F\x98\x80" + pad + in + tail) == "\"\xF0\x9F\x98\x80" + pad + want + tail + "\"");
            // Two specials in one block, and a character split across a block boundary.
            CHECK(str(pad + in + in + tail) == "\"" + pad + want + want + tail + "\"");
        }
    }
}

TEST_CASE("json_writer output always parses back with simdjson (fixed-seed random strings)") {
    std::mt19937_64 rng(20240115);
    auto encode = [](std::string& s, char32_t cp) {
        if (cp < 0x80) s += static_cast<char>(cp);
        else if (cp < 0x800) { s += static_cast<char>(0xC0 | (cp >> 6)); s += static_cast<char>(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) {
            s += static_cast<char>(0xE0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            s += static_cast<char>(0xF0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        }
    };
    int valid_checked = 0, invalid_checked = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string s;
        std::size_t len = rng() % 80;
        if (i % 2 == 0) {
            // Valid UTF-8: ASCII (controls, quotes and backslashes included) and any scalar.
            for (std::size_t k = 0; k < len; ++k) {
                char32_t cp;
                switch (rng() % 4) {
                case 0: cp = static_cast<char32_t>(rng() % 0x80); break;
                case 1: cp = static_cast<char32_t>(0x80 + rng() % (0x800 - 0x80)); break;
                case 2: do { cp = static_cast<char32_t>(0x800 + rng() % (0x10000 - 0x800)); } while (cp >= 0xD800 && cp < 0xE000); break;
                default: cp = static_cast<char32_t>(0x10000 + rng() % (0x110000 - 0x10000)); break;
                }
                encode(s, cp);
            }
            REQUIRE(utf8::is_valid(s));
            CHECK(parse_back(str(s)) == s);
            ++valid_checked;
        } else {
            for (std::size_t k = 0; k < len; ++k) s += static_cast<char>(rng() & 0xFF);
            std::string back = parse_back(str(s));
            CHECK(back == replace_invalid(s));
            CHECK(utf8::is_valid(back));
            ++invalid_checked;
        }
    }
    CHECK(valid_checked == 1500);
    CHECK(invalid_checked == 1500);
}

TEST_CASE("json_writer integers") {
    output_buffer out;
    json::write_uint(out, 0);
    out.push_back(' ');
    json::write_uint(out, 18446744073709551615ULL);
    out.push_back(' ');
    json::write_int(out, -9223372036854775807LL - 1);
    out.push_back(' ');
    json::write_int(out, 42);
    CHECK(view(out) == "0 18446744073709551615 -9223372036854775808 42");
}
