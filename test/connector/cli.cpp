// SPDX-License-Identifier: MIT OR Apache-2.0
// The human command line (check, capture, --help, --version) and the bundled socket-feed.
#include "harness.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace harness;

namespace {

/// A config file in the test's temporary directory, removed afterwards.
struct temp_file {
    std::string path;
    temp_file(const std::string& name, const std::string& content)
        : path(fmt::format("/tmp/socketcap-test-{}-{}", ::getpid(), name)) {
        std::ofstream(path) << content;
    }
    ~temp_file() { std::remove(path.c_str()); }
};

/// Starts socket-feed with `args` and returns it with the port it printed.
std::uint16_t feed_port(child& feed) {
    auto line = feed.read_line();
    REQUIRE(line.has_value());
    return static_cast<std::uint16_t>(std::stoul(*line));
}

} // namespace

TEST_CASE("--help and --version", "[cli]") {
    child h({binary("SOURCE_SOCKET"), "--help"});
    REQUIRE(h.wait() == 0);
    REQUIRE(!h.all_lines().empty());
    CHECK(h.all_lines()[0] == "source-socket: capture a TCP socket stream into Estuary Flow.");
    child v({binary("SOURCE_SOCKET"), "--version"});
    REQUIRE(v.wait() == 0);
    CHECK(v.all_lines() == std::vector<std::string>{"source-socket 0.1.0"});
    child bad({binary("SOURCE_SOCKET"), "frobnicate"});
    CHECK(bad.wait() == 2);
    CHECK(bad.err_lines().at(0) == R"(source-socket: unknown command "frobnicate")");
}

TEST_CASE("capture: YAML config against socket-feed, --max-docs stops it", "[cli][feed]") {
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "ndjson", "--count", "50", "--hold"});
    auto port = feed_port(feed);
    // The spec's examples wrap the fields in `config:`; numbers, booleans and null follow YAML.
    temp_file cfg("capture.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  codec: json\n"
                                              "  idle_timeout: null\n  tls:\n    enabled: false\n", port));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path, "--max-docs", "7"});
    REQUIRE(c.wait() == 0);
    auto lines = c.all_lines();
    REQUIRE(lines.size() == 7);
    simdjson::dom::parser p;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        simdjson::dom::element e;
        REQUIRE(p.parse(lines[i]).get(e) == simdjson::SUCCESS);
        std::uint64_t seq = 0, data_seq = 0;
        CHECK(e["sequence"].get_uint64().get(seq) == simdjson::SUCCESS);
        CHECK(seq == i + 1);
        CHECK(e["data"]["seq"].get_uint64().get(data_seq) == simdjson::SUCCESS);
        CHECK(data_seq == i + 1);
        CHECK(e["captured"].error() == simdjson::NO_SUCH_FIELD); // plain documents, no envelope
    }
    feed.signal(SIGTERM);
    feed.wait();
}

TEST_CASE("capture: every line of a socket-feed connection, in order", "[cli][feed]") {
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "lines", "--count", "1000", "--line-bytes", "200",
                "--repeat-connections", "1"});
    auto port = feed_port(feed);
    temp_file cfg("lines.json", fmt::format(R"({{"host":"127.0.0.1","port":{},"max_reconnect_attempts":0,"reconnect_delay":0}})", port));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path});
    // The feed serves one connection, then the reconnect fails and max_reconnect_attempts 0 ends it.
    CHECK(c.wait() == 1);
    auto lines = c.all_lines();
    REQUIRE(lines.size() == 1000);
    simdjson::dom::parser p;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        simdjson::dom::element e;
        REQUIRE(p.parse(lines[i]).get(e) == simdjson::SUCCESS);
        std::string_view raw;
        REQUIRE(e["raw"].get_string().get(raw) == simdjson::SUCCESS);
        CHECK(raw.size() == 200);
        CHECK(raw.find(fmt::format(" seq={} ", i + 1)) != std::string_view::npos);
    }
    CHECK(feed.wait() == 0);
}

