// SPDX-License-Identifier: MIT OR Apache-2.0
// conversation_plan and conversation (sans I/O): what is queued for the server, exactly, for
// on_connect, heartbeats and replies; and the message of every configuration mistake.
#include <socketcap/conversation.hpp>

#include <catch2/catch.hpp>

#include <regex>
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
