// SPDX-License-Identifier: MIT OR Apache-2.0
// The sans-I/O Flow layer: config and request parsing, response rendering.
#include <socketcap/flow/config.hpp>
#include <socketcap/flow/request.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/flow/shard.hpp>

#include <highwayhash/c_bindings.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <bit>

using namespace socketcap;
using namespace socketcap::flow;

TEST_CASE("endpoint config: defaults", "[flow][config]") {
    auto c = parse_endpoint_config(R"({"host":"data.example.com","port":9000})");
    REQUIRE(c);
    CHECK(c.value.host == "data.example.com");
    CHECK(c.value.port == 9000);
    CHECK_FALSE(c.value.tls.enabled);
    CHECK(c.value.tls.verify_cert);
    CHECK(c.value.tls.ca_cert.empty());
    CHECK(c.value.codec == codec_kind::line);
    CHECK(c.value.buffer_size == 65536);
    CHECK(c.value.reconnect_delay == 5.0);
    CHECK(c.value.max_reconnect_attempts == -1);
    CHECK(c.value.connection_timeout == 30.0);
    CHECK_FALSE(c.value.idle_timeout.has_value());
    CHECK_FALSE(c.value.reconnect_max_delay.has_value());
    CHECK(c.value.idle_timeout_duration().count() == 0);
    CHECK(c.value.max_frame_bytes == 1048576);
}

TEST_CASE("endpoint config: every field, unknown fields ignored, null means default", "[flow][config]") {
    auto c = parse_endpoint_config(R"({"host":"h","port":1,"codec":"json","buffer_size":1024,"reconnect_delay":0,
        "reconnect_max_delay":60,"max_reconnect_attempts":3,"connection_timeout":0.5,"idle_timeout":2.5,"max_frame_bytes":67108864,
        "tls":{"enabled":true,"verify_cert":false,"ca_cert":"/ca.pem","client_cert":"/c.pem","client_key":"/k.pem",
        "server_hostname":"name.test"},"sops":{"x":1},"future":null,"port_extra":1})");
    REQUIRE(c);
    CHECK(c.value.codec == codec_kind::json);
    CHECK(c.value.buffer_size == 1024);
    CHECK(c.value.reconnect_delay == 0);
    CHECK(c.value.max_reconnect_attempts == 3);
    CHECK(c.value.reconnect_max_delay == 60.0);
    CHECK(c.value.connection_timeout == 0.5);
    CHECK(c.value.idle_timeout == 2.5);
    CHECK(c.value.max_frame_bytes == 67108864);
    CHECK(c.value.tls.enabled);
    CHECK_FALSE(c.value.tls.verify_cert);
    CHECK(c.value.tls.client_key == "/k.pem");
    CHECK(c.value.tls.server_hostname == "name.test");

    auto n = parse_endpoint_config(R"({"host":"h","port":9000.0,"codec":null,"idle_timeout":0,"tls":null,"reconnect_max_delay":0})");
    REQUIRE(n);
    CHECK(n.value.port == 9000);
    CHECK(n.value.codec == codec_kind::line);
    CHECK_FALSE(n.value.idle_timeout.has_value());
    CHECK_FALSE(n.value.reconnect_max_delay.has_value());
}

// Found by fuzz_flow_config: 1e-34 s passed the "> 0" check and truncated to a zero duration.
TEST_CASE("endpoint config: durations round up, so a positive setting never becomes zero", "[flow][config]") {
    auto c = parse_endpoint_config(R"({"host":"h","port":9,"connection_timeout":1e-34,"idle_timeout":1e-300,
        "reconnect_delay":5e-10})");
    REQUIRE(c);
    CHECK(c.value.connection_timeout_duration() == std::chrono::nanoseconds(1));
    CHECK(c.value.idle_timeout_duration() == std::chrono::nanoseconds(1));
    CHECK(c.value.reconnect_delay_duration() == std::chrono::nanoseconds(1));

    auto d = parse_endpoint_config(R"({"host":"h","port":9,"connection_timeout":0.5,"idle_timeout":3600,"reconnect_delay":0})");
    REQUIRE(d);
    CHECK(d.value.connection_timeout_duration() == std::chrono::milliseconds(500));
    CHECK(d.value.idle_timeout_duration() == std::chrono::hours(1));
    CHECK(d.value.reconnect_delay_duration() == std::chrono::nanoseconds(0));
    CHECK(d.value.reconnect_max_delay_duration() == std::chrono::nanoseconds(0)); // off

    auto e = parse_endpoint_config(R"({"host":"h","port":9,"reconnect_delay":0,"reconnect_max_delay":2.5e-10})");
    REQUIRE(e);
    CHECK(e.value.reconnect_max_delay_duration() == std::chrono::nanoseconds(1));
}

TEST_CASE("endpoint config: bad input never throws and names the field", "[flow][config]") {
    CHECK(parse_endpoint_config("").error.rfind("config: not valid JSON: ", 0) == 0);
    CHECK(parse_endpoint_config("{\"host\":").error.rfind("config: not valid JSON: ", 0) == 0);
    CHECK(parse_endpoint_config(R"({"host":"h","port":18446744073709551615})").error ==
          "port: must be an integer from 1 to 65535, got 18446744073709551615");
    CHECK(parse_endpoint_config(R"({"host":"h","port":-1})").error == "port: must be an integer from 1 to 65535, got -1");
    std::string long_host(100, 'a');
    CHECK(parse_endpoint_config(R"({"host":")" + long_host + R"(","port":1,"codec":")" + long_host + R"("})").error ==
          R"(codec: must be one of "plain", "line", "json", "base64", got ")" + std::string(60, 'a') + "...");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"client_key":"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n"}})")
              .error == "tls.client_cert: is required when tls.client_key is set");
}

