// SPDX-License-Identifier: MIT OR Apache-2.0
// The text codecs through a pipeline: plain never breaks a character, whatever the reads.
#include <socketcap/text_codec.hpp>
#include <socketcap/utf8.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <string>

using namespace socketcap;
using socketcap::test::doc;
using socketcap::test::text_doc;

namespace {

// Values of the NDJSON documents in `out`, checked with simdjson on the way.
std::vector<std::string> values(const std::string& out) {
    std::vector<std::string> v;
    simdjson::dom::parser parser;
    std::size_t at = 0;
    while (at < out.size()) {
        auto nl = out.find('\n', at);
        REQUIRE(nl != std::string::npos);
        simdjson::dom::element e;
        REQUIRE_FALSE(parser.parse(simdjson::padded_string(out.substr(at, nl - at))).get(e));
        std::string_view value, raw;
        REQUIRE_FALSE(e["data"]["value"].get_string().get(value));
        REQUIRE_FALSE(e["raw"].get_string().get(raw));
        CHECK(value == raw);
        v.emplace_back(value);
        at = nl + 1;
    }
    return v;
}

} // namespace

TEST_CASE("plain codec: one document per read, exact bytes") {
    CHECK(test::run_reads<plain_codec>({"hello\n", "wor\"ld\r\n"}) ==
          text_doc("hello\\n", 1) + text_doc("wor\\\"ld\\r\\n", 2));
    CHECK(test::run_reads<plain_codec>({"x\xE2\x82", "\xACy"}) == text_doc("x", 1) + text_doc("\xE2\x82\xACy", 2));
    // The stream ends inside a character: the bytes come out as U+FFFD, once.
    CHECK(test::run_reads<plain_codec>({"x\xE2\x82"}) == text_doc("x", 1) + text_doc("\xEF\xBF\xBD", 2));
}

TEST_CASE("plain codec never breaks a multi-byte character split across reads at any offset") {
    const std::string in = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z\xF4\x8F\xBF\xBF\xED\x9F\xBF!";
    REQUIRE(utf8::is_valid(in));
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        for (std::size_t cut2 = cut; cut2 <= in.size(); ++cut2) {
            INFO("cuts at " << cut << " and " << cut2);
            std::string out = test::run_reads<plain_codec>(
                {std::string_view(in).substr(0, cut), std::string_view(in).substr(cut, cut2 - cut),
                 std::string_view(in).substr(cut2)});
            std::string joined;
            for (auto& v : values(out)) {
                CHECK(utf8::is_valid(v));
                CHECK(v.find("\xEF\xBF\xBD") == std::string::npos);
                joined += v;
            }
            CHECK(joined == in);
        }
    }
    auto ones = values(test::run_reads<plain_codec>(test::reads_of(in, 1)));
    CHECK(ones.size() == 8); // one document per character
}

TEST_CASE("plain codec: a read longer than max_frame_bytes is cut between characters") {
    pipeline_options o;
    o.max_frame_bytes = 5;
    std::string in = "abcd\xE2\x82\xAC" "efgh";
    CHECK(test::run_all<plain_codec>(in, o) == text_doc("abcd", 1) + text_doc("\xE2\x82\xAC" "ef", 2) + text_doc("gh", 3));
}
