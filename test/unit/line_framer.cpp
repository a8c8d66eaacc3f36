// SPDX-License-Identifier: MIT OR Apache-2.0
// line_framer on its own, then through a pipeline with the line codec (split invariance).
#include <socketcap/line_framer.hpp>

#include "framer_steps.hpp"
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::test::doc;
using socketcap::test::text_doc;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

std::string oversized_doc(std::size_t max, std::string_view head, std::uint64_t seq) {
    std::string h(head);
    return doc(R"("data":{"_error":true,"_error_message":"line exceeds max_frame_bytes ()" + std::to_string(max) +
                   " bytes): its first " + std::to_string(head.size()) +
                   R"( bytes are in _raw, the rest was skipped up to the next newline","_raw":")" + h + R"("},"raw":")" +
                   h + "\"",
               seq);
}

std::string run(std::string_view in, std::size_t max = 1 << 20, pipeline_stats* st = nullptr) {
    pipeline_options o;
    o.max_frame_bytes = max;
    return test::run_all<line_codec>(in, o, line_codec{}, st);
}

// The output for `in` cut at every offset, and in 1-byte reads, equals the output in one read.
void check_split_invariant(std::string_view in, const std::string& expected, std::size_t max = 1 << 20) {
    pipeline_options o;
    o.max_frame_bytes = max;
    CHECK(test::run_all<line_codec>(in, o) == expected);
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(test::run_reads<line_codec>({in.substr(0, cut), in.substr(cut)}, o) == expected);
    }
    CHECK(test::run_reads<line_codec>(test::reads_of(in, 1), o) == expected);
    CHECK(test::run_reads<line_codec>(test::reads_of(in, 3), o) == expected);
}

} // namespace

TEST_CASE("line_framer splits at LF and strips one CR") {
    line_framer f(100);
    auto v = frames(f, "a\nbc\r\n\r\n\n\r\rx\r\ny\rz\n", false);
    std::vector<step> want = {
        {frame_kind::complete, "a", 2},     {frame_kind::complete, "bc", 4},
        {frame_kind::complete, "", 2},      {frame_kind::complete, "", 1},
        {frame_kind::complete, "\r\rx", 5}, {frame_kind::complete, "y\rz", 4},
    };
    CHECK(v == want);
}

TEST_CASE("line_framer waits for more, then returns a partial frame at EOF") {
    line_framer f(100);
    CHECK(f.next("abc", false).kind == frame_kind::need_more);
    CHECK(f.next("abcde", false).kind == frame_kind::need_more);
    // No LF came: a final CR is data, not half of a CRLF (issue 12, item 4).
    auto fr = f.next("abcdef\r", true);
    CHECK(fr.kind == frame_kind::partial);
    CHECK(fr.payload == "abcdef\r");
    CHECK(fr.consumed == 7);
    CHECK(f.next("", true).kind == frame_kind::need_more);
    // After need_more a framer may skip what it scanned: a reset forgets it.
    CHECK(f.next("ab", false).kind == frame_kind::need_more);
    f.reset();
    auto g = f.next("a\nb", false);
    CHECK(g.kind == frame_kind::complete);
    CHECK(g.payload == "a");
}

TEST_CASE("line_framer enforces max_frame_bytes while scanning") {
    line_framer f(4);
    CHECK(f.max_frame_bytes() == 4);
    // Exactly max bytes, with LF or CRLF: complete.
    CHECK(frames(f, "abcd\nabcd\r\n", false) ==
          std::vector<step>{{frame_kind::complete, "abcd", 5}, {frame_kind::complete, "abcd", 6}});
    // max + 1 before the newline: oversized with the first max bytes.
    CHECK(frames(f, "abcde\nxy\n", false) ==
          std::vector<step>{{frame_kind::oversized, "abcd", 6}, {frame_kind::complete, "xy", 3}});
    // max bytes and a CR may still become CRLF: wait.
    CHECK(f.next("abcd\r", false).kind == frame_kind::need_more);
    f.reset();
    // Longer than max + 1 without a newline: oversized early, then skipped up to the newline.
    auto a = f.next("abcdef", false);
    CHECK(a.kind == frame_kind::oversized);
    CHECK(a.payload == "abcd");
    CHECK(a.consumed == 6);
    auto b = f.next("ghi", false);
    CHECK(b.kind == frame_kind::skipped);
    CHECK(b.consumed == 3);
    CHECK(frames(f, "jk\nok\n", false) ==
          std::vector<step>{{frame_kind::skipped, "", 3}, {frame_kind::complete, "ok", 3}});
    // EOF: a trailing max+1 frame is oversized, not partial.
    CHECK(frames(f, "abcde", true) == std::vector<step>{{frame_kind::oversized, "abcd", 5}});
}

TEST_CASE("line_framer keeps a final CR at end of stream, max_frame_bytes edges included") {
    line_framer f(4);
    // Only an LF makes a CR part of the delimiter; at EOF without one the CR is data.
    CHECK(frames(f, "\r", true) == std::vector<step>{{frame_kind::partial, "\r", 1}});
    CHECK(frames(f, "ab\r\r", true) == std::vector<step>{{frame_kind::partial, "ab\r\r", 4}});
    CHECK(frames(f, "x\r\ny\r", true) ==
          std::vector<step>{{frame_kind::complete, "x", 3}, {frame_kind::partial, "y\r", 2}});
    // max bytes with the CR counted: still a partial frame of exactly max bytes.
    CHECK(frames(f, "abc\r", true) == std::vector<step>{{frame_kind::partial, "abc\r", 4}});
    // max + 1 with a final CR: it waits while an LF may still come...
    CHECK(f.next("abcd\r", false).kind == frame_kind::need_more);
    // ...completes as max bytes if the LF comes...
    CHECK(frames(f, "abcd\r\n", false) == std::vector<step>{{frame_kind::complete, "abcd", 6}});
    // ...and is oversized if the stream ends instead: the CR is the byte too many.
    CHECK(f.next("abcd\r", false).kind == frame_kind::need_more);
    CHECK(frames(f, "abcd\r", true) == std::vector<step>{{frame_kind::oversized, "abcd", 5}});
    // max + 2 ending in CR is oversized early, as any longer line.
    CHECK(frames(f, "abcde\r", false) == std::vector<step>{{frame_kind::oversized, "abcd", 6}});
}