TEST_CASE("endpoint config: every problem is reported in one line, in field order", "[flow][config]") {
    // One round of fixing instead of one error per attempt; one line because the Flow runtime
    // shows the user the last stderr line.
    auto r = parse_endpoint_config(
        R"({"host":"a b","port":0,"tls":{"enabled":"yes","client_cert":"/c.pem"},"codec":"xml",)"
        R"("buffer_size":1,"reconnect_delay":-1,"reconnect_max_delay":5,"connection_timeout":0,"max_frame_bytes":10})");
    CHECK(r.error ==
          "host: must not contain spaces; "
          "port: must be an integer from 1 to 65535, got 0; "
          R"(tls.enabled: must be true or false, got "yes"; )"
          "tls.client_key: is required when tls.client_cert is set; "
          R"(codec: must be one of "plain", "line", "json", "base64", got "xml"; )"
          "buffer_size: must be an integer from 1024 to 16777216, got 1; "
          "reconnect_delay: must be a number of seconds from 0 to 86400, got -1; "
          "connection_timeout: must be a number of seconds greater than 0 and at most 3600, got 0; "
          "max_frame_bytes: must be an integer from 1024 to 67108864, got 10");
    // A failed parse hands back no half-filled configuration.
    CHECK(r.value.host.empty());
    CHECK(r.value.port == 0);

    // A field of the wrong type is one problem, not two: the pairing rule needs both strings.
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"client_cert":"/c.pem","client_key":5}})").error ==
          "tls.client_key: must be a string, got a number (the value is not shown: it may be secret)");
    CHECK(parse_endpoint_config(R"({"port":1,"tls":true})").error == "host: is required; tls: must be an object, got true");
    CHECK(parse_resource_config("{}").error == "stream: is required");
}

TEST_CASE("endpoint config: a secret field of the wrong type is described, never quoted", "[flow][config]") {
    auto key = parse_endpoint_config(
        R"({"host":"h","port":1,"tls":{"client_cert":"/c.pem","client_key":["MHcCAQEEIBkgSECRET"]}})");
    CHECK(key.error == "tls.client_key: must be a string, got an array (the value is not shown: it may be secret)");
    auto pw = parse_endpoint_config(R"({"host":"h","port":1,"tls":{"client_key_password":123456789}})");
    CHECK(pw.error == "tls.client_key_password: must be a string, got a number (the value is not shown: it may be secret)");
    CHECK(pw.error.find("123456789") == std::string::npos);
    // Fields that are not secret still quote what they got.
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"ca_cert":["x"]}})").error ==
          R"(tls.ca_cert: must be a string, got ["x"])");
}

TEST_CASE("endpoint config: control characters in host names are refused, not cut at the NUL", "[flow][config]") {
    // Resolution and certificate checks take C strings: "localhost\0.evil.example" would be
    // resolved and verified as "localhost".
    CHECK(parse_endpoint_config(R"({"host":"localhost\u0000.evil.example","port":1})").error ==
          "host: must not contain control characters, found U+0000 at byte 9");
    CHECK(parse_endpoint_config(R"({"host":"a\u0001","port":1})").error ==
          "host: must not contain control characters, found U+0001 at byte 1");
    CHECK(parse_endpoint_config(R"({"host":"a\u007f","port":1})").error ==
          "host: must not contain control characters, found U+007F at byte 1");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"server_hostname":"localhost\u0000.evil.example"}})")
              .error == "tls.server_hostname: must not contain control characters, found U+0000 at byte 9");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"server_hostname":"a b"}})").error ==
          "tls.server_hostname: must not contain spaces");
    CHECK(parse_endpoint_config(R"({"host":"h\tx","port":1})").error == "host: must not contain spaces");
    // Names outside ASCII are left to the resolver (IDNs arrive as UTF-8 or punycode).
    auto ok = parse_endpoint_config(R"({"host":"bücher.example","port":1,"tls":{"server_hostname":"xn--bcher-kva.example"}})");
    CHECK(ok.error.empty());
    CHECK(ok.value.host == "bücher.example");
    CHECK(ok.value.tls.server_hostname == "xn--bcher-kva.example");
}

TEST_CASE("resource config", "[flow][config]") {
    CHECK(parse_resource_config(R"({"stream":"socket_events"})").value.stream == "socket_events");
    CHECK(parse_resource_config(R"({"stream":5})").error == "stream: must be a string, got 5");
    CHECK(parse_resource_config(R"("x")").error == R"(resourceConfig: must be an object, got "x")");
}

TEST_CASE("requests: open with unknown fields, defaults for missing ones", "[flow][request]") {
    auto r = parse_request(R"({"open":{"capture":{"name":"a/b","config":{"host":"h","port":1},"bindings":[
        {"resourceConfig":{"stream":"s"},"resourcePath":["s"],"stateKey":"s.v1","backfill":1,"newThing":{}}],
        "inactiveBindings":[]},"version":"v","range":{"keyEnd":4294967295,"rClockEnd":4294967295},
        "state":{"bindingStateV1":{"s.v1":{"session_id":"id","sequence":7,"bytes":70,"documents":7}}}},"$internal":{}})");
    REQUIRE(r);
    CHECK(r.value.kind == request_kind::open);
    CHECK(r.value.config == R"({"host":"h","port":1})");
    REQUIRE(r.value.bindings.size() == 1);
    CHECK(r.value.bindings[0].resource_config == R"({"stream":"s"})");
    CHECK(r.value.bindings[0].resource_path == std::vector<std::string>{"s"});
    CHECK(r.value.bindings[0].state_key == "s.v1");
    CHECK(r.value.range.full());
    auto st = parse_binding_state(r.value.state, "s.v1");
    CHECK(st.session_id == "id");
    CHECK(st.sequence == 7);
    CHECK(st.bytes == 70);
    CHECK(st.documents == 7);
    CHECK(parse_binding_state(r.value.state, "other").documents == 0);
    CHECK(parse_binding_state("garbage", "s.v1").documents == 0);

    auto split = parse_request(R"({"open":{"range":{"keyBegin":2147483648,"keyEnd":4294967295}}})");
    REQUIRE(split);
    CHECK_FALSE(split.value.range.full());
}

