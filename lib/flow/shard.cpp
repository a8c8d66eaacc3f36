// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/flow/shard.hpp>

#include <highwayhash/c_bindings.h>

namespace socketcap::flow {

namespace {
// source-boilerplate's key, 332757d16f0fb1cf2d4f676f85e34c6a8b85aa58f42bb081449d8eb2e4ed529f,
// as HighwayHash's four little-endian words (Go's highwayhash reads the 32 bytes that way).
constexpr HHKey estuary_key = {0xcfb10f6fd1572733ULL, 0x6a4ce3856f674f2dULL, 0x81b02bf458aa858bULL,
                               0x9f52ede4b28e9d44ULL};
} // namespace

std::uint32_t key_hash(std::string_view id) noexcept {
    return static_cast<std::uint32_t>(HighwayHash64(estuary_key, id.data(), id.size()) >> 32);
}

} // namespace socketcap::flow
