// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/utf8.hpp>

#include <catch2/catch.hpp>

using namespace socketcap;
using namespace std::string_view_literals;

TEST_CASE("utf8.sequence_length accepts exactly the well-formed sequences of table 3-7") {
    CHECK(utf8::sequence_length("a") == 1);
    CHECK(utf8::sequence_length("\xC3\xA9") == 2);          // é
    CHECK(utf8::sequence_length("\xE2\x82\xAC") == 3);      // €
    CHECK(utf8::sequence_length("\xF0\x9F\x98\x80") == 4);  // 😀
    CHECK(utf8::sequence_length("\xF4\x8F\xBF\xBF") == 4);  // U+10FFFF
    std::size_t sub = 0;
    CHECK(utf8::sequence_length("\xC0\xAF", &sub) == 0);    // overlong
    CHECK(sub == 1);
    CHECK(utf8::sequence_length("\xE0\x80\x80", &sub) == 0); // overlong 3-byte
    CHECK(sub == 1);
    CHECK(utf8::sequence_length("\xED\xA0\x80", &sub) == 0); // CESU surrogate
    CHECK(sub == 1);
    CHECK(utf8::sequence_length("\xF4\x90\x80\x80", &sub) == 0); // above U+10FFFF
    CHECK(sub == 1);
    CHECK(utf8::sequence_length("\xE2\x82", &sub) == 0);     // truncated: maximal subpart 2
    CHECK(sub == 2);
    CHECK(utf8::sequence_length("\xE2\x82x", &sub) == 0);
    CHECK(sub == 2);
    CHECK(utf8::sequence_length("\xFF", &sub) == 0);
    CHECK(sub == 1);
    CHECK(utf8::sequence_length("\x80", &sub) == 0);          // lone continuation
    CHECK(sub == 1);
}

TEST_CASE("utf8.incomplete_tail finds only valid unfinished sequences") {
    CHECK(utf8::incomplete_tail("") == 0);
    CHECK(utf8::incomplete_tail("abc") == 0);
    CHECK(utf8::incomplete_tail("ab\xC3") == 1);
    CHECK(utf8::incomplete_tail("ab\xC3\xA9") == 0);
    CHECK(utf8::incomplete_tail("\xE2\x82") == 2);
    CHECK(utf8::incomplete_tail("\xF0\x9F\x98") == 3);
    CHECK(utf8::incomplete_tail("\xF0\x9F\x98\x80") == 0);
    CHECK(utf8::incomplete_tail("x\xFF") == 0);      // not a lead byte: nothing to wait for
    CHECK(utf8::incomplete_tail("x\xE0\x80") == 0);  // can never become valid
    CHECK(utf8::incomplete_tail("\x80\x80\x80") == 0);
}

TEST_CASE("utf8.is_valid") {
    CHECK(utf8::is_valid(""));
    CHECK(utf8::is_valid("plain ascii"));
    CHECK(utf8::is_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    CHECK_FALSE(utf8::is_valid("caf\xC3"));
    CHECK_FALSE(utf8::is_valid("\xED\xB0\x80"));
    CHECK_FALSE(utf8::is_valid("a\0b\xFE"sv));
}

TEST_CASE("utf8.incomplete_tail of every proper prefix of every sequence length") {
    const std::string_view seqs[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xE0\xA0\x80", "\xED\x9F\xBF",
                                     "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
    for (auto s : seqs) {
        for (std::size_t n = 1; n < s.size(); ++n) {
            INFO("sequence of " << s.size() << " bytes, prefix " << n);
            CHECK(utf8::incomplete_tail(std::string("ab") + std::string(s.substr(0, n))) == n);
            std::size_t sub = 0;
            CHECK(utf8::sequence_length(s.substr(0, n), &sub) == 0);
            CHECK(sub == n);
        }
        CHECK(utf8::incomplete_tail(s) == 0);
        CHECK(utf8::sequence_length(s) == s.size());
    }
    CHECK(utf8::incomplete_tail("\xED\xA0") == 0); // a surrogate never completes
    CHECK(utf8::incomplete_tail("\xF4\x90") == 0); // above U+10FFFF never completes
    CHECK(utf8::incomplete_tail("\xC3\xA9\xC3\xA9") == 0);
}
