// SPDX-License-Identifier: MIT OR Apache-2.0
// source-socket driven through stdin/stdout as the Flow runtime drives it, against loopback
// servers: every request type, every codec, checkpoints and state, shutdown, validation errors.
#include "capture_lines.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <csignal>
#include <set>

using namespace harness;
using namespace std::chrono_literals;

namespace {

struct unary_result {
    int rc = -1;
    std::vector<std::string> lines;
    std::vector<std::string> err_lines;
    std::string last_msg; ///< msg of the last stderr line
};

unary_result run_unary(const std::string& request, std::map<std::string, std::string> env = {}) {
    child c({binary("SOURCE_SOCKET")}, env);
    c.write(request);
    c.close_stdin();
    unary_result r;
    r.rc = c.wait();
    r.lines = c.rest_lines();
    r.err_lines = c.err_lines();
    for (const auto& l : r.lines) check_protocol_line(l);
    if (!r.err_lines.empty()) r.last_msg = msg_of(r.err_lines.back());
    return r;
}

std::string validate_request(const std::string& config, const std::string& bindings = R"([{"resourceConfig":{"stream":"events"}}])") {
    return fmt::format(R"({{"validate":{{"name":"acmeCo/tcp","connectorType":"IMAGE","config":{},"bindings":{}}}}})", config,
                       bindings) + "\n";
}

} // namespace