TEST_CASE("check: config errors and connection results for humans", "[cli]") {
    temp_file bad("bad.yaml", "host: example.com\nport: 70000\n");
    child c1({binary("SOURCE_SOCKET"), "check", "--config", bad.path});
    CHECK(c1.wait() == 1);
    CHECK(c1.err_lines().at(0) == fmt::format("error: {}: port: must be an integer from 1 to 65535, got 70000", bad.path));

    temp_file quoted("quoted.yaml", "host: example.com\nport: \"9000\"\n");
    child c2({binary("SOURCE_SOCKET"), "check", "--config", quoted.path});
    CHECK(c2.wait() == 1);
    CHECK(c2.err_lines().at(0) == fmt::format(R"(error: {}: port: must be an integer from 1 to 65535, got "9000")", quoted.path));

    server s({{"", false}});
    temp_file good("good.json", fmt::format(R"({{"host":"127.0.0.1","port":{}}})", s.port()));
    child c3({binary("SOURCE_SOCKET"), "check", "--config", good.path});
    CHECK(c3.wait() == 0);
    CHECK(c3.all_lines() == std::vector<std::string>{fmt::format("config OK: 127.0.0.1:{}, codec line, tls off", s.port()),
                                                     fmt::format("connection OK: connected to 127.0.0.1:{}", s.port())});

    child c4({binary("SOURCE_SOCKET"), "check", "--config", "/nonexistent/x.yaml"});
    CHECK(c4.wait() == 1);
    CHECK(c4.err_lines().at(0) == R"(error: cannot read config file "/nonexistent/x.yaml": No such file or directory)");
}

// Issue 12, item 2: a FIFO hung `check` forever, /dev/zero and a sparse 1 GiB file ate memory.
// Each is refused at once with what the path is or the limit it exceeds.
TEST_CASE("check: a config file that is not a regular file or too large is refused at once", "[cli]") {
    std::string fifo = fmt::format("/tmp/socketcap-test-{}-config.fifo", ::getpid());
    ::unlink(fifo.c_str());
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    child c1({binary("SOURCE_SOCKET"), "check", "--config", fifo});
    CHECK(c1.wait() == 1);
    CHECK(c1.err_lines() == std::vector<std::string>{fmt::format("error: config file {} is a FIFO (named pipe), not a regular file", fifo)});
    ::unlink(fifo.c_str());

    child c2({binary("SOURCE_SOCKET"), "check", "--config", "/dev/zero"});
    CHECK(c2.wait() == 1);
    CHECK(c2.err_lines() == std::vector<std::string>{"error: config file /dev/zero is a character device, not a regular file"});

    child c3({binary("SOURCE_SOCKET"), "check", "--config", "/tmp"});
    CHECK(c3.wait() == 1);
    CHECK(c3.err_lines() == std::vector<std::string>{"error: config file /tmp is a directory, not a regular file"});

    // 1 GiB of holes: no disk space, and refused from its size before anything is read.
    temp_file sparse("sparse.yaml", "host: 127.0.0.1\n");
    REQUIRE(::truncate(sparse.path.c_str(), 1L << 30) == 0);
    child c4({binary("SOURCE_SOCKET"), "check", "--config", sparse.path});
    CHECK(c4.wait() == 1);
    CHECK(c4.err_lines() == std::vector<std::string>{fmt::format("error: config file {} is larger than the limit of 16 MiB", sparse.path)});
}