TEST_CASE("requests: errors", "[flow][request]") {
    CHECK(parse_request("").error.rfind("request: not valid JSON: ", 0) == 0);
    CHECK(parse_request("[]").error == "request: must be an object, got []");
    CHECK(parse_request(R"({"spec":1})").error == "spec: must be an object, got 1");
    CHECK(parse_request(R"({"validate":{"bindings":{}}})").error == "validate.bindings: must be an array, got {}");
    CHECK(parse_request(R"({"open":{"capture":{"bindings":[{"stateKey":5}]}}})").error ==
          "open.capture.bindings[0].stateKey: must be a string, got 5");
    CHECK(parse_request(R"({"open":{"range":{"keyEnd":-1}}})").error ==
          "open.range.keyEnd: must be an integer from 0 to 4294967295, got -1");
    auto spec = parse_request(R"({"spec":{"connectorType":"IMAGE","config":{"partial":true}}})");
    REQUIRE(spec);
    CHECK(spec.value.kind == request_kind::spec);
}

// Issue 12, item 6: `{"spec":{},"validate":{}}` was answered as spec. The runtime's own check
// (Request.Validate_ in flow's go/protocols/capture) wants exactly one message per request.
TEST_CASE("requests: two messages in one request are refused, naming them", "[flow][request]") {
    CHECK(parse_request(R"({"spec":{},"validate":{}})").error ==
          "request: expected exactly one of spec, discover, validate, apply, open, acknowledge; got spec and validate");
    CHECK(parse_request(R"({"open":{},"acknowledge":{},"apply":{}})").error ==
          "request: expected exactly one of spec, discover, validate, apply, open, acknowledge; got apply, open and acknowledge");
    // null is an absent field in proto3 JSON, not a second message.
    auto r = parse_request(R"({"spec":{},"validate":null})");
    REQUIRE(r);
    CHECK(r.value.kind == request_kind::spec);
}

TEST_CASE("responses: exact lines", "[flow][response]") {
    output_buffer out;
    write_checkpoint(out, "a\"b", binding_state{"sid", 3, 30, 4});
    CHECK(view(out) == R"({"checkpoint":{"state":{"updated":{"bindingStateV1":{"a\"b":{"session_id":"sid","sequence":3,"bytes":30,"documents":4}}},"mergePatch":true}}})" "\n");
    out.clear();
    write_validated(out, {"x", "y"});
    CHECK(view(out) == R"({"validated":{"bindings":[{"resourcePath":["x"]},{"resourcePath":["y"]}]}})" "\n");
    out.clear();
    write_opened(out);
    write_applied(out);
    CHECK(view(out) == "{\"opened\":{}}\n{\"applied\":{}}\n");
    out.clear();
    write_spec(out);
    std::string_view spec = view(out);
    CHECK(spec.find('\n') == spec.size() - 1); // one line
    simdjson::dom::parser p;
    simdjson::dom::element e;
    CHECK(p.parse(spec.data(), spec.size() - 1).get(e) == simdjson::SUCCESS);
    for (auto codec : {codec_kind::line, codec_kind::json, codec_kind::plain})
        CHECK(p.parse(std::string(document_schema(codec))).get(e) == simdjson::SUCCESS);
}

namespace {
framing_options framing_of(std::string_view framing_json, std::string_view codec = "line") {
    auto c = parse_endpoint_config(fmt::format(R"({{"host":"h","port":1,"codec":"{}","framing":{}}})", codec, framing_json));
    INFO(c.error);
    REQUIRE(c);
    return c.value.effective_framing();
}
std::string framing_error(std::string_view framing_json, std::string_view codec = "line") {
    return parse_endpoint_config(fmt::format(R"({{"host":"h","port":1,"codec":"{}","framing":{}}})", codec, framing_json))
        .error;
}
} // namespace

TEST_CASE("endpoint config: without framing each codec keeps its own, as before", "[flow][config][framing]") {
    auto of = [](std::string_view codec) {
        auto c = parse_endpoint_config(fmt::format(R"({{"host":"h","port":1,"codec":"{}"}})", codec));
        REQUIRE(c);
        CHECK_FALSE(c.value.framing.has_value());
        return c.value.effective_framing();
    };
    CHECK(of("line").kind == framing_kind::lines);
    CHECK(of("json").kind == framing_kind::lines);
    CHECK(of("plain").kind == framing_kind::chunks);
    CHECK(of("plain").whole_characters);
    CHECK(of("base64").kind == framing_kind::chunks);
    CHECK_FALSE(of("base64").whole_characters); // bytes, not characters
    // null is "the default", like every optional field.
    CHECK(framing_of("null", "json").kind == framing_kind::lines);
}

