// SPDX-License-Identifier: MIT OR Apache-2.0
// mllp_framer (HL7 v2 MLLP) on its own at every split, then through pipelines with the text and
// base64 codecs (exact documents, error sentences included).
#include <socketcap/mllp_framer.hpp>

#include "split_frames.hpp"
#include <socketcap/base64_codec.hpp>
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace socketcap;
using socketcap::test::doc;
using socketcap::test::text_doc;
using namespace std::string_literals;

namespace {

using k = frame_kind;
using steps_t = std::vector<full_step>;
using seen_t = std::vector<seen>;

const std::string not_ended = "MLLP frame not ended (0x1C 0x0D) before the next start byte 0x0B";
const std::string skip_rule = "up to the next MLLP start byte";

std::string bad_end(std::string_view quoted) {
    return "MLLP end byte 0x1C followed by \"" + std::string(quoted) +
           "\", not 0x0D; skipped up to the next start byte 0x0B";
}

seen_t seen_of(const steps_t& s) {
    seen_t v;
    for (auto& x : s)
        if (x.kind != k::skipped) v.push_back({x.kind, x.payload, x.message});
    return v;
}

} // namespace

TEST_CASE("mllp_framer: frames between 0x0B and 0x1C 0x0D, segment CRs kept, whitespace between skipped") {
    mllp_framer f(100);
    CHECK(f.max_frame_bytes() == 100);
    CHECK(f.slack_bytes() == 2);
    const std::string in = "\x0BMSH|a\rPID|b\r\x1C\r"s + "\r\n" + "\x0B\x1C\r" + " \t" + "\x0Bx\x1C\r" +
                           "\x0B\n\x1C\x1C\r"; // LF and 0x1C inside: only 0x1C 0x0D ends a frame
    const steps_t want = {
        {k::complete, "MSH|a\rPID|b\r", 15},
        {k::skipped, "", 2},
        {k::complete, "", 3}, // an empty message
        {k::skipped, "", 2},
        {k::complete, "x", 4},
    };
    CHECK(steps(f, in.substr(0, 26), false) == want);
    // 0x1C followed by 0x1C is an error (the first is not followed by 0x0D).
    CHECK(steps(f, in.substr(26), false) ==
          steps_t{{k::invalid, "\x0B\n\x1C", 3, bad_end(R"(\x1C)")}, {k::skipped, "", 2}});
    CHECK(frames_at_every_split(f, in) ==
          seen_t{{k::complete, "MSH|a\rPID|b\r", ""},
                 {k::complete, "", ""},
                 {k::complete, "x", ""},
                 {k::invalid, "\x0B\n\x1C", bad_end(R"(\x1C)")}});
    mllp_framer g;
    CHECK(g.max_frame_bytes() == std::size_t{1} << 20);
    auto fr = g.next("\x0B" "a\x1C\r", false);
    CHECK(fr.unit == "message");
    CHECK(fr.payload == "a");
}

TEST_CASE("mllp_framer: a frame split across reads at every position waits, then frames") {
    mllp_framer f(100);
    const std::string in = "\x0B" "ab\x1C\r";
    for (std::size_t n = 0; n < in.size(); ++n) CHECK(f.next(std::string_view(in).substr(0, n), false).kind == k::need_more);
    auto fr = f.next(in, false);
    CHECK(fr.kind == k::complete);
    CHECK(fr.payload == "ab");
    CHECK(fr.consumed == 5);
}

TEST_CASE("mllp_framer: max_frame_bytes and max + 1") {
    mllp_framer f(5);
    const std::string in = "\x0B" "abcde\x1C\r"s + "\x0B" "abcdef\x1C\r" + "\x0Bok\x1C\r";
    CHECK(steps(f, in, false) == steps_t{
                                     {k::complete, "abcde", 8},
                                     {k::oversized, "abcde", 7, skip_rule},
                                     {k::skipped, "", 2}, // its end bytes: the rest up to the next start
                                     {k::complete, "ok", 5},
                                 });
    CHECK(frames_at_every_split(f, in) ==
          seen_t{{k::complete, "abcde", ""}, {k::oversized, "abcde", skip_rule}, {k::complete, "ok", ""}});
    // A message of max bytes and its 0x1C: max + 2 bytes held while the 0x0D may come.
    CHECK(f.next("\x0B" "abcde\x1C", false).kind == k::need_more);
    f.reset();
    // Longer than max: cut early, the rest skipped up to the next start byte, whatever it holds.
    auto a = f.next("\x0B" "abcdefgh", false);
    CHECK(a.kind == k::oversized);
    CHECK(a.payload == "abcde");
    CHECK(a.consumed == 7);
    CHECK(a.max_frame_bytes == 5);
    CHECK(steps(f, "ij\x1C\rjunk \x1C\r\r\n\x0Bok\x1C\r", false) ==
          steps_t{{k::skipped, "", 13}, {k::complete, "ok", 5}});
}

