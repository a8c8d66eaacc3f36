// SPDX-License-Identifier: MIT OR Apache-2.0
// Flow capture responses, rendered as one compact JSON line each (with the trailing newline).
// Only the protocol's field names appear: the runtime rejects unknown fields.
#ifndef SOCKETCAP_FLOW_RESPONSE_HPP
#define SOCKETCAP_FLOW_RESPONSE_HPP

#include <socketcap/flow/config.hpp>
#include <socketcap/flow/request.hpp>
#include <socketcap/output_buffer.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace socketcap::flow {

inline constexpr std::uint32_t protocol_version = 3032023;
inline constexpr std::string_view documentation_url =
    "https://github.com/socketcap/socketcap/blob/main/docs/connector.md";
/// The stream name discover suggests (the spec's example).
inline constexpr std::string_view default_stream = "socket_events";

/// A document becomes {"captured":{"binding":0,"doc":<document>}}.
inline constexpr std::string_view captured_prefix = R"({"captured":{"binding":0,"doc":)";
inline constexpr std::string_view captured_suffix = "}}\n";

/// The endpoint configuration's JSON Schema (compact).
std::string_view config_schema();
/// The resource configuration's JSON Schema (compact).
std::string_view resource_config_schema();
/// The schema of the documents a codec produces (compact).
std::string_view document_schema(codec_kind codec);

void write_spec(output_buffer& out);
/// Whether documents carry a position (issue 16), and of which type.
enum class document_positions : std::uint8_t { none, integer, string };
/// The document schema with a required "position" (integer positions may also be the string
/// "<session_id>/<sequence>" of a document whose frame had none).
std::string document_schema(codec_kind codec, document_positions positions);
/// With positions, the collection is keyed on /position (a resent message replaces itself);
/// otherwise on /session_id and /sequence.
void write_discovered(output_buffer& out, codec_kind codec, document_positions positions = document_positions::none);
/// One {resourcePath:[stream]} per binding, in request order.
void write_validated(output_buffer& out, const std::vector<std::string>& streams);
void write_applied(output_buffer& out);
/// {"opened":{}}, or with explicitAcknowledgements when the capture acknowledges or resumes.
void write_opened(output_buffer& out, bool explicit_acknowledgements = false);
/// {"checkpoint":{"state":{"updated":{"bindingStateV1":{<key>:{...}}},"mergePatch":true}}}
void write_checkpoint(output_buffer& out, std::string_view state_key, const binding_state& state);

} // namespace socketcap::flow

#endif
