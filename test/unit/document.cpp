// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/document.hpp>
#include <socketcap/json_writer.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <set>
#include <string>

using namespace socketcap;
using namespace std::chrono;

namespace {

std::string ts(system_clock::time_point t) {
    output_buffer out;
    write_timestamp(out, t);
    return {out.data(), out.size()};
}

system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss, long long us) {
    return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss} + microseconds{us};
}

} // namespace

TEST_CASE("write_timestamp: RFC 3339 UTC with microseconds") {
    CHECK(ts(system_clock::time_point{}) == "1970-01-01T00:00:00.000000Z");
    CHECK(ts(at(2024, 2, 29, 23, 59, 59, 999999)) == "2024-02-29T23:59:59.999999Z"); // leap day
    CHECK(ts(at(2023, 12, 31, 23, 59, 59, 999999)) == "2023-12-31T23:59:59.999999Z"); // end of year
    CHECK(ts(at(2023, 12, 31, 23, 59, 59, 999999) + microseconds{1}) == "2024-01-01T00:00:00.000000Z");
    CHECK(ts(at(2000, 2, 29, 1, 2, 3, 4)) == "2000-02-29T01:02:03.000004Z");
    CHECK(ts(at(2024, 1, 15, 10, 30, 0, 123456)) == "2024-01-15T10:30:00.123456Z");
    // Sub-microsecond precision is truncated, not rounded.
    CHECK(ts(system_clock::time_point{} + duration_cast<system_clock::duration>(nanoseconds{1999})) ==
          "1970-01-01T00:00:00.000001Z");
}

TEST_CASE("make_session_id: distinct UUIDv4 strings") {
    const std::regex uuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = make_session_id();
        INFO(id);
        CHECK(std::regex_match(id, uuid4));
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("document_envelope writes the exact document bytes") {
    document_envelope env("host \"x\"", 5514);
    CHECK(env.sequence() == 0);
    CHECK(env.session_id().size() == 36);
    env.start_session("S1");
    env.stamp(at(2024, 2, 29, 12, 0, 0, 5));
    output_buffer out;
    env.open(out);
    json::write_raw(out, R"("data":{"a":1})");
    env.close(out, false);
    env.open(out);
    json::write_raw(out, R"("data":{})");
    env.close(out, true);
    CHECK(env.sequence() == 2);
    CHECK(view(out) ==
          R"({"timestamp":"2024-02-29T12:00:00.000005Z","source_host":"host \"x\"","source_port":5514,"data":{"a":1},"sequence":1,"session_id":"S1"})"
          "\n"
          R"({"timestamp":"2024-02-29T12:00:00.000005Z","source_host":"host \"x\"","source_port":5514,"data":{},"partial":true,"sequence":2,"session_id":"S1"})"
          "\n");
    // A new session restarts the sequence; a new stamp changes only the timestamp.
    env.start_session("S2");
    env.stamp(system_clock::time_point{});
    out.clear();
    env.open(out);
    json::write_raw(out, R"("data":null)");
    env.close(out, false);
    CHECK(view(out) ==
          R"({"timestamp":"1970-01-01T00:00:00.000000Z","source_host":"host \"x\"","source_port":5514,"data":null,"sequence":1,"session_id":"S2"})"
          "\n");
}

TEST_CASE("document_envelope with a Flow prefix and suffix") {
    document_envelope env("127.0.0.1", 0, R"({"captured":{"binding":0,"doc":)", "}}\n");
    env.start_session("id");
    env.stamp(system_clock::time_point{});
    output_buffer out;
    env.open(out);
    json::write_raw(out, R"("data":1)");
    env.close(out, false);
    CHECK(view(out) ==
          R"({"captured":{"binding":0,"doc":{"timestamp":"1970-01-01T00:00:00.000000Z","source_host":"127.0.0.1","source_port":0,"data":1,"sequence":1,"session_id":"id"}}})"
          "\n");
}

TEST_CASE("document_envelope: two envelopes get different session ids") {
    document_envelope a("h", 1), b("h", 1);
    CHECK(a.session_id() != b.session_id());
}
