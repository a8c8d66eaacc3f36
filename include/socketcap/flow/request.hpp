// SPDX-License-Identifier: MIT OR Apache-2.0
// Flow capture requests (JSON codec, one object per line) parsed into plain structs. Unknown
// fields are ignored, since newer runtimes send more; raw-JSON fields (config, resourceConfig,
// state) are kept as compact JSON text for the config parsers. Never throws (bad_alloc aside).
#ifndef SOCKETCAP_FLOW_REQUEST_HPP
#define SOCKETCAP_FLOW_REQUEST_HPP

#include <socketcap/flow/config.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace socketcap::flow {

enum class request_kind : std::uint8_t { spec, discover, validate, apply, open, acknowledge };

/// "spec", "discover", ...: the request's key on the wire.
std::string_view to_string(request_kind k) noexcept;

struct binding_request {
    std::string resource_config; ///< JSON text
    std::vector<std::string> resource_path;
    std::string state_key;       ///< open only; may be empty on older runtimes
};

struct key_range {
    std::uint32_t key_begin = 0;
    std::uint32_t key_end = 0xFFFFFFFF;
    bool full() const noexcept { return key_begin == 0 && key_end == 0xFFFFFFFF; }
};

struct request {
    request_kind kind = request_kind::spec;
    std::string config = "{}";           ///< endpoint config JSON (capture.config for apply/open)
    std::vector<binding_request> bindings; ///< validate: bindings; apply/open: capture.bindings
    std::string state = "{}";            ///< open.state JSON
    key_range range;                     ///< open.range
    std::uint32_t checkpoints = 0;       ///< acknowledge.checkpoints (at least 1)
};

/// Parses one request line: an object with exactly one of the message keys (a null member
/// counts as absent). Errors read like "request: not valid JSON: ..." or
/// "open.capture.bindings[0].stateKey: must be a string, got 5".
parsed<request> parse_request(std::string_view line);

/// What a checkpoint stores under bindingStateV1.<stateKey>.
struct binding_state {
    std::string session_id;     ///< of the last session
    std::uint64_t sequence = 0; ///< last sequence of that session
    std::uint64_t bytes = 0;    ///< received, all sessions so far
    std::uint64_t documents = 0; ///< emitted, all sessions so far
    /// With positions (issue 16): the last document's position, as text; empty: none.
    std::string position = {};
    bool position_is_string = false; ///< written as a JSON string, else as an integer
};

/// Reads bindingStateV1.<state_key> from open.state. An absent entry gives a default
/// binding_state; fields of the wrong type are ignored (state written by a future version).
binding_state parse_binding_state(std::string_view state_json, std::string_view state_key);

} // namespace socketcap::flow

#endif
