// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/utf8.hpp>

#include <simdjson.h>

namespace socketcap::utf8 {
namespace {

struct lead_info {
    std::uint8_t length;    // 0: not a lead byte
    std::uint8_t second_lo; // allowed range of the second byte (table 3-7)
    std::uint8_t second_hi;
};

constexpr lead_info lead(std::uint8_t b) noexcept {
    if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
    if (b == 0xE0) return {3, 0xA0, 0xBF};
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
    if (b == 0xED) return {3, 0x80, 0x9F}; // excludes UTF-16 surrogates
    if (b == 0xF0) return {4, 0x90, 0xBF};
    if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
    if (b == 0xF4) return {4, 0x80, 0x8F}; // nothing above U+10FFFF
    return {0, 0, 0};
}

constexpr bool continuation(std::uint8_t b) noexcept { return (b & 0xC0) == 0x80; }

} // namespace

std::size_t sequence_length(std::string_view s, std::size_t* maximal_subpart) noexcept {
    if (s.empty()) {
        if (maximal_subpart) *maximal_subpart = 0;
        return 0;
    }
    auto b0 = static_cast<std::uint8_t>(s[0]);
    if (b0 < 0x80) return 1;
    auto info = lead(b0);
    std::size_t valid = 1;
    if (info.length != 0 && s.size() > 1) {
        auto b1 = static_cast<std::uint8_t>(s[1]);
        if (b1 >= info.second_lo && b1 <= info.second_hi) {
            valid = 2;
            while (valid < info.length && valid < s.size() &&
                   continuation(static_cast<std::uint8_t>(s[valid])))
                ++valid;
        }
    }
    if (info.length != 0 && valid == info.length) return valid;
    if (maximal_subpart) *maximal_subpart = valid;
    return 0;
}

std::size_t incomplete_tail(std::string_view s) noexcept {
    // Look back over at most three bytes for the lead byte of the last sequence.
    std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        auto b = static_cast<std::uint8_t>(s[n - back]);
        if (continuation(b)) continue;
        auto info = lead(b);
        if (info.length <= back) return 0; // ASCII, invalid, or already complete
        std::size_t subpart = 0;
        sequence_length(s.substr(n - back), &subpart);
        return subpart == back ? back : 0; // only a valid prefix is worth waiting for
    }
    return 0;
}

// simdjson's validator (SIMD, runtime-dispatched) rather than a loop over sequence_length:
// the JSON writer calls this on every string that contains a non-ASCII byte.
bool is_valid(std::string_view s) noexcept { return simdjson::validate_utf8(s.data(), s.size()); }

} // namespace socketcap::utf8
