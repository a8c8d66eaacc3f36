// SPDX-License-Identifier: MIT OR Apache-2.0
// conversation_plan and conversation (sans I/O): what is queued for the server, exactly, for
// on_connect, heartbeats and replies; and the message of every configuration mistake.
#include <socketcap/conversation.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <string>

using namespace socketcap;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const conversation_plan> compile(const conversation_config& c) {
    error_code ec;
    diagnostics diag;
    auto plan = conversation_plan::compile(c, ec, diag);
    INFO(diag.message());
    REQUIRE(!ec);
    REQUIRE(plan);
    return plan;
}

std::string error_of(const conversation_config& c, error expected) {
    error_code ec;
    diagnostics diag;
    auto plan = conversation_plan::compile(c, ec, diag);
    CHECK(ec == expected);
    CHECK(!plan);
    return diag.message();
}

frame complete(std::string_view payload) {
    frame f;
    f.kind = frame_kind::complete;
    f.payload = payload;
    f.consumed = payload.size() + 1;
    return f;
}

std::string taken(conversation& c, std::size_t expected_messages) {
    std::string batch;
    CHECK(c.take(batch) == expected_messages);
    CHECK(c.unsent_bytes() == 0);
    return batch;
}

const auto t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764572400123)); // 2025-12-01T07:00:00.123Z

} // namespace

TEST_CASE("conversation: on_connect messages in order, every placeholder filled") {
    conversation_config c;
    c.on_connect = {"AUTH ${password}\\r\\n", "HELLO ${session_id} after ${last_session_id}/${last_sequence} "
                                                "docs=${documents}\r\n",
                    "T ${time} ${unix_time} ${unix_time_ms}\n", "TOKEN ${token}"};
    c.variables = {{"password", "hunter2"}, {"token", "t-9"}};
    conversation conv(compile(c), "S-2", conversation_history{"S-1", 41, 1000, ""});
    CHECK(conv.plan().writes());
    conv.start(t0);
    CHECK(taken(conv, 4) == "AUTH hunter2\r\n"
                            "HELLO S-2 after S-1/41 docs=1000\r\n"
                            "T 2025-12-01T07:00:00.123000Z 1764572400 1764572400123\n"
                            "TOKEN t-9");
    conv.start(t0 + 1s); // a reconnect's session queues them again
    std::string again;
    CHECK(conv.take(again) == 4);
    CHECK(again.find("T 2025-12-01T07:00:01.123000Z 1764572401 1764572401123\n") != std::string::npos);
}

TEST_CASE("conversation: the first capture of a binding has an empty history") {
    conversation_config c;
    c.on_connect = {"[${last_session_id}][${last_sequence}][${documents}]"};
    conversation conv(compile(c), "S", {});
    conv.start(t0);
    CHECK(taken(conv, 1) == "[][0][0]");
}

TEST_CASE("conversation: replies answer the first matching rule, with groups, named groups and capture") {
    conversation_config c;
    c.replies = {{"^PING :?(.*)$", "PONG :${1}\r\n", false},
                 {"^(?P<cmd>[A-Z]+) (?P<id>\\d+)", "ACK ${id} ${cmd} (${0}) ${session_id}\n", true},
                 {"^ID (\\d+)", "never: the rule above answers first\n", true}};
    conversation conv(compile(c), "S", {});
    CHECK(conv.pass(complete("hello")) == true); // no rule: captured, nothing sent
    CHECK(conv.unsent_bytes() == 0);
    CHECK(conv.pass(complete("PING :irc.example 42")) == false);
    CHECK(conv.pass(complete("PING token")) == false); // the colon is optional
    CHECK(conv.pass(complete("PING")) == true);        // the pattern wants a space: no reply, captured
    CHECK(conv.pass(complete("ID 7 rest")) == true);
    CHECK(conv.replies() == 3);
    CHECK(taken(conv, 3) == "PONG :irc.example 42\r\n"
                            "PONG :token\r\n"
                            "ACK 7 ID (ID 7) S\n");
}

