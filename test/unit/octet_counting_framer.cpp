// SPDX-License-Identifier: MIT OR Apache-2.0
// octet_counting_framer (RFC 6587) on its own at every split, then through pipelines with the
// text and base64 codecs (exact documents, error sentences included).
#include <socketcap/octet_counting_framer.hpp>

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

const std::string not_space = R"(" is not followed by a space; skipped up to the next newline)";

std::string declared(std::uint64_t n) { return "(its declared length, " + std::to_string(n) + " bytes)"; }

} // namespace

TEST_CASE("octet_counting_framer: counted messages, LF fallback per message, exact steps") {
    octet_counting_framer f(100);
    CHECK(f.max_frame_bytes() == 100);
    CHECK(f.slack_bytes() == 10);
    // A count frames any bytes (LF, CR included); a message without a count ends at LF.
    const std::string in = "5 hello3 a\nb<13>plain\r\n1 x\n2 \r\n\r\n<1>a 5 b\n10 0123456789";
    CHECK(steps(f, in, false) == steps_t{
                                     {k::complete, "hello", 7},
                                     {k::complete, "a\nb", 5},
                                     {k::complete, "<13>plain", 11},
                                     {k::complete, "x", 3},
                                     {k::complete, "", 1}, // an empty line: a message of its own
                                     {k::complete, "\r\n", 4},
                                     {k::complete, "", 2},
                                     {k::complete, "<1>a 5 b", 9},
                                     {k::complete, "0123456789", 13},
                                 });
    CHECK(frames_at_every_split(f, in) == seen_t{
                                              {k::complete, "hello", ""},
                                              {k::complete, "a\nb", ""},
                                              {k::complete, "<13>plain", ""},
                                              {k::complete, "x", ""},
                                              {k::complete, "", ""},
                                              {k::complete, "\r\n", ""},
                                              {k::complete, "", ""},
                                              {k::complete, "<1>a 5 b", ""},
                                              {k::complete, "0123456789", ""},
                                          });
    // Frames say what they are, for error documents.
    octet_counting_framer g(100);
    auto fr = g.next("3 abc", false);
    CHECK(fr.unit == "message");
    CHECK_FALSE(fr.no_newline);
    fr = g.next("<1>x\n", false);
    CHECK(fr.unit == "message");
    CHECK(fr.no_newline);
}

TEST_CASE("octet_counting_framer: a count split across reads at every position waits, then frames") {
    octet_counting_framer f(100);
    CHECK(f.next("1", false).kind == k::need_more);
    CHECK(f.next("12", false).kind == k::need_more);
    CHECK(f.next("12 ", false).kind == k::need_more);
    CHECK(f.next("12 hello", false).kind == k::need_more);
    CHECK(f.next("12 hello world", false).kind == k::need_more);
    auto fr = f.next("12 hello world!2 ok", false);
    CHECK(fr.kind == k::complete);
    CHECK(fr.payload == "hello world!");
    CHECK(fr.consumed == 15);
    // Ten digits are the most a count has: the framer waits for the space after them.
    octet_counting_framer g(100);
    CHECK(g.next("1000000000", false).kind == k::need_more);
    CHECK(steps(g, "1000000000 abc", true) == steps_t{{k::partial, "abc", 14}});
}

