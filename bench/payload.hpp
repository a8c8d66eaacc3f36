// SPDX-License-Identifier: MIT OR Apache-2.0
// Deterministic benchmark payloads (shared by the in-memory benchmark and the load generator).
#ifndef SOCKETCAP_BENCH_PAYLOAD_HPP
#define SOCKETCAP_BENCH_PAYLOAD_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace socketcap::bench {

/// A small xorshift generator: the same payload on every machine and run.
struct rng {
    std::uint64_t s = 0x9E3779B97F4A7C15ULL;
    std::uint64_t next() noexcept {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
};

/// ~100-byte syslog-like lines, one in eight with non-ASCII text.
std::string syslog_lines(std::size_t count, rng& r);
/// ~200-byte NDJSON objects with nesting, escapes, UTF-8 and large integers; `malformed_per_mille`
/// of them are broken (truncated, a stray comma, a bare word).
std::string ndjson_lines(std::size_t count, rng& r, unsigned malformed_per_mille = 0);
/// The lines of `lines` (each ending in '\n') re-framed without their '\n': each after a 4-byte
/// big-endian length, or as syslog octet counting (RFC 6587: `LEN SP MSG`). The same messages as
/// the line scenario, so their documents per second compare directly.
std::string length_prefixed(std::string_view lines);
std::string octet_counted(std::string_view lines);
/// Raw bytes (printable text with newlines at random places).
std::string raw_bytes(std::size_t size, rng& r);

} // namespace socketcap::bench

#endif
