// SPDX-License-Identifier: MIT OR Apache-2.0
// Talking to the server (issue 15), through the connector process: what it sends on each
// connection (with the state's history), PING answered and left out of the documents, the
// password never in a log line, and a server that stops reading ending the session with its
// reason. The server is this test, on loopback, so every byte the connector sends is checked.
#include "capture_lines.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <csignal>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace harness;

namespace {

/// Reads from `fd` until `want` bytes arrived (or the deadline): what arrived.
std::string receive(int fd, std::size_t want, std::chrono::milliseconds timeout = deadline) {
    std::string got;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (got.size() < want) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) <= 0) break;
        char buf[4096];
        ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - got.size()), 0);
        if (n <= 0) break;
        got.append(buf, std::size_t(n));
    }
    return got;
}

std::vector<doc> documents_of(const std::vector<std::string>& lines, std::uint16_t port) {
    std::vector<doc> docs;
    for (const auto& l : lines)
        if (check_protocol_line(l) == "captured") docs.push_back(captured(l, port));
    return docs;
}

/// The first stderr line whose msg is `msg`.
std::string first_log(const child& c, std::string_view msg) {
    for (const auto& l : c.err_lines())
        if (l.find(fmt::format(R"("msg":"{}")", msg)) != std::string::npos) return l;
    return {};
}

} // namespace

TEST_CASE("open: on_connect on every connection with the state's history; PING answered, not captured",
          "[conversation]") {
    listener l;
    const std::string config = config_for(
        l.port(), R"(,"password":"hunter2","on_connect":["AUTH ${password}\\r\\n","HELLO ${last_session_id} )"
                  R"(${last_sequence} ${documents}\r\n"],"replies":[{"match":"^PING :(.*)$","reply":"PONG :${1}\r\n",)"
                  R"("capture":false}])");
    const std::string state =
        R"({"bindingStateV1":{"events.v1":{"session_id":"prev-id","sequence":7,"bytes":70,"documents":7}}})";
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config, state));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));

    int first = l.accept();
    REQUIRE(first >= 0);
    const std::string hello1 = "AUTH hunter2\r\nHELLO prev-id 7 7\r\n";
    CHECK(receive(first, hello1.size()) == hello1);
    REQUIRE(send_all(first, "one\nPING :abc 1\ntwo\n"));
    CHECK(receive(first, 13) == "PONG :abc 1\r\n");
    auto docs = documents_of(read_until_checkpoint(c, 9), l.port());
    REQUIRE(docs.size() == 2);
    CHECK(docs[0].data == R"({"value":"one"})");
    CHECK(docs[1].data == R"({"value":"two"})");
    CHECK(docs[1].sequence == 2);
    ::close(first);

    // The next connection's history: the session that just ended, and the totals so far.
    int second = l.accept();
    REQUIRE(second >= 0);
    const std::string hello2 = fmt::format("AUTH hunter2\r\nHELLO {} 2 9\r\n", docs[0].session_id);
    CHECK(receive(second, hello2.size()) == hello2);
    c.close_stdin();
    CHECK(c.wait() == 0);
    ::close(second);

    auto disconnected = c.err_lines();
    CHECK(c.err().find("hunter2") == std::string::npos); // the password is in no log line
    std::string first_end;
    for (const auto& line : c.err_lines())
        if (line.find(docs[0].session_id) != std::string::npos && line.find(R"("msg":"disconnected")") != std::string::npos)
            first_end = line;
    CHECK(first_end.find(R"("documents":2,)") != std::string::npos);
    CHECK(first_end.find(R"("sent_messages":3,"sent_bytes":46,"replies":1,"uncaptured_frames":1})") !=
          std::string::npos);
}