TEST_CASE("spec: one valid line with the full config schema", "[spec]") {
    auto r = run_unary("{\"spec\":{\"connectorType\":\"IMAGE\"}}\n");
    REQUIRE(r.rc == 0);
    REQUIRE(r.lines.size() == 1);
    CHECK(r.err_lines.empty());
    simdjson::dom::parser p;
    auto e = parse(p, r.lines[0]);
    CHECK(to_uint(e["spec"]["protocol"]) == 3032023);
    CHECK(simdjson::minify(e["spec"]["resourcePathPointers"].value_unsafe()) == R"(["/stream"])");
    CHECK(str(e["spec"]["documentationUrl"]).find("docs/connector.md") != std::string::npos);
    auto schema = e["spec"]["configSchema"];
    CHECK(simdjson::minify(schema["required"].value_unsafe()) == R"(["host","port"])");
    simdjson::dom::object props;
    REQUIRE(schema["properties"].get_object().get(props) == simdjson::SUCCESS);
    std::vector<std::string> names;
    for (auto f : props) names.emplace_back(f.key);
    CHECK(names == std::vector<std::string>{"host", "port", "codec", "framing", "tls", "buffer_size", "reconnect_delay",
                                            "reconnect_max_delay", "max_reconnect_attempts", "connection_timeout", "idle_timeout",
                                            "max_frame_bytes", "on_connect", "password", "heartbeat", "replies",
                                            "position", "ack", "endpoint_failure", "threads", "networkTunnel"});
    // Every field has a title, a description and an order.
    auto check_field = [](simdjson::dom::element f, const std::string& name) {
        INFO(name);
        CHECK(!str(f["title"]).empty());
        CHECK(str(f["description"]).back() == '.');
        std::uint64_t order = 0;
        CHECK(f["order"].get_uint64().get(order) == simdjson::SUCCESS);
    };
    for (auto f : props) check_field(f.value, std::string(f.key));
    simdjson::dom::object tls;
    REQUIRE(props["tls"]["properties"].get_object().get(tls) == simdjson::SUCCESS);
    names.clear();
    for (auto f : tls) {
        names.emplace_back(f.key);
        check_field(f.value, "tls." + std::string(f.key));
    }
    CHECK(names == std::vector<std::string>{"enabled", "verify_cert", "ca_cert", "client_cert", "client_key",
                                            "server_hostname", "client_key_password"});
    simdjson::dom::object framing;
    REQUIRE(props["framing"]["properties"].get_object().get(framing) == simdjson::SUCCESS);
    names.clear();
    for (auto f : framing) {
        names.emplace_back(f.key);
        check_field(f.value, "framing." + std::string(f.key));
    }
    CHECK(names == std::vector<std::string>{"type", "delimiter", "keep_delimiter", "length_format",
                                            "length_includes_prefix", "header_bytes", "keep_prefix"});
    CHECK(simdjson::minify(props["framing"]["required"].value_unsafe()) == R"(["type"])");
    CHECK(simdjson::minify(framing["type"]["enum"].value_unsafe()) ==
          R"(["lines","delimiter","length_prefixed","octet_counting","mllp","chunks"])");
    CHECK(simdjson::minify(framing["length_format"]["enum"].value_unsafe()) ==
          R"(["uint8","uint16_be","uint16_le","uint32_be","uint32_le","uint64_be","uint64_le","varint"])");
    // Defaults and ranges as the spec says.
    CHECK(simdjson::minify(props["codec"]["enum"].value_unsafe()) == R"(["plain","line","json","base64"])");
    CHECK(str(props["codec"]["default"]) == "line");
    CHECK(to_uint(props["port"]["minimum"]) == 1);
    CHECK(to_uint(props["port"]["maximum"]) == 65535);
    CHECK(to_uint(props["buffer_size"]["default"]) == 65536);
    CHECK(simdjson::minify(props["reconnect_delay"]["default"].value_unsafe()) == "5.0");
    CHECK(simdjson::minify(props["max_reconnect_attempts"]["default"].value_unsafe()) == "-1");
    CHECK(simdjson::minify(props["connection_timeout"]["default"].value_unsafe()) == "30.0");
    CHECK(props["idle_timeout"]["default"].is_null());
    CHECK(props["reconnect_max_delay"]["default"].is_null());
    CHECK(to_uint(props["max_frame_bytes"]["default"]) == 1048576);
    CHECK(simdjson::minify(tls["enabled"]["default"].value_unsafe()) == "false");
    CHECK(simdjson::minify(tls["verify_cert"]["default"].value_unsafe()) == "true");
    // Secrets, PEM fields and tuning knobs are marked for the UI.
    bool flag = false;
    CHECK((tls["client_key"]["secret"].get_bool().get(flag) == simdjson::SUCCESS && flag));
    for (const char* pem : {"ca_cert", "client_cert", "client_key"}) {
        INFO(pem);
        CHECK((tls[pem]["multiline"].get_bool().get(flag) == simdjson::SUCCESS && flag));
    }
    CHECK(tls["ca_cert"]["secret"].error() == simdjson::NO_SUCH_FIELD);
    for (const char* knob : {"buffer_size", "reconnect_delay", "reconnect_max_delay", "max_reconnect_attempts", "connection_timeout",
                             "idle_timeout", "max_frame_bytes"}) {
        INFO(knob);
        CHECK((props[knob]["advanced"].get_bool().get(flag) == simdjson::SUCCESS && flag));
    }
    CHECK(props["host"]["advanced"].error() == simdjson::NO_SUCH_FIELD);
    // The root allows additional properties (sops adds a stanza).
    CHECK(schema["additionalProperties"].error() == simdjson::NO_SUCH_FIELD);
    CHECK(simdjson::minify(e["spec"]["resourceConfigSchema"]["required"].value_unsafe()) == R"(["stream"])");
}

TEST_CASE("spec: the CLI command prints the same line", "[spec][cli]") {
    auto proto = run_unary("{\"spec\":{\"connectorType\":\"IMAGE\",\"config\":{}}}\n");
    child c({binary("SOURCE_SOCKET"), "spec"});
    c.close_stdin();
    REQUIRE(c.wait() == 0);
    CHECK(c.all_lines() == proto.lines);
}

