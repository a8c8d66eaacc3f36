// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/flow/response.hpp>
#include <socketcap/json_writer.hpp>

#include <simdjson.h>

#include <memory>

namespace socketcap::flow {

namespace {

// The schemas are written readably here and sent compact (one protocol message per line).
std::string compact(std::string_view pretty) {
    std::string out(pretty.size(), '\0');
    std::size_t len = 0;
    if (simdjson::minify(pretty.data(), pretty.size(), out.data(), len) != simdjson::SUCCESS) return std::string(pretty);
    out.resize(len);
    return out;
}

constexpr std::string_view config_schema_text = R"({
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
    "codec": {"type": "string", "title": "Codec", "enum": ["plain", "line", "json"], "default": "line", "order": 2,
      "description": "How the byte stream becomes documents: line makes one document per line, json parses each line as a JSON object (NDJSON), plain makes one document per chunk of text as it arrives."},
    "tls": {"type": "object", "title": "TLS", "order": 3,
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
      "advanced": true, "order": 4,
      "description": "How many bytes each read from the socket asks for."},
    "reconnect_delay": {"type": "number", "title": "Reconnect Delay", "default": 5.0, "minimum": 0, "maximum": 86400,
      "advanced": true, "order": 5,
      "description": "Seconds to wait before connecting again after a disconnect or a failed attempt."},
    "reconnect_max_delay": {"type": ["number", "null"], "title": "Reconnect Max Delay", "default": null, "minimum": 0,
      "maximum": 86400, "advanced": true, "order": 6,
      "description": "Turns on exponential backoff: after repeated failures the wait doubles (with random jitter) up to this many seconds, and returns to the reconnect delay once a connection is healthy. Leave it empty (or 0) for a fixed delay."},
    "max_reconnect_attempts": {"type": "integer", "title": "Max Reconnect Attempts", "default": -1, "minimum": -1,
      "maximum": 2147483647, "advanced": true, "order": 7,
      "description": "How many consecutive failed connection attempts are allowed before the capture fails; -1 means unlimited."},
    "connection_timeout": {"type": "number", "title": "Connection Timeout", "default": 30.0, "exclusiveMinimum": 0,
      "maximum": 3600, "advanced": true, "order": 8,
      "description": "Seconds allowed to resolve the host and connect (with TLS, to finish the handshake too)."},
    "idle_timeout": {"type": ["number", "null"], "title": "Idle Timeout", "default": null, "minimum": 0, "maximum": 86400,
      "advanced": true, "order": 9,
      "description": "Seconds without data after which the connection is closed and opened again. Leave it empty (or 0) to wait forever."},
    "max_frame_bytes": {"type": "integer", "title": "Max Frame Size", "default": 1048576, "minimum": 1024,
      "maximum": 67108864, "advanced": true, "order": 10,
      "description": "The longest line or chunk kept, in bytes. A longer one becomes an error document holding its first bytes."}
  }
})";

constexpr std::string_view resource_schema_text = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Socket Stream",
  "type": "object",
  "required": ["stream"],
  "properties": {
    "stream": {"type": "string", "title": "Stream", "minLength": 1,
      "description": "The name of this stream; it names the collection the documents go to."}
  }
})";

constexpr std::string_view document_head = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Socket Document",
  "type": "object",
  "required": ["timestamp", "source_host", "source_port", "data", "sequence", "session_id"],
  "properties": {
    "timestamp": {"type": "string", "format": "date-time",
      "description": "When the bytes of this document were received (RFC 3339, UTC)."},
    "source_host": {"type": "string", "description": "The host the connector connected to, as configured."},
    "source_port": {"type": "integer", "description": "The port the connector connected to."},
    "data": )";

constexpr std::string_view document_tail = R"(,
    "raw": {"type": "string", "description": "The text as received (line and plain codecs)."},
    "partial": {"type": "boolean",
      "description": "True when the connection ended before this frame's delimiter arrived; absent otherwise."},
    "sequence": {"type": "integer", "minimum": 1, "description": "The document's position in its session, from 1."},
    "session_id": {"type": "string", "description": "A random UUID that identifies one connection."}
  }
})";

constexpr std::string_view text_data_schema = R"({"type": "object",
      "description": "The text in value; for a frame longer than max_frame_bytes, _error, _error_message and _raw (its first bytes) instead.",
      "properties": {"value": {"type": "string"}, "_error": {"type": "boolean"}, "_error_message": {"type": "string"},
        "_raw": {"type": "string"}}})";

constexpr std::string_view json_data_schema = R"({"type": "object",
      "description": "The JSON object sent on the line, as it was sent; a line that is not a JSON object gives _error, _error_message and _raw instead."})";

std::string document_schema_text(std::string_view data) {
    std::string s(document_head);
    s += data;
    s += document_tail;
    return s;
}

} // namespace

std::string_view config_schema() {
    static const std::string s = compact(config_schema_text);
    return s;
}

std::string_view resource_config_schema() {
    static const std::string s = compact(resource_schema_text);
    return s;
}

std::string_view document_schema(codec_kind codec) {
    static const std::string text = compact(document_schema_text(text_data_schema));
    static const std::string json = compact(document_schema_text(json_data_schema));
    return codec == codec_kind::json ? json : text;
}

void write_spec(output_buffer& out) {
    append(out, R"({"spec":{"protocol":)");
    json::write_uint(out, protocol_version);
    append(out, R"(,"configSchema":)");
    append(out, config_schema());
    append(out, R"(,"resourceConfigSchema":)");
    append(out, resource_config_schema());
    append(out, R"(,"documentationUrl":)");
    json::write_string(out, documentation_url);
    append(out, R"(,"resourcePathPointers":["/stream"]}})");
    out.push_back('\n');
}

void write_discovered(output_buffer& out, codec_kind codec) {
    append(out, R"({"discovered":{"bindings":[{"recommendedName":)");
    json::write_string(out, default_stream);
    append(out, R"(,"resourceConfig":{"stream":)");
    json::write_string(out, default_stream);
    append(out, R"(},"documentSchema":)");
    append(out, document_schema(codec));
    append(out, R"(,"key":["/session_id","/sequence"],"resourcePath":[)");
    json::write_string(out, default_stream);
    append(out, "]}]}}\n");
}

void write_validated(output_buffer& out, const std::vector<std::string>& streams) {
    append(out, R"({"validated":{"bindings":[)");
    bool first = true;
    for (const auto& s : streams) {
        if (!first) out.push_back(',');
        first = false;
        append(out, R"({"resourcePath":[)");
        json::write_string(out, s);
        append(out, "]}");
    }
    append(out, "]}}\n");
}

void write_applied(output_buffer& out) { append(out, "{\"applied\":{}}\n"); }

void write_opened(output_buffer& out) { append(out, "{\"opened\":{}}\n"); }

void write_checkpoint(output_buffer& out, std::string_view state_key, const binding_state& state) {
    append(out, R"({"checkpoint":{"state":{"updated":{"bindingStateV1":{)");
    json::write_string(out, state_key);
    append(out, R"(:{"session_id":)");
    json::write_string(out, state.session_id);
    append(out, R"(,"sequence":)");
    json::write_uint(out, state.sequence);
    append(out, R"(,"bytes":)");
    json::write_uint(out, state.bytes);
    append(out, R"(,"documents":)");
    json::write_uint(out, state.documents);
    append(out, "}}},\"mergePatch\":true}}}\n");
}

} // namespace socketcap::flow
