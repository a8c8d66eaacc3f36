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

// Memory: a receive buffer grows on demand and is given back (docs/design.md, "Memory").
namespace {

constexpr pipeline_options small_reads{.read_size = 8, .max_frame_bytes = 100};

/// One read of `bytes` into prepare()'s area, as a transport would make it.
template <class P>
void read_into(P& p, std::string_view bytes, document_envelope& env, output_buffer& out) {
    auto area = p.prepare();
    REQUIRE(area.size() >= bytes.size());
    std::memcpy(area.data(), bytes.data(), bytes.size());
    p.commit(bytes.size(), env, out);
}

struct read_step {
    std::string_view bytes;
    std::size_t capacity; // after the commit
    std::size_t pending;
};

} // namespace

TEST_CASE("pipeline: a buffer grown for a long frame shrinks after shrink_after_reads small reads, then frees") {
    STATIC_REQUIRE(pipeline<line_codec>::shrink_after_reads == 4);
    pipeline<line_codec> p(line_codec{}, small_reads);
    auto env = test::fixed_envelope();
    output_buffer out;
    CHECK(p.buffer_capacity() == 0); // nothing before the first read
    const std::vector<read_step> steps = {
        {"aaaaaaaa", 8, 8},   // read_size
        {"aaaaaaaa", 16, 16}, // doubles
        {"aaaaaaaa", 32, 24},
        {"aaaaaa\nb", 32, 1}, // the 30-byte line is done: 1 small read
        {"\nc", 32, 1},       // 2
        {"\nd", 32, 1},       // 3
        {"\ne", 16, 1},       // 4: shrinks to 2 x read_size, "e" kept
        {"\n", 0, 0},         // empty and above read_size: freed
        {"f", 8, 1},          // read_size again
        {"\n", 0, 0},         // "f" + a read needed 16: above read_size, freed when empty
        {"g\n", 8, 0},        // empty at read_size: kept (a read per line reallocates nothing)
        {"h\n", 8, 0},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("read " << i << ": \"" << steps[i].bytes << "\"");
        read_into(p, steps[i].bytes, env, out);
        CHECK(p.buffer_capacity() == steps[i].capacity);
        CHECK(p.pending_bytes() == steps[i].pending);
    }
    p.finish(env, out);
    CHECK(view(out) == text_doc(std::string(30, 'a'), 1) + text_doc("b", 2) + text_doc("c", 3) + text_doc("d", 4) +
                           text_doc("e", 5) + text_doc("f", 6) + text_doc("g", 7) + text_doc("h", 8));
}

TEST_CASE("pipeline: a long frame that ends with its read frees the buffer at once") {
    pipeline<line_codec> p(line_codec{}, small_reads);
    auto env = test::fixed_envelope();
    output_buffer out;
    const std::vector<read_step> steps = {
        {"aaaaaaaa", 8, 8}, {"aaaaaaaa", 16, 16}, {"aaaaaaa\n", 0, 0}, {"b\n", 8, 0}, {"c\n", 8, 0},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("read " << i);
        read_into(p, steps[i].bytes, env, out);
        CHECK(p.buffer_capacity() == steps[i].capacity);
        CHECK(p.pending_bytes() == steps[i].pending);
    }
    CHECK(view(out) == text_doc(std::string(23, 'a'), 1) + text_doc("b", 2) + text_doc("c", 3));
}

TEST_CASE("pipeline: a feed of long frames keeps its buffer instead of reallocating per frame") {
    // Lines of 25 bytes in reads of 8: a read never ends on a line's end in 7 lines (and a
    // partial eighth), and the one that ends a line holds the next line's start, followed by
    // reads that hold more than 8.
    pipeline<line_codec> p(line_codec{}, small_reads);
    auto env = test::fixed_envelope();
    output_buffer out;
    std::string in, want;
    for (int i = 0; i < 7; ++i) {
        std::string line(24, static_cast<char>('a' + i));
        in += line + "\n";
        want += text_doc(line, static_cast<std::uint64_t>(i + 1));
    }
    in += "z";
    want += text_doc("z", 8, true);
    std::vector<std::size_t> capacities;
    for (std::size_t at = 0; at < in.size(); at += 8) {
        read_into(p, std::string_view(in).substr(at, 8), env, out);
        capacities.push_back(p.buffer_capacity());
    }
    p.finish(env, out);
    CHECK(view(out) == want);
    REQUIRE(capacities.size() == 22);
    CHECK(capacities[0] == 8);
    CHECK(capacities[1] == 16);
    for (std::size_t i = 2; i < capacities.size(); ++i) {
        INFO("read " << i);
        CHECK(capacities[i] == 32); // grown once, never shrunk or regrown
    }
}

