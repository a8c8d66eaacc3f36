// SPDX-License-Identifier: MIT OR Apache-2.0
// One source of truth for each config field (issue 13): the table in socketcap/flow/fields.hpp
// against the spec's configSchema, against parse_endpoint_config, and against the field table
// in docs/connector.md. Also the one PEM-or-path rule and the one "built without TLS" message.
#include <socketcap/flow/config.hpp>
#include <socketcap/flow/fields.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/tls/options.hpp>
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/tls.hpp>
#endif

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <type_traits>
#include <vector>

using namespace socketcap;
using namespace socketcap::flow;

namespace {

// The configSchema as it was written by hand before the table (commit 2f7ff72), kept here
// readable; the generated one must be the same bytes once compacted.
constexpr std::string_view hand_written_schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Socket Source",
  "description": "Connect to a TCP server, optionally over TLS, and capture what it sends.",
  "type": "object",
  "required": ["host", "port"],
  "properties": {
    "host": {"type": "string", "title": "Host", "minLength": 1, "order": 0,
      "description": "The hostname or IP address of the server you connect to."},
    "port": {"type": "integer", "title": "Port", "minimum": 1, "maximum": 65535, "order": 1,
      "description": "The TCP port of the server, from 1 to 65535."},
    "codec": {"type": "string", "title": "Codec", "enum": ["plain", "line", "json", "base64"], "default": "line", "order": 2,
      "description": "How the byte stream becomes documents: line makes one document per line, json parses each line as a JSON object (NDJSON), plain makes one document per chunk of text as it arrives, base64 keeps each chunk's bytes exactly, in base64 (for binary data). With a framing, each codec makes one document per frame."},
    "framing": {"type": "object", "title": "Framing", "order": 3,
      "description": "How the byte stream is cut into frames, one document each. Leave it out for the codec's own: lines for line and json, each read as it arrives for plain and base64.",
      "required": ["type"],
      "properties": {
        "type": {"type": "string", "title": "Framing Type",
          "enum": ["lines", "delimiter", "length_prefixed", "octet_counting", "mllp", "chunks"], "order": 0,
          "description": "lines: each ends at LF (a CR before it is dropped). delimiter: each ends with the delimiter you give. length_prefixed: a binary length before each frame. octet_counting: syslog over TCP (RFC 6587): LENGTH SPACE MESSAGE, or one message per line when it does not start with a digit. mllp: HL7 v2 messages between 0x0B and 0x1C 0x0D. chunks: each read as it arrives."},
        "delimiter": {"type": "string", "title": "Delimiter", "minLength": 1, "order": 1,
          "description": "The bytes that end a frame, 1 to 16 of them. Write control characters as JSON escapes: \\r\\n, \\u0000, \\u001e."},
        "keep_delimiter": {"type": "boolean", "title": "Keep Delimiter", "default": false, "advanced": true, "order": 2,
          "description": "Keep the delimiter at the end of each frame."},
        "length_format": {"type": "string", "title": "Length Format",
          "enum": ["uint8", "uint16_be", "uint16_le", "uint32_be", "uint32_le", "uint64_be", "uint64_le", "varint"],
          "default": "uint32_be", "order": 3,
          "description": "The length field: an unsigned integer of 1, 2, 4 or 8 bytes, big-endian (_be) or little-endian (_le), or varint (LEB128, as protobuf writes delimited messages)."},
        "length_includes_prefix": {"type": "boolean", "title": "Length Includes Prefix", "default": false,
          "advanced": true, "order": 4,
          "description": "The length counts the header and the length field too, not just the body."},
        "header_bytes": {"type": "integer", "title": "Header Bytes", "default": 0, "minimum": 0, "maximum": 64,
          "advanced": true, "order": 5,
          "description": "Fixed bytes before the length field, such as a message type or version."},
        "keep_prefix": {"type": "boolean", "title": "Keep Prefix", "default": false, "advanced": true, "order": 6,
          "description": "Keep the header and the length field at the start of each frame; otherwise a frame is the body alone."}
      }
    },
    "tls": {"type": "object", "title": "TLS", "order": 4,
      "description": "Encrypt the connection with TLS.",
      "properties": {
        "enabled": {"type": "boolean", "title": "Enable TLS", "default": false, "order": 0,
          "description": "Connect with TLS instead of plain TCP."},
        "verify_cert": {"type": "boolean", "title": "Verify Server Certificate", "default": true, "order": 1,
          "description": "Check the server's certificate chain and hostname. Turn this off only for testing."},
        "ca_cert": {"type": "string", "title": "CA Certificate", "multiline": true, "order": 2,
          "description": "The certificate authority you trust, as a file path or PEM text. Leave it empty to trust the system's roots."},
        "client_cert": {"type": "string", "title": "Client Certificate", "multiline": true, "order": 3,
          "description": "Your client certificate for mutual TLS, as a file path or PEM text."},
        "client_key": {"type": "string", "title": "Client Key", "multiline": true, "secret": true, "order": 4,
          "description": "The private key of your client certificate, as a file path or PEM text."},
        "server_hostname": {"type": "string", "title": "Server Hostname", "order": 5,
          "description": "The name you expect in the server's certificate, also sent as SNI. Defaults to the host."},
        "client_key_password": {"type": "string", "title": "Client Key Password", "secret": true, "order": 6,
          "description": "The password of an encrypted client key. Leave it empty when the key is not encrypted."}
      }
    },
    "buffer_size": {"type": "integer", "title": "Buffer Size", "default": 65536, "minimum": 1024, "maximum": 16777216,
      "advanced": true, "order": 5,
      "description": "How many bytes each read from the socket asks for."},
    "reconnect_delay": {"type": "number", "title": "Reconnect Delay", "default": 5.0, "minimum": 0, "maximum": 86400,
      "advanced": true, "order": 6,
      "description": "Seconds to wait before connecting again after a disconnect or a failed attempt."},
    "reconnect_max_delay": {"type": ["number", "null"], "title": "Reconnect Max Delay", "default": null, "minimum": 0,
      "maximum": 86400, "advanced": true, "order": 7,
      "description": "Turns on exponential backoff: after repeated failures the wait doubles (with random jitter) up to this many seconds, and returns to the reconnect delay once a connection is healthy. Leave it empty (or 0) for a fixed delay."},
    "max_reconnect_attempts": {"type": "integer", "title": "Max Reconnect Attempts", "default": -1, "minimum": -1,
      "maximum": 2147483647, "advanced": true, "order": 8,
      "description": "How many consecutive failed connection attempts are allowed before the capture fails; -1 means unlimited."},
    "connection_timeout": {"type": "number", "title": "Connection Timeout", "default": 30.0, "exclusiveMinimum": 0,
      "maximum": 3600, "advanced": true, "order": 9,
      "description": "Seconds allowed to resolve the host and connect (with TLS, to finish the handshake too)."},
    "idle_timeout": {"type": ["number", "null"], "title": "Idle Timeout", "default": null, "minimum": 0, "maximum": 86400,
      "advanced": true, "order": 10,
      "description": "Seconds without data after which the connection is closed and opened again. Leave it empty (or 0) to wait forever."},
    "max_frame_bytes": {"type": "integer", "title": "Max Frame Size", "default": 1048576, "minimum": 1024,
      "maximum": 67108864, "advanced": true, "order": 11,
      "description": "The longest frame (line, chunk, message) kept, in bytes. A longer one becomes an error document holding its first bytes."},
    "on_connect": {"type": "array", "title": "Send On Connect", "order": 12,
      "description": "Messages sent to the server, in order, each time a connection is up (after the TLS handshake): a login, a subscription. Write control bytes as \\r\\n (or JSON escapes); ${session_id}, ${time}, ${password} and the other placeholders of the docs are filled in; $$ is a literal $.",
      "items": {"type": "string"}},
    "password": {"type": "string", "title": "Password", "secret": true, "order": 13,
      "description": "A password or token that messages use as ${password}. It is never logged or shown."},
    "heartbeat": {"type": "object", "title": "Heartbeat", "order": 14,
      "description": "A message sent whenever nothing was sent to the server for the interval, while connected.",
      "required": ["message", "interval"],
      "properties": {
        "message": {"type": "string", "title": "Heartbeat Message", "minLength": 1, "order": 0,
          "description": "The message, with the same escapes and placeholders as Send On Connect."},
        "interval": {"type": "number", "title": "Heartbeat Interval", "exclusiveMinimum": 0, "maximum": 86400, "order": 1,
          "description": "Seconds without sending anything after which the heartbeat is sent."}
      },
      "additionalProperties": false},
    "replies": {"type": "array", "title": "Replies", "order": 15,
      "description": "Answers to frames the server sends, such as PONG to an IRC PING. The first rule whose pattern matches a frame sends its reply.",
      "items": {"type": "object", "required": ["match", "reply"],
        "properties": {
          "match": {"type": "string", "title": "Match", "minLength": 1, "order": 0,
            "description": "A regular expression (RE2 syntax) searched in each frame; anchor it with ^ and $. Its groups are ${1}, ${2}, … and ${name} in the reply."},
          "reply": {"type": "string", "title": "Reply", "minLength": 1, "order": 1,
            "description": "The message sent when the pattern matches, such as PONG :${1}\\r\\n."},
          "capture": {"type": "boolean", "title": "Capture", "default": true, "order": 2,
            "description": "The matched frame also becomes a document. Turn it off for keep-alive chatter such as PING."}
        },
        "additionalProperties": false}},
    "position": {"type": "object", "title": "Position", "order": 16,
      "description": "Where each message sits in the server's stream, for servers that can resend: documents carry it as position (the collection is keyed on it), checkpoints record the last one, and messages can use ${position} and ${next_position} to resume. Give one of pattern, pointer or counted.",
      "properties": {
        "pattern": {"type": "string", "title": "Position Pattern", "minLength": 1, "order": 0,
          "description": "A regular expression (RE2) whose first group is the position, searched in each frame: ^(\\d+) for a line that starts with its sequence number."},
        "pointer": {"type": "string", "title": "Position Pointer", "minLength": 1, "order": 1,
          "description": "With the json codec: the JSON pointer of the position in each object, such as /seq."},
        "counted": {"type": "boolean", "title": "Counted Positions", "default": false, "order": 2,
          "description": "Positions are counted: the first frame of a connection is ${next_position}, the next one more, and so on (a server that resumes at a sequence number it does not repeat in its messages)."},
        "type": {"type": "string", "title": "Position Type", "enum": ["integer", "string"], "default": "integer", "order": 3,
          "description": "integer: positions are unsigned integers (a sequence number); string: message ids."}
      },
      "additionalProperties": false},
    "ack": {"type": "object", "title": "Acknowledgement", "order": 17,
      "description": "A message sent to the server only once Flow has committed what it acknowledges, for servers that resend until acknowledged (HL7 over MLLP, for one). Needs position.",
      "required": ["message"],
      "properties": {
        "message": {"type": "string", "title": "Acknowledgement Message", "minLength": 1, "order": 0,
          "description": "The message, with the placeholders of Send On Connect; ${position} is the acknowledged position, and per frame the position pattern's groups are ${1}, ${2}, …"},
        "per": {"type": "string", "title": "Acknowledge Per", "enum": ["frame", "checkpoint"], "default": "frame", "order": 1,
          "description": "frame: one message per frame; checkpoint: one per committed checkpoint, for its last position."}
      },
      "additionalProperties": false},
    "endpoint_failure": {"type": "string", "title": "When An Endpoint Gives Up", "enum": ["fail", "continue"],
      "default": "fail", "advanced": true, "order": 18,
      "description": "With several bindings, each its own endpoint: fail stops the whole capture when one endpoint exhausts max_reconnect_attempts (so you notice); continue logs it and keeps capturing the others."},
    "threads": {"type": "integer", "title": "Threads", "default": 0, "minimum": 0, "maximum": 16, "advanced": true,
      "order": 19,
      "description": "Threads that run the endpoints of this shard: 0 means one, which is cheapest until one core is saturated; at most one per endpoint. One endpoint's documents always stay in order."},
    "networkTunnel": {"type": "object", "title": "Network Tunnel", "advanced": true, "order": 20,
      "description": "Reach a server in a private network through an SSH bastion host (a local port forward).",
      "properties": {
        "sshForwarding": {"type": "object", "title": "SSH Forwarding", "order": 0,
          "description": "Connect to the host and port above through an SSH server that can reach them.",
          "required": ["sshEndpoint", "privateKey"],
          "properties": {
            "sshEndpoint": {"type": "string", "title": "SSH Endpoint", "pattern": "^ssh://.+@.+$", "order": 0,
              "description": "Endpoint of the remote SSH server that supports tunneling (in the form of ssh://user@hostname[:port])."},
            "privateKey": {"type": "string", "title": "SSH Private Key", "multiline": true, "secret": true, "order": 1,
              "description": "Private key to connect to the remote SSH server."}
          },
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    }
  }
})";

std::string compact(std::string_view pretty) {
    std::string out(pretty.size(), '\0');
    std::size_t len = 0;
    REQUIRE(simdjson::minify(pretty.data(), pretty.size(), out.data(), len) == simdjson::SUCCESS);
    out.resize(len);
    return out;
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(' ');
    auto e = s.find_last_not_of(' ');
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

struct docs_row {
    std::string name, type, default_value, range;
};

// The rows of docs/connector.md's endpoint field table, in order.
std::vector<docs_row> docs_rows() {
    std::ifstream in(SOCKETCAP_DOCS_DIR "/connector.md");
    REQUIRE(in);
    std::vector<docs_row> rows;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (line == "| Field | Type | Default | Range / values | Meaning |") {
            inside = true;
            continue;
        }
        if (!inside || line.rfind("|---", 0) == 0) continue;
        if (line.rfind("| `", 0) != 0) break;
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        for (std::string cell; std::getline(ss, cell, '|');) cells.push_back(trim(cell));
        REQUIRE(cells.size() >= 5);
        rows.push_back({cells[0].substr(1, cells[0].size() - 2), cells[1], cells[2], cells[3]});
    }
    return rows;
}

simdjson::dom::element schema_property(simdjson::dom::element schema, const config_field& f) {
    simdjson::dom::element props = schema["properties"];
    // "networkTunnel.sshForwarding" nests two levels: walk each; "replies[]" is an array's items.
    for (std::string_view path = f.parent(); !path.empty();) {
        auto dot = path.find('.');
        auto step = path.substr(0, dot);
        if (step.ends_with("[]")) props = props[step.substr(0, step.size() - 2)]["items"]["properties"];
        else props = props[step]["properties"];
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    simdjson::dom::element e;
    REQUIRE(props[f.key()].get(e) == simdjson::SUCCESS);
    return e;
}

std::string json_number(double v) { return v == std::int64_t(v) ? fmt::format("{}", std::int64_t(v)) : fmt::format("{}", v); }

std::string config_with(const config_field& f, std::string_view value) {
    if (f.name == "host") return fmt::format(R"({{"host":{},"port":1}})", value);
    if (f.name == "port") return fmt::format(R"({{"host":"h","port":{}}})", value);
    if (f.parent() == "heartbeat") // beside the other required member
        return fmt::format(R"({{"host":"h","port":1,"heartbeat":{{"message":"x","{}":{}}}}})", f.key(), value);
    if (!f.applies_to.empty()) // a framing member, under the type it belongs to
        return fmt::format(R"({{"host":"h","port":1,"{}":{{"type":"{}","{}":{}}}}})", f.parent(), f.applies_to,
                           f.key(), value);
    return fmt::format(R"({{"host":"h","port":1,"{}":{}}})", f.name, value);
}

} // namespace

TEST_CASE("config schema: written from the field table, the same bytes as the hand-written one", "[flow][fields]") {
    CHECK(config_schema() == compact(hand_written_schema));
}

TEST_CASE("config fields: the schema, validation and docs/connector.md agree on every field", "[flow][fields]") {
    simdjson::dom::parser parser;
    simdjson::dom::element schema;
    REQUIRE(parser.parse(std::string(config_schema())).get(schema) == simdjson::SUCCESS);
    auto rows = docs_rows();
    // Objects and arrays of objects have no row of their own: their members do.
    auto container = [](const config_field& f) {
        return f.type == field_type::object || (f.type == field_type::array && f.items == field_type::object);
    };
    auto objects = std::count_if(std::begin(config_fields), std::end(config_fields), container);
    REQUIRE(objects == 8); // tls, framing, heartbeat, replies, position, ack, networkTunnel, networkTunnel.sshForwarding
    REQUIRE(rows.size() == std::size(config_fields) - objects); // every field but the objects themselves
    std::size_t row = 0;
    std::map<std::string_view, std::int64_t> order; // the next order among each object's members
    for (const auto& f : config_fields) {
        INFO("field " << f.name);
        // The schema: type, default, range, flags and order.
        auto p = schema_property(schema, f);
        CHECK(std::int64_t(p["order"]) == order[f.parent()]++);
        CHECK(std::string_view(p["title"]) == f.title);
        CHECK(std::string_view(p["description"]) == f.description);
        simdjson::dom::element flag;
        CHECK((p["secret"].get(flag) == simdjson::SUCCESS) == f.secret);
        CHECK((p["multiline"].get(flag) == simdjson::SUCCESS) == f.multiline);
        CHECK((p["advanced"].get(flag) == simdjson::SUCCESS) == f.advanced);
        if (f.type == field_type::integer || f.type == field_type::number) {
            CHECK(double(p[f.exclusive_minimum ? "exclusiveMinimum" : "minimum"]) == f.minimum);
            CHECK(double(p["maximum"]) == f.maximum);
        }
        simdjson::dom::element d;
        CHECK((p["default"].get(d) == simdjson::SUCCESS) == f.has_default);
        if (f.has_default && f.nullable) CHECK(d.is_null());
        else if (f.has_default && f.type == field_type::boolean) CHECK(bool(d) == f.flag);
        else if (f.has_default && f.type == field_type::choice) CHECK(std::string_view(d) == f.text);
        else if (f.has_default) CHECK(double(d) == f.value);
        if (f.type == field_type::array) {
            CHECK(std::string_view(p["items"]["type"]) == (f.items == field_type::object ? "object" : "string"));
        }
        if (container(f)) continue;

        // docs/connector.md: the same fields in the same order, type, default and range.
        REQUIRE(row < rows.size());
        const auto& r = rows[row++];
        CHECK(r.name == f.name);
        std::string type = f.type == field_type::choice ? "string"
                           : f.type == field_type::array ? "array of strings"
                                                         : std::string(std::string_view(p["type"].is_array() ? p["type"].at(0) : p["type"]));
        CHECK(r.type == (f.nullable ? type + " or null" : type));
        if (f.required) CHECK(r.default_value == "required");
        else if (f.nullable) CHECK(r.default_value == "`null` (off)");
        else if (f.type == field_type::boolean) CHECK(r.default_value == (f.flag ? "`true`" : "`false`"));
        else if (f.type == field_type::choice) CHECK(r.default_value == fmt::format("`\"{}\"`", f.text));
        else if (f.type == field_type::integer) CHECK(r.default_value == fmt::format("`{}`", std::int64_t(f.value)));
        else if (f.type == field_type::number) CHECK(r.default_value == fmt::format("`{:.1f}`", f.value));
        if (f.type == field_type::choice)
            for (auto c : f.choices) CHECK(r.range.find(fmt::format("`{}`", c)) != std::string::npos);
        if (f.type != field_type::integer && f.type != field_type::number) continue;
        CHECK(r.range.find(json_number(f.maximum)) != std::string::npos);
        CHECK(r.range.find(json_number(f.minimum)) != std::string::npos);

        // Validation: the bounds pass, one past them fails with the message that names the range.
        auto max = json_number(f.maximum);
        CHECK(parse_endpoint_config(config_with(f, max)).error == "");
        auto above = json_number(f.maximum + 1);
        auto message = parse_endpoint_config(config_with(f, above)).error;
        CHECK(message == fmt::format("{}: must be {}, got {}", f.name, range_text(f), above));
        CHECK(message.find(fmt::format(" {}", max)) != std::string::npos); // names the maximum
        auto below = json_number(f.exclusive_minimum ? f.minimum : f.minimum - 1);
        CHECK(parse_endpoint_config(config_with(f, below)).error ==
              fmt::format("{}: must be {}, got {}", f.name, range_text(f), below));
        if (!f.exclusive_minimum) CHECK(parse_endpoint_config(config_with(f, json_number(f.minimum))).error == "");
        if (f.nullable) CHECK(parse_endpoint_config(config_with(f, "null")).error == "");
    }
    CHECK(row == rows.size());
}

TEST_CASE("config fields: range texts as the messages have always said them", "[flow][fields]") {
    CHECK(range_text(config_field_named("port")) == "an integer from 1 to 65535");
    CHECK(range_text(config_field_named("max_reconnect_attempts")) ==
          "an integer from 0 to 2147483647, or -1 for unlimited");
    CHECK(range_text(config_field_named("reconnect_delay")) == "a number of seconds from 0 to 86400");
    CHECK(range_text(config_field_named("idle_timeout")) == "null (off) or a number of seconds from 0 (off) to 86400");
    CHECK(range_text(config_field_named("connection_timeout")) ==
          "a number of seconds greater than 0 and at most 3600");
    CHECK(range_text(config_field_named("codec")) == R"(one of "plain", "line", "json", "base64")");
    CHECK(range_text(config_field_named("host")).empty());
}

TEST_CASE("PEM or path: one rule, \"-----BEGIN\" with or without a space after it", "[flow][tls][pem]") {
    CHECK(tls::is_pem("-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"));
    CHECK(tls::is_pem("-----BEGINCERTIFICATE-----"));
    CHECK(tls::is_pem("junk before -----BEGIN"));
    CHECK_FALSE(tls::is_pem("-----BEGI"));
    CHECK_FALSE(tls::is_pem("/etc/ssl/certs/ca.pem"));
    CHECK_FALSE(tls::is_pem(""));

    // The edge: BEGIN without its space. The config check calls it PEM, as make_context does: no
    // file named after the paste is looked for.
    constexpr std::string_view damaged = "-----BEGINCERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n";
    tls::client_options opts;
    opts.ca_cert = damaged;
    CHECK(check_tls_files(opts) == "");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"ca_cert":"-----BEGINCERTIFICATE-----"}})").error ==
          "tls.ca_cert: PEM text has a -----BEGIN line but no -----END line");
#if SOCKETCAP_HAS_TLS
    auto made = tls::make_context(opts);
    CHECK(made.ec == tls::error::invalid_ca_cert);
    CHECK(made.message == "tls.ca_cert: inline PEM is not a valid PEM certificate");
#endif
}

TEST_CASE("tls config: the TLS library's options plus enabled, no mirror", "[flow][tls]") {
    static_assert(std::is_base_of_v<tls::client_options, tls_config>);
    CHECK(tls::client_options{}.verify_cert == config_field_named("tls.verify_cert").flag); // one default
    auto c = parse_endpoint_config(
        R"({"host":"h","port":1,"tls":{"enabled":true,"verify_cert":false,"ca_cert":"/ca.pem","server_hostname":"n.test"}})");
    REQUIRE(c);
    const tls::client_options& opts = c.value.tls; // what make_context and handshake take
    CHECK_FALSE(opts.verify_cert);
    CHECK(opts.ca_cert == "/ca.pem");
    CHECK(opts.server_hostname == "n.test");
    CHECK(c.value.tls.enabled);
}

TEST_CASE("built without TLS: one message", "[flow][tls]") {
    CHECK(no_tls_support_message == "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)");
}