TEST_CASE("discover: one binding keyed by session and sequence", "[discover]") {
    auto r = run_unary(R"({"discover":{"connectorType":"IMAGE","config":{"host":"h.example","port":9000}}})" "\n");
    REQUIRE(r.rc == 0);
    REQUIRE(r.lines.size() == 1);
    simdjson::dom::parser p;
    auto e = parse(p, r.lines[0]);
    simdjson::dom::array bindings;
    REQUIRE(e["discovered"]["bindings"].get_array().get(bindings) == simdjson::SUCCESS);
    REQUIRE(bindings.size() == 1);
    auto b = bindings.at(0).value_unsafe();
    CHECK(str(b["recommendedName"]) == "socket_events");
    CHECK(simdjson::minify(b["resourceConfig"].value_unsafe()) == R"({"stream":"socket_events"})");
    CHECK(simdjson::minify(b["resourcePath"].value_unsafe()) == R"(["socket_events"])");
    CHECK(simdjson::minify(b["key"].value_unsafe()) == R"(["/session_id","/sequence"])");
    auto schema = b["documentSchema"];
    CHECK(simdjson::minify(schema["required"].value_unsafe()) ==
          R"(["timestamp","source_host","source_port","data","sequence","session_id"])");
    CHECK(str(schema["properties"]["partial"]["type"]) == "boolean");
    CHECK(str(schema["properties"]["timestamp"]["format"]) == "date-time");
    CHECK(str(schema["properties"]["data"]["properties"]["value"]["type"]) == "string");

    auto j = run_unary(R"({"discover":{"config":{"host":"h.example","port":9000,"codec":"json"}}})" "\n");
    REQUIRE(j.rc == 0);
    auto je = parse(p, j.lines.at(0));
    auto data = je["discovered"]["bindings"].at(0)["documentSchema"]["properties"]["data"];
    CHECK(str(data["type"]) == "object");
    CHECK(data["properties"].error() == simdjson::NO_SUCH_FIELD); // an open object
}

TEST_CASE("discover: a bad config fails with the field named", "[discover]") {
    auto r = run_unary(R"({"discover":{"config":{"host":"h","port":0}}})" "\n");
    CHECK(r.rc == 1);
    CHECK(r.lines.empty());
    CHECK(r.last_msg == "port: must be an integer from 1 to 65535, got 0");
}

TEST_CASE("validate: connects, then answers with the resource paths", "[validate]") {
    server s({{"", false}});
    auto r = run_unary(validate_request(config_for(s.port())));
    INFO(r.last_msg);
    REQUIRE(r.rc == 0);
    REQUIRE(r.lines.size() == 1);
    CHECK(r.lines[0] == R"({"validated":{"bindings":[{"resourcePath":["events"]}]}})");
    CHECK(s.accepted() == 1);
}