TEST_CASE("capture: a server that stops reading ends the session with the reason, then it reconnects",
          "[conversation]") {
    listener l;
    // Each line is answered with eight copies of itself; the server never reads them.
    const std::string config = config_for(
        l.port(), R"(,"replies":[{"match":"^(.*)$","reply":"${1}${1}${1}${1}${1}${1}${1}${1}\n"}])");
    std::string path = fmt::format("/tmp/socketcap-conversation-{}.json", ::getpid());
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        std::fputs(config.c_str(), f);
        std::fclose(f);
    }
    child c({binary("SOURCE_SOCKET"), "capture", "--config", path});
    int fd = l.accept();
    REQUIRE(fd >= 0);
    const std::string line = std::string(999, 'x') + "\n";
    std::string chunk;
    for (int i = 0; i < 64; ++i) chunk += line;
    // Until the connector gives up on us (its replies fill the socket buffers, then 1 MiB).
    std::size_t sent = 0;
    while (sent < (std::size_t{256} << 20) && send_all(fd, chunk)) sent += chunk.size();
    ::close(fd);
    int again = l.accept(); // the session ended; like any failure, it connects again
    CHECK(again >= 0);
    c.signal(SIGTERM);
    CHECK(c.wait() == 0);
    if (again >= 0) ::close(again);
    ::unlink(path.c_str());
    auto end = first_log(c, "disconnected");
    INFO(end);
    CHECK(end.find(R"x("reason":"the server is not reading what the connector sends (more than 1048576 bytes were )x"
                   R"x(waiting to be written)")x") != std::string::npos);
    CHECK(end.find(R"("sent_messages":)") != std::string::npos);
    // Every line that arrived before the end is a document: nothing received is dropped.
    std::size_t docs = c.all_lines().size();
    CHECK(end.find(fmt::format(R"("documents":{},)", docs)) != std::string::npos);
    CHECK(docs > 100);
}

TEST_CASE("open: acks reach the server only after the runtime acknowledges their checkpoint", "[conversation][exactly-once]") {
    listener l;
    const std::string config = config_for(
        l.port(), R"(,"position":{"pattern":"^(\\d+) "},"ack":{"message":"ACK ${position}\n"},)"
                  R"("on_connect":["RESUME ${next_position}\n"])");
    const std::string state =
        R"({"bindingStateV1":{"events.v1":{"session_id":"prev","sequence":3,"bytes":30,"documents":3,"position":10}}})";
    child c({binary("SOURCE_SOCKET")});
    c.write(open_request(config, state));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{"explicitAcknowledgements":true}})"));
    int fd = l.accept();
    REQUIRE(fd >= 0);
    CHECK(receive(fd, 10) == "RESUME 11\n"); // the committed position from the state, plus one
    REQUIRE(send_all(fd, "11 first\n12 second\n"));
    auto lines = read_until_checkpoint(c, 5);
    auto docs = documents_of(lines, l.port());
    REQUIRE(docs.size() == 2);
    CHECK(lines[0].find(R"("raw":"11 first","position":11,"sequence":1,)") != std::string::npos);
    CHECK(lines[1].find(R"("raw":"12 second","position":12,"sequence":2,)") != std::string::npos);
    CHECK(lines.back().find(R"("documents":5,"position":12}})") != std::string::npos);
    CHECK(receive(fd, 1, std::chrono::milliseconds(300)).empty()); // not before the commit
    c.write("{\"acknowledge\":{\"checkpoints\":1}}\n");
    CHECK(receive(fd, 14) == "ACK 11\nACK 12\n");

    // One more acknowledged than was written is the runtime's mistake, said as such.
    c.write("{\"acknowledge\":{\"checkpoints\":2}}\n");
    CHECK(c.wait() == 1);
    ::close(fd);
    auto err = c.err_lines();
    REQUIRE(!err.empty());
    CHECK(msg_of(err.back()) == "acknowledge: 2 checkpoints acknowledged, but only 0 are waiting");
}

TEST_CASE("capture --config: without Flow, acks go out as their documents are printed", "[conversation][exactly-once]") {
    listener l;
    std::string path = fmt::format("/tmp/socketcap-ack-{}.json", ::getpid());
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        std::fputs(config_for(l.port(), R"(,"position":{"pattern":"^(\\d+) "},"ack":{"message":"ACK ${position}\n"})")
                       .c_str(),
                   f);
        std::fclose(f);
    }
    child c({binary("SOURCE_SOCKET"), "capture", "--config", path});
    int fd = l.accept();
    REQUIRE(fd >= 0);
    REQUIRE(send_all(fd, "1 a\n2 b\n"));
    CHECK(receive(fd, 12) == "ACK 1\nACK 2\n");
    auto first = c.read_line();
    REQUIRE(first);
    CHECK(first->find(R"("raw":"1 a","position":1,"sequence":1,)") != std::string::npos);
    c.signal(SIGTERM);
    CHECK(c.wait() == 0);
    ::close(fd);
    ::unlink(path.c_str());
}
