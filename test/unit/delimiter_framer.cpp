// SPDX-License-Identifier: MIT OR Apache-2.0
// delimiter_framer on its own (exact steps, every split, every limit and end-of-stream state),
// then through pipelines with the text and base64 codecs (exact documents).
#include <socketcap/delimiter_framer.hpp>

#include "framer_reads.hpp"
#include "framer_steps.hpp"
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
using namespace std::string_view_literals;

namespace {

constexpr auto complete = frame_kind::complete;
constexpr auto oversized = frame_kind::oversized;
constexpr auto partial = frame_kind::partial;
constexpr auto skipped = frame_kind::skipped;
constexpr auto need_more = frame_kind::need_more;
const std::string next_delim = "up to the next delimiter";

std::vector<framed> all_steps(delimiter_framer f, std::string_view in) {
    return test::framer_steps(f, {in});
}

} // namespace

TEST_CASE("delimiter_framer: multi-byte delimiter, empty frames, partial frame at the end") {
    delimiter_framer f("|||");
    CHECK(f.delimiter() == "|||");
    CHECK(!f.keep_delimiter());
    CHECK(f.max_frame_bytes() == std::size_t{1} << 20);
    CHECK(f.slack_bytes() == 2);
    std::string in = "a|||bc||||||d||x|||e|";
    std::vector<framed> want = {{complete, "a", 4}, {complete, "bc", 5}, {complete, "", 3},
                                {complete, "d||x", 7}, {partial, "e|", 2}};
    CHECK(all_steps(f, in) == want);
    check_every_split(f, in, want);
    // Only delimiters: empty frames; nothing at all: no frame.
    check_every_split(f, "||||||", {{complete, "", 3}, {complete, "", 3}});
    check_every_split(f, "", {});
}

TEST_CASE("delimiter_framer: CRLF is strict, a lone LF or CR is data") {
    delimiter_framer f("\r\n");
    std::string in = "a\nb\r\nc\rd\r\n\r\n\n\r\r\n\r";
    check_every_split(f, in, {{complete, "a\nb", 5}, {complete, "c\rd", 5}, {complete, "", 2},
                              {complete, "\n\r", 4}, {partial, "\r", 1}});
}

TEST_CASE("delimiter_framer: one-byte delimiters, NUL and CR, kept or not") {
    std::string in("rec1\0\0rec\r2\0tail", 16);
    check_every_split(delimiter_framer("\0"sv), in,
                      {{complete, "rec1", 5}, {complete, "", 1}, {complete, "rec\r2", 6}, {partial, "tail", 4}});
    check_every_split(delimiter_framer("\0"sv, true), in,
                      {{complete, "rec1\0"s, 5}, {complete, "\0"s, 1}, {complete, "rec\r2\0"s, 6},
                       {partial, "tail", 4}});
    delimiter_framer cr("\r", true);
    CHECK(cr.slack_bytes() == 0);
    check_every_split(cr, "ab\rc\r\r\nd", {{complete, "ab\r", 3}, {complete, "c\r", 2}, {complete, "\r", 1},
                                           {partial, "\nd", 2}});
}

TEST_CASE("delimiter_framer: a delimiter that overlaps itself or is split across reads") {
    // "aab" in "aaab" starts at the second byte.
    check_every_split(delimiter_framer("aab"), "aaabxaabaab", {{complete, "a", 4}, {complete, "x", 4}, {complete, "", 3}});
    // A 16-byte delimiter (the most there is) with near misses before it.
    std::string d = "0123456789ABCDEF";
    std::string in = "x0123456789ABCDEx" + d + d + "012345";
    check_every_split(delimiter_framer(d, true), in,
                      {{complete, "x0123456789ABCDEx" + d, 33}, {complete, d, 16}, {partial, "012345", 6}});
    // Step by step: the framer waits while the tail may still become the delimiter.
    delimiter_framer f("|||");
    CHECK(f.next("ab|", false).kind == need_more);
    CHECK(f.next("ab||", false).kind == need_more);
    auto fr = f.next("ab|||c", false);
    CHECK(fr.kind == complete);
    CHECK(fr.payload == "ab");
    CHECK(fr.consumed == 5);
    CHECK(fr.unit == "frame");
    CHECK(fr.message.empty());
}