TEST_CASE("endpoint config: framing types and their settings", "[flow][config][framing]") {
    CHECK(framing_of(R"({"type":"mllp"})").kind == framing_kind::mllp);
    CHECK(framing_of(R"({"type":"octet_counting"})", "json").kind == framing_kind::octet_counting);
    CHECK(framing_of(R"({"type":"lines"})", "plain").kind == framing_kind::lines);
    auto chunks = framing_of(R"({"type":"chunks"})", "base64");
    CHECK(chunks.kind == framing_kind::chunks);
    CHECK_FALSE(chunks.whole_characters);
    CHECK(framing_of(R"({"type":"chunks"})", "line").whole_characters);

    // Delimiters are bytes, written with JSON escapes.
    auto d = framing_of(R"({"type":"delimiter","delimiter":"\r\n","keep_delimiter":true})");
    CHECK(d.kind == framing_kind::delimiter);
    CHECK(d.delimiter == "\r\n");
    CHECK(d.keep_delimiter);
    CHECK(framing_of(R"({"type":"delimiter","delimiter":"\u0000"})").delimiter == std::string(1, '\0'));
    CHECK(framing_of(R"({"type":"delimiter","delimiter":"|||"})").delimiter == "|||");
    CHECK(framing_of(R"({"type":"delimiter","delimiter":"0123456789abcdef"})").delimiter.size() == 16);

    struct expect { std::string_view format; std::uint8_t bytes; std::endian order; };
    for (auto e : {expect{"uint8", 1, std::endian::big}, expect{"uint16_be", 2, std::endian::big},
                   expect{"uint16_le", 2, std::endian::little}, expect{"uint32_be", 4, std::endian::big},
                   expect{"uint32_le", 4, std::endian::little}, expect{"uint64_be", 8, std::endian::big},
                   expect{"uint64_le", 8, std::endian::little}, expect{"varint", 0, std::endian::big}}) {
        INFO(e.format);
        auto l = framing_of(fmt::format(R"({{"type":"length_prefixed","length_format":"{}"}})", e.format), "base64");
        CHECK(l.kind == framing_kind::length_prefixed);
        CHECK(l.length.length_bytes == e.bytes);
        CHECK(l.length.byte_order == e.order);
    }
    auto l = framing_of(R"({"type":"length_prefixed"})");
    CHECK(l.length.length_bytes == 4); // uint32_be, network order
    CHECK(l.length.byte_order == std::endian::big);
    CHECK_FALSE(l.length.length_includes_prefix);
    CHECK(l.length.header_bytes == 0);
    CHECK_FALSE(l.length.keep_prefix);
    l = framing_of(R"({"type":"length_prefixed","length_format":"uint16_le","length_includes_prefix":true,
                       "header_bytes":64,"keep_prefix":true})");
    CHECK(l.length.length_includes_prefix);
    CHECK(l.length.header_bytes == 64);
    CHECK(l.length.keep_prefix);
}

TEST_CASE("endpoint config: a form's defaults for other framing types are accepted", "[flow][config][framing]") {
    // Form builders write every field's default; only a value that matters elsewhere is an error.
    auto f = framing_of(R"({"type":"mllp","keep_delimiter":false,"length_format":"uint32_be",
                            "length_includes_prefix":false,"header_bytes":0,"keep_prefix":false})");
    CHECK(f.kind == framing_kind::mllp);
}

TEST_CASE("endpoint config: framing mistakes are named", "[flow][config][framing]") {
    CHECK(framing_error(R"("mllp")") == R"(framing: must be an object, got "mllp")");
    CHECK(framing_error("{}") == "framing.type: is required");
    CHECK(framing_error(R"({"type":"netstring"})") ==
          R"(framing.type: must be one of "lines", "delimiter", "length_prefixed", "octet_counting", "mllp", "chunks", got "netstring")");
    CHECK(framing_error(R"({"type":"delimiter"})") == R"(framing.delimiter: is required when framing.type is "delimiter")");
    CHECK(framing_error(R"({"type":"delimiter","delimiter":""})") == "framing.delimiter: must be 1 to 16 bytes, got 0");
    CHECK(framing_error(R"({"type":"delimiter","delimiter":"0123456789abcdefg"})") ==
          "framing.delimiter: must be 1 to 16 bytes, got 17");
    CHECK(framing_error(R"({"type":"delimiter","delimiter":7})") == "framing.delimiter: must be a string, got 7");
    CHECK(framing_error(R"({"type":"lines","delimiter":"\r"})") ==
          R"(framing.delimiter: applies only when framing.type is "delimiter", not "lines")");
    CHECK(framing_error(R"({"type":"mllp","keep_delimiter":true})") ==
          R"(framing.keep_delimiter: applies only when framing.type is "delimiter", not "mllp")");
    CHECK(framing_error(R"({"type":"delimiter","delimiter":"\r","length_format":"varint"})") ==
          R"(framing.length_format: applies only when framing.type is "length_prefixed", not "delimiter")");
    CHECK(framing_error(R"({"type":"octet_counting","header_bytes":2,"keep_prefix":true})") ==
          R"(framing.header_bytes: applies only when framing.type is "length_prefixed", not "octet_counting"; )"
          R"(framing.keep_prefix: applies only when framing.type is "length_prefixed", not "octet_counting")");
    CHECK(framing_error(R"({"type":"length_prefixed","length_format":"uint24_be"})") ==
          R"(framing.length_format: must be one of "uint8", "uint16_be", "uint16_le", "uint32_be", "uint32_le", "uint64_be", "uint64_le", "varint", got "uint24_be")");
    CHECK(framing_error(R"({"type":"length_prefixed","header_bytes":65})") ==
          "framing.header_bytes: must be an integer from 0 to 64, got 65");
    // With other problems, in field order, one line.
    CHECK(parse_endpoint_config(R"({"host":"h","port":0,"framing":{"type":"delimiter"}})").error ==
          R"(port: must be an integer from 1 to 65535, got 0; framing.delimiter: is required when framing.type is "delimiter")");
}

