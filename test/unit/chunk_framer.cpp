// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/chunk_framer.hpp>

#include "framer_steps.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace socketcap;

TEST_CASE("chunk_framer returns each read whole") {
    chunk_framer f(100);
    CHECK(frames(f, "a\nb\r\nc", false) == std::vector<step>{{frame_kind::complete, "a\nb\r\nc", 6}});
    CHECK(frames(f, "", true).empty());
}

TEST_CASE("chunk_framer keeps an unfinished character for the next read") {
    chunk_framer f(100);
    CHECK(frames(f, "x\xE2\x82", false) == std::vector<step>{{frame_kind::complete, "x", 1}});
    CHECK(f.next("\xE2\x82", false).kind == frame_kind::need_more);
    CHECK(frames(f, "\xE2\x82\xACy", false) == std::vector<step>{{frame_kind::complete, "\xE2\x82\xACy", 4}});
    // At EOF the tail goes out as is (the codec turns it into U+FFFD).
    CHECK(frames(f, "\xF0\x9F", true) == std::vector<step>{{frame_kind::complete, "\xF0\x9F", 2}});
    // Invalid bytes are not waited for.
    CHECK(frames(f, "a\xFF", false) == std::vector<step>{{frame_kind::complete, "a\xFF", 2}});
}

TEST_CASE("chunk_framer cuts at max_frame_bytes, never inside a character") {
    chunk_framer f(4);
    CHECK(f.max_frame_bytes() == 4);
    CHECK(frames(f, "abcdefghij", false) ==
          std::vector<step>{{frame_kind::complete, "abcd", 4}, {frame_kind::complete, "efgh", 4},
                            {frame_kind::complete, "ij", 2}});
    CHECK(frames(f, "ab\xE2\x82\xAC", false) ==
          std::vector<step>{{frame_kind::complete, "ab", 2}, {frame_kind::complete, "\xE2\x82\xAC", 3}});
    CHECK(frames(f, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", true) ==
          std::vector<step>{{frame_kind::complete, "\xF0\x9F\x98\x80", 4}, {frame_kind::complete, "\xF0\x9F\x98\x80", 4}});
    CHECK(chunk_framer(1).max_frame_bytes() == 4); // room for the longest character
}
