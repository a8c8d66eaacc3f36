// SPDX-License-Identifier: MIT OR Apache-2.0
// Which shard of a split capture dials which endpoint (issue 17). Flow splits a capture by key
// range; each binding's stateKey is hashed into the 32-bit key space the way Estuary's own
// connectors hash their units of work (source-boilerplate's RangeIncludesHwHash, used by the
// Kafka and file captures): HighwayHash-64 of the bytes with Estuary's key, top 32 bits. A shard
// owns the bindings whose hash lies in its [keyBegin, keyEnd].
#ifndef SOCKETCAP_FLOW_SHARD_HPP
#define SOCKETCAP_FLOW_SHARD_HPP

#include <socketcap/flow/request.hpp>

#include <cstdint>
#include <string_view>

namespace socketcap::flow {

/// The binding's place in the key space: HighwayHash64(id, Estuary's key) >> 32.
std::uint32_t key_hash(std::string_view id) noexcept;

/// True when the shard with `range` dials the binding with this stateKey.
inline bool owns(const key_range& range, std::string_view state_key) noexcept {
    auto h = key_hash(state_key);
    return range.key_begin <= h && h <= range.key_end;
}

} // namespace socketcap::flow

#endif