TEST_CASE("mllp_framer: every error, its message and its resynchronisation") {
    mllp_framer f(100);
    const std::string in =
        "hello\x0Bok\x1C\r"s        // bytes before a start byte
        + "\r\n ab \x0B" "1\x1C\r"  // whitespace skipped, then bytes (spaces inside kept)
        + "MSH|x\r\x1C\r\r\n"       // a frame whose start byte was lost
        + "\x0B" "ab\x1C\n\x0B" "2\x1C\r" // 0x1C then LF: skipped up to the next start byte
        + "\x0B" "ab\x1C\x0B" "3\x1C\r"   // 0x1C then a start byte: that frame is fine
        + "\x0B" "ab\x0B" "4\x1C\r"       // a start byte inside a frame
        + "\x1C\r"                        // end bytes alone
        + "x\x1C\x1C\r\x0B" "5\x1C\r";    // a 0x1C inside junk
    const steps_t want = {
        {k::invalid, "hello", 5, R"(5 bytes before the MLLP start byte 0x0B: "hello")"},
        {k::complete, "ok", 5},
        {k::skipped, "", 3},
        {k::invalid, "ab ", 3, R"(3 bytes before the MLLP start byte 0x0B: "ab ")"},
        {k::complete, "1", 4},
        {k::invalid, "MSH|x\r\x1C\r", 8,
         R"(8 bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: "MSH|x\x0D\x1C\x0D")"},
        {k::skipped, "", 2},
        {k::invalid, "\x0B" "ab\x1C", 4, bad_end(R"(\x0A)")},
        {k::skipped, "", 1},
        {k::complete, "2", 4},
        {k::invalid, "\x0B" "ab\x1C", 4, bad_end(R"(\x0B)")},
        {k::complete, "3", 4},
        {k::invalid, "\x0B" "ab", 3, not_ended},
        {k::complete, "4", 4},
        {k::invalid, "\x1C\r", 2, R"(2 bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: "\x1C\x0D")"},
        {k::invalid, "x\x1C\x1C\r", 4,
         R"(4 bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: "x\x1C\x1C\x0D")"},
        {k::complete, "5", 4},
    };
    CHECK(steps(f, in, false) == want);
    CHECK(frames_at_every_split(f, in) == seen_of(want));
}

TEST_CASE("mllp_framer: bytes outside frames longer than max are cut and skipped to the next start byte") {
    mllp_framer f(5);
    const std::string in = "abcdefgh\x0Bok\x1C\r"s + "abcde\x0B" "1\x1C\r" + "abc\x1C\r" + "abcd\x1C\r\x0B" "2\x1C\r";
    const std::string more = "more than 5 bytes without an MLLP start byte 0x0B: ";
    const steps_t want = {
        {k::invalid, "abcde", 6, more + R"("abcde"; skipped up to the next start byte)"},
        {k::skipped, "", 2},
        {k::complete, "ok", 5},
        {k::invalid, "abcde", 5, R"(5 bytes before the MLLP start byte 0x0B: "abcde")"}, // exactly max
        {k::complete, "1", 4},
        {k::invalid, "abc\x1C\r", 5, R"(5 bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: "abc\x1C\x0D")"},
        // max + 1 bytes with the end bytes: too long, so not ended by them either.
        {k::invalid, "abcd\x1C", 6, more + R"("abcd\x1C"; skipped up to the next start byte)"},
        {k::complete, "2", 4},
    };
    CHECK(steps(f, in, false) == want);
    CHECK(frames_at_every_split(f, in) == seen_of(want));
    // Quotes are cut with "..." when the bytes do not fit.
    mllp_framer g(1000);
    auto fr = g.next(std::string(100, '\xFF') + "\x0B", false);
    CHECK(fr.kind == k::invalid);
    CHECK(fr.consumed == 100);
    std::string fifteen;
    for (int i = 0; i < 15; ++i) fifteen += R"(\xFF)";
    CHECK(fr.message == "100 bytes before the MLLP start byte 0x0B: \"" + fifteen + "...\"");
}