TEST_CASE("conversation: a group that did not take part is empty; bytes of any value pass") {
    conversation_config c;
    c.replies = {{"^(a)|(b)$", "[${1}|${2}]", true}};
    conversation conv(compile(c), "S", {});
    CHECK(conv.pass(complete("b")));
    CHECK(conv.pass(complete(std::string_view("a\0\xFF", 3))));
    CHECK(taken(conv, 2) == "[|b][a|]");
}

TEST_CASE("conversation: heartbeat messages, and unsent bytes over the limit are a backlog") {
    conversation_config c;
    c.heartbeat = "PING ${unix_time}\\r\\n";
    c.heartbeat_interval = 30s;
    c.max_unsent_bytes = 40;
    auto plan = compile(c);
    CHECK(plan->heartbeat_interval() == 30s);
    CHECK(plan->writes());
    CHECK(!plan->has_replies());
    conversation conv(plan, "S", {});
    conv.heartbeat(t0);
    CHECK(conv.unsent_bytes() == 17);
    CHECK(!conv.backlogged());
    conv.heartbeat(t0);
    CHECK(conv.unsent_bytes() == 34);
    CHECK(!conv.backlogged());
    conv.heartbeat(t0);
    CHECK(conv.backlogged());
    CHECK(taken(conv, 3) == "PING 1764572400\r\nPING 1764572400\r\nPING 1764572400\r\n");
    CHECK(!conv.backlogged());
}

TEST_CASE("conversation: an empty config never writes") {
    auto plan = compile({});
    CHECK(!plan->writes());
    CHECK(!plan->has_replies());
}

TEST_CASE("conversation_plan: every mistake names its member") {
    conversation_config c;
    c.on_connect = {"ok", "AUTH ${pasword}"};
    c.variables = {{"password", "x"}};
    CHECK(error_of(c, error::invalid_template) ==
          "on_connect[1]: unknown placeholder ${pasword} at byte 5; known: ${session_id}, ${time}, ${unix_time}, "
          "${unix_time_ms}, ${last_session_id}, ${last_sequence}, ${documents}, ${position}, ${next_position}, ${password}");
    c = {};
    c.on_connect = {""};
    CHECK(error_of(c, error::invalid_template) == "on_connect[0]: is empty");
    c = {};
    c.heartbeat = "HB\\q";
    c.heartbeat_interval = 1s;
    CHECK(error_of(c, error::invalid_template) ==
          R"(heartbeat.message: unknown escape \q at byte 2; use \r, \n, \t, \0, \\, \xHH or \uXXXX)");
    c.heartbeat = "";
    CHECK(error_of(c, error::invalid_template) == "heartbeat.message: is empty");
    c.heartbeat = "HB";
    c.heartbeat_interval = {};
    CHECK(error_of(c, error::invalid_conversation) == "heartbeat.interval: is required with a heartbeat message");
    c = {};
    c.replies = {{"^PING", "PONG", true}, {"(a", "x", true}};
    CHECK(error_of(c, error::invalid_pattern) == "replies[1].match: missing ): (a");
    c.replies = {{"^PING :(.*)", "PONG :${2}", true}};
    CHECK(error_of(c, error::invalid_template).starts_with(
        "replies[0].reply: unknown placeholder ${2} at byte 6; known: ${session_id}, "));
    c.replies = {{"^PING :(?P<time>.*)", "PONG", true}};
    CHECK(error_of(c, error::invalid_pattern) ==
          "replies[0].match: the group name (?P<time>…) is also a placeholder; rename the group");
    c.replies = {{"^PING", "", true}};
    CHECK(error_of(c, error::invalid_template) == "replies[0].reply: is empty");
    c = {};
    c.variables = {{"session_id", "x"}};
    CHECK(error_of(c, error::invalid_conversation) ==
          "variables: ${session_id} is defined twice (it is a placeholder already)");
}

