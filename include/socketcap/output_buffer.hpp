// SPDX-License-Identifier: MIT OR Apache-2.0
// The growable byte buffer documents are rendered into. fmt's memory_buffer grows without
// zero-filling and keeps 500 bytes inline, which suits many small appends on the hot path.
#ifndef SOCKETCAP_OUTPUT_BUFFER_HPP
#define SOCKETCAP_OUTPUT_BUFFER_HPP

#include <fmt/format.h>

#include <cstring>
#include <string_view>

namespace socketcap {

using output_buffer = fmt::memory_buffer;

// Inline resize + memcpy rather than memory_buffer::append, an out-of-line loop that showed in
// profiles: most appends are short literals whose copy the compiler then inlines.
inline void append(output_buffer& out, std::string_view s) {
    if (s.empty()) return;
    std::size_t at = out.size();
    out.resize(at + s.size()); // grows the capacity geometrically; throws std::bad_alloc
    std::memcpy(out.data() + at, s.data(), s.size());
}

inline std::string_view view(const output_buffer& out) noexcept { return {out.data(), out.size()}; }

} // namespace socketcap

#endif
