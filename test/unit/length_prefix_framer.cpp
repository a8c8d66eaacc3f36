// SPDX-License-Identifier: MIT OR Apache-2.0
// length_prefix_framer on its own (every option, every split, limits, errors and their resync
// rules, end of stream in every state), then through text and base64 pipelines (exact documents).
#include <socketcap/length_prefix_framer.hpp>

#include "framer_reads.hpp"
#include <socketcap/base64_codec.hpp>
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace socketcap;
using socketcap::test::check_every_split;
using socketcap::test::doc;
using socketcap::test::framed;
using socketcap::test::text_doc;
using namespace std::string_literals;

namespace {

constexpr auto complete = frame_kind::complete;
constexpr auto oversized = frame_kind::oversized;
constexpr auto partial = frame_kind::partial;
constexpr auto skipped = frame_kind::skipped;
constexpr auto invalid = frame_kind::invalid;
constexpr auto need_more = frame_kind::need_more;

std::string be(std::uint64_t v, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = n; i-- > 0; v >>= 8) s[i] = char(v & 0xFF);
    return s;
}
std::string le(std::uint64_t v, std::size_t n) {
    std::string s = be(v, n);
    return {s.rbegin(), s.rend()};
}
std::string varint(std::uint64_t v) {
    std::string s;
    do {
        unsigned char b = v & 0x7F;
        v >>= 7;
        s += char(v != 0 ? b | 0x80 : b);
    } while (v != 0);
    return s;
}

length_prefix_options opts(std::uint8_t length_bytes, std::endian order = std::endian::big, bool includes = false,
                           std::uint8_t header = 0, bool keep = false) {
    return {length_bytes, order, includes, header, keep};
}

std::string declared(std::uint64_t n) { return "(its declared length, " + std::to_string(n) + " bytes)"; }

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string s;
    for (unsigned char b : bytes) s += "\\x"s + digits[b >> 4] + digits[b & 0xF];
    return s;
}
std::string too_long(std::string_view field) {
    return "length_prefixed framing: the varint length \"" + hex(field) +
           "\" is longer than 10 bytes; skipped the prefix";
}
std::string overflows(std::string_view field) {
    return "length_prefixed framing: the varint length \"" + hex(field) +
           "\" overflows 64 bits; skipped the prefix";
}
std::string below_prefix(std::uint64_t n, std::string_view field, std::size_t prefix) {
    return "length_prefixed framing: declared length " + std::to_string(n) + " (\"" + hex(field) +
           "\") is less than its own prefix (" + std::to_string(prefix) + " bytes); skipped the prefix";
}

std::vector<framed> all_steps(length_prefix_framer f, std::string_view in) { return test::framer_steps(f, {in}); }

} // namespace

TEST_CASE("length_prefix_framer: 4-byte big-endian lengths, empty frames, a partial frame at the end") {
    length_prefix_framer f;
    CHECK(f.options().length_bytes == 4);
    CHECK(f.options().byte_order == std::endian::big);
    CHECK(f.max_frame_bytes() == std::size_t{1} << 20);
    CHECK(f.slack_bytes() == 4);
    std::string in = be(3, 4) + "abc" + be(0, 4) + be(5, 4) + "he\nlo" + be(4, 4) + "ta";
    std::vector<framed> want = {{complete, "abc", 7}, {complete, "", 4}, {complete, "he\nlo", 9}, {partial, "ta", 6}};
    CHECK(all_steps(f, in) == want);
    check_every_split(f, in, want);
    check_every_split(f, "", {});
}

