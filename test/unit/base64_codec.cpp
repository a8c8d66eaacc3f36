// SPDX-License-Identifier: MIT OR Apache-2.0
// The base64 writer and codec: RFC 4648's vectors, every byte value back out unchanged, and the
// codec over chunk and line framing with exact documents, error documents included.
#include <socketcap/base64.hpp>
#include <socketcap/base64_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using namespace socketcap;
using socketcap::test::doc;

namespace {

std::string encode(std::string_view bytes) {
    output_buffer out;
    base64::write(out, bytes);
    return {out.data(), out.size()};
}

// A plain reference decoder: test code, so clarity over speed. Empty optional on bad input.
std::string decode(std::string_view text) {
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    REQUIRE(text.size() % 4 == 0);
    std::string out;
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t v = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = text[i + j];
            std::uint32_t six = 0;
            if (c == '=') {
                REQUIRE(i + 4 == text.size()); // padding only at the very end
                ++pad;
            } else {
                REQUIRE(pad == 0);
                auto at = alphabet.find(c);
                REQUIRE(at != std::string_view::npos);
                six = static_cast<std::uint32_t>(at);
            }
            v = v << 6 | six;
        }
        out.push_back(static_cast<char>(v >> 16));
        if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 0xFF));
        if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
    }
    return out;
}


// The base64 strings of the documents in `out`, in order.
std::vector<std::string> encoded_values(const std::string& out) {
    std::vector<std::string> v;
    constexpr std::string_view key = R"("data":{"base64":")";
    for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at)) {
        at += key.size();
        v.push_back(out.substr(at, out.find('"', at) - at));
    }
    return v;
}

} // namespace

TEST_CASE("base64: RFC 4648 section 10 test vectors") {
    CHECK(encode("") == "");
    CHECK(encode("f") == "Zg==");
    CHECK(encode("fo") == "Zm8=");
    CHECK(encode("foo") == "Zm9v");
    CHECK(encode("foob") == "Zm9vYg==");
    CHECK(encode("fooba") == "Zm9vYmE=");
    CHECK(encode("foobar") == "Zm9vYmFy");
    CHECK(base64::encoded_size(0) == 0);
    CHECK(base64::encoded_size(1) == 4);
    CHECK(base64::encoded_size(3) == 4);
    CHECK(base64::encoded_size(4) == 8);
}

TEST_CASE("base64: every byte value, every length up to 300, comes back unchanged") {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    CHECK(decode(encode(all)) == all);
    CHECK(encode("\xFF\xFF\xFF") == "////");
    CHECK(encode(std::string(3, '\0')) == "AAAA");
    CHECK(encode("\xFB\xEF\xBE") == "++++");
    std::uint32_t x = 2463534242u; // xorshift: reproducible bytes
    std::string bytes;
    for (std::size_t n = 0; n <= 300; ++n) {
        INFO("length " << n);
        std::string e = encode(bytes);
        CHECK(e.size() == base64::encoded_size(n));
        CHECK(decode(e) == bytes);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push_back(static_cast<char>(x));
    }
}

TEST_CASE("base64 codec: each read as it came, binary bytes kept exactly") {
    // Bytes a text codec would replace (0xFF, a lone continuation byte) or escape.
    CHECK(test::run_reads<base64_codec>({std::string_view("\x00\xFF\n\r", 4), "\x80\"\\"}) ==
          test::base64_doc("AP8KDQ==", 1) + test::base64_doc("gCJc", 2));
    // Unlike plain, a read ending inside a UTF-8 character is not held back: these are bytes.
    CHECK(test::run_reads<base64_codec>({"x\xE2\x82", "\xAC"}) == test::base64_doc("eOKC", 1) + test::base64_doc("rA==", 2));
}

TEST_CASE("base64 codec: any split of the input gives back its bytes") {
    std::string in;
    for (int i = 0; i < 64; ++i) in.push_back(static_cast<char>(i * 37 + 11));
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        auto out = test::run_reads<base64_codec>({std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)});
        std::string joined;
        for (auto& v : encoded_values(out)) joined += decode(v);
        CHECK(joined == in);
        CHECK(encoded_values(out).size() == (cut == 0 || cut == in.size() ? 1u : 2u));
    }
}

TEST_CASE("base64 codec over lines: documents, partial, and the oversized error with _raw in base64") {
    pipeline<base64_codec, line_framer> p(base64_codec(4), line_framer(1024));
    auto env = test::fixed_envelope();
    output_buffer out;
    std::string longer(1025, '\xFF');
    p.feed("ab\r\n" + longer + "\nzz", env, out);
    p.finish(env, out);
    CHECK(std::string(out.data(), out.size()) ==
          test::base64_doc("YWI=", 1) +
              doc(R"("data":{"_error":true,"_error_message":"line exceeds max_frame_bytes (1024 bytes): its first 4 )"
                  R"(bytes are in _raw, the rest was skipped up to the next newline","_raw":"/////w=="})",
                  2) +
              test::base64_doc("eno=", 3, true));
    CHECK(p.stats().error_documents == 1);
    CHECK(p.stats().partial_frames == 1);
}

TEST_CASE("base64 codec: an invalid frame's error document says what, where, and keeps its bytes") {
    base64_codec codec(3);
    output_buffer out;
    frame f{frame_kind::invalid, std::string_view("\x01\x02\x03\x04", 4), 4};
    f.message = "MLLP: 4 bytes before the start byte 0x0B";
    f.offset = 17;
    CHECK(codec.encode(f, out) == encode_result::error_document);
    CHECK(std::string(out.data(), out.size()) ==
          R"("data":{"_error":true,"_error_message":"MLLP: 4 bytes before the start byte 0x0B (at byte 17; the first )"
          R"x(3 of its 4 bytes are in _raw)","_raw":"AQID"})x");
    out.clear();
    f.payload = std::string_view("\x01\x02", 2);
    CHECK(codec.encode(f, out) == encode_result::error_document);
    CHECK(std::string(out.data(), out.size()) ==
          R"x("data":{"_error":true,"_error_message":"MLLP: 4 bytes before the start byte 0x0B (at byte 17)","_raw":"AQI="})x");
}