TEST_CASE("document schema: base64 documents declare their encoding", "[flow][framing]") {
    simdjson::dom::parser parser;
    simdjson::dom::element schema;
    REQUIRE(parser.parse(std::string(document_schema(codec_kind::base64))).get(schema) == simdjson::SUCCESS);
    auto data = schema["properties"]["data"]["properties"];
    CHECK(std::string_view(data["base64"]["type"]) == "string");
    CHECK(std::string_view(data["base64"]["contentEncoding"]) == "base64");
    CHECK(std::string_view(data["_raw"]["contentEncoding"]) == "base64");
    // The text codecs' schema has no base64 member.
    REQUIRE(parser.parse(std::string(document_schema(codec_kind::plain))).get(schema) == simdjson::SUCCESS);
    simdjson::dom::element absent;
    CHECK(schema["properties"]["data"]["properties"]["base64"].get(absent) == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("endpoint config: networkTunnel.sshForwarding, Estuary's shape", "[flow][config][ssh]") {
    constexpr std::string_view key = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjE=\\n"
                                     "-----END OPENSSH PRIVATE KEY-----\\n";
    auto with = [&](std::string_view endpoint) {
        return fmt::format(R"({{"host":"10.0.0.5","port":5140,"networkTunnel":{{"sshForwarding":)"
                           R"({{"sshEndpoint":"{}","privateKey":"{}"}}}}}})",
                           endpoint, key);
    };
    auto c = parse_endpoint_config(with("ssh://flow@bastion.example.com"));
    REQUIRE(c);
    REQUIRE(c.value.ssh_forwarding);
    CHECK(c.value.ssh_forwarding->user == "flow");
    CHECK(c.value.ssh_forwarding->host == "bastion.example.com");
    CHECK(c.value.ssh_forwarding->port == 22);
    CHECK(c.value.ssh_forwarding->ssh_endpoint == "ssh://flow@bastion.example.com");
    CHECK(c.value.ssh_forwarding->private_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    c = parse_endpoint_config(with("ssh://ops@corp@[2001:db8::1]:2222"));
    REQUIRE(c);
    CHECK(c.value.ssh_forwarding->user == "ops@corp");
    CHECK(c.value.ssh_forwarding->host == "2001:db8::1");
    CHECK(c.value.ssh_forwarding->port == 2222);
    // No tunnel: absent, null, an empty object, a null sshForwarding.
    for (auto none : {R"(null)", R"({})", R"({"sshForwarding":null})"}) {
        INFO(none);
        auto n = parse_endpoint_config(fmt::format(R"({{"host":"h","port":1,"networkTunnel":{}}})", none));
        REQUIRE(n);
        CHECK_FALSE(n.value.ssh_forwarding);
    }
    for (auto bad : {"bastion:22", "ssh://bastion", "ssh://@bastion", "ssh://u@", "ssh://u@h:0", "ssh://u@h:65536",
                     "ssh://u@h:", "ssh://u@h/path", "ssh://-oProxyCommand=x@h", "ssh://u@-h", "ssh://u@[::1",
                     "ssh://u s@h"}) {
        INFO(bad);
        CHECK(parse_endpoint_config(with(bad)).error ==
              fmt::format(R"(networkTunnel.sshForwarding.sshEndpoint: must look like ssh://user@host[:port], got "{}")",
                          bad));
    }
}

TEST_CASE("endpoint config: networkTunnel mistakes are named, the key never shown", "[flow][config][ssh]") {
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":{"sshForwarding":{}}})").error ==
          "networkTunnel.sshForwarding.sshEndpoint: is required; networkTunnel.sshForwarding.privateKey: is required");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":{"sshForwarding":)"
                                R"({"sshEndpoint":"ssh://u@h","privateKey":"MIIEsecretbody","port":22}}})")
              .error ==
          "networkTunnel.sshForwarding: unknown field \"port\"; networkTunnel.sshForwarding.privateKey: must be a "
          "private key in OpenSSH or PEM format, from its -----BEGIN line to its -----END line (the value is not "
          "shown: it is secret)");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":{"sshForwarding":)"
                                R"({"sshEndpoint":"ssh://u@h","privateKey":["MIIEsecretbody"]}}})")
              .error == "networkTunnel.sshForwarding.privateKey: must be a string, got an array (the value is not "
                        "shown: it may be secret)");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":{"ssh":{}}})").error ==
          "networkTunnel: unknown field \"ssh\"");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":"MIIEsecretbody"})").error ==
          "networkTunnel: must be an object, got a string");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"networkTunnel":{"sshForwarding":"MIIEsecretbody"}})").error ==
          "networkTunnel.sshForwarding: must be an object, got a string");
}

namespace {
std::string with_conversation(std::string_view members) {
    return fmt::format(R"({{"host":"h","port":1,{}}})", members);
}
std::string conversation_error(std::string_view members) {
    return parse_endpoint_config(with_conversation(members)).error;
}
} // namespace

