// SPDX-License-Identifier: MIT OR Apache-2.0
// message_template: every escape, every placeholder form, and the exact message of every mistake.
#include <socketcap/message_template.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace socketcap;

namespace {

constexpr std::array<std::string_view, 3> names{"session_id", "1", "password"};
constexpr std::array<std::string_view, 3> values{"S-1", "grp", "hunter2"};

std::string render(std::string_view text) {
    error_code ec;
    diagnostics diag;
    auto t = message_template::parse(text, names, ec, diag);
    INFO(text << " → " << diag.message());
    REQUIRE(!ec);
    REQUIRE(diag.empty());
    std::string out;
    t.render(values, out);
    return out;
}

std::string error_of(std::string_view text) {
    error_code ec;
    diagnostics diag;
    auto t = message_template::parse(text, names, ec, diag);
    CHECK(ec == error::invalid_template);
    CHECK(t.empty());
    return diag.message();
}

} // namespace

TEST_CASE("message_template: literal text passes unchanged, bytes included") {
    CHECK(render("MONITOR") == "MONITOR");
    CHECK(render("?WATCH={\"enable\":true,\"json\":true}") == "?WATCH={\"enable\":true,\"json\":true}");
    CHECK(render(std::string_view("a\r\n\0b", 5)) == std::string("a\r\n\0b", 5)); // JSON escapes already decoded
    CHECK(render("caf\xC3\xA9 \xFF") == "caf\xC3\xA9 \xFF");
    CHECK(render("") == "");
}

TEST_CASE("message_template: every escape") {
    CHECK(render(R"(MONITOR\r\n)") == "MONITOR\r\n");
    CHECK(render(R"(\t|\0|\\)") == std::string("\t|\0|\\", 5));
    CHECK(render(R"(\x00\x0b\x1C\x7f\xff)") == std::string("\x00\x0b\x1c\x7f\xff", 5));
    CHECK(render(R"(\u0000\u00e9\u20AC)") == std::string("\0\xC3\xA9\xE2\x82\xAC", 6));
    CHECK(render(R"(\\r is not CR)") == R"(\r is not CR)");
}

TEST_CASE("message_template: placeholders, $$ and lone dollars") {
    CHECK(render("AUTH ${password}\r\n") == "AUTH hunter2\r\n");
    CHECK(render("${session_id}${1}${session_id}") == "S-1grpS-1");
    CHECK(render("PONG :${1}") == "PONG :grp");
    CHECK(render("cost $$5 ${1}") == "cost $5 grp");
    CHECK(render("$$${1}") == "$grp");
    CHECK(render("$5 and $ alone and a$") == "$5 and $ alone and a$");
    CHECK(render("{${1}}") == "{grp}");
}

TEST_CASE("message_template: uses() says which placeholders a message needs") {
    error_code ec;
    diagnostics diag;
    auto t = message_template::parse("x ${password} ${1}", names, ec, diag);
    REQUIRE(!ec);
    CHECK(!t.uses(0));
    CHECK(t.uses(1));
    CHECK(t.uses(2));
    CHECK(!t.empty());
}

TEST_CASE("message_template: every mistake is named, with where it is") {
    CHECK(error_of(R"(MONITOR\q)") ==
          R"(unknown escape \q at byte 7; use \r, \n, \t, \0, \\, \xHH or \uXXXX)");
    CHECK(error_of("end\\") == R"(a lone backslash at byte 3 ends the message; write \\ for a backslash)");
    CHECK(error_of(R"(\x4)") == R"(\x at byte 0 must be followed by two hex digits)");
    CHECK(error_of(R"(ab\xg0)") == R"(\x at byte 2 must be followed by two hex digits)");
    CHECK(error_of(R"(\u12)") == R"(\u at byte 0 must be followed by four hex digits)");
    CHECK(error_of(R"(\u12x4)") == R"(\u at byte 0 must be followed by four hex digits)");
    CHECK(error_of(R"(\uD800)") == R"(\uD800 at byte 0 is a UTF-16 surrogate, not a character)");
    CHECK(error_of("AUTH ${pasword}") ==
          "unknown placeholder ${pasword} at byte 5; known: ${session_id}, ${1}, ${password}");
    CHECK(error_of("${}") == "unknown placeholder ${} at byte 0; known: ${session_id}, ${1}, ${password}");
    CHECK(error_of("a ${session_id") == "${ at byte 2 has no closing }; write $$ for a literal $");
}

TEST_CASE("message_template: no names at all") {
    error_code ec;
    diagnostics diag;
    auto t = message_template::parse("x${a}", {}, ec, diag);
    CHECK(ec == error::invalid_template);
    CHECK(diag.message() == "unknown placeholder ${a} at byte 1; known: none");
}
