// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector's configuration fields, each described once (issue 13): the spec's configSchema
// is written from this table (write_spec), parse_endpoint_config takes each field's range,
// secrecy and message from it, endpoint_config its defaults. test/connector/fields.cpp ties the
// table to the schema, to validation and to docs/connector.md's field table.
#ifndef SOCKETCAP_FLOW_FIELDS_HPP
#define SOCKETCAP_FLOW_FIELDS_HPP

#include <socketcap/framing.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace socketcap::flow {

/// The codecs' names, in codec_kind order (plain, line, json, base64).
inline constexpr std::array<std::string_view, 4> codec_names{"plain", "line", "json", "base64"};

/// framing.type's values: socketcap::framing_names, in framing_kind order.
inline constexpr std::array<std::string_view, 6> framing_type_names = socketcap::framing_names;

/// framing.length_format's values: width and byte order of the length field, or a varint.
inline constexpr std::array<std::string_view, 8> length_format_names{
    "uint8", "uint16_be", "uint16_le", "uint32_be", "uint32_le", "uint64_be", "uint64_le", "varint"};

/// position.type's values.
inline constexpr std::array<std::string_view, 2> position_type_names{"integer", "string"};
/// endpoint_failure's values.
inline constexpr std::array<std::string_view, 2> endpoint_failure_names{"fail", "continue"};
/// ack.per's values.
inline constexpr std::array<std::string_view, 2> ack_per_names{"frame", "checkpoint"};

/// The schema's "type"; `choice` is a string from a fixed list ("enum").
enum class field_type : std::uint8_t { string, boolean, integer, number, choice, object, array };

/// One field. Members roughly follow the order of the schema's keywords; a table entry names
/// them with designated initializers, which must come in declaration order.
struct config_field {
    std::string_view name = {};  ///< the JSON key; a member of the tls object is "tls.<key>"
    field_type type = field_type::string;
    /// array: the type of its items; an array of objects has members named "<array>[].<key>".
    field_type items = field_type::string;
    std::string_view title = {};
    bool required = false;
    bool not_empty = false; ///< strings: "minLength": 1
    /// strings: the schema's "pattern" (the UI checks it; the parser says more, per field).
    std::string_view pattern = {};
    /// choice: the accepted values.
    std::span<const std::string_view> choices = {};
    /// The default, read from the member the type says: `flag` (boolean), `value` (integer,
    /// number; null when nullable), `text` (choice). Strings and objects have none.
    bool has_default = false;
    bool flag = false;
    double value = 0;
    std::string_view text = {};
    /// integer, number: the accepted range, [minimum, maximum] or (minimum, maximum].
    double minimum = 0;
    double maximum = 0;
    bool exclusive_minimum = false;
    /// The minimum is a special value: "unlimited" (an integer's -1, outside the counting
    /// range), "off" (a number's 0 seconds).
    std::string_view minimum_means = {};
    /// null is accepted, means off, and is the default.
    bool nullable = false;
    std::string_view unit = {}; ///< numbers: "seconds"
    bool multiline = false;
    /// The UI masks it; a wrong value is described by its JSON type, never quoted.
    bool secret = false;
    bool advanced = false;
    /// A member of an object with a `type` (framing.*): the type it belongs to. Setting it to
    /// other than its default under another type is an error ("applies only when …").
    std::string_view applies_to = {};
    /// Objects (and arrays of objects, for their items): "additionalProperties": false, and the
    /// parser rejects unknown members.
    bool closed = false;
    std::string_view description = {};

    /// The key inside its object: "enabled" for "tls.enabled".
    constexpr std::string_view key() const noexcept {
        auto dot = name.rfind('.');
        return dot == std::string_view::npos ? name : name.substr(dot + 1);
    }
    /// The object the field is a member of: "tls" for "tls.enabled", "replies[]" for
    /// "replies[].match" (a member of each item), empty at the top.
    constexpr std::string_view parent() const noexcept {
        auto dot = name.rfind('.');
        return dot == std::string_view::npos ? std::string_view{} : name.substr(0, dot);
    }
};