TEST_CASE("mllp_framer: end of stream in every state") {
    mllp_framer f(5);
    CHECK(steps(f, "", true).empty());
    CHECK(steps(f, "\r\n", true) == steps_t{{k::skipped, "", 2}});
    CHECK(steps(f, "\x0B", true) == steps_t{{k::partial, "", 1}});
    CHECK(steps(f, "\x0B" "abc", true) == steps_t{{k::partial, "abc", 4}});
    CHECK(steps(f, "\x0B" "abc\x1C", true) == steps_t{{k::partial, "abc\x1C", 5}}); // the lone 0x1C is data
    CHECK(steps(f, "\x0B" "abcd\x1C", true) == steps_t{{k::partial, "abcd\x1C", 6}});
    // max bytes and a lone 0x1C: max + 1 bytes, oversized.
    CHECK(steps(f, "\x0B" "abcde\x1C", true) == steps_t{{k::oversized, "abcde", 7, skip_rule}});
    CHECK(steps(f, "abc", true) ==
          steps_t{{k::invalid, "abc", 3, R"(3 bytes without an MLLP start byte 0x0B at the end of the stream: "abc")"}});
    CHECK(steps(f, "ab\x1C", true) ==
          steps_t{{k::invalid, "ab\x1C", 3,
                   R"(3 bytes without an MLLP start byte 0x0B at the end of the stream: "ab\x1C")"}});
    // Skipping when the stream ends: nothing is left to wait for.
    CHECK(f.next("\x0B" "abcdefg", false).kind == k::oversized);
    CHECK(steps(f, "xyz", true) == steps_t{{k::skipped, "", 3}});
    CHECK(steps(f, "\x0Bok\x1C\r", true) == steps_t{{k::complete, "ok", 5}});
}

TEST_CASE("mllp_framer: reset forgets a frame, a run of junk and a skip") {
    mllp_framer f(5);
    CHECK(f.next("\x0B" "ab", false).kind == k::need_more);
    f.reset();
    CHECK(steps(f, "\x0Bok\x1C\r", false) == steps_t{{k::complete, "ok", 5}});
    CHECK(f.next("ab", false).kind == k::need_more);
    f.reset();
    CHECK(steps(f, "\x0Bok\x1C\r", false) == steps_t{{k::complete, "ok", 5}});
    CHECK(f.next("\x0B" "abcdefg", false).kind == k::oversized);
    f.reset();
    CHECK(steps(f, "\x0Bok\x1C\r", false) == steps_t{{k::complete, "ok", 5}});
}

namespace {

// Small reads: the pipeline's buffer holds max + slack + 1.
template <class Codec>
std::string run(std::vector<std::string_view> reads, std::size_t max, pipeline_stats* st = nullptr) {
    return test::run_framed<Codec>(reads, mllp_framer(max), {.read_size = 1, .max_frame_bytes = max}, st);
}

template <class Codec>
void check_every_split(std::string_view in, const std::string& want, std::size_t max) {
    test::check_every_split<Codec>(in, mllp_framer(max), want, {.read_size = 1, .max_frame_bytes = max});
}

using test::base64_doc;
using test::base64_error_doc;

} // namespace

TEST_CASE("pipeline<text_codec, mllp_framer>: exact documents, error sentences with offsets") {
    const std::string in = "\x0BMSH|^~\\&|A\rPID\r\x1C\r"s     // bytes 0-17
                           + "\r\n"                              // 18-19: skipped
                           + "junk"                              // 20-23
                           + "\x0BMSH|B\x1C\r"                   // 24-31
                           + "\x0BMSH|C\rPID|way too long\x1C\r" // 32-56: 22 bytes > max 16
                           + "\x0BMSH|D";                        // 57-62: no end
    const std::string want =
        text_doc(R"(MSH|^~\\&|A\rPID\r)", 1) +
        test::text_error_doc(R"(4 bytes before the MLLP start byte 0x0B: \"junk\" (at byte 20))", "junk", 2) +
        text_doc("MSH|B", 3) +
        test::text_error_doc("message at byte 33 exceeds max_frame_bytes (16 bytes): its first 16 bytes are in _raw, the rest "
                  "was skipped up to the next MLLP start byte",
                  R"(MSH|C\rPID|way to)", 4) +
        text_doc("MSH|D", 5, true);
    check_every_split<text_codec>(in, want, 16);
    pipeline_stats st;
    run<text_codec>({in}, 16, &st);
    CHECK(st.documents == 5);
    CHECK(st.error_documents == 2);
    CHECK(st.invalid_frames == 1);
    CHECK(st.oversized_frames == 1);
    CHECK(st.partial_frames == 1);
    // The whitespace; the oversized frame's start byte, last 6 bytes and end bytes.
    CHECK(st.skipped_bytes == 2 + 1 + 6 + 2);
    CHECK(st.bytes == in.size());
}

TEST_CASE("pipeline<base64_codec, mllp_framer>: binary messages exactly, errors in base64 too") {
    const std::string in = "\x0B\x00\xFF\x1C\r"s + "\x1C\r" + "\x0B" "ab";
    const std::string want =
        base64_doc("AP8=", 1) +
        doc(R"("data":{"_error":true,"_error_message":"2 bytes ending in 0x1C 0x0D without an MLLP start byte )"
            R"x(0x0B: \"\\x1C\\x0D\" (at byte 5)","_raw":"HA0="})x",
            2) +
        base64_doc("YWI=", 3, true);
    check_every_split<base64_codec>(in, want, 16);
}