TEST_CASE("endpoint config: on_connect, password, heartbeat and replies", "[flow][config][conversation]") {
    auto p = parse_endpoint_config(with_conversation(
        R"("on_connect":["AUTH ${password}\\r\\n","MONITOR\r\n"],"password":"pw","heartbeat":{"message":"PING\r\n",)"
        R"("interval":2.5},"replies":[{"match":"^PING :(.*)$","reply":"PONG :${1}\r\n","capture":false},)"
        R"({"match":"x","reply":"y"}])"));
    INFO(p.error);
    REQUIRE(p);
    const auto& c = p.value.conversation;
    CHECK(c.on_connect == std::vector<std::string>{"AUTH ${password}\\r\\n", "MONITOR\r\n"});
    CHECK(c.heartbeat == "PING\r\n");
    CHECK(c.heartbeat_interval == std::chrono::milliseconds(2500));
    REQUIRE(c.replies.size() == 2);
    CHECK(c.replies[0].match == "^PING :(.*)$");
    CHECK(c.replies[0].reply == "PONG :${1}\r\n");
    CHECK(c.replies[0].capture == false);
    CHECK(c.replies[1].capture == true); // the default
    CHECK(c.variables == std::vector<std::pair<std::string, std::string>>{{"password", "pw"}});

    auto none = parse_endpoint_config(with_conversation(R"("on_connect":null,"heartbeat":null,"replies":[])"));
    REQUIRE(none);
    error_code ec;
    diagnostics diag;
    CHECK(!conversation_plan::compile(none.value.conversation, ec, diag)->writes());
}

