// SPDX-License-Identifier: MIT OR Apache-2.0
// UTF-8 helpers shared by framers and the JSON writer (Unicode 15, table 3-7).
#ifndef SOCKETCAP_UTF8_HPP
#define SOCKETCAP_UTF8_HPP

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace socketcap::utf8 {

/// Length of the well-formed sequence at the start of `s`, or 0 when it is ill-formed; then
/// `*maximal_subpart` (when given) is the length of the longest valid prefix (>= 1), i.e. how
/// many bytes one U+FFFD replaces (the "maximal subpart" practice of Unicode §3.9).
std::size_t sequence_length(std::string_view s, std::size_t* maximal_subpart = nullptr) noexcept;

/// Bytes at the end of `s` that form the valid beginning of a sequence not yet complete
/// (0 to 3). A reader that carries them over to its next read never breaks a character.
std::size_t incomplete_tail(std::string_view s) noexcept;

/// True when all of `s` is well-formed UTF-8.
bool is_valid(std::string_view s) noexcept;

} // namespace socketcap::utf8

#endif
