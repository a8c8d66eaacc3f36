// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/flow/response.hpp>
#include <socketcap/json_writer.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
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

// A bound or a default: integral values without a fraction, except a number field's default,
// written 5.0 so that the form shows the field takes fractions.
void write_number(output_buffer& out, double v, bool point = false) {
    if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
        json::write_int(out, static_cast<std::int64_t>(v));
        if (point) append(out, ".0");
    } else {
        append(out, fmt::format("{}", v));
    }
}

std::string_view type_name(field_type t) noexcept {
    switch (t) {
    case field_type::boolean: return "boolean";
    case field_type::integer: return "integer";
    case field_type::number: return "number";
    case field_type::object: return "object";
    case field_type::array: return "array";
    case field_type::string:
    case field_type::choice: return "string";
    }
    return "string";
}

void write_properties(output_buffer& out, std::string_view parent);

// `"required":[…],` of an object field, when it has required members.
void write_required(output_buffer& out, std::string_view parent) {
    bool first = true;
    for (const auto& f : config_fields) {
        if (!f.required || f.parent() != parent) continue;
        append(out, first ? R"("required":[)" : ",");
        first = false;
        json::write_string(out, f.key());
    }
    if (!first) append(out, "],");
}

// One property of the configSchema; the keywords in a fixed order.
void write_field(output_buffer& out, const config_field& f, std::int64_t order) {
    append(out, R"({"type":)");
    if (f.nullable) {
        out.push_back('[');
        json::write_string(out, type_name(f.type));
        append(out, R"(,"null"])");
    } else {
        json::write_string(out, type_name(f.type));
    }
    append(out, R"(,"title":)");
    json::write_string(out, f.title);
    if (f.not_empty) append(out, R"(,"minLength":1)");
    if (!f.pattern.empty()) {
        append(out, R"(,"pattern":)");
        json::write_string(out, f.pattern);
    }
    if (f.type == field_type::choice) {
        append(out, R"(,"enum":[)");
        for (std::size_t i = 0; i < f.choices.size(); ++i) {
            if (i) out.push_back(',');
            json::write_string(out, f.choices[i]);
        }
        out.push_back(']');
    }
    if (f.has_default) {
        append(out, R"(,"default":)");
        if (f.nullable) append(out, "null");
        else if (f.type == field_type::boolean) append(out, f.flag ? "true" : "false");
        else if (f.type == field_type::choice) json::write_string(out, f.text);
        else write_number(out, f.value, f.type == field_type::number);
    }
    if (f.type == field_type::integer || f.type == field_type::number) {
        append(out, f.exclusive_minimum ? R"(,"exclusiveMinimum":)" : R"(,"minimum":)");
        write_number(out, f.minimum);
        append(out, R"(,"maximum":)");
        write_number(out, f.maximum);
    }
    if (f.multiline) append(out, R"(,"multiline":true)");
    if (f.secret) append(out, R"(,"secret":true)");
    if (f.advanced) append(out, R"(,"advanced":true)");
    append(out, R"(,"order":)");
    json::write_int(out, order);
    append(out, R"(,"description":)");
    json::write_string(out, f.description);
    if (f.type == field_type::object) {
        out.push_back(',');
        write_required(out, f.name);
        write_properties(out, f.name);
        if (f.closed) append(out, R"(,"additionalProperties":false)");
    }
    if (f.type == field_type::array) {
        append(out, R"(,"items":{"type":)");
        json::write_string(out, type_name(f.items));
        if (f.items == field_type::object) { // members are named "<array>[].<key>"
            std::string members = std::string(f.name) + "[]";
            out.push_back(',');
            write_required(out, members);
            write_properties(out, members);
            if (f.closed) append(out, R"(,"additionalProperties":false)");
        }
        out.push_back('}');
    }
    out.push_back('}');
}

// "properties" of the top-level object (parent empty) or of an object field.
void write_properties(output_buffer& out, std::string_view parent) {
    append(out, R"("properties":{)");
    std::int64_t order = 0;
    for (const auto& f : config_fields) {
        if (f.parent() != parent) continue;
        if (order != 0) out.push_back(',');
        json::write_string(out, f.key());
        out.push_back(':');
        write_field(out, f, order++);
    }
    out.push_back('}');
}

std::string config_schema_text() {
    output_buffer out;
    append(out, R"({"$schema":"http://json-schema.org/draft-07/schema#","title":"Socket Source",)"
                R"("description":"Connect to a TCP server, optionally over TLS, and capture what it sends.",)"
                R"("type":"object",)");
    write_required(out, {});
    write_properties(out, {});
    out.push_back('}');
    return std::string(view(out));
}