TEST_CASE("validate: every problem is reported with its field", "[validate]") {
    const std::uint16_t port = closed_port();
    server accepting({{"", false}}); // binding a's own endpoint, which answers
    const std::uint16_t open_port = accepting.port();
    const std::string host = R"("host":"127.0.0.1",)";
    struct bad {
        std::string config;
        std::string message;
        std::string bindings = R"([{"resourceConfig":{"stream":"events"}}])";
    };
    std::vector<bad> cases = {
        {R"({"port":9000})", "host: is required"},
        {R"({"host":"","port":9000})", "host: must not be empty"},
        {R"({"host":42,"port":9000})", "host: must be a string, got 42"},
        {R"({"host":"a b","port":9000})", "host: must not contain spaces"},
        {R"({"host":"h"})", "port: is required"},
        {R"({"host":"h","port":70000})", "port: must be an integer from 1 to 65535, got 70000"},
        {R"({"host":"h","port":"9000"})", R"(port: must be an integer from 1 to 65535, got "9000")"},
        {R"({"host":"h","port":90.5})", "port: must be an integer from 1 to 65535, got 90.5"},
        {R"({"host":"h","port":9000,"codec":"xml"})", R"(codec: must be one of "plain", "line", "json", "base64", got "xml")"},
        {R"({"host":"h","port":9000,"reconnect_delay":-1})",
         "reconnect_delay: must be a number of seconds from 0 to 86400, got -1"},
        {R"({"host":"h","port":9000,"buffer_size":0})", "buffer_size: must be an integer from 1024 to 16777216, got 0"},
        {R"({"host":"h","port":9000,"reconnect_max_delay":-1})",
         "reconnect_max_delay: must be null (off) or a number of seconds from 0 (off) to 86400, got -1"},
        {R"({"host":"h","port":9000,"reconnect_delay":10,"reconnect_max_delay":5})",
         "reconnect_max_delay: must be at least reconnect_delay (10), got 5"},
        {R"({"host":"h","port":9000,"max_reconnect_attempts":-2})",
         "max_reconnect_attempts: must be an integer from 0 to 2147483647, or -1 for unlimited, got -2"},
        {R"({"host":"h","port":9000,"connection_timeout":0})",
         "connection_timeout: must be a number of seconds greater than 0 and at most 3600, got 0"},
        {R"({"host":"h","port":9000,"idle_timeout":-5})",
         "idle_timeout: must be null (off) or a number of seconds from 0 (off) to 86400, got -5"},
        {R"({"host":"h","port":9000,"max_frame_bytes":10})",
         "max_frame_bytes: must be an integer from 1024 to 67108864, got 10"},
        {R"({"host":"h","port":9000,"tls":true})", "tls: must be an object, got true"},
        {R"({"host":"h","port":9000,"tls":{"enabled":"yes"}})", R"(tls.enabled: must be true or false, got "yes")"},
        {R"({"host":"h","port":9000,"tls":{"client_cert":"/c.pem"}})",
         "tls.client_key: is required when tls.client_cert is set"},
        {R"({"host":"h","port":9000,"tls":{"ca_cert":"-----BEGIN CERTIFICATE-----\nMIIB"}})",
         "tls.ca_cert: PEM text has a -----BEGIN line but no -----END line"},
        {R"({"host":"h","port":9000,"tls":{"enabled":true,"ca_cert":"/nonexistent/ca.pem"}})",
         R"(tls.ca_cert: cannot read file "/nonexistent/ca.pem": No such file or directory)"},
        {R"({"host":"h","port":9000,"tls":{"enabled":true,"ca_cert":"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}})",
         "tls.ca_cert: inline PEM is not a valid PEM certificate"},
        {"[1]", "config: must be an object, got [1]"},
        // Several bindings, each its own endpoint (issue 17): the one that fails is named.
        {R"({"host":"h","port":9000})",
         fmt::format("bindings[1] (b): cannot connect to 127.0.0.1:{}: Connection refused", port),
         fmt::format(R"([{{"resourceConfig":{{"stream":"a","host":"127.0.0.1","port":{}}}}},)"
                     R"({{"resourceConfig":{{"stream":"b","host":"127.0.0.1","port":{}}}}}])",
                     open_port, port)},
        {R"({"host":"h","port":9000})", R"(bindings[0].port: must be an integer from 1 to 65535, got "x")",
         R"([{"resourceConfig":{"stream":"a","port":"x"}}])"},
        {R"({"host":"h","port":9000})", "bindings[0].password: is required: a message uses ${password}",
         R"([{"resourceConfig":{"stream":"a","on_connect":["AUTH ${password}"]}}])"},
        {R"({"host":"h","port":9000})", "bindings[0].stream: is required", R"([{"resourceConfig":{}}])"},
        {R"({"host":"h","port":9000})", "bindings[0].stream: must not be empty", R"([{"resourceConfig":{"stream":""}}])"},
        {fmt::format(R"({{{}"port":{}}})", host, port), fmt::format("cannot connect to 127.0.0.1:{}: Connection refused", port)},
    };
    for (const auto& c : cases) {
        INFO("config " << c.config);
        auto r = run_unary(validate_request(c.config, c.bindings));
        CHECK(r.rc == 1);
        CHECK(r.lines.empty());
        CHECK(r.last_msg == c.message);
    }
}

TEST_CASE("validate: config and binding problems come together on the last line", "[validate]") {
    auto r = run_unary(validate_request(R"({"host":"a\u0000b","port":0,"codec":"xml"})",
                                        R"([{"resourceConfig":{}},{"resourceConfig":{"stream":""}}])"));
    CHECK(r.rc == 1);
    CHECK(r.lines.empty());
    CHECK(r.last_msg ==
          "host: must not contain control characters, found U+0000 at byte 1; "
          "port: must be an integer from 1 to 65535, got 0; "
          R"(codec: must be one of "plain", "line", "json", "base64", got "xml"; )"
          "bindings[0].stream: is required; "
          "bindings[1].stream: must not be empty");
}

TEST_CASE("requests that are not valid fail clearly", "[protocol]") {
    CHECK(run_unary("not json\n").last_msg.rfind("request: not valid JSON: ", 0) == 0);
    CHECK(run_unary("{\"hello\":{}}\n").last_msg ==
          "request: expected one of spec, discover, validate, apply, open, acknowledge");
    CHECK(run_unary("{\"validate\":[]}\n").last_msg == "validate: must be an object, got []");
    auto empty = run_unary("");
    CHECK(empty.rc == 1);
    CHECK(empty.last_msg == "no request: stdin closed before a request arrived");
}

