// SPDX-License-Identifier: MIT OR Apache-2.0
// Quoting bytes a framer rejected, for its error message: never allocates, never throws.
#ifndef SOCKETCAP_IMPL_QUOTE_BYTES_HPP
#define SOCKETCAP_IMPL_QUOTE_BYTES_HPP

#include <array>
#include <cstddef>
#include <string_view>

namespace socketcap::detail {

/// Renders `bytes` into `out`: printable ASCII as is; any other byte, and '"' and '\\' (so the
/// quote reads unambiguously inside "…"), as \xNN. When they do not all fit, as many as fit
/// followed by "...". The result points into `out`.
template <std::size_t N>
std::string_view quote_bytes(std::string_view bytes, std::array<char, N>& out) noexcept {
    static_assert(N >= 8);
    static constexpr char hex[] = "0123456789ABCDEF";
    auto plain = [](unsigned char b) { return b >= 0x20 && b < 0x7F && b != '"' && b != '\\'; };
    // Does it all fit? Stops counting once it does not (the bytes may be a megabyte of junk).
    std::size_t total = 0;
    for (std::size_t i = 0; i < bytes.size() && total <= N; ++i)
        total += plain(static_cast<unsigned char>(bytes[i])) ? 1 : 4;
    const bool cut = total > N;
    const std::size_t room = cut ? N - 3 : N;
    std::size_t n = 0;
    for (char c : bytes) {
        auto b = static_cast<unsigned char>(c);
        if (n + (plain(b) ? 1 : 4) > room) break;
        if (plain(b)) {
            out[n++] = c;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 0xF];
        }
    }
    if (cut)
        for (char c : {'.', '.', '.'}) out[n++] = c;
    return {out.data(), n};
}

} // namespace socketcap::detail

#endif