// Issue 12: the full catalog of docs/connector.md ("Example") was refused with "host: is required".
TEST_CASE("check: a Flow catalog file with one capture is read from its endpoint config", "[cli]") {
    server s({{"", false}, {"", false}});
    // docs/connector.md's example, byte for byte but for host and port (no network in tests).
    temp_file catalog("catalog.yaml", fmt::format(R"(captures:
  acmeCo/socket-capture:
    endpoint:
      connector:
        image: ghcr.io/estuary/source-socket:dev
        config:
          host: 127.0.0.1
          port: {}
          codec: json
          reconnect_delay: 10.0
    bindings:
      - resource:
          stream: socket_events
        target: acmeCo/socket-events
)", s.port()));
    const std::vector<std::string> ok{fmt::format("config OK: 127.0.0.1:{}, codec json, tls off", s.port()),
                                      fmt::format("connection OK: connected to 127.0.0.1:{}", s.port())};
    child c1({binary("SOURCE_SOCKET"), "check", "--config", catalog.path});
    CHECK(c1.wait() == 0);
    CHECK(c1.all_lines() == ok);
    CHECK(c1.err_lines().empty());

    // docs/flow.md's local endpoint.
    temp_file local("local.yaml", fmt::format(R"(captures:
  acmeCo/socket-capture:
    endpoint:
      local:
        command: [/path/to/build/tools/source-socket/source-socket]
        config: {{host: 127.0.0.1, port: {}, codec: json}}
)", s.port()));
    child c2({binary("SOURCE_SOCKET"), "check", "--config", local.path});
    CHECK(c2.wait() == 0);
    CHECK(c2.all_lines() == ok);

    temp_file two("two.yaml", R"(captures:
  acmeCo/a:
    endpoint: {connector: {image: x, config: {host: a.example, port: 1}}}
  acmeCo/b:
    endpoint: {connector: {image: x, config: {host: b.example, port: 2}}}
)");
    child c3({binary("SOURCE_SOCKET"), "check", "--config", two.path});
    CHECK(c3.wait() == 1);
    CHECK(c3.all_lines().empty());
    CHECK(c3.err_lines() == std::vector<std::string>{fmt::format(
        R"(error: config file "{}": line 2, column 3: captures: the file has 2 captures (acmeCo/a, acmeCo/b) )"
        "and source-socket reads one; keep one capture in the file or give its endpoint config alone", two.path)});

    temp_file image_only("image-only.yaml", "captures:\n  acmeCo/a:\n    endpoint:\n      connector:\n        image: x\n");
    child c4({binary("SOURCE_SOCKET"), "check", "--config", image_only.path});
    CHECK(c4.wait() == 1);
    CHECK(c4.err_lines() == std::vector<std::string>{fmt::format(
        R"(error: config file "{}": line 3, column 5: captures.acmeCo/a: no endpoint config found; looked for )"
        "captures.acmeCo/a.endpoint.connector.config and captures.acmeCo/a.endpoint.local.config", image_only.path)});
}

// Found by fuzz_config_yaml: an anchor that contains itself recursed until the stack overflowed.
TEST_CASE("check: YAML aliases that recurse or explode are parse errors", "[cli]") {
    temp_file self("self.yaml", "&a\nhost: *a\n");
    child c1({binary("SOURCE_SOCKET"), "check", "--config", self.path});
    CHECK(c1.wait() == 1);
    CHECK(c1.err_lines().at(0) == fmt::format(R"(error: config file "{}": line 1, column 1: nesting deeper than 64 )"
                                              "levels (an alias that contains itself?)", self.path));

    // Eight levels of ten aliases each: 10^8 scalars if expanded.
    std::string laughs = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 8; ++i)
        laughs += fmt::format("l{0}: &l{0} [{1}]\n", i, fmt::format("*l{0}, *l{0}, *l{0}, *l{0}, *l{0}, *l{0}, *l{0}, "
                                                                     "*l{0}, *l{0}, *l{0}", i - 1));
    temp_file laughs_file("laughs.yaml", laughs);
    child c2({binary("SOURCE_SOCKET"), "check", "--config", laughs_file.path});
    CHECK(c2.wait() == 1);
    CHECK(c2.err_lines().at(0).starts_with(fmt::format(R"(error: config file "{}": line )", laughs_file.path)));
    CHECK(c2.err_lines().at(0).ends_with(": the configuration expands to more than 100000 values (aliases inside aliases?)"));

    // Few values, but each a 1 MiB alias: the size bound.
    std::string wide = fmt::format("big: &big \"{}\"\nlist: [{}*big]\n", std::string(1 << 20, 'x'), [] {
        std::string items;
        for (int i = 0; i < 20; ++i) items += "*big, ";
        return items;
    }());
    temp_file wide_file("wide.yaml", wide);
    child c3({binary("SOURCE_SOCKET"), "check", "--config", wide_file.path});
    CHECK(c3.wait() == 1);
    CHECK(c3.err_lines().at(0).ends_with(": the configuration expands to more than 16 MiB (aliases inside aliases?)"));
}

// Issue 12: `capture --max-docs 3` printed 3 documents and logged "documents":100, the
// count of everything read from the connection in that time.
TEST_CASE("capture --max-docs: the logged counts are the documents printed", "[cli][feed]") {
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "ndjson", "--count", "100", "--hold",
                "--repeat-connections", "1"});
    auto port = feed_port(feed);
    temp_file cfg("max-docs.json", fmt::format(R"({{"host":"127.0.0.1","port":{},"codec":"json"}})", port));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path, "--max-docs", "3"}, {{"LOG_LEVEL", "info"}});
    REQUIRE(c.wait() == 0);
    CHECK(c.all_lines().size() == 3);
    std::vector<std::string> counted;
    simdjson::dom::parser p;
    for (const auto& line : c.err_lines()) {
        simdjson::dom::element e;
        REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
        std::string_view msg;
        REQUIRE(e["msg"].get_string().get(msg) == simdjson::SUCCESS);
        std::uint64_t documents = 0;
        if (e["documents"].get_uint64().get(documents) == simdjson::SUCCESS)
            counted.push_back(fmt::format("{}: {}", msg, documents));
    }
    CHECK(counted == std::vector<std::string>{"disconnected: 3", "capture stopped: 3"});
    feed.signal(SIGTERM);
    feed.wait();
}

