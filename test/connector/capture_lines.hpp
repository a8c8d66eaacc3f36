// SPDX-License-Identifier: MIT OR Apache-2.0
// Reading the connector's Flow protocol output in tests: open requests, captured documents,
// checkpoints and log lines, parsed and checked. Shared by test/connector and test/resilience.
#ifndef SOCKETCAP_TEST_CONNECTOR_CAPTURE_LINES_HPP
#define SOCKETCAP_TEST_CONNECTOR_CAPTURE_LINES_HPP

#include "harness.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

namespace harness {

inline std::string msg_of(const std::string& log_line) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    INFO("stderr line: " << log_line);
    REQUIRE(p.parse(log_line).get(e) == simdjson::SUCCESS);
    std::string_view msg;
    REQUIRE(e["msg"].get_string().get(msg) == simdjson::SUCCESS);
    return std::string(msg);
}

inline std::string open_request(const std::string& config, const std::string& state = "{}",
                         const std::string& extra_binding_fields = R"(,"stateKey":"events.v1")") {
    return fmt::format(R"({{"open":{{"capture":{{"name":"acmeCo/tcp","connectorType":"IMAGE","config":{},)"
                       R"("bindings":[{{"resourceConfig":{{"stream":"events"}},"resourcePath":["events"],)"
                       R"("collection":{{"name":"acmeCo/events","key":["/session_id","/sequence"]}},"backfill":1{}}}],)"
                       R"("intervalSeconds":300,"inactiveBindings":[]}},"version":"0011223344556677",)"
                       R"("range":{{"keyEnd":4294967295,"rClockEnd":4294967295}},"state":{},"futureField":1}}}})",
                       config, extra_binding_fields, state) + "\n";
}

inline simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& line) {
    simdjson::dom::element e;
    REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
    return e;
}

inline std::string str(simdjson::dom::element e) {
    std::string_view s;
    REQUIRE(e.get_string().get(s) == simdjson::SUCCESS);
    return std::string(s);
}

inline std::uint64_t to_uint(simdjson::dom::element e) {
    std::uint64_t v = 0;
    REQUIRE(e.get_uint64().get(v) == simdjson::SUCCESS);
    return v;
}

/// RFC 3339 UTC with microseconds: 2026-01-01T00:00:00.000000Z (std::regex trips g++ 12's
/// -Wmaybe-uninitialized under ASan, so a pattern check by hand).
inline bool is_timestamp(const std::string& s) {
    const std::string_view pattern = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    if (s.size() != pattern.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i]) return false;
    return true;
}

/// A captured document, parsed; checks the envelope's fields.
struct doc {
    std::string data; ///< minified
    std::string raw;  ///< "" when absent
    bool has_raw = false;
    bool partial = false;
    std::uint64_t sequence = 0;
    std::string session_id;
    std::string position; ///< minified; "" when absent
};

inline doc captured(const std::string& line, std::uint16_t port, const std::string& host = "127.0.0.1") {
    REQUIRE(check_protocol_line(line) == "captured");
    simdjson::dom::parser p;
    auto e = parse(p, line);
    CHECK(to_uint(e["captured"]["binding"]) == 0);
    simdjson::dom::object d;
    REQUIRE(e["captured"]["doc"].get_object().get(d) == simdjson::SUCCESS);
    std::vector<std::string> keys;
    for (auto f : d) keys.emplace_back(f.key);
    doc r;
    CHECK(is_timestamp(str(d["timestamp"])));
    CHECK(str(d["source_host"]) == host);
    CHECK(to_uint(d["source_port"]) == port);
    r.data = simdjson::minify(d["data"].value_unsafe());
    simdjson::dom::element raw;
    if (d["raw"].get(raw) == simdjson::SUCCESS) {
        r.has_raw = true;
        r.raw = str(raw);
    }
    bool partial = false;
    if (d["partial"].get_bool().get(partial) == simdjson::SUCCESS) r.partial = partial;
    r.sequence = to_uint(d["sequence"]);
    r.session_id = str(d["session_id"]);
    CHECK(r.session_id.size() == 36);
    std::vector<std::string> expected = {"timestamp", "source_host", "source_port", "data"};
    if (r.has_raw) expected.push_back("raw");
    simdjson::dom::element position;
    if (d["position"].get(position) == simdjson::SUCCESS) { // with positions (issue 16)
        expected.push_back("position");
        r.position = simdjson::minify(position);
    }
    if (partial) expected.push_back("partial");
    expected.push_back("sequence");
    expected.push_back("session_id");
    CHECK(keys == expected);
    return r;
}

struct state {
    std::string key, session_id;
    std::uint64_t sequence = 0, bytes = 0, documents = 0;
};

inline state checkpoint(const std::string& line) {
    REQUIRE(check_protocol_line(line) == "checkpoint");
    simdjson::dom::parser p;
    auto e = parse(p, line);
    bool merge = false;
    REQUIRE(e["checkpoint"]["state"]["mergePatch"].get_bool().get(merge) == simdjson::SUCCESS);
    CHECK(merge);
    simdjson::dom::object per_binding;
    REQUIRE(e["checkpoint"]["state"]["updated"]["bindingStateV1"].get_object().get(per_binding) == simdjson::SUCCESS);
    REQUIRE(per_binding.size() == 1);
    state s;
    for (auto f : per_binding) {
        s.key = std::string(f.key);
        s.session_id = str(f.value["session_id"]);
        s.sequence = to_uint(f.value["sequence"]);
        s.bytes = to_uint(f.value["bytes"]);
        s.documents = to_uint(f.value["documents"]);
    }
    return s;
}

inline std::string config_for(std::uint16_t port, const std::string& more = "") {
    return fmt::format(R"({{"host":"127.0.0.1","port":{},"reconnect_delay":0.05{}}})", port, more);
}

/// Reads stdout lines until a checkpoint whose state counts `documents` documents.
inline std::vector<std::string> read_until_checkpoint(child& c, std::uint64_t documents) {
    std::vector<std::string> lines;
    for (;;) {
        auto line = c.read_line();
        INFO("lines so far: " << lines.size());
        REQUIRE(line.has_value());
        lines.push_back(*line);
        if (check_protocol_line(*line) == "checkpoint" && checkpoint(*line).documents >= documents) return lines;
    }
}

} // namespace harness

#endif