TEST_CASE("length_prefix_framer: 1, 2 and 8-byte fields in both byte orders") {
    check_every_split(length_prefix_framer(opts(1)), "\x02hi\x00\x01!"s,
                      {{complete, "hi", 3}, {complete, "", 1}, {complete, "!", 2}});
    std::string body(258, 'b');
    check_every_split(length_prefix_framer(opts(2, std::endian::big)), be(258, 2) + body + be(1, 2) + "x",
                      {{complete, body, 260}, {complete, "x", 3}});
    check_every_split(length_prefix_framer(opts(2, std::endian::little)), le(258, 2) + body + le(1, 2) + "x",
                      {{complete, body, 260}, {complete, "x", 3}});
    check_every_split(length_prefix_framer(opts(4, std::endian::little)), le(3, 4) + "abc",
                      {{complete, "abc", 7}});
    check_every_split(length_prefix_framer(opts(8, std::endian::big)), be(2, 8) + "ok" + be(0, 8),
                      {{complete, "ok", 10}, {complete, "", 8}});
    check_every_split(length_prefix_framer(opts(8, std::endian::little)), le(2, 8) + "ok",
                      {{complete, "ok", 10}});
}

TEST_CASE("length_prefix_framer: varint lengths, split across reads") {
    length_prefix_framer f(opts(0));
    CHECK(f.slack_bytes() == 10);
    std::string body(300, 'v');
    REQUIRE(varint(300) == "\xAC\x02");
    std::string in = varint(300) + body + varint(0) + varint(127) + std::string(127, 'w') + varint(1) + "z";
    check_every_split(f, in, {{complete, body, 302}, {complete, "", 1}, {complete, std::string(127, 'w'), 128},
                              {complete, "z", 2}});
    // The varint's bytes one read at a time: the framer waits, then frames.
    CHECK(f.next("\xAC", false).kind == need_more);
    CHECK(f.next("\xAC\x02", false).kind == need_more);
    const std::string whole = "\xAC\x02" + body;
    auto fr = f.next(whole, false);
    CHECK(fr.kind == complete);
    CHECK(fr.payload == body);
    CHECK(fr.consumed == 302);
    CHECK(fr.unit == "frame");
    CHECK(fr.message.empty());
    // A non-minimal encoding is still the same number; the largest one, 2^64-1, takes 10 bytes.
    check_every_split(f, "\x82\x80\x00zz"s, {{complete, "zz", 5}});
    REQUIRE(varint(~std::uint64_t{0}) == std::string(9, '\xFF') + "\x01");
}

TEST_CASE("length_prefix_framer: header bytes, lengths that count the prefix, keep_prefix") {
    std::string frame1 = "\x01\x02" + be(3, 2) + "xyz";
    std::string frame2 = "\x09\x09" + be(0, 2);
    check_every_split(length_prefix_framer(opts(2, std::endian::big, false, 2)), frame1 + frame2,
                      {{complete, "xyz", 7}, {complete, "", 4}});
    check_every_split(length_prefix_framer(opts(2, std::endian::big, false, 2, true)), frame1 + frame2,
                      {{complete, frame1, 7}, {complete, frame2, 4}});
    // The length counts header and field: 4 + 3.
    std::string inc1 = "\x01\x02" + be(7, 2) + "xyz";
    std::string inc2 = "\x03\x04" + be(4, 2);
    check_every_split(length_prefix_framer(opts(2, std::endian::big, true, 2)), inc1 + inc2,
                      {{complete, "xyz", 7}, {complete, "", 4}});
    check_every_split(length_prefix_framer(opts(2, std::endian::big, true, 2, true)), inc1 + inc2,
                      {{complete, inc1, 7}, {complete, inc2, 4}});
    // Varint after a header, counting itself.
    check_every_split(length_prefix_framer(opts(0, std::endian::big, true, 1)), "H\x04" "ab"s,
                      {{complete, "ab", 4}});
    length_prefix_framer big_header(opts(0, std::endian::big, false, 200));
    CHECK(big_header.options().header_bytes == 64);
    CHECK(big_header.slack_bytes() == 74);
    CHECK(length_prefix_framer(opts(3)).options().length_bytes == 4);
    CHECK(length_prefix_framer({}, 0).max_frame_bytes() == 1);
}