// Issue 12, item 5: the reader searched the whole buffer after every read (50 MB took 16 s),
// and had no limit. 64 MiB is the runtime's own message limit (MAX_MESSAGE_SIZE, 1 << 26).
TEST_CASE("requests: a line of 64 MiB is answered, a longer one is refused with the limit", "[protocol]") {
    constexpr std::size_t limit = std::size_t(64) << 20;
    const std::string head = R"({"discover":{"connectorType":"IMAGE","config":{"host":"h.example","port":9000,"codec":"json","pad":")";
    const std::string tail = R"("}}})";
    auto small = run_unary(R"({"discover":{"connectorType":"IMAGE","config":{"host":"h.example","port":9000,"codec":"json"}}})" "\n");
    REQUIRE(small.rc == 0);
    REQUIRE(small.lines.size() == 1);

    std::string request = head + std::string(limit - head.size() - tail.size(), 'x') + tail;
    REQUIRE(request.size() == limit);
    auto at_limit = run_unary(request + "\n");
    CHECK(at_limit.rc == 0);
    CHECK(at_limit.lines == small.lines);

    // One byte more and no newline: refused as soon as the limit is passed, stdin still open.
    request.insert(head.size(), "x");
    child c({binary("SOURCE_SOCKET")});
    c.write(request);
    CHECK(c.wait() == 1);
    CHECK(c.all_lines().empty());
    REQUIRE(!c.err_lines().empty());
    CHECK(msg_of(c.err_lines().back()) == "request: the first line on stdin is longer than the limit of 64 MiB");
}

TEST_CASE("requests: two messages in one line are refused, not answered as the first", "[protocol]") {
    auto r = run_unary("{\"spec\":{},\"validate\":{}}\n");
    CHECK(r.rc == 1);
    CHECK(r.lines.empty());
    CHECK(r.last_msg ==
          "request: expected exactly one of spec, discover, validate, apply, open, acknowledge; got spec and validate");
}

TEST_CASE("apply: nothing to do", "[apply]") {
    auto r = run_unary(R"({"apply":{"capture":{"name":"a/b","config":{"host":"h","port":1},"bindings":[]},"version":"1"}})" "\n");
    REQUIRE(r.rc == 0);
    CHECK(r.lines == std::vector<std::string>{R"({"applied":{}})"});
}