TEST_CASE("frame_pattern: RE2 runs in linear time on a pattern that makes backtracking engines explode") {
    // (a+)+$ against "aaaa…b": exponential for backtracking engines, linear for RE2.
    conversation_config c;
    c.replies = {{"^(a+)+$", "never", true}};
    conversation conv(compile(c), "S", {});
    std::string hostile(100000, 'a');
    hostile += 'b';
    CHECK(conv.pass(complete(hostile)));
    CHECK(conv.unsent_bytes() == 0);
}

// Positions and acknowledgements (issue 16).
namespace {

frame at(std::string_view payload, std::uint64_t offset) {
    frame f = complete(payload);
    f.offset = offset;
    return f;
}

std::string annotated(conversation& c, const frame& f, std::uint64_t sequence) {
    output_buffer out;
    c.annotate(f, sequence, out);
    return std::string(view(out));
}

} // namespace

TEST_CASE("conversation: positions from a pattern's group, in documents and in ${position}/${next_position}") {
    conversation_config c;
    c.position.source = position_source::pattern;
    c.position.pattern = "^(\\d+) ";
    c.on_connect = {"RESUME ${next_position} after ${position}\n"};
    conversation conv(compile(c), "S", conversation_history{"", 0, 0, "41"});
    conv.start(t0);
    CHECK(taken(conv, 1) == "RESUME 42 after 41\n");
    CHECK(conv.pass(at("42 first", 0)));
    CHECK(annotated(conv, at("42 first", 0), 1) == R"(,"position":42)");
    CHECK(conv.pass(at("0043 leading zeros", 9)));
    CHECK(annotated(conv, at("0043 leading zeros", 9), 2) == R"(,"position":43)");
    CHECK(conv.pass(at("no number here", 28)));
    CHECK(annotated(conv, at("no number here", 28), 3) == R"(,"position":"S/3")"); // equals no position
    CHECK(conv.pass(at("18446744073709551616 too big", 43)));
    CHECK(annotated(conv, at("18446744073709551616 too big", 43), 4) == R"(,"position":"S/4")");
    frame partial = at("44 cut", 72);
    partial.kind = frame_kind::partial; // never passed: not a complete frame
    CHECK(annotated(conv, partial, 5) == R"(,"position":"S/5")");
    CHECK(conv.last_position() == "43");
    conv.start(t0);
    CHECK(taken(conv, 1) == "RESUME 44 after 43\n");
}

TEST_CASE("conversation: string positions, pointer positions and counted ones") {
    SECTION("a string position is JSON-escaped in documents, raw in messages") {
        conversation_config c;
        c.position = {position_source::pattern, "^MSH\\|[^|]*\\|([^|]*)", "", true};
        c.on_connect = {"LAST ${position}\n"};
        conversation conv(compile(c), "S", {});
        CHECK(conv.pass(at("MSH|x|id \"7\"\\|rest", 0)));
        CHECK(annotated(conv, at("MSH|x|id \"7\"\\|rest", 0), 1) == R"(,"position":"id \"7\"\\")");
        conv.start(t0);
        CHECK(taken(conv, 1) == "LAST id \"7\"\\\n");
    }
    SECTION("a JSON pointer, integer or string, from frames without padding too") {
        conversation_config c;
        c.position = {position_source::pointer, "", "/meta/seq", false};
        conversation conv(compile(c), "S", {});
        std::string doc = R"({"meta":{"seq":17},"v":1})";
        CHECK(conv.pass(at(doc, 0))); // padding 0: parsed from a copy
        CHECK(annotated(conv, at(doc, 0), 1) == R"(,"position":17)");
        CHECK(conv.pass(at(R"({"meta":{"seq":"17"}})", 30)));
        CHECK(annotated(conv, at(R"({"meta":{"seq":"17"}})", 30), 2) == R"(,"position":"S/2")"); // a string is no integer
        CHECK(conv.pass(at("not json", 60)));
        CHECK(annotated(conv, at("not json", 60), 3) == R"(,"position":"S/3")");
        c.position.is_string = true;
        conversation strings(compile(c), "S", {});
        CHECK(strings.pass(at(R"({"meta":{"seq":"a-1"}})", 0)));
        CHECK(annotated(strings, at(R"({"meta":{"seq":"a-1"}})", 0), 1) == R"(,"position":"a-1")");
    }
    SECTION("counted from ${next_position}, which the history sets") {
        conversation_config c;
        c.position.source = position_source::counted;
        c.on_connect = {"LOGIN ${next_position}\n"};
        conversation conv(compile(c), "S", conversation_history{"", 0, 0, "100"});
        conv.start(t0);
        CHECK(taken(conv, 1) == "LOGIN 101\n");
        for (std::uint64_t i = 0; i < 3; ++i) {
            CHECK(conv.pass(at("anything", i * 9)));
            CHECK(annotated(conv, at("anything", i * 9), i + 1) == fmt::format(R"(,"position":{})", 101 + i));
        }
        CHECK(conv.last_position() == "103");
    }
}