TEST_CASE("length_prefix_framer: max_frame_bytes exactly and one byte over, skipped exactly") {
    length_prefix_framer f(opts(1), 4);
    check_every_split(f, "\x04" "abcd" "\x05" "abcde" "\x01z"s,
                      {{complete, "abcd", 5}, {oversized, "abcd", 6, declared(5)}, {complete, "z", 2}});
    // With keep_prefix the frame is prefix + body: 1 + 3 fits, 1 + 4 does not.
    length_prefix_framer k(opts(1, std::endian::big, false, 0, true), 4);
    check_every_split(k, "\x03" "abc\x04" "abcd\x00"s,
                      {{complete, "\x03" "abc", 4}, {oversized, "\x04" "abc", 5, declared(4)}, {complete, "\0"s, 1}});
    // A long frame: the first 4 bytes as soon as they are there, then exactly the declared rest,
    // whatever it holds, across reads.
    length_prefix_framer g(opts(4), 4);
    std::string junk(1000, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = char(i * 7);
    check_every_split(g, be(1000, 4) + junk + be(1, 4) + "z",
                      {{oversized, junk.substr(0, 4), 1004, declared(1000)}, {complete, "z", 5}});
    const std::string head = be(1000, 4) + "abcd";
    CHECK(g.next(std::string_view(head).substr(0, 7), false).kind == need_more);
    auto o = g.next(head, false);
    CHECK(o.kind == oversized);
    CHECK(o.payload == "abcd");
    CHECK(o.consumed == 8);
    CHECK(o.max_frame_bytes == 4);
    CHECK(o.unit == "frame");
    CHECK(o.message == declared(1000));
    CHECK(test::framer_steps(g, {std::string(500, 'x'), std::string(496, 'y'), be(0, 4)}) ==
          std::vector<framed>{{skipped, "", 500}, {skipped, "", 496}, {complete, "", 4}});
}

TEST_CASE("length_prefix_framer: 64-bit lengths never overflow") {
    const std::uint64_t top = ~std::uint64_t{0};
    // Kept prefix + 2^64-1: saturates, the rest of the stream is skipped.
    length_prefix_framer k(opts(8, std::endian::big, false, 0, true), 4);
    CHECK(all_steps(k, be(top, 8) + "abc" + be(0, 8)) ==
          std::vector<framed>{{oversized, be(top, 8).substr(0, 4), 4, declared(top)}, {skipped, "", 15}});
    // Body alone: wait for 4 body bytes.
    length_prefix_framer f(opts(8), 4);
    CHECK(all_steps(f, be(top, 8) + "abcdef") ==
          std::vector<framed>{{oversized, "abcd", 12, declared(top)}, {skipped, "", 2}});
    // Counting the prefix: 2^64-1 - 8 body bytes.
    length_prefix_framer i(opts(8, std::endian::big, true), 4);
    CHECK(all_steps(i, be(top, 8) + "abcd") == std::vector<framed>{{oversized, "abcd", 12, declared(top)}});
    // The largest varint.
    length_prefix_framer v(opts(0), 4);
    CHECK(all_steps(v, varint(top) + "abcd") == std::vector<framed>{{oversized, "abcd", 14, declared(top)}});
}

TEST_CASE("length_prefix_framer: a bad varint is invalid; a new prefix is read right after it") {
    length_prefix_framer f(opts(0));
    std::string eleven = std::string(10, '\x80');
    check_every_split(f, eleven + "\x00\x01" "a\x02" "c"s,
                      {{invalid, eleven, 10, too_long(eleven)}, {complete, "", 1}, {complete, "a", 2},
                       {partial, "c", 2}});
    // 9 full bytes and a tenth with more than bit 63.
    std::string over = std::string(9, '\xFF') + "\x02";
    check_every_split(f, over + "\x01z"s, {{invalid, over, 10, overflows(over)}, {complete, "z", 2}});
    // A header goes with the bad varint; the payload holds at most max_frame_bytes of it.
    length_prefix_framer h(opts(0, std::endian::big, false, 2), 4);
    check_every_split(h, "HH" + eleven + "hh\x01!",
                      {{invalid, "HH" + eleven.substr(0, 2), 12, too_long(eleven)}, {complete, "!", 4}});
    auto bad = f.next(eleven, false);
    CHECK(bad.kind == invalid);
    CHECK(bad.unit == "frame");
    CHECK(bad.message.size() <= 160);
    // The longest message there is: a 10-byte varint behind a 64-byte header, counting itself.
    length_prefix_framer longest(opts(0, std::endian::big, true, 64));
    std::string zero = std::string(9, '\x80') + '\0';
    auto l = longest.next(std::string(64, 'H') + zero, false);
    CHECK(l.kind == invalid);
    CHECK(l.message == below_prefix(0, zero, 74));
    CHECK(l.message.size() <= 160);
}

TEST_CASE("length_prefix_framer: a length smaller than its own prefix is invalid; header and field are skipped") {
    length_prefix_framer f(opts(2, std::endian::big, true, 1));
    std::string bad = "T" + be(2, 2);
    check_every_split(f, bad + "T" + be(3, 2) + "T" + be(5, 2) + "ab",
                      {{invalid, bad, 3, below_prefix(2, be(2, 2), 3)}, {complete, "", 3}, {complete, "ab", 5}});
    length_prefix_framer v(opts(0, std::endian::big, true));
    check_every_split(v, "\x00\x02z"s, {{invalid, "\0"s, 1, below_prefix(0, "\0"s, 1)}, {complete, "z", 2}});
}

TEST_CASE("length_prefix_framer: end of stream in every state") {
    length_prefix_framer f(opts(4, std::endian::big, false, 1), 8);
    // Inside the header, inside the length field: the bytes so far, prefix and all.
    CHECK(all_steps(f, "H") == std::vector<framed>{{partial, "H", 1}});
    CHECK(all_steps(f, "H\0\0"s) == std::vector<framed>{{partial, "H\0\0"s, 3}});
    // Inside the body: the body so far (the prefix only with keep_prefix), even none of it.
    CHECK(all_steps(f, "H" + be(5, 4) + "ab") == std::vector<framed>{{partial, "ab", 7}});
    CHECK(all_steps(f, "H" + be(5, 4)) == std::vector<framed>{{partial, "", 5}});
    length_prefix_framer k(opts(4, std::endian::big, false, 1, true), 8);
    CHECK(all_steps(k, "H" + be(5, 4) + "ab") == std::vector<framed>{{partial, "H" + be(5, 4) + "ab", 7}});
    // A declared length over the limit, fewer than max_frame_bytes received: partial too.
    CHECK(all_steps(f, "H" + be(100, 4) + "abc") == std::vector<framed>{{partial, "abc", 8}});
    // Inside the skipped rest of an oversized frame: skipped, then the framer starts afresh.
    CHECK(test::framer_steps(f, {"H" + be(100, 4) + "0123456789"}) ==
          std::vector<framed>{{oversized, "01234567", 13, declared(100)}, {skipped, "", 2}});
    CHECK(all_steps(f, "H" + be(1, 4) + "z") == std::vector<framed>{{complete, "z", 6}});
    // Inside a varint.
    CHECK(all_steps(length_prefix_framer(opts(0)), "\x80\x80"s) == std::vector<framed>{{partial, "\x80\x80"s, 2}});
    // A prefix longer than max_frame_bytes cut by the end of the stream.
    length_prefix_framer tiny(opts(4, std::endian::big, false, 8), 4);
    CHECK(all_steps(tiny, "HEADERxx\0"s) ==
          std::vector<framed>{{oversized, "HEAD", 9, "up to the end of the stream"}});
    CHECK(f.next("", true).kind == need_more);
}

TEST_CASE("length_prefix_framer: reset forgets a half-read prefix and a half-skipped frame") {
    length_prefix_framer v(opts(0), 4);
    CHECK(v.next("\xAC", false).kind == need_more);
    v.reset();
    auto a = v.next("\x01z", false);
    CHECK(a.kind == complete);
    CHECK(a.payload == "z");
    CHECK(v.next("\x0A" "abcd", false).kind == oversized);
    v.reset();
    auto b = v.next("\x02ok", false);
    CHECK(b.kind == complete);
    CHECK(b.payload == "ok");
}

// Through a pipeline: exact documents, error sentences with their byte offsets.
namespace {

std::string error_body(std::string_view message, std::string_view raw) {
    return R"("data":{"_error":true,"_error_message":")" + std::string(message) + R"(","_raw":")" +
           std::string(raw) + "\"}";
}

// The message as JSON escapes it: each \xNN's backslash doubled.
std::string json_escaped(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out;
}

} // namespace

