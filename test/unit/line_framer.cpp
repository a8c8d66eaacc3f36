#include <catch2/catch.hpp>
TEST_CASE("placeholder line_framer") { CHECK(true); }