TEST_CASE("delimiter_framer: max_frame_bytes exactly and one byte over") {
    delimiter_framer f("|||", false, 4);
    check_every_split(f, "abcd|||abcde|||x|||",
                      {{complete, "abcd", 7}, {oversized, "abcd", 8, next_delim}, {complete, "x", 4}});
    // Kept delimiters count toward the size: "a|||" is 4 bytes, "ab|||" 5.
    delimiter_framer k("|||", true, 4);
    check_every_split(k, "a|||ab|||b|||", {{complete, "a|||", 4}, {oversized, "ab||", 5, next_delim},
                                          {complete, "b|||", 4}});
    // At the end of the stream: max bytes are a partial frame, max + 1 are oversized.
    check_every_split(f, "x|||abcd", {{complete, "x", 4}, {partial, "abcd", 4}});
    check_every_split(f, "x|||abcde", {{complete, "x", 4}, {oversized, "abcd", 5, next_delim}});
    check_every_split(k, "abcd", {{partial, "abcd", 4}});
    check_every_split(k, "abcde", {{oversized, "abcd", 5, next_delim}});
    auto o = f.next("abcde|||", false);
    CHECK(o.max_frame_bytes == 4);
    CHECK(o.unit == "frame");
}

TEST_CASE("delimiter_framer: an overlong frame is cut early and skipped up to the next delimiter") {
    delimiter_framer f("|||", false, 4);
    // max bytes and two of a possible delimiter: it may still fit.
    CHECK(f.next("abcd||", false).kind == need_more);
    // One more byte: no delimiter can end it within 4 bytes. The two bytes that may begin the
    // delimiter stay unconsumed.
    auto o = f.next("abcde||", false);
    CHECK(o.kind == oversized);
    CHECK(o.payload == "abcd");
    CHECK(o.consumed == 5);
    CHECK(o.message == next_delim);
    CHECK(o.max_frame_bytes == 4);
    CHECK(f.next("||", false).kind == need_more);
    CHECK(test::framer_steps(f, {"|||y|||"}) == std::vector<framed>{{skipped, "", 3}, {complete, "y", 4}});
    // Long junk goes in skipped steps that keep what may begin a delimiter.
    f.reset();
    CHECK(test::framer_steps(f, {"0123456789", "zz||", "z|", "||ok|||"}) ==
          std::vector<framed>{{oversized, "0123", 8, next_delim}, {skipped, "", 4}, {skipped, "", 2},
                              {skipped, "", 4}, {complete, "ok", 5}});
    // Kept delimiter: oversized once max bytes can no longer start one.
    delimiter_framer k("|||", true, 4);
    CHECK(k.next("abcd|", false).kind == need_more);
    auto ko = k.next("abcd||", false);
    CHECK(ko.kind == oversized);
    CHECK(ko.payload == "abcd");
    CHECK(ko.consumed == 4);
    // A kept 1-byte delimiter: max bytes may still be a partial frame if the stream ends there
    // (found by fuzz_delimiter_framer: they were cut as oversized).
    delimiter_framer k1("|", true, 4);
    CHECK(k1.next("abcd", false).kind == need_more);
    CHECK(test::framer_steps(k1, {"abcd"}) == std::vector<framed>{{partial, "abcd", 4}});
    CHECK(k1.next("abcde", false).kind == oversized);
    k1.reset();
    check_every_split(k1, "ab|abcd", {{complete, "ab|", 3}, {partial, "abcd", 4}});
    check_every_split(k1, "ab|abcd|x", {{complete, "ab|", 3}, {oversized, "abcd", 5, next_delim}, {partial, "x", 1}});
    // The whole stream, cut anywhere: the same frames.
    std::string in = "x|||" + std::string(100, 'L') + "|||aft|||" + std::string(7, 'M') + "|||";
    check_every_split(f, in, {{complete, "x", 4}, {oversized, "LLLL", 103, next_delim}, {complete, "aft", 6},
                              {oversized, "MMMM", 10, next_delim}});
}

TEST_CASE("delimiter_framer: end of stream in every state") {
    delimiter_framer f("\r\n", false, 4);
    // Waiting for a delimiter: what came is partial, a half delimiter included.
    CHECK(f.next("ab\r", false).kind == need_more);
    CHECK(test::framer_steps(f, {"ab\r"}) == std::vector<framed>{{partial, "ab\r", 3}});
    // Skipping an oversized frame's tail: the rest is skipped, then the framer starts afresh.
    CHECK(test::framer_steps(f, {"abcdefg", "h\r"}) ==
          std::vector<framed>{{oversized, "abcd", 6, next_delim}, {skipped, "", 2}, {skipped, "", 1}});
    CHECK(test::framer_steps(f, {"z\r\n"}) == std::vector<framed>{{complete, "z", 3}});
    // Nothing pending: nothing.
    CHECK(f.next("", true).kind == need_more);
}