TEST_CASE("endpoint config: conversation mistakes are named, the password never shown", "[flow][config][conversation]") {
    CHECK(conversation_error(R"("on_connect":"MONITOR")") == R"(on_connect: must be an array of strings, got "MONITOR")");
    CHECK(conversation_error(R"("on_connect":["a",5])") == R"(on_connect[1]: must be a string, got 5)");
    CHECK(conversation_error(R"("on_connect":["MONITOR\\q"])") ==
          R"(on_connect[0]: unknown escape \q at byte 7; use \r, \n, \t, \0, \\, \xHH or \uXXXX)");
    CHECK(conversation_error(R"("on_connect":[""])") == "on_connect[0]: is empty");
    CHECK(conversation_error(R"("on_connect":["AUTH ${password}"])") ==
          "password: is required: a message uses ${password}");
    CHECK(conversation_error(R"("on_connect":["AUTH ${pass}"],"password":"s3cret")") ==
          "on_connect[0]: unknown placeholder ${pass} at byte 5; known: ${session_id}, ${time}, ${unix_time}, "
          "${unix_time_ms}, ${last_session_id}, ${last_sequence}, ${documents}, ${position}, ${next_position}, ${password}");
    CHECK(conversation_error(R"("password":["s3cret"])") ==
          "password: must be a string, got an array (the value is not shown: it may be secret)");
    CHECK(conversation_error(R"("heartbeat":"PING")") == R"(heartbeat: must be an object, got "PING")");
    CHECK(conversation_error(R"("heartbeat":{"message":"PING"})") == "heartbeat.interval: is required");
    CHECK(conversation_error(R"("heartbeat":{"interval":5})") == "heartbeat.message: is required");
    CHECK(conversation_error(R"("heartbeat":{"message":"","interval":5})") == "heartbeat.message: must not be empty");
    CHECK(conversation_error(R"("heartbeat":{"message":"P","interval":0})") ==
          "heartbeat.interval: must be a number of seconds greater than 0 and at most 86400, got 0");
    CHECK(conversation_error(R"("heartbeat":{"message":"P","interval":5,"every":5})") ==
          R"(heartbeat: unknown field "every")");
    CHECK(conversation_error(R"("replies":{"match":"x"})") ==
          R"(replies: must be an array of objects, got {"match":"x"})");
    CHECK(conversation_error(R"("replies":["x"])") == R"(replies[0]: must be an object, got "x")");
    CHECK(conversation_error(R"("replies":[{"match":"a","reply":"b"},{"reply":"b","capture":"no"}])") ==
          R"(replies[1].match: is required; replies[1].capture: must be true or false, got "no")");
    CHECK(conversation_error(R"("replies":[{"match":"a","reply":"b","capure":false}])") ==
          R"(replies[0]: unknown field "capure")");
    CHECK(conversation_error(R"("replies":[{"match":"(a","reply":"b"}])") == "replies[0].match: missing ): (a");
    CHECK(conversation_error(R"x("replies":[{"match":"^PING (.*)","reply":"PONG ${2}"}])x").starts_with(
        "replies[0].reply: unknown placeholder ${2} at byte 5; known: ${session_id}, "));
    // Several at once, in field order, and never the password.
    auto all = conversation_error(
        R"("on_connect":[1],"password":"s3cret","heartbeat":{"message":"P"},"replies":[{"match":"a"}])");
    CHECK(all == "on_connect[0]: must be a string, got 1; heartbeat.interval: is required; replies[0].reply: is required");
    CHECK(all.find("s3cret") == std::string::npos);
}

TEST_CASE("endpoint config: position and ack", "[flow][config][exactly-once]") {
    auto p = parse_endpoint_config(with_conversation(
        R"("position":{"pattern":"^(\\d+) "},"ack":{"message":"ACK ${position}\n"},"on_connect":["RESUME ${next_position}\n"])"));
    INFO(p.error);
    REQUIRE(p);
    const auto& c = p.value.conversation;
    CHECK(c.position.source == position_source::pattern);
    CHECK(c.position.pattern == "^(\\d+) ");
    CHECK(!c.position.is_string);
    REQUIRE(c.ack);
    CHECK(c.ack->message == "ACK ${position}\n");
    CHECK(c.ack->per_frame);
    auto q = parse_endpoint_config(R"({"host":"h","port":1,"codec":"json","position":{"pointer":"/id","type":"string"},)"
                                   R"("ack":{"message":"A","per":"checkpoint"}})");
    REQUIRE(q);
    CHECK(q.value.conversation.position.source == position_source::pointer);
    CHECK(q.value.conversation.position.pointer == "/id");
    CHECK(q.value.conversation.position.is_string);
    CHECK(!q.value.conversation.ack->per_frame);
    auto counted = parse_endpoint_config(with_conversation(R"("position":{"counted":true,"pattern":null})"));
    REQUIRE(counted);
    CHECK(counted.value.conversation.position.source == position_source::counted);
    // A form's defaults: counted false beside a pattern.
    CHECK(parse_endpoint_config(with_conversation(R"x("position":{"pattern":"(x)","counted":false,"type":"integer"})x")));
}

TEST_CASE("endpoint config: position and ack mistakes are named, all at once", "[flow][config][exactly-once]") {
    CHECK(conversation_error(R"("position":{})") == "position: needs exactly one of pattern, pointer or counted, got 0");
    CHECK(conversation_error(R"x("position":{"pattern":"(a)","counted":true})x") ==
          "position: needs exactly one of pattern, pointer or counted, got 2");
    CHECK(conversation_error(R"("position":{"counted":true,"type":"string"})") ==
          "position.type: counted positions are integers");
    CHECK(conversation_error(R"("position":{"pointer":"/seq"})") == R"(position.pointer: needs the json codec, not "line")");
    CHECK(conversation_error(R"("position":{"pattern":"\\d+"})") ==
          R"(position.pattern: has no group; the position is its first group, as in ^(\d+))");
    CHECK(conversation_error(R"x("position":{"pattern":"(a)","type":"uuid"})x") ==
          R"(position.type: must be one of "integer", "string", got "uuid")");
    CHECK(conversation_error(R"x("position":{"pattern":"(a)","start":1})x") == R"(position: unknown field "start")");
    CHECK(conversation_error(R"("ack":{"message":"ACK"})") ==
          "ack: needs positions (position.pattern, position.pointer or position.counted)");
    CHECK(conversation_error(R"("position":{"counted":true},"ack":{"per":"frame"})") == "ack.message: is required");
    CHECK(conversation_error(R"("position":{"counted":true},"ack":{"message":"A","per":"message"})") ==
          R"(ack.per: must be one of "frame", "checkpoint", got "message")");
    // Every conversation member on its own: two bad messages and a bad rule, one line.
    CHECK(conversation_error(R"("on_connect":["a\\q","${nope}"],"replies":[{"match":"(","reply":"x"}])") ==
          R"(on_connect[0]: unknown escape \q at byte 1; use \r, \n, \t, \0, \\, \xHH or \uXXXX; )"
          "on_connect[1]: unknown placeholder ${nope} at byte 0; known: ${session_id}, ${time}, ${unix_time}, "
          "${unix_time_ms}, ${last_session_id}, ${last_sequence}, ${documents}, ${position}, ${next_position}, "
          "${password}; replies[0].match: missing ): (");
    CHECK(conversation_error(R"("on_connect":["AUTH ${password}"],"replies":[{"match":"(","reply":"x"}])") ==
          "password: is required: a message uses ${password}; replies[0].match: missing ): (");
}

TEST_CASE("requests: acknowledge carries its count", "[flow][request][exactly-once]") {
    auto r = parse_request(R"({"acknowledge":{"checkpoints":3}})");
    REQUIRE(r);
    CHECK(r.value.kind == request_kind::acknowledge);
    CHECK(r.value.checkpoints == 3);
    CHECK(parse_request(R"({"acknowledge":{}})").error ==
          "acknowledge.checkpoints: must be an integer from 1 to 4294967295, got nothing");
    CHECK(parse_request(R"({"acknowledge":{"checkpoints":0}})").error ==
          "acknowledge.checkpoints: must be an integer from 1 to 4294967295, got 0");
    CHECK(parse_request(R"({"acknowledge":{"checkpoints":"2"}})").error ==
          R"(acknowledge.checkpoints: must be an integer from 1 to 4294967295, got "2")");
}

TEST_CASE("state and responses with positions", "[flow][response][exactly-once]") {
    output_buffer out;
    binding_state st{"sid", 3, 30, 4};
    st.position = "41";
    write_checkpoint(out, "k", st);
    st.position = "id \"x\"";
    st.position_is_string = true;
    write_checkpoint(out, "k", st);
    CHECK(view(out) ==
          R"({"checkpoint":{"state":{"updated":{"bindingStateV1":{"k":{"session_id":"sid","sequence":3,"bytes":30,"documents":4,"position":41}}},"mergePatch":true}}})"
          "\n"
          R"({"checkpoint":{"state":{"updated":{"bindingStateV1":{"k":{"session_id":"sid","sequence":3,"bytes":30,"documents":4,"position":"id \"x\""}}},"mergePatch":true}}})"
          "\n");
    auto a = parse_binding_state(R"({"bindingStateV1":{"k":{"session_id":"s","sequence":1,"position":41}}})", "k");
    CHECK(a.position == "41");
    CHECK(!a.position_is_string);
    auto b = parse_binding_state(R"({"bindingStateV1":{"k":{"position":"m-9"}}})", "k");
    CHECK(b.position == "m-9");
    CHECK(b.position_is_string);
    CHECK(parse_binding_state(R"({"bindingStateV1":{"k":{"position":-1}}})", "k").position.empty());
    out.clear();
    write_opened(out, true);
    CHECK(view(out) == "{\"opened\":{\"explicitAcknowledgements\":true}}\n");
    out.clear();
    write_discovered(out, codec_kind::line, document_positions::integer);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    REQUIRE(p.parse(std::string(view(out))).get(e) == simdjson::SUCCESS);
    auto binding = e["discovered"]["bindings"].at(0);
    CHECK(simdjson::minify(binding["key"].value_unsafe()) == R"(["/position"])");
    CHECK(simdjson::minify(binding["documentSchema"]["required"].value_unsafe()) ==
          R"(["timestamp","source_host","source_port","data","sequence","session_id","position"])");
    CHECK(simdjson::minify(binding["documentSchema"]["properties"]["position"]["type"].value_unsafe()) ==
          R"(["integer","string"])");
    out.clear();
    write_discovered(out, codec_kind::json, document_positions::string);
    REQUIRE(p.parse(std::string(view(out))).get(e) == simdjson::SUCCESS);
    CHECK(std::string_view(e["discovered"]["bindings"].at(0)["documentSchema"]["properties"]["position"]["type"]) == "string");
}