TEST_CASE("pipeline<text_codec, length_prefix_framer>: exact documents and error sentences") {
    // Offsets: "\x03abc" 0-3, the bad varint 4-13, "\x02hi" 14-16, the overlong frame's prefix
    // 17 and body 18-27, "\x05ta" from 28.
    std::string eleven(10, '\x80');
    std::string in = "\x03" "abc" + eleven + "\x02hi\x0A" "0123456789\x05ta";
    std::string fffd = "\xEF\xBF\xBD";
    std::string raw_bad;
    for (int i = 0; i < 8; ++i) raw_bad += fffd; // the payload: max_frame_bytes of the 10
    std::string want = text_doc("abc", 1) +
        doc(error_body(json_escaped(too_long(eleven)) + " (at byte 4)", raw_bad) + R"(,"raw":")" + raw_bad + "\"", 2) +
        text_doc("hi", 3) +
        doc(error_body("frame at byte 18 exceeds max_frame_bytes (8 bytes): its first 8 bytes are in _raw, the rest "
                       "was skipped (its declared length, 10 bytes)",
                       "01234567") +
                R"(,"raw":"01234567")",
            4) +
        text_doc("ta", 5, true);
    test::check_every_split<text_codec>(in, length_prefix_framer(opts(0), 8), want);
    pipeline_stats st;
    test::run_framed<text_codec>({in}, length_prefix_framer(opts(0), 8), {}, &st);
    CHECK(st.documents == 5);
    CHECK(st.error_documents == 2);
    CHECK(st.invalid_frames == 1);
    CHECK(st.oversized_frames == 1);
    CHECK(st.partial_frames == 1);
    // The bad varint's last 2 bytes; the overlong frame's prefix and its body's last 2.
    CHECK(st.skipped_bytes == 2 + 1 + 2);
}