TEST_CASE("open: line codec, documents then checkpoints, reconnect makes a new session", "[open][line]") {
    // Two connections: the second shows a new session id and sequence from 1 again.
    server s({{"first\r\nsecond\n\nthird é\n", false}, {"again\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port())));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    auto lines = read_until_checkpoint(c, 4);
    std::vector<doc> docs;
    for (const auto& l : lines)
        if (check_protocol_line(l) == "captured") docs.push_back(captured(l, s.port()));
    REQUIRE(docs.size() == 4);
    const std::vector<std::string> values = {"first", "second", "", "third é"};
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(docs[i].data == fmt::format(R"({{"value":"{}"}})", values[i]));
        CHECK(docs[i].raw == values[i]);
        CHECK(docs[i].sequence == i + 1);
        CHECK(docs[i].session_id == docs[0].session_id);
        CHECK_FALSE(docs[i].partial);
    }
    auto st = checkpoint(lines.back());
    CHECK(st.key == "events.v1");
    CHECK(st.session_id == docs[0].session_id);
    CHECK(st.sequence == 4);
    CHECK(st.bytes == 24);
    CHECK(st.documents == 4);

    auto next = read_until_checkpoint(c, 5);
    REQUIRE(next.size() == 2);
    auto again = captured(next[0], s.port());
    CHECK(again.data == R"({"value":"again"})");
    CHECK(again.sequence == 1);
    CHECK(again.session_id != docs[0].session_id);
    auto st2 = checkpoint(next[1]);
    CHECK(st2.session_id == again.session_id);
    CHECK(st2.sequence == 1);
    CHECK(st2.bytes == 30); // totals carry over from session to session
    CHECK(st2.documents == 5);

    c.close_stdin();
    CHECK(c.wait() == 0);
    for (const auto& l : c.rest_lines()) check_protocol_line(l);
    CHECK(s.accepted() == 2);
}

TEST_CASE("open: json codec keeps objects and reports bad lines", "[open][json]") {
    server s({{"{\"a\":1,\"b\":[true,null]}\n\n[1]\n{\"x\":\"y\"}\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port(), R"(,"codec":"json")")));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    auto lines = read_until_checkpoint(c, 3);
    std::vector<doc> docs;
    for (const auto& l : lines)
        if (check_protocol_line(l) == "captured") docs.push_back(captured(l, s.port()));
    REQUIRE(docs.size() == 3); // the blank line makes no document
    CHECK(docs[0].data == R"({"a":1,"b":[true,null]})");
    CHECK_FALSE(docs[0].has_raw);
    CHECK(docs[1].data.find(R"("_error":true)") != std::string::npos);
    CHECK(docs[1].data.find(R"("_raw":"[1]")") != std::string::npos);
    CHECK(docs[2].data == R"({"x":"y"})");
    CHECK(docs[2].sequence == 3);
    c.close_stdin();
    CHECK(c.wait() == 0);
}

TEST_CASE("open: plain codec makes one document per chunk", "[open][plain]") {
    server s({{"no newline framing\nhere", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port(), R"(,"codec":"plain")")));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    // One write on loopback normally arrives as one read, but TCP may split it: join the chunks.
    std::string text;
    std::uint64_t expected_sequence = 1;
    while (text.size() < 23) {
        auto line = c.read_line();
        REQUIRE(line.has_value());
        if (check_protocol_line(*line) != "captured") continue;
        auto d = captured(*line, s.port());
        CHECK(d.sequence == expected_sequence++);
        text += d.raw;
    }
    CHECK(text == "no newline framing\nhere");
    c.close_stdin();
    CHECK(c.wait() == 0);
}

TEST_CASE("open: stdin EOF ends the session with a final checkpoint, promptly", "[open][shutdown]") {
    server s({{"one\ntwo\nunterminated", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port())));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    read_until_checkpoint(c, 2);
    auto t0 = std::chrono::steady_clock::now();
    c.close_stdin();
    REQUIRE(c.wait() == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s); // well under a second when idle; generous bound
    auto rest = c.rest_lines();
    REQUIRE(rest.size() == 2);
    auto d = captured(rest[0], s.port());
    CHECK(d.data == R"({"value":"unterminated"})");
    CHECK(d.partial);
    CHECK(d.sequence == 3);
    auto st = checkpoint(rest[1]);
    CHECK(st.documents == 3);
    CHECK(st.sequence == 3);
    CHECK(msg_of(c.err_lines().back()) == "capture stopped");
}

TEST_CASE("open: SIGTERM and SIGINT end the session with exit 0", "[open][shutdown]") {
    for (int sig : {SIGTERM, SIGINT}) {
        INFO("signal " << sig);
        server s({{"alpha\nbeta", true}});
        child c({binary("SOURCE_SOCKET")});
        c.write(open_request(config_for(s.port())));
        REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
        read_until_checkpoint(c, 1);
        c.signal(sig);
        REQUIRE(c.wait() == 0);
        auto rest = c.rest_lines();
        REQUIRE(rest.size() == 2);
        CHECK(captured(rest[0], s.port()).partial);
        CHECK(checkpoint(rest[1]).documents == 2);
    }
}

TEST_CASE("open: stopping with nothing pending writes no checkpoint", "[open][shutdown]") {
    server s({{"only\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port())));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    read_until_checkpoint(c, 1);
    c.close_stdin();
    REQUIRE(c.wait() == 0);
    CHECK(c.rest_lines().empty());
}

TEST_CASE("open: state from open.state carries the totals; stateKey falls back to the stream", "[open][state]") {
    server s({{"x\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port()),
                         R"({"bindingStateV1":{"events":{"session_id":"old","sequence":9,"bytes":100,"documents":9}}})",
                         ""));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    auto lines = read_until_checkpoint(c, 10);
    auto st = checkpoint(lines.back());
    CHECK(st.key == "events");
    CHECK(st.sequence == 1);
    CHECK(st.session_id != "old");
    CHECK(st.bytes == 102);
    CHECK(st.documents == 10);
    c.close_stdin();
    CHECK(c.wait() == 0);
}

TEST_CASE("open: reconnect attempts exhausted is fatal with the reason last", "[open][reconnect]") {
    const std::uint16_t port = closed_port();
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(port, R"(,"max_reconnect_attempts":2)")));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    CHECK(c.wait() == 1);
    CHECK(c.rest_lines().empty());
    auto err = c.err_lines();
    CHECK(msg_of(err.back()) ==
          fmt::format("cannot connect to 127.0.0.1:{}: Connection refused (gave up after 3 failed attempts, "
                      "max_reconnect_attempts is 2)",
                      port));
    int failures = 0, waits = 0;
    for (const auto& l : err) {
        failures += msg_of(l) == "connection failed";
        waits += msg_of(l) == "waiting to reconnect";
    }
    CHECK(failures == 2);
    CHECK(waits == 2);
}

TEST_CASE("open: a TLS setup that cannot work fails before opened", "[open]") {
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(R"({"host":"127.0.0.1","port":9,"tls":{"enabled":true,"ca_cert":"/nonexistent/ca.pem"}})"));
    CHECK(c.wait() == 1);
    CHECK(c.rest_lines().empty());
    CHECK(msg_of(c.err_lines().back()) == R"(tls.ca_cert: cannot read file "/nonexistent/ca.pem": No such file or directory)");
}

TEST_CASE("logs: JSON lines with ts, level and msg; LOG_LEVEL filters", "[logs]") {
    server s({{"a\n", false}});
    for (std::string level : {"info", "error"}) {
        INFO("LOG_LEVEL=" << level);
        child c({binary("SOURCE_SOCKET")}, {{"LOG_LEVEL", level}});
        c.write(validate_request(config_for(level == "info" ? s.port() : closed_port())));
        c.close_stdin();
        c.wait();
        auto err = c.err_lines();
        REQUIRE(!err.empty());
        std::set<std::string> levels;
        for (const auto& l : err) {
            simdjson::dom::parser p;
            auto e = parse(p, l);
            CHECK(is_timestamp(str(e["ts"])));
            levels.insert(str(e["level"]));
            CHECK(!str(e["msg"]).empty());
        }
        CHECK(levels == std::set<std::string>{level});
    }
}

TEST_CASE("open: idle_timeout closes a silent connection and a new session starts", "[open][reconnect]") {
    server s({{"a\n", true}, {"b\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port(), R"(,"idle_timeout":0.3)")));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    auto first = read_until_checkpoint(c, 1);
    auto second = read_until_checkpoint(c, 2);
    REQUIRE(second.size() == 2);
    auto d = captured(second[0], s.port());
    CHECK(d.data == R"({"value":"b"})");
    CHECK(d.sequence == 1);
    CHECK(d.session_id != captured(first[0], s.port()).session_id);
    c.close_stdin();
    CHECK(c.wait() == 0);
    bool idle_logged = false;
    for (const auto& l : c.err_lines()) idle_logged |= l.find(R"("reason":"no data within idle_timeout")") != std::string::npos;
    CHECK(idle_logged);
}

TEST_CASE("open: SIGTERM while waiting to reconnect exits 0 at once", "[open][shutdown]") {
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(fmt::format(R"({{"host":"127.0.0.1","port":{},"reconnect_delay":60}})", closed_port())));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    // Wait for the failed attempt, then stop during the 60 s delay.
    for (int i = 0; i < 400 && c.err().find("waiting to reconnect") == std::string::npos; ++i) {
        c.read_line(50ms);
    }
    REQUIRE(c.err().find("waiting to reconnect") != std::string::npos);
    auto t0 = std::chrono::steady_clock::now();
    c.signal(SIGTERM);
    CHECK(c.wait() == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(c.rest_lines().empty());
}

TEST_CASE("open: a closed stdout is fatal", "[open]") {
    server s({{"a\n", false}, {"b\n", true}});
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config_for(s.port())));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    c.close_stdout();
    CHECK(c.wait() == 1);
    CHECK(msg_of(c.err_lines().back()) == "cannot write to stdout: Broken pipe");
}