TEST_CASE("octet_counting_framer: max_frame_bytes and max + 1") {
    octet_counting_framer f(5);
    // A count of max: complete; max + 1: oversized, the rest (exactly the declared length) skipped.
    const std::string in = "5 abcde6 abcdef2 ok10 0123456789<1>\n";
    CHECK(steps(f, in, false) == steps_t{
                                     {k::complete, "abcde", 7},
                                     {k::oversized, "abcde", 8, declared(6)},
                                     {k::complete, "ok", 4},
                                     {k::oversized, "01234", 13, declared(10)},
                                     {k::complete, "<1>", 4},
                                 });
    CHECK(frames_at_every_split(f, in) == seen_t{
                                              {k::complete, "abcde", ""},
                                              {k::oversized, "abcde", declared(6)},
                                              {k::complete, "ok", ""},
                                              {k::oversized, "01234", declared(10)},
                                              {k::complete, "<1>", ""},
                                          });
    // Cut early: once max bytes of the message are here, the rest is skipped as it comes.
    auto a = f.next("10 01234", false);
    CHECK(a.kind == k::oversized);
    CHECK(a.payload == "01234");
    CHECK(a.consumed == 8);
    CHECK(a.max_frame_bytes == 5);
    CHECK(a.message == declared(10));
    CHECK(steps(f, "567", false) == steps_t{{k::skipped, "", 3}});
    CHECK(steps(f, "892 ok", false) == steps_t{{k::skipped, "", 2}, {k::complete, "ok", 4}});
    // A 10-digit count: 9 999 999 999 bytes are skipped exactly, however they arrive.
    auto b = f.next("9999999999 abcdefgh", false);
    CHECK(b.kind == k::oversized);
    CHECK(b.consumed == 19);
    CHECK(b.message == declared(9999999999));
    CHECK(steps(f, std::string(1000, 'x'), false) == steps_t{{k::skipped, "", 1000}});
    f.reset();
    // Non-transparent messages: max bytes (with or without CR) fit; max + 1 is skipped to the LF.
    CHECK(steps(f, "abcde\nabcde\r\nabcdef\nx\n", false) == steps_t{
                                                                {k::complete, "abcde", 6},
                                                                {k::complete, "abcde", 7},
                                                                {k::oversized, "abcde", 7, "up to the next newline"},
                                                                {k::complete, "x", 2},
                                                            });
    octet_counting_framer g(5);
    CHECK(g.next("abcde\r", false).kind == k::need_more); // max and a CR: an LF may follow
    auto c = g.next("abcde\rfg", false);
    CHECK(c.kind == k::oversized);
    CHECK(c.consumed == 8);
    CHECK(steps(g, "hi\n3 abc", false) == steps_t{{k::skipped, "", 3}, {k::complete, "abc", 5}});
}