TEST_CASE("delimiter_framer: reset forgets what it scanned and a half-skipped frame") {
    delimiter_framer f("|||", false, 4);
    CHECK(f.next("abc||", false).kind == need_more);
    f.reset();
    auto a = f.next("|||", false);
    CHECK(a.kind == complete);
    CHECK(a.payload == "");
    CHECK(f.next("abcdefgh", false).kind == oversized);
    f.reset();
    auto b = f.next("ok|||", false);
    CHECK(b.kind == complete);
    CHECK(b.payload == "ok");
}

TEST_CASE("delimiter_framer: out-of-range arguments are clamped, never undefined") {
    delimiter_framer empty("", false, 0);
    CHECK(empty.delimiter() == "\n");
    CHECK(empty.max_frame_bytes() == 1);
    delimiter_framer longer(std::string(20, '#'));
    CHECK(longer.delimiter() == std::string(16, '#'));
}

// Through a pipeline: exact documents, error sentences with their byte offsets.
using test::base64_doc;
using test::check_every_split;
using test::run_framed;

TEST_CASE("pipeline<text_codec, delimiter_framer>: exact documents and error sentences") {
    // Offsets: "one" 0-5, "" 6-8, "a\nb" 9-14, the oversized frame starts at byte 15.
    std::string in = "one||||||a\nb|||0123456789|||tail";
    std::string want = text_doc("one", 1) + text_doc("", 2) + text_doc("a\\nb", 3) +
        test::text_error_doc("frame at byte 15 exceeds max_frame_bytes (8 bytes): its first 8 bytes are in _raw, the rest was "
                  "skipped up to the next delimiter",
                  "01234567", 4) +
        text_doc("tail", 5, true);
    check_every_split<text_codec>(in, delimiter_framer("|||", false, 8), want);
    pipeline_stats st;
    run_framed<text_codec>({in}, delimiter_framer("|||", false, 8), {}, &st);
    CHECK(st.documents == 5);
    CHECK(st.error_documents == 1);
    CHECK(st.oversized_frames == 1);
    CHECK(st.partial_frames == 1);
    CHECK(st.skipped_bytes == 2 + 3);
    // An overlong frame at the end of the stream.
    check_every_split<text_codec>("ok\r\n0123456789", delimiter_framer("\r\n", false, 8),
                                text_doc("ok", 1) +
                                    test::text_error_doc("frame at byte 4 exceeds max_frame_bytes (8 bytes): its first 8 bytes "
                                              "are in _raw, the rest was skipped up to the next delimiter",
                                              "01234567", 2));
}

TEST_CASE("pipeline<base64_codec, delimiter_framer>: binary frames kept byte for byte") {
    // NUL-delimited binary records with the delimiter kept: "\xFF\n" "\0", "" "\0", "\x80abcdefghij" (oversized), "z".
    std::string in("\xFF\n\0\0\x80" "abcdefghij\0z", 17);
    std::string want = base64_doc("/woA", 1) + base64_doc("AA==", 2) +
        doc(R"("data":{"_error":true,"_error_message":"frame at byte 4 exceeds max_frame_bytes (8 bytes): its first 8 )"
            R"(bytes are in _raw, the rest was skipped up to the next delimiter","_raw":"gGFiY2RlZmc="})",
            3) +
        base64_doc("eg==", 4, true);
    check_every_split<base64_codec>(in, delimiter_framer("\0"sv, true, 8), want);
}

TEST_CASE("pipeline<text_codec, delimiter_framer>: a 16-byte delimiter after a full frame never stalls") {
    // read_size 1: the buffer must hold max_frame_bytes + 15 bytes before the frame completes.
    const std::string d = "<<<<<<END>>>>>>>";
    std::string in = "12345678" + d + "abc" + d;
    pipeline_options o;
    o.read_size = 1;
    CHECK(run_framed<text_codec>({in}, delimiter_framer(d, false, 8), o) == text_doc("12345678", 1) + text_doc("abc", 2));
    // No delimiter ever: bounded memory, one error document.
    pipeline_options big;
    big.read_size = 100;
    pipeline<text_codec, delimiter_framer> p(text_codec{}, delimiter_framer(d, false, 1000), big);
    auto env = test::fixed_envelope();
    output_buffer out;
    for (int i = 0; i < 1000; ++i) {
        p.feed(std::string(97, '<'), env, out);
        REQUIRE(p.buffer_capacity() <= 1000 + 15 + 100);
    }
    p.finish(env, out);
    CHECK(p.stats().documents == 1);
    CHECK(p.stats().oversized_frames == 1);
    CHECK(p.stats().skipped_bytes == 97000 - 1000);
}
