// SPDX-License-Identifier: MIT OR Apache-2.0
// Base64 (RFC 4648 §4, with padding, no line breaks) for the base64 codec. Written here: no
// well-kept C++ base64 library is packaged for Debian 12 (simdutf, which has one, is not), and
// the codec runs it over every byte of a binary feed.
#ifndef SOCKETCAP_BASE64_HPP
#define SOCKETCAP_BASE64_HPP

#include <socketcap/output_buffer.hpp>

#include <cstddef>
#include <string_view>

namespace socketcap::base64 {

/// Length of the encoding of `n` bytes.
constexpr std::size_t encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Appends the encoding of `bytes` (no quotes). Never throws except std::bad_alloc.
void write(output_buffer& out, std::string_view bytes);

} // namespace socketcap::base64

#endif