TEST_CASE("octet_counting_framer: bad counts are invalid up to the next LF, then it resynchronises") {
    octet_counting_framer f(100);
    const std::string in = "12x hello\n3 abc12345678901 x\n012 abc\n0 \n12\n12\t3 abc\r\n<1>ok\n";
    const steps_t want = {
        {k::invalid, "12x hello", 10, R"(octet count "12x)" + not_space},
        {k::complete, "abc", 5},
        {k::invalid, "12345678901 x", 14,
         R"(octet count "12345678901" has more than 10 digits; skipped up to the next newline)"},
        {k::invalid, "012 abc", 8, R"(octet count "012" starts with 0; skipped up to the next newline)"},
        {k::invalid, "0 ", 3, R"(octet count "0" starts with 0; skipped up to the next newline)"},
        {k::invalid, "12", 3, R"(octet count "12\x0A)" + not_space}, // an LF right after the count
        {k::invalid, "12\t3 abc\r", 10, R"(octet count "12\x09)" + not_space},
        {k::complete, "<1>ok", 6},
    };
    CHECK(steps(f, in, false) == want);
    seen_t want_seen;
    for (auto& s : want) want_seen.push_back({s.kind, s.payload, s.message});
    CHECK(frames_at_every_split(f, in) == want_seen);
    // Quotes escape what is not printable ASCII, quote marks and backslashes included.
    CHECK(steps(f, "9\"\n7\xFF\\\n", false) ==
          steps_t{{k::invalid, "9\"", 3, R"(octet count "9\x22)" + not_space},
                  {k::invalid, "7\xFF\\", 4, R"(octet count "7\xFF)" + not_space}});
}

TEST_CASE("octet_counting_framer: a bad count's line longer than max is cut, the rest skipped to the LF") {
    octet_counting_framer f(5);
    const std::string in = "9x23456789\n3 abc12x\n1 z";
    CHECK(steps(f, in, false) == steps_t{{k::invalid, "9x234", 11, R"(octet count "9x)" + not_space},
                                         {k::complete, "abc", 5},
                                         {k::invalid, "12x", 4, R"(octet count "12x)" + not_space},
                                         {k::complete, "z", 3}});
    CHECK(frames_at_every_split(f, in).size() == 4);
    // Early: more than max bytes and no LF yet.
    auto a = f.next("9x2345", false);
    CHECK(a.kind == k::invalid);
    CHECK(a.payload == "9x234");
    CHECK(a.consumed == 6);
    CHECK(steps(f, "67", false) == steps_t{{k::skipped, "", 2}});
    CHECK(steps(f, "8\n2 ok", false) == steps_t{{k::skipped, "", 2}, {k::complete, "ok", 4}});
    // An 11-digit count needs no more than its 11 digits, whatever max is.
    octet_counting_framer tiny(2);
    CHECK(steps(tiny, "1234567890", false).empty());
    CHECK(steps(tiny, "12345678901", false) ==
          steps_t{{k::invalid, "12", 11, R"(octet count "12345678901" has more than 10 digits; skipped up to the next newline)"}});
}

TEST_CASE("octet_counting_framer: end of stream in every state") {
    octet_counting_framer f(10);
    CHECK(steps(f, "", true).empty());
    CHECK(steps(f, "1", true) == steps_t{{k::partial, "1", 1}});     // digits, no space
    CHECK(steps(f, "0", true) == steps_t{{k::partial, "0", 1}});     // a zero not yet known bad
    // More digits than max_frame_bytes (fuzz_octet_counting_framer's first finding): oversized.
    octet_counting_framer tiny(5);
    CHECK(steps(tiny, "12345", true) == steps_t{{k::partial, "12345", 5}});
    CHECK(steps(tiny, "123456", true) == steps_t{{k::oversized, "12345", 6, "at the end of the stream"}});
    CHECK(steps(f, "12 ", true) == steps_t{{k::partial, "", 3}});    // the count, no message
    CHECK(steps(f, "5 ab", true) == steps_t{{k::partial, "ab", 4}}); // a counted message cut short
    CHECK(steps(f, "50 ab", true) == steps_t{{k::partial, "ab", 5}}); // even one too long for max
    CHECK(steps(f, "<1>ab\r", true) == steps_t{{k::partial, "<1>ab\r", 6}}); // a final CR is data
    CHECK(steps(f, "12x ab", true) == steps_t{{k::invalid, "12x ab", 6, R"(octet count "12x)" + not_space}});
    CHECK(steps(f, "2 ok<1>", true) == steps_t{{k::complete, "ok", 4}, {k::partial, "<1>", 3}});
    // A non-transparent line of max bytes and a CR at the end: max + 1 bytes, oversized.
    CHECK(steps(f, "a123456789\r", true) == steps_t{{k::oversized, "a123456789", 11, "up to the next newline"}});
    // Skipping at the end of the stream: nothing is left to wait for afterwards.
    CHECK(f.next("20 0123456789", false).kind == k::oversized);
    CHECK(steps(f, "ab", true) == steps_t{{k::skipped, "", 2}});
    CHECK(steps(f, "", true).empty());
    CHECK(steps(f, "3 new", true) == steps_t{{k::complete, "new", 5}});
    CHECK(f.next("x12345678901", false).kind == k::oversized);
    CHECK(steps(f, "", true).empty());
    CHECK(steps(f, "3 new", true) == steps_t{{k::complete, "new", 5}});
}

TEST_CASE("octet_counting_framer: reset forgets a count, a skip and a discard") {
    octet_counting_framer f(5);
    CHECK(f.next("12", false).kind == k::need_more);
    f.reset();
    CHECK(steps(f, "3 abc", false) == steps_t{{k::complete, "abc", 5}});
    CHECK(f.next("9 abcdef", false).kind == k::oversized);
    f.reset();
    CHECK(steps(f, "3 abc", false) == steps_t{{k::complete, "abc", 5}});
    CHECK(f.next("1x2345", false).kind == k::invalid);
    f.reset();
    CHECK(steps(f, "3 abc", false) == steps_t{{k::complete, "abc", 5}});
    CHECK(f.next("<1>", false).kind == k::need_more);
    f.reset();
    CHECK(steps(f, "3 abc", false) == steps_t{{k::complete, "abc", 5}});
}

namespace {

// Small reads: the pipeline's buffer holds max + slack + 4.
template <class Codec>
std::string run(std::vector<std::string_view> reads, std::size_t max, pipeline_stats* st = nullptr) {
    return test::run_framed<Codec>(reads, octet_counting_framer(max), {.read_size = 4, .max_frame_bytes = max}, st);
}

template <class Codec>
void check_every_split(std::string_view in, const std::string& want, std::size_t max) {
    test::check_every_split<Codec>(in, octet_counting_framer(max), want, {.read_size = 4, .max_frame_bytes = max});
}

using test::base64_doc;
using test::base64_error_doc;

// Syslog as rsyslog forwards it with octet counting, a line without a count, errors, a cut end.
const std::string stream = "13 <13>1 - a hi\n"              // bytes 0-15: an LF inside
                           "<14>legacy line\r\n"            // 16-32: no count, LF framing
                           "12x junk\n"                      // 33-41
                           "25 <15>1 - h a - - - toolong"    // 42-69: 25 > max 16
                           "16 <11>1 - h a - hi"             // 70-88: exactly 16
                           "12 <12>1 - h";                   // 89-100: 12 announced, 9 came

} // namespace

TEST_CASE("pipeline<text_codec, octet_counting_framer>: exact documents, error sentences with offsets") {
    const std::string want =
        text_doc(R"(<13>1 - a hi\n)", 1) + text_doc("<14>legacy line", 2) +
        test::text_error_doc(R"(octet count \"12x\" is not followed by a space; skipped up to the next newline (at byte 33))",
                  "12x junk", 3) +
        test::text_error_doc("message at byte 45 exceeds max_frame_bytes (16 bytes): its first 16 bytes are in _raw, the rest "
                  "was skipped (its declared length, 25 bytes)",
                  "<15>1 - h a - - ", 4) +
        text_doc("<11>1 - h a - hi", 5) + text_doc("<12>1 - h", 6, true);
    check_every_split<text_codec>(stream, want, 16);
    pipeline_stats st;
    run<text_codec>({stream}, 16, &st);
    CHECK(st.documents == 6);
    CHECK(st.error_documents == 2);
    CHECK(st.invalid_frames == 1);
    CHECK(st.oversized_frames == 1);
    CHECK(st.partial_frames == 1);
    // The invalid line's LF; the oversized message's count and space ("25 ") and its last 9 bytes.
    CHECK(st.skipped_bytes == 1 + 3 + 9);
    CHECK(st.bytes == stream.size());
}

TEST_CASE("pipeline<base64_codec, octet_counting_framer>: the bytes exactly, errors in base64 too") {
    // "28 …" carries an LF and a NUL: base64 keeps them.
    const std::string in = "4 a\n\0b"s + "1x\xFF\n" + "2 ok";
    const std::string want = base64_doc("YQoAYg==", 1) +
                             base64_error_doc(R"(octet count \"1x\" is not followed by a space; skipped up to the next )"
                                         R"(newline (at byte 6))",
                                         "MXj/", 2) +
                             base64_doc("b2s=", 3);
    check_every_split<base64_codec>(in, want, 16);
    CHECK(run<base64_codec>({"7 <1>\r\n"}, 16) == base64_doc("PDE+DQo=", 1, true));
}

TEST_CASE("pipeline<text_codec, octet_counting_framer>: memory stays bounded with max-sized messages and counts") {
    // Messages of max bytes behind 2- and 10-digit counts, in 1-byte reads: nothing stalls.
    pipeline_options o;
    o.max_frame_bytes = 20;
    o.read_size = 1;
    pipeline<text_codec, octet_counting_framer> p(text_codec{}, o);
    auto env = test::fixed_envelope();
    output_buffer out;
    const std::string in = "20 " + std::string(20, 'm') + "0000000020 x\n" + "9999999999 " + std::string(25, 'y');
    p.feed(in, env, out);
    CHECK(p.buffer_capacity() <= 20 + 10 + 1);
    p.finish(env, out);
    CHECK(view(out) ==
          text_doc(std::string(20, 'm'), 1) +
              test::text_error_doc(R"(octet count \"0000000020\" starts with 0; skipped up to the next newline (at byte 23))",
                        "0000000020 x", 2) +
              test::text_error_doc("message at byte 47 exceeds max_frame_bytes (20 bytes): its first 20 bytes are in _raw, the "
                        "rest was skipped (its declared length, 9999999999 bytes)",
                        std::string(20, 'y'), 3));
}
