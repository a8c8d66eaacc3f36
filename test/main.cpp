// SPDX-License-Identifier: MIT OR Apache-2.0
// The only Catch2 main, compiled once into a static library.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