constexpr std::string_view resource_schema_text = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Socket Stream",
  "type": "object",
  "required": ["stream"],
  "properties": {
    "stream": {"type": "string", "title": "Stream", "minLength": 1, "order": 0,
      "description": "The name of this stream; it names the collection the documents go to."},
    "host": {"type": "string", "title": "Host", "minLength": 1, "order": 1,
      "description": "This binding's server, when a capture has one binding per server; empty: the endpoint's host."},
    "port": {"type": "integer", "title": "Port", "minimum": 1, "maximum": 65535, "order": 2,
      "description": "This binding's port; empty: the endpoint's port."},
    "server_hostname": {"type": "string", "title": "TLS Server Hostname", "order": 3,
      "description": "The name expected in this server's certificate (and sent as SNI); empty: the endpoint's, or this binding's host."},
    "on_connect": {"type": "array", "title": "Send On Connect", "items": {"type": "string"}, "order": 4,
      "description": "This binding's own messages on connect (a subscription to its feed); empty: the endpoint's."},
    "password": {"type": "string", "title": "Password", "secret": true, "order": 5,
      "description": "This binding's ${password}; empty: the endpoint's."}
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
      "description": "The text in value; for a frame longer than max_frame_bytes or bytes that break the framing, _error, _error_message and _raw (its first bytes) instead.",
      "properties": {"value": {"type": "string"}, "_error": {"type": "boolean"}, "_error_message": {"type": "string"},
        "_raw": {"type": "string"}}})";

constexpr std::string_view base64_data_schema = R"({"type": "object",
      "description": "The frame's bytes in base64 (RFC 4648, padded); for a frame that is too long or breaks the framing, _error, _error_message and _raw (its first bytes, in base64) instead.",
      "properties": {"base64": {"type": "string", "contentEncoding": "base64"}, "_error": {"type": "boolean"},
        "_error_message": {"type": "string"}, "_raw": {"type": "string", "contentEncoding": "base64"}}})";

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
    static const std::string s = config_schema_text(); // written from config_fields (fields.hpp)
    return s;
}

std::string_view resource_config_schema() {
    static const std::string s = compact(resource_schema_text);
    return s;
}

std::string_view document_schema(codec_kind codec) {
    static const std::string text = compact(document_schema_text(text_data_schema));
    static const std::string json = compact(document_schema_text(json_data_schema));
    static const std::string base64 = compact(document_schema_text(base64_data_schema));
    return codec == codec_kind::json ? json : codec == codec_kind::base64 ? base64 : text;
}

std::string document_schema(codec_kind codec, document_positions positions) {
    std::string s(document_schema(codec));
    if (positions == document_positions::none) return s;
    // "position" joins the required fields and the properties, before "sequence".
    constexpr std::string_view required = R"("sequence","session_id"])";
    s.replace(s.find(required), required.size(), R"("sequence","session_id","position"])");
    std::string property = positions == document_positions::integer
        ? R"("position":{"type":["integer","string"],"description":"Where the message sits in the server's stream )"
          R"((position); a document whose frame gave none has \"<session_id>/<sequence>\" instead. The )"
          R"(collection is keyed on it, so a message the server sends again replaces itself."},)"
        : R"("position":{"type":"string","description":"The message's id (position); a document whose frame )"
          R"(gave none has \"<session_id>/<sequence>\" instead. The collection is keyed on it, so a message )"
          R"(the server sends again replaces itself."},)";
    constexpr std::string_view sequence = R"("sequence":{)";
    s.insert(s.rfind(sequence), property);
    return s;
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

void write_discovered(output_buffer& out, codec_kind codec, document_positions positions) {
    append(out, R"({"discovered":{"bindings":[{"recommendedName":)");
    json::write_string(out, default_stream);
    append(out, R"(,"resourceConfig":{"stream":)");
    json::write_string(out, default_stream);
    append(out, R"(},"documentSchema":)");
    append(out, document_schema(codec, positions));
    append(out, positions == document_positions::none ? R"(,"key":["/session_id","/sequence"],"resourcePath":[)"
                                                      : R"(,"key":["/position"],"resourcePath":[)");
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

void write_opened(output_buffer& out, bool explicit_acknowledgements) {
    append(out, explicit_acknowledgements ? "{\"opened\":{\"explicitAcknowledgements\":true}}\n" : "{\"opened\":{}}\n");
}

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
    if (!state.position.empty()) {
        append(out, R"(,"position":)");
        if (state.position_is_string) json::write_string(out, state.position);
        else append(out, state.position); // digits, checked when the frame gave them
    }
    append(out, "}}},\"mergePatch\":true}}}\n");
}

} // namespace socketcap::flow
