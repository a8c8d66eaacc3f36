// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/pipeline.hpp>
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

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