TEST_CASE("conversation: acks per frame wait for take_acks, with the position pattern's groups") {
    conversation_config c;
    c.position = {position_source::pattern, "^(?P<seq>\\d+)\\|(\\w+)", "", false};
    c.ack = ack_config{"ACK ${position} ${2} ${seq}\n", true};
    auto plan = compile(c);
    CHECK(plan->writes());
    CHECK(plan->acks());
    conversation conv(plan, "S", {});
    CHECK(conv.pass(at("1|alpha", 0)));
    CHECK(conv.pass(at("no position", 8)));
    CHECK(conv.pass(at("2|beta", 20)));
    CHECK(conv.unsent_bytes() == 0); // nothing goes out before the commit
    CHECK(conv.pending_acks() == 2);
    auto a = conv.take_acks();
    CHECK(a.bytes == "ACK 1 alpha 1\nACK 2 beta 2\n");
    CHECK(a.messages == 2);
    CHECK(conv.take_acks().messages == 0);
    conv.send(a.bytes, a.messages);
    CHECK(taken(conv, 2) == "ACK 1 alpha 1\nACK 2 beta 2\n");
}

TEST_CASE("conversation: acks per checkpoint name the last position, once") {
    conversation_config c;
    c.position.source = position_source::counted;
    c.ack = ack_config{"ACK ${position}\n", false};
    conversation conv(compile(c), "S", conversation_history{"", 0, 0, "9"});
    CHECK(conv.take_acks().messages == 0); // nothing new since the state's position
    CHECK(conv.pass(at("a", 0)));
    CHECK(conv.pass(at("b", 2)));
    auto a = conv.take_acks();
    CHECK(a.bytes == "ACK 11\n");
    CHECK(a.messages == 1);
    CHECK(conv.take_acks().messages == 0); // the same position is not acknowledged twice
}

TEST_CASE("conversation_plan: position and ack mistakes are named") {
    conversation_config c;
    c.position = {position_source::pattern, "^\\d+", "", false};
    CHECK(error_of(c, error::invalid_pattern) == "position.pattern: has no group; the position is its first group, as in ^(\\d+)");
    c.position = {position_source::pattern, "(", "", false};
    CHECK(error_of(c, error::invalid_pattern) == "position.pattern: missing ): (");
    c.position = {position_source::pointer, "", "seq", false};
    CHECK(error_of(c, error::invalid_conversation) == R"(position.pointer: must be a JSON pointer such as /seq, got "seq")");
    c = {};
    c.ack = ack_config{"ACK\n", true};
    CHECK(error_of(c, error::invalid_conversation) ==
          "ack: needs positions (position.pattern, position.pointer or position.counted)");
    c.position.source = position_source::counted;
    c.ack = ack_config{"ACK ${1}\n", true};
    CHECK(error_of(c, error::invalid_template).starts_with("ack.message: unknown placeholder ${1} at byte 4; known: "));
    c.ack = ack_config{"", true};
    CHECK(error_of(c, error::invalid_template) == "ack.message: is empty");
    c = {};
    c.position = {position_source::pattern, "^(\\w+)", "", true};
    c.on_connect = {"RESUME ${next_position}\n"};
    CHECK(error_of(c, error::invalid_template) == "on_connect[0]: ${next_position} needs integer positions");
}
