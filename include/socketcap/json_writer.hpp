// SPDX-License-Identifier: MIT OR Apache-2.0
// Writing JSON text: strings escaped for any strict parser, numbers, nothing else. The output
// is always valid UTF-8: ill-formed input becomes U+FFFD, one per maximal subpart.
// Functions never throw except std::bad_alloc when the buffer cannot grow.
#ifndef SOCKETCAP_JSON_WRITER_HPP
#define SOCKETCAP_JSON_WRITER_HPP

#include <socketcap/output_buffer.hpp>

#include <cstdint>
#include <string_view>

namespace socketcap::json {

/// Appends `s` as a JSON string literal, quotes included.
void write_string(output_buffer& out, std::string_view s);

/// Appends the escaped contents of `s` without quotes.
void write_escaped(output_buffer& out, std::string_view s);

void write_uint(output_buffer& out, std::uint64_t v);
void write_int(output_buffer& out, std::int64_t v);

/// Appends the bytes of `s` unchanged (the caller guarantees they are JSON).
inline void write_raw(output_buffer& out, std::string_view s) { append(out, s); }

} // namespace socketcap::json

#endif
