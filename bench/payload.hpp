// SPDX-License-Identifier: MIT OR Apache-2.0
// Deterministic benchmark payloads (shared by the in-memory benchmark and the load generator).
#ifndef SOCKETCAP_BENCH_PAYLOAD_HPP
#define SOCKETCAP_BENCH_PAYLOAD_HPP

#include <cstdint>
#include <string>

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
/// Raw bytes (printable text with newlines at random places).
std::string raw_bytes(std::size_t size, rng& r);

} // namespace socketcap::bench

#endif
