// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/chunk_framer.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/pipeline.hpp>
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

using namespace socketcap;
using socketcap::test::doc;
using socketcap::test::text_doc;

TEST_CASE("pipeline: prepare/commit, stats and pending bytes") {
    pipeline_options o;
    o.read_size = 8;
    pipeline<line_codec> p(line_codec{}, o);
    auto env = test::fixed_envelope();
    output_buffer out;
    auto area = p.prepare();
    REQUIRE(area.size() == 8);
    std::memcpy(area.data(), "ab\ncd\ne", 7);
    p.commit(7, env, out);
    CHECK(view(out) == text_doc("ab", 1) + text_doc("cd", 2));
    CHECK(p.pending_bytes() == 1);
    CHECK(p.stats().bytes == 7);
    CHECK(p.stats().documents == 2);
    p.feed("fgh", env, out);
    CHECK(p.pending_bytes() == 4);
    p.finish(env, out);
    CHECK(view(out) == text_doc("ab", 1) + text_doc("cd", 2) + text_doc("efgh", 3, true));
    CHECK(p.pending_bytes() == 0);
    CHECK(p.stats().partial_frames == 1);
    CHECK(p.stats().documents == 3);
    CHECK(p.stats().error_documents == 0);
    CHECK(p.stats().bytes == 10);
}

TEST_CASE("pipeline: feed larger than read_size goes through in several reads") {
    pipeline_options o;
    o.read_size = 4;
    o.max_frame_bytes = 64;
    std::string in;
    std::string want;
    for (int i = 1; i <= 20; ++i) {
        in += "line" + std::to_string(i) + "\n";
        want += text_doc("line" + std::to_string(i), static_cast<std::uint64_t>(i));
    }
    CHECK(test::run_all<line_codec>(in, o) == want);
}

TEST_CASE("pipeline: reset drops a pending frame; stats keep counting") {
    pipeline<line_codec> p;
    auto env = test::fixed_envelope();
    output_buffer out;
    p.feed("half", env, out);
    CHECK(p.pending_bytes() == 4);
    p.reset();
    CHECK(p.pending_bytes() == 0);
    p.feed("new\n", env, out);
    p.finish(env, out);
    CHECK(view(out) == text_doc("new", 1));
    CHECK(p.stats().bytes == 8);
    CHECK(p.stats().documents == 1);
}

TEST_CASE("pipeline: buffer capacity is bounded by max_frame_bytes + 1 + read_size") {
    pipeline_options o;
    o.read_size = 100;
    o.max_frame_bytes = 1000;
    pipeline<line_codec> p(line_codec{}, o);
    auto env = test::fixed_envelope();
    output_buffer out;
    std::string chunk(99, 'y');
    for (int i = 0; i < 100; ++i) {
        p.feed(chunk, env, out);
        CHECK(p.buffer_capacity() <= 1000 + 1 + 100);
        if (i % 30 == 29) p.feed("\n", env, out);
    }
    p.finish(env, out);
    CHECK(p.stats().oversized_frames == 3); // three long lines, then a partial of 990 bytes
    CHECK(p.stats().documents == 4);
    CHECK(p.stats().partial_frames == 1);
    CHECK(p.stats().bytes == 9900 + 3);
}

// Framing is a policy of its own: codecs run over framers they were not written for.
namespace {

/// A test framer on a length prefix (one byte, 0-255): the shape of the length-prefixed
/// framers to come. Frames may hold any byte, line breaks included.
class byte_length_framer {
public:
    frame next(std::string_view in, bool eof) noexcept {
        if (in.empty()) return {};
        std::size_t n = static_cast<unsigned char>(in[0]);
        if (in.size() > n) return {frame_kind::complete, in.substr(1, n), n + 1};
        if (eof) return {frame_kind::partial, in.substr(1), in.size()};
        return {};
    }
    void reset() noexcept {}
    std::size_t max_frame_bytes() const noexcept { return 255; }
};
static_assert(framer<byte_length_framer>);

template <class Codec, class Framer>
std::string run_framed(std::vector<std::string_view> reads, Framer framer = Framer{}) {
    pipeline<Codec, Framer> p(Codec{}, std::move(framer));
    auto env = test::fixed_envelope();
    output_buffer out;
    for (auto r : reads) p.feed(r, env, out);
    p.finish(env, out);
    return {out.data(), out.size()};
}

std::string prefixed(std::string_view payload) { return char(payload.size()) + std::string(payload); }

} // namespace

TEST_CASE("pipeline: default framers are the codecs' own, any framer can be named") {
    STATIC_REQUIRE(std::is_same_v<default_framer_t<line_codec>, line_framer>);
    STATIC_REQUIRE(std::is_same_v<default_framer_t<plain_codec>, chunk_framer>);
    STATIC_REQUIRE(std::is_same_v<default_framer_t<json_codec>, line_framer>);
    STATIC_REQUIRE(std::is_same_v<default_framer_t<text_codec>, line_framer>);
    STATIC_REQUIRE(std::is_same_v<pipeline<json_codec>, pipeline<json_codec, line_framer>>);
}

TEST_CASE("pipeline<json_codec, chunk_framer>: each read is one object, no newline needed") {
    CHECK(run_framed<json_codec, chunk_framer>({R"({"a":1})", "  \r\n", R"({"b":"x"})" "\n", "[2]"}) ==
          doc(R"("data":{"a":1})", 1) + doc(R"("data":{"b":"x"})", 2) +
              doc(R"("data":{"_error":true,"_error_message":"expected a JSON object, got an array","_raw":"[2]"})",
                  3));
}

TEST_CASE("pipeline<json_codec, length-prefixed framer>: line breaks inside a frame stay out of the NDJSON") {
    const std::string in = prefixed("{\"a\":\n [1,\r\n2],\"s\":\"x\\ny\"}") + prefixed("{}") +
        "\x09{\"c\":"; // 9 bytes announced, 5 arrive
    const std::string want = doc(R"("data":{"a":  [1,)" "\r " R"(2],"s":"x\ny"})", 1) + doc(R"("data":{})", 2) +
        doc(R"("data":{"_error":true,"_error_message":"invalid JSON: expected a value after ':' at byte 5 )"
            R"x((the stream ended before the frame's end)","_raw":"{\"c\":"})x",
            3, true);
    CHECK(run_framed<json_codec, byte_length_framer>({in}) == want);
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(run_framed<json_codec, byte_length_framer>({std::string_view(in).substr(0, cut),
                                                          std::string_view(in).substr(cut)}) == want);
    }
}

TEST_CASE("pipeline<line_codec, other framers>: the text codec over chunks and length prefixes") {
    CHECK(run_framed<line_codec, chunk_framer>({"a\nb", "c"}) == text_doc("a\\nb", 1) + text_doc("c", 2));
    CHECK(run_framed<text_codec, byte_length_framer>({prefixed("one\ntwo") + prefixed("") + "\x05thr"}) ==
          text_doc("one\\ntwo", 1) + text_doc("", 2) + text_doc("thr", 3, true));
}
