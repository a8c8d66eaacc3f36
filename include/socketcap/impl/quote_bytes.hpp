// SPDX-License-Identifier: MIT OR Apache-2.0
// Quoting bytes a framer rejected, for its error message: never allocates, never throws.
#ifndef SOCKETCAP_IMPL_QUOTE_BYTES_HPP
#define SOCKETCAP_IMPL_QUOTE_BYTES_HPP

#include <array>
#include <cstddef>
#include <string_view>

namespace socketcap::detail {

/// Renders `bytes` into `out`: printable ASCII as is; any other byte, and '"' and '\' (so the
/// quote reads unambiguously inside "…"), as \xNN. When they do not all fit, as many as fit
/// followed by "...". The result points into `out`.
template <std::size_t N>
std::string_view quote_bytes(std::string_view bytes, std::array<char, N>& out) noexcept {
    static_assert(N >= 8);
    static constexpr char hex[] = "0123456789ABCDEF";
    std::size_t n = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = static_cast<unsigned char>(bytes[i]);
        bool plain = b >= 0x20 && b < 0x7F && b != '"' && b != '\\';
        std::size_t width = plain ? 1 : 4;
        // The last byte may use the room "..." would need; any other must leave it.
        std::size_t room = i + 1 == bytes.size() ? N : N - 3;
        if (n + width > room) {
            out[n++] = '.';
            out[n++] = '.';
            out[n++] = '.';
            break;
        }
        if (plain) {
            out[n++] = static_cast<char>(b);
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 0xF];
        }
    }
    return {out.data(), n};
}

} // namespace socketcap::detail

#endif