TEST_CASE("pipeline<base64_codec, length_prefix_framer>: binary frames and prefixes kept byte for byte") {
    // 2-byte little-endian lengths counting a 1-byte type header, prefixes kept.
    length_prefix_framer f(opts(2, std::endian::little, true, 1, true), 6);
    std::string in = "\x01\x05\x00\xFF\x00"s + "\x02\x03\x00"s + "\x03\x02\x00"s + "\x04\x09\x00" "abcdef"s + "\x05\x04\x00"s;
    // Offsets: 0-4, 5-7, the invalid prefix 8-10, the overlong frame 11-19, the partial 20-22.
    std::string want = doc(R"("data":{"base64":"AQUA/wA="})", 1) + doc(R"("data":{"base64":"AgMA"})", 2) +
        doc(error_body(json_escaped(below_prefix(2, "\x02\x00"s, 3)) + " (at byte 8)", "AwIA"), 3) +
        doc(error_body("frame at byte 11 exceeds max_frame_bytes (6 bytes): its first 6 bytes are in _raw, the rest "
                       "was skipped (its declared length, 9 bytes)",
                       "BAkAYWJj"),
            4) +
        doc(R"("data":{"base64":"BQQA"})", 5, true);
    test::check_every_split<base64_codec>(in, f, want);
}

TEST_CASE("pipeline<text_codec, length_prefix_framer>: a full frame behind the longest prefix never stalls") {
    // A 64-byte header and a 10-byte varint in front of a body of max_frame_bytes, 1-byte reads.
    length_prefix_framer f(opts(0, std::endian::big, false, 64), 8);
    std::string in = std::string(64, 'H') + "\x88\x80\x80\x80\x80\x80\x80\x80\x80\x00"s + "12345678";
    pipeline_options o;
    o.read_size = 1;
    CHECK(test::run_framed<text_codec>({in}, f, o) == text_doc("12345678", 1));
}