TEST_CASE("shards: Estuary's HighwayHash rule decides which shard dials a binding", "[flow][shard]") {
    // The library is HighwayHash as published: its test vector for key 00 01 … 1f and no input.
    const HHKey published = {0x0706050403020100ULL, 0x0F0E0D0C0B0A0908ULL, 0x1716151413121110ULL,
                             0x1F1E1D1C1B1A1918ULL};
    char bytes[2] = {0, 1};
    CHECK(HighwayHash64(published, bytes, 0) == 0x907A56DE22C26E53ULL);
    CHECK(HighwayHash64(published, bytes, 1) == 0x7EAB43AAC7CDDD78ULL);
    CHECK(HighwayHash64(published, bytes, 2) == 0xB8D0569AB0B53D62ULL);
    // Estuary's key, top 32 bits: pinned, so a binding never moves between releases.
    CHECK(key_hash("events.v1") == 1325913839u);
    CHECK(key_hash("ep0.v1") == 2489853571u);
    CHECK(key_hash("ep1.v1") == 3686203533u);
    // 332757d16f0fb1cf2d4f676f85e34c6a8b85aa58f42bb081449d8eb2e4ed529f, as little-endian words.
    const HHKey estuary = {0xcfb10f6fd1572733ULL, 0x6a4ce3856f674f2dULL, 0x81b02bf458aa858bULL, 0x9f52ede4b28e9d44ULL};
    CHECK(key_hash("") == static_cast<std::uint32_t>(HighwayHash64(estuary, bytes, 0) >> 32));
    CHECK(key_hash("ep0.v1") == static_cast<std::uint32_t>(HighwayHash64(estuary, "ep0.v1", 6) >> 32));
    key_range all;
    CHECK(owns(all, "events.v1"));
    CHECK(owns(key_range{1325913839u, 1325913839u}, "events.v1")); // inclusive at both ends
    CHECK(!owns(key_range{0, 1325913838u}, "events.v1"));
    CHECK(!owns(key_range{1325913840u, 0xFFFFFFFFu}, "events.v1"));
}

TEST_CASE("resource config: a binding's own endpoint over the endpoint config", "[flow][config][bindings]") {
    auto rc = parse_resource_config(
        R"({"stream":"b","host":"10.0.0.7","port":9001,"server_hostname":"b.example","on_connect":["SUB b\r\n","AUTH ${password}\r\n"],"password":"pw"})");
    INFO(rc.error);
    REQUIRE(rc);
    CHECK(rc.value.has_endpoint());
    auto base = parse_endpoint_config(R"({"host":"h","port":1,"on_connect":["HELLO\r\n"],"codec":"json"})");
    REQUIRE(base);
    std::vector<std::string> problems;
    auto c = endpoint_for(base.value, rc.value, "bindings[3].", problems);
    CHECK(problems.empty());
    CHECK(c.host == "10.0.0.7");
    CHECK(c.port == 9001);
    CHECK(c.tls.server_hostname == "b.example");
    CHECK(c.codec == codec_kind::json); // the rest is the endpoint config's
    CHECK(c.conversation.on_connect == std::vector<std::string>{"SUB b\r\n", "AUTH ${password}\r\n"});
    CHECK(c.conversation.variables == std::vector<std::pair<std::string, std::string>>{{"password", "pw"}});
    auto plain = parse_resource_config(R"({"stream":"a"})");
    REQUIRE(plain);
    CHECK(!plain.value.has_endpoint());
    auto same = endpoint_for(base.value, plain.value, "bindings[0].", problems);
    CHECK(same.host == "h");
    CHECK(same.conversation.on_connect == std::vector<std::string>{"HELLO\r\n"});
    // A binding's messages are checked as the endpoint's are, and named with the binding.
    auto needs = parse_resource_config(R"({"stream":"c","on_connect":["AUTH ${password}","${nope}"]})");
    REQUIRE(needs);
    endpoint_for(base.value, needs.value, "bindings[2].", problems);
    // Every problem at once, as for the endpoint config's own messages.
    CHECK(problems == std::vector<std::string>{
                          "bindings[2].password: is required: a message uses ${password}",
                          "bindings[2].on_connect[1]: unknown placeholder ${nope} at byte 0; known: ${session_id}, "
                          "${time}, ${unix_time}, ${unix_time_ms}, ${last_session_id}, ${last_sequence}, "
                          "${documents}, ${position}, ${next_position}, ${password}"});
    CHECK(parse_resource_config(R"({"stream":"d","host":"a b","port":0,"on_connect":"x","password":[1]})").error ==
          "host: must not contain spaces; port: must be an integer from 1 to 65535, got 0; "
          R"(on_connect: must be an array of strings, got "x"; )"
          "password: must be a string, got an array (the value is not shown: it may be secret)");
}