TEST_CASE("pipeline: long and short lines at every split offset and read size lose nothing") {
    // Long lines (the buffer grows), runs of short ones (it shrinks after 4 small reads, and
    // frees when a read ends on a line's end), and a last partial line.
    std::string in = std::string(40, 'L') + "\n";
    for (int i = 0; i < 9; ++i) in += "s" + std::to_string(i) + "\n";
    in += std::string(30, 'M') + "\n" + "x\ny\nz\n" + std::string(17, 'N') + "\n" + "tail";
    std::string want;
    std::uint64_t seq = 0;
    for (std::size_t at = 0; at < in.size();) {
        auto nl = in.find('\n', at);
        if (nl == std::string::npos) {
            want += text_doc(in.substr(at), ++seq, true);
            break;
        }
        want += text_doc(in.substr(at, nl - at), ++seq);
        at = nl + 1;
    }
    for (std::size_t size = 1; size <= small_reads.read_size; ++size) {
        for (std::size_t first = 0; first <= small_reads.read_size; ++first) {
            INFO("a first read of " << first << " bytes, then reads of " << size);
            pipeline<line_codec> p(line_codec{}, small_reads);
            auto env = test::fixed_envelope();
            output_buffer out;
            std::size_t shrinks = 0, peak = 0;
            std::string_view rest = in;
            for (std::size_t n = first; !rest.empty(); n = size) {
                std::size_t before = p.buffer_capacity();
                auto chunk = rest.substr(0, n);
                rest.remove_prefix(chunk.size());
                read_into(p, chunk, env, out);
                shrinks += p.buffer_capacity() < before;
                peak = std::max(peak, p.buffer_capacity());
            }
            p.finish(env, out);
            CHECK(view(out) == want);
            CHECK(shrinks >= 1); // a shrink with a frame pending, or a free between frames
            CHECK(peak <= 100 + 1 + 8);
            CHECK(p.stats().bytes == in.size());
        }
    }
}

TEST_CASE("pipeline: a frame across the shrink, cut at every offset, arrives whole") {
    // A 40-byte line grows the buffer to 64; three small reads follow; the fourth holds the first
    // k - 1 bytes of "0123456789abc" when the buffer shrinks to 16 (k = 1: nothing pending, it is
    // freed); the rest comes in reads of m bytes.
    const std::vector<std::string_view> before = {"LLLLLLLL", "LLLLLLLL", "LLLLLLLL", "LLLLLLLL", "LLLLLLLL",
                                                  "\nx",      "\ny",      "\nz"};
    const std::string tail = "\n0123456789abc\ntail";
    const std::string want = text_doc(std::string(40, 'L'), 1) + text_doc("x", 2) + text_doc("y", 3) +
        text_doc("z", 4) + text_doc("0123456789abc", 5) + text_doc("tail", 6, true);
    for (std::size_t k = 1; k <= small_reads.read_size; ++k) {
        for (std::size_t m = 1; m <= small_reads.read_size; ++m) {
            INFO("the fourth small read is " << k << " bytes, then reads of " << m);
            pipeline<line_codec> p(line_codec{}, small_reads);
            auto env = test::fixed_envelope();
            output_buffer out;
            for (auto r : before) read_into(p, r, env, out);
            REQUIRE(p.buffer_capacity() == 64);
            REQUIRE(p.pending_bytes() == 1);
            read_into(p, std::string_view(tail).substr(0, k), env, out);
            CHECK(p.buffer_capacity() == (k == 1 ? 0 : 16));
            CHECK(p.pending_bytes() == k - 1);
            for (std::size_t at = k; at < tail.size(); at += m)
                read_into(p, std::string_view(tail).substr(at, m), env, out);
            p.finish(env, out);
            CHECK(view(out) == want);
            CHECK(p.stats().bytes == 40 + 6 + tail.size());
        }
    }
}

TEST_CASE("pipeline: release_buffer frees an empty buffer of any size and never a pending frame; reset frees") {
    pipeline<line_codec> p(line_codec{}, small_reads);
    auto env = test::fixed_envelope();
    output_buffer out;
    read_into(p, "ab\n", env, out);
    CHECK(p.buffer_capacity() == 8); // the policy keeps read_size
    p.release_buffer();
    CHECK(p.buffer_capacity() == 0); // a session about to wait keeps nothing
    p.release_buffer();
    CHECK(p.buffer_capacity() == 0);
    read_into(p, "cd", env, out);
    CHECK(p.buffer_capacity() == 8);
    p.release_buffer();
    CHECK(p.buffer_capacity() == 8); // "cd" is an unfinished frame: kept
    CHECK(p.pending_bytes() == 2);
    read_into(p, "\nef", env, out);
    CHECK(view(out) == text_doc("ab", 1) + text_doc("cd", 2));
    p.reset();
    CHECK(p.buffer_capacity() == 0);
    CHECK(p.pending_bytes() == 0);
    read_into(p, "g\n", env, out);
    CHECK(view(out) == text_doc("ab", 1) + text_doc("cd", 2) + text_doc("g", 3));
}