TEST_CASE("line codec: a final CR without LF stays in the partial document at every split") {
    check_split_invariant("one\ntwo\r", text_doc("one", 1) + text_doc("two\\r", 2, true));
    check_split_invariant("one\r\ntwo\r\r", text_doc("one", 1) + text_doc("two\\r\\r", 2, true));
    check_split_invariant("\r", text_doc("\\r", 1, true));
    // max_frame_bytes 4: "abc\r" fits exactly, "abcd\r" is one byte over at EOF.
    check_split_invariant("x\nabc\r", text_doc("x", 1) + text_doc("abc\\r", 2, true), 4);
    check_split_invariant("x\nabcd\r", text_doc("x", 1) + oversized_doc(4, "abcd", 2), 4);
    check_split_invariant("x\nabcd\r\ny\r", text_doc("x", 1) + text_doc("abcd", 2) + text_doc("y\\r", 3, true), 4);
    pipeline_stats st;
    CHECK(run("x\nabcd\r", 4, &st) == text_doc("x", 1) + oversized_doc(4, "abcd", 2));
    CHECK(st.oversized_frames == 1);
    CHECK(st.partial_frames == 0);
    CHECK(st.skipped_bytes == 1);
}

TEST_CASE("line codec documents: LF, CRLF, lone CR, empty lines") {
    std::string in = "one\ntwo\r\n\n\r\nthree\rfour\n\"q\"\\\t\n";
    std::string want = text_doc("one", 1) + text_doc("two", 2) + text_doc("", 3) + text_doc("", 4) +
                       text_doc("three\\rfour", 5) + text_doc("\\\"q\\\"\\\\\\t", 6);
    check_split_invariant(in, want);
}

TEST_CASE("line codec: a trailing line without newline is one partial document") {
    check_split_invariant("a\nlast", text_doc("a", 1) + text_doc("last", 2, true));
    check_split_invariant("a\nlast\r", text_doc("a", 1) + text_doc("last\\r", 2, true));
    pipeline_stats st;
    CHECK(run("x", 1 << 20, &st) == text_doc("x", 1, true));
    CHECK(st.partial_frames == 1);
    CHECK(st.documents == 1);
    CHECK(run("") == "");
}

TEST_CASE("line codec: max_frame_bytes exactly, +1, then a normal line intact") {
    const std::size_t max = 16;
    std::string exact(max, 'e'), over(max + 1, 'o'), longer(200, 'L');
    std::string in = exact + "\n" + exact + "\r\n" + over + "\nafter\n" + longer + "\r\nnext\n" + over;
    std::string want = text_doc(exact, 1) + text_doc(exact, 2) + oversized_doc(max, std::string(max, 'o'), 3) +
                       text_doc("after", 4) + oversized_doc(max, std::string(max, 'L'), 5) + text_doc("next", 6) +
                       oversized_doc(max, std::string(max, 'o'), 7);
    check_split_invariant(in, want, max);
    pipeline_stats st;
    run(in, max, &st);
    CHECK(st.documents == 7);
    CHECK(st.error_documents == 3);
    CHECK(st.oversized_frames == 3);
    // Skipped: the rest of each oversized frame, its delimiter included (1+1, 184+2, 1).
    CHECK(st.skipped_bytes == 2 + 186 + 1);
    CHECK(st.bytes == in.size());
}

TEST_CASE("line codec: invalid and split UTF-8 in lines") {
    // A character split across reads is whole again in its line; bad bytes become U+FFFD.
    std::string in = "caf\xC3\xA9 \xE2\x82\xAC\n\xF0\x9F\x98\x80\xFF\n";
    check_split_invariant(in, text_doc("caf\xC3\xA9 \xE2\x82\xAC", 1) + text_doc("\xF0\x9F\x98\x80\xEF\xBF\xBD", 2));
}

TEST_CASE("line codec: no newline ever, 1 GiB in bounded memory") {
    // Default options: max_frame_bytes 1 MiB, read_size 64 KiB.
    pipeline<line_codec> p;
    auto env = test::fixed_envelope();
    output_buffer out;
    const std::size_t max = p.options().max_frame_bytes, read = p.options().read_size;
    const std::uint64_t total = std::uint64_t{1} << 30;
    std::uint64_t fed = 0;
    std::size_t max_capacity = 0;
    while (fed < total) {
        auto area = p.prepare();
        REQUIRE(!area.empty());
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(area.size(), total - fed));
        std::memset(area.data(), 'x', n);
        p.commit(n, env, out);
        fed += n;
        max_capacity = std::max(max_capacity, p.buffer_capacity());
        REQUIRE(p.buffer_capacity() <= max + 1 + read);
    }
    p.finish(env, out);
    CHECK(max_capacity <= max + 1 + read);
    CHECK(p.stats().bytes == total);
    CHECK(p.stats().documents == 1);
    CHECK(p.stats().error_documents == 1);
    CHECK(p.stats().oversized_frames == 1);
    CHECK(p.stats().skipped_bytes == total - max);
    CHECK(view(out) == oversized_doc(max, std::string(default_error_raw_bytes, 'x'), 1));
}