/// Every field, in the schema's order: a field's "order" is its position among its siblings.
inline constexpr config_field config_fields[] = {
    {.name = "host", .type = field_type::string, .title = "Host", .required = true, .not_empty = true,
     .description = "The hostname or IP address of the server you connect to."},
    {.name = "port", .type = field_type::integer, .title = "Port", .required = true, .minimum = 1, .maximum = 65535,
     .description = "The TCP port of the server, from 1 to 65535."},
    {.name = "codec", .type = field_type::choice, .title = "Codec", .choices = codec_names, .has_default = true,
     .text = "line",
     .description = "How the byte stream becomes documents: line makes one document per line, json parses each line "
                    "as a JSON object (NDJSON), plain makes one document per chunk of text as it arrives, base64 keeps "
                    "each chunk's bytes exactly, in base64 (for binary data). With a framing, each codec makes one "
                    "document per frame."},
    {.name = "framing", .type = field_type::object, .title = "Framing",
     .description = "How the byte stream is cut into frames, one document each. Leave it out for the codec's own: lines "
                    "for line and json, each read as it arrives for plain and base64."},
    {.name = "framing.type", .type = field_type::choice, .title = "Framing Type", .required = true,
     .choices = framing_type_names,
     .description = "lines: each ends at LF (a CR before it is dropped). delimiter: each ends with the delimiter you "
                    "give. length_prefixed: a binary length before each frame. octet_counting: syslog over TCP (RFC "
                    "6587): LENGTH SPACE MESSAGE, or one message per line when it does not start with a digit. mllp: "
                    "HL7 v2 messages between 0x0B and 0x1C 0x0D. chunks: each read as it arrives."},
    {.name = "framing.delimiter", .type = field_type::string, .title = "Delimiter", .not_empty = true,
     .applies_to = "delimiter",
     .description = "The bytes that end a frame, 1 to 16 of them. Write control characters as JSON escapes: \\r\\n, "
                    "\\u0000, \\u001e."},
    {.name = "framing.keep_delimiter", .type = field_type::boolean, .title = "Keep Delimiter", .has_default = true,
     .flag = false, .advanced = true, .applies_to = "delimiter",
     .description = "Keep the delimiter at the end of each frame."},
    {.name = "framing.length_format", .type = field_type::choice, .title = "Length Format",
     .choices = length_format_names, .has_default = true, .text = "uint32_be", .applies_to = "length_prefixed",
     .description = "The length field: an unsigned integer of 1, 2, 4 or 8 bytes, big-endian (_be) or little-endian "
                    "(_le), or varint (LEB128, as protobuf writes delimited messages)."},
    {.name = "framing.length_includes_prefix", .type = field_type::boolean, .title = "Length Includes Prefix",
     .has_default = true, .flag = false, .advanced = true, .applies_to = "length_prefixed",
     .description = "The length counts the header and the length field too, not just the body."},
    {.name = "framing.header_bytes", .type = field_type::integer, .title = "Header Bytes", .has_default = true,
     .value = 0, .minimum = 0, .maximum = 64, .advanced = true, .applies_to = "length_prefixed",
     .description = "Fixed bytes before the length field, such as a message type or version."},
    {.name = "framing.keep_prefix", .type = field_type::boolean, .title = "Keep Prefix", .has_default = true,
     .flag = false, .advanced = true, .applies_to = "length_prefixed",
     .description = "Keep the header and the length field at the start of each frame; otherwise a frame is the body "
                    "alone."},
    {.name = "tls", .type = field_type::object, .title = "TLS", .description = "Encrypt the connection with TLS."},
    {.name = "tls.enabled", .type = field_type::boolean, .title = "Enable TLS", .has_default = true, .flag = false,
     .description = "Connect with TLS instead of plain TCP."},
    {.name = "tls.verify_cert", .type = field_type::boolean, .title = "Verify Server Certificate", .has_default = true,
     .flag = true,
     .description = "Check the server's certificate chain and hostname. Turn this off only for testing."},
    {.name = "tls.ca_cert", .type = field_type::string, .title = "CA Certificate", .multiline = true,
     .description = "The certificate authority you trust, as a file path or PEM text. Leave it empty to trust the "
                    "system's roots."},
    {.name = "tls.client_cert", .type = field_type::string, .title = "Client Certificate", .multiline = true,
     .description = "Your client certificate for mutual TLS, as a file path or PEM text."},
    {.name = "tls.client_key", .type = field_type::string, .title = "Client Key", .multiline = true, .secret = true,
     .description = "The private key of your client certificate, as a file path or PEM text."},
    {.name = "tls.server_hostname", .type = field_type::string, .title = "Server Hostname",
     .description = "The name you expect in the server's certificate, also sent as SNI. Defaults to the host."},
    {.name = "tls.client_key_password", .type = field_type::string, .title = "Client Key Password", .secret = true,
     .description = "The password of an encrypted client key. Leave it empty when the key is not encrypted."},
    {.name = "buffer_size", .type = field_type::integer, .title = "Buffer Size", .has_default = true, .value = 65536,
     .minimum = 1024, .maximum = 16 * 1024 * 1024, .advanced = true,
     .description = "How many bytes each read from the socket asks for."},
    {.name = "reconnect_delay", .type = field_type::number, .title = "Reconnect Delay", .has_default = true,
     .value = 5.0, .minimum = 0, .maximum = 86400, .unit = "seconds", .advanced = true,
     .description = "Seconds to wait before connecting again after a disconnect or a failed attempt."},
    {.name = "reconnect_max_delay", .type = field_type::number, .title = "Reconnect Max Delay", .has_default = true,
     .minimum = 0, .maximum = 86400, .minimum_means = "off", .nullable = true, .unit = "seconds", .advanced = true,
     .description = "Turns on exponential backoff: after repeated failures the wait doubles (with random jitter) up "
                    "to this many seconds, and returns to the reconnect delay once a connection is healthy. Leave it "
                    "empty (or 0) for a fixed delay."},
    {.name = "max_reconnect_attempts", .type = field_type::integer, .title = "Max Reconnect Attempts",
     .has_default = true, .value = -1, .minimum = -1, .maximum = 2147483647, .minimum_means = "unlimited",
     .advanced = true,
     .description = "How many consecutive failed connection attempts are allowed before the capture fails; -1 means "
                    "unlimited."},
    {.name = "connection_timeout", .type = field_type::number, .title = "Connection Timeout", .has_default = true,
     .value = 30.0, .minimum = 0, .maximum = 3600, .exclusive_minimum = true, .unit = "seconds", .advanced = true,
     .description = "Seconds allowed to resolve the host and connect (with TLS, to finish the handshake too)."},
    {.name = "idle_timeout", .type = field_type::number, .title = "Idle Timeout", .has_default = true, .minimum = 0,
     .maximum = 86400, .minimum_means = "off", .nullable = true, .unit = "seconds", .advanced = true,
     .description = "Seconds without data after which the connection is closed and opened again. Leave it empty (or "
                    "0) to wait forever."},
    // 64 MiB: Flow's largest document.
    {.name = "max_frame_bytes", .type = field_type::integer, .title = "Max Frame Size", .has_default = true,
     .value = 1048576, .minimum = 1024, .maximum = 64 * 1024 * 1024, .advanced = true,
     .description = "The longest frame (line, chunk, message) kept, in bytes. A longer one becomes an error document "
                    "holding its first bytes."},
    // Talking to the server (issue 15): socketcap::conversation_config; docs/connector.md, "Talking to the server".
    {.name = "on_connect", .type = field_type::array, .items = field_type::string, .title = "Send On Connect",
     .description = "Messages sent to the server, in order, each time a connection is up (after the TLS handshake): a "
                    "login, a subscription. Write control bytes as \\r\\n (or JSON escapes); ${session_id}, "
                    "${time}, ${password} and the other placeholders of the docs are filled in; $$ is a literal $."},
    {.name = "password", .type = field_type::string, .title = "Password", .secret = true,
     .description = "A password or token that messages use as ${password}. It is never logged or shown."},
    {.name = "heartbeat", .type = field_type::object, .title = "Heartbeat", .closed = true,
     .description = "A message sent whenever nothing was sent to the server for the interval, while connected."},
    {.name = "heartbeat.message", .type = field_type::string, .title = "Heartbeat Message", .required = true,
     .not_empty = true, .description = "The message, with the same escapes and placeholders as Send On Connect."},
    {.name = "heartbeat.interval", .type = field_type::number, .title = "Heartbeat Interval", .required = true,
     .minimum = 0, .maximum = 86400, .exclusive_minimum = true, .unit = "seconds",
     .description = "Seconds without sending anything after which the heartbeat is sent."},
    {.name = "replies", .type = field_type::array, .items = field_type::object, .title = "Replies", .closed = true,
     .description = "Answers to frames the server sends, such as PONG to an IRC PING. The first rule whose pattern "
                    "matches a frame sends its reply."},
    {.name = "replies[].match", .type = field_type::string, .title = "Match", .required = true, .not_empty = true,
     .description = "A regular expression (RE2 syntax) searched in each frame; anchor it with ^ and $. Its groups "
                    "are ${1}, ${2}, … and ${name} in the reply."},
    {.name = "replies[].reply", .type = field_type::string, .title = "Reply", .required = true, .not_empty = true,
     .description = "The message sent when the pattern matches, such as PONG :${1}\\r\\n."},
    {.name = "replies[].capture", .type = field_type::boolean, .title = "Capture", .has_default = true, .flag = true,
     .description = "The matched frame also becomes a document. Turn it off for keep-alive chatter such as PING."},
    // Exactly-once with servers that can resend (issue 16); docs/connector.md, "Delivery guarantee".
    {.name = "position", .type = field_type::object, .title = "Position", .closed = true,
     .description = "Where each message sits in the server's stream, for servers that can resend: documents carry "
                    "it as position (the collection is keyed on it), checkpoints record the last one, and messages "
                    "can use ${position} and ${next_position} to resume. Give one of pattern, pointer or counted."},
    {.name = "position.pattern", .type = field_type::string, .title = "Position Pattern", .not_empty = true,
     .description = "A regular expression (RE2) whose first group is the position, searched in each frame: "
                    "^(\\d+) for a line that starts with its sequence number."},
    {.name = "position.pointer", .type = field_type::string, .title = "Position Pointer", .not_empty = true,
     .description = "With the json codec: the JSON pointer of the position in each object, such as /seq."},
    {.name = "position.counted", .type = field_type::boolean, .title = "Counted Positions", .has_default = true,
     .flag = false,
     .description = "Positions are counted: the first frame of a connection is ${next_position}, the next one "
                    "more, and so on (a server that resumes at a sequence number it does not repeat in its messages)."},
    {.name = "position.type", .type = field_type::choice, .title = "Position Type", .choices = position_type_names,
     .has_default = true, .text = "integer",
     .description = "integer: positions are unsigned integers (a sequence number); string: message ids."},
    {.name = "ack", .type = field_type::object, .title = "Acknowledgement", .closed = true,
     .description = "A message sent to the server only once Flow has committed what it acknowledges, for servers "
                    "that resend until acknowledged (HL7 over MLLP, for one). Needs position."},
    {.name = "ack.message", .type = field_type::string, .title = "Acknowledgement Message", .required = true,
     .not_empty = true,
     .description = "The message, with the placeholders of Send On Connect; ${position} is the acknowledged "
                    "position, and per frame the position pattern's groups are ${1}, ${2}, …"},
    {.name = "ack.per", .type = field_type::choice, .title = "Acknowledge Per", .choices = ack_per_names,
     .has_default = true, .text = "frame",
     .description = "frame: one message per frame; checkpoint: one per committed checkpoint, for its last "
                    "position."},
    // Many endpoints per capture (issue 17); docs/flow.md, "Many endpoints, many shards".
    {.name = "endpoint_failure", .type = field_type::choice, .title = "When An Endpoint Gives Up",
     .choices = endpoint_failure_names, .has_default = true, .text = "fail", .advanced = true,
     .description = "With several bindings, each its own endpoint: fail stops the whole capture when one endpoint "
                    "exhausts max_reconnect_attempts (so you notice); continue logs it and keeps capturing the "
                    "others."},
    {.name = "threads", .type = field_type::integer, .title = "Threads", .has_default = true, .value = 0,
     .minimum = 0, .maximum = 16, .advanced = true,
     .description = "Threads that run the endpoints of this shard: 0 means one, which is cheapest until one core is "
                    "saturated; at most one per endpoint. One endpoint's documents always stay in order."},
    // Estuary's connectors' shape and names, so that Flow users' habits and the UI carry over.
    {.name = "networkTunnel", .type = field_type::object, .title = "Network Tunnel", .advanced = true, .closed = true,
     .description = "Reach a server in a private network through an SSH bastion host (a local port forward)."},
    {.name = "networkTunnel.sshForwarding", .type = field_type::object, .title = "SSH Forwarding", .closed = true,
     .description = "Connect to the host and port above through an SSH server that can reach them."},
    {.name = "networkTunnel.sshForwarding.sshEndpoint", .type = field_type::string, .title = "SSH Endpoint",
     .required = true, .pattern = "^ssh://.+@.+$",
     .description = "Endpoint of the remote SSH server that supports tunneling (in the form of "
                    "ssh://user@hostname[:port])."},
    {.name = "networkTunnel.sshForwarding.privateKey", .type = field_type::string, .title = "SSH Private Key",
     .required = true, .multiline = true, .secret = true,
     .description = "Private key to connect to the remote SSH server."},
};

/// The field called `name`; a name not in the table does not compile.
consteval const config_field& config_field_named(std::string_view name) {
    for (const auto& f : config_fields)
        if (f.name == name) return f;
    throw "no such config field"; // not a constant expression: the caller fails to compile
}

/// What a value of `f` must be, as validation messages say it after "must be ": "an integer
/// from 1 to 65535", "null (off) or a number of seconds from 0 (off) to 86400". Empty for
/// strings, booleans and objects, whose messages say what is wrong instead.
std::string range_text(const config_field& f);

} // namespace socketcap::flow

#endif
