// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/base64.hpp>

#include <array>
#include <cstdint>

namespace socketcap::base64 {

namespace {
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Two output characters per 12 bits: half the lookups of a 6-bit table, 8 KiB that stay in L1
// while a frame is encoded.
constexpr auto pairs = [] {
    std::array<char, 4096 * 2> t{};
    for (std::size_t i = 0; i < 4096; ++i) {
        t[2 * i] = alphabet[i >> 6];
        t[2 * i + 1] = alphabet[i & 63];
    }
    return t;
}();
} // namespace

void write(output_buffer& out, std::string_view bytes) {
    std::size_t at = out.size();
    out.resize(at + encoded_size(bytes.size()));
    char* o = out.data() + at;
    auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t n = bytes.size();
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3, o += 4) {
        std::uint32_t v = std::uint32_t(in[i]) << 16 | std::uint32_t(in[i + 1]) << 8 | in[i + 2];
        const char* a = &pairs[2 * (v >> 12)];
        const char* b = &pairs[2 * (v & 0xFFF)];
        o[0] = a[0];
        o[1] = a[1];
        o[2] = b[0];
        o[3] = b[1];
    }
    if (std::size_t left = n - i; left != 0) {
        std::uint32_t v = std::uint32_t(in[i]) << 16 | (left == 2 ? std::uint32_t(in[i + 1]) << 8 : 0);
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = left == 2 ? alphabet[(v >> 6) & 63] : '=';
        o[3] = '=';
    }
}

} // namespace socketcap::base64