// Issue 12: the feed served one connection and exited, so `check` used it up and the
// `capture` after it retried forever. It now serves until stopped.
TEST_CASE("socket-feed: a check, then a capture, against one feed", "[cli][feed]") {
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "ndjson", "--count", "5"});
    auto port = feed_port(feed);
    temp_file cfg("check-capture.json", fmt::format(
        R"({{"host":"127.0.0.1","port":{},"codec":"json","max_reconnect_attempts":0,"reconnect_delay":0}})", port));
    child check({binary("SOURCE_SOCKET"), "check", "--config", cfg.path});
    CHECK(check.wait() == 0);
    CHECK(check.all_lines().at(1) == fmt::format("connection OK: connected to 127.0.0.1:{}", port));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path, "--max-docs", "5"});
    CHECK(c.wait() == 0);
    auto lines = c.all_lines();
    REQUIRE(lines.size() == 5);
    for (std::size_t i = 0; i < lines.size(); ++i)
        CHECK(lines[i].find(fmt::format(R"("conn":2,"seq":{},)", i + 1)) != std::string::npos);
    feed.signal(SIGTERM);
    CHECK(feed.wait() == -1); // killed by the signal: it was still serving
}

TEST_CASE("socket-feed: deterministic records", "[feed]") {
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "ndjson", "--count", "2", "--repeat-connections", "1"});
    auto port = feed_port(feed);
    temp_file cfg("feed.json", fmt::format(R"({{"host":"127.0.0.1","port":{},"codec":"json","max_reconnect_attempts":0,"reconnect_delay":0}})", port));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path});
    c.wait();
    auto lines = c.all_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find(R"("data":{"ts":"2026-01-01T00:00:00.000Z","level":"info","conn":1,"seq":1,"msg":"sample event 1","value":919.01})") != std::string::npos);
    CHECK(lines[1].find(R"("data":{"ts":"2026-01-01T00:00:00.001Z","level":"info","conn":1,"seq":2,"msg":"sample event 2","value":838.02})") != std::string::npos);
}

namespace {
/// Runs `capture --max-docs n` against a server that sends `payload` and holds the connection;
/// returns each document's `data` (minified) and whether it was partial.
std::vector<std::string> framed_capture(std::string_view config_tail, const std::string& payload, std::size_t n) {
    server s({{payload, true}});
    temp_file cfg("framed.json", fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", s.port(), config_tail));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg.path, "--max-docs", std::to_string(n)});
    REQUIRE(c.wait() == 0);
    std::vector<std::string> data;
    simdjson::dom::parser p;
    for (const auto& line : c.all_lines()) {
        simdjson::dom::element e;
        REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
        data.push_back(simdjson::minify(e["data"]));
    }
    return data;
}
} // namespace

TEST_CASE("capture: every framing through the connector, exact documents", "[cli][framing]") {
    // Binary frames: a type byte, a 2-byte big-endian length, the body; kept whole, in base64.
    CHECK(framed_capture(R"("codec":"base64","framing":{"type":"length_prefixed","length_format":"uint16_be",)"
                         R"("header_bytes":1,"keep_prefix":true})",
                         std::string("\x01\x00\x03" "abc" "\x02\x00\x00" "\x03\x00\x02\xff\x00", 14), 3) ==
          std::vector<std::string>{R"({"base64":"AQADYWJj"})", R"({"base64":"AgAA"})", R"({"base64":"AwAC/wA="})"});
    // HL7 over MLLP: segment CRs stay in the message.
    CHECK(framed_capture(R"("codec":"line","framing":{"type":"mllp"})",
                         "\x0bMSH|^~\\&|LAB\rPID|1||42\r\x1c\r\r\n\x0bMSH|^~\\&|LAB\rOBX|1\r\x1c\r", 2) ==
          std::vector<std::string>{R"({"value":"MSH|^~\\&|LAB\rPID|1||42\r"})", R"({"value":"MSH|^~\\&|LAB\rOBX|1\r"})"});
    // Syslog octet counting: a line break inside a counted message; a message without a count
    // ends at LF; JSON objects may span lines inside one frame.
    CHECK(framed_capture(R"("codec":"json","framing":{"type":"octet_counting"})",
                         "14 {\"a\":1,\n\"b\":2}{\"c\":3}\n", 2) ==
          std::vector<std::string>{R"({"a":1,"b":2})", R"({"c":3})"});
    // Bytes that break the framing: an error document that says what and where (docs/connector.md).
    CHECK(framed_capture(R"("codec":"line","framing":{"type":"octet_counting"})", "5 hello12x junk\n3 end", 3) ==
          std::vector<std::string>{
              R"({"value":"hello"})",
              R"({"_error":true,"_error_message":"octet count \"12x\" is not followed by a space; skipped up to )"
              R"x(the next newline (at byte 7)","_raw":"12x junk"})x",
              R"({"value":"end"})"});
    // A strict CRLF delimiter: a lone LF is data.
    CHECK(framed_capture(R"("codec":"plain","framing":{"type":"delimiter","delimiter":"\r\n"})", "a\nb\r\nc\r\n", 2) ==
          std::vector<std::string>{R"({"value":"a\nb"})", R"({"value":"c"})"});
}
