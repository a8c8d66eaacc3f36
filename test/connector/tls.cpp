// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector over TLS, as a process, against socat's OpenSSL server on 127.0.0.1 with
// certificates made fresh for the run (test/tls/make-certs.sh): documents end to end, the
// sentences validate reports, and the spec's four TLS configuration examples as written.
#include "harness.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace harness;
namespace fs = std::filesystem;

namespace {

// The certificates of this run, removed at exit.
struct certificates {
    fs::path dir;
    certificates() {
        std::string tmpl = (fs::temp_directory_path() / "socketcap-connector-tls-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        if (std::system(fmt::format("sh '{}' '{}'", SOCKETCAP_TLS_MAKE_CERTS, dir.string()).c_str()) != 0)
            throw std::runtime_error("make-certs.sh failed");
        std::ofstream(dir / "data.txt", std::ios::binary) << "first line\nsecond line\r\nthird\n";
    }
    ~certificates() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string operator()(const std::string& name) const { return (dir / name).string(); }
};

const certificates& certs() {
    static const certificates c;
    return c;
}

// socat serving data.txt over TLS to one client; `options` are extra OPENSSL-LISTEN options.
class tls_server {
public:
    /// `behind`: socat's other side (default: data.txt); "TCP:127.0.0.1:N" puts a plaintext
    /// server of the test's own behind the TLS one.
    explicit tls_server(const std::string& cert, const std::string& options = "verify=0", std::string behind = "")
        : proc_({SOCKETCAP_SOCAT, "-d", "-d",
                 fmt::format("OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert={}.pem,key={}.key,{}", certs()(cert),
                             certs()(cert), options),
                 behind.empty() ? fmt::format("OPEN:{},rdonly", certs()("data.txt")) : behind}) {
        constexpr std::string_view marker = "listening on AF=2 127.0.0.1:";
        for (int i = 0; i < 300 && port_ == 0; ++i) {
            proc_.read_line(std::chrono::milliseconds(50)); // pumps stderr too
            if (auto at = proc_.err().find(marker); at != std::string::npos)
                port_ = static_cast<std::uint16_t>(std::atoi(proc_.err().c_str() + at + marker.size()));
        }
        REQUIRE(port_ != 0);
    }
    std::uint16_t port() const { return port_; }

private:
    child proc_;
    std::uint16_t port_ = 0;
};

std::string msg_of(const std::string& log_line) {
    simdjson::dom::parser p;
    std::string_view msg;
    INFO("stderr line: " << log_line);
    REQUIRE(p.parse(log_line)["msg"].get_string().get(msg) == simdjson::SUCCESS);
    return std::string(msg);
}

std::string request(const char* kind, const std::string& config) {
    const char* bindings = R"([{"resourceConfig":{"stream":"events"},"resourcePath":["events"],"stateKey":"events.v1"}])";
    if (std::string_view(kind) == "validate")
        return fmt::format(R"({{"validate":{{"name":"acmeCo/tls","connectorType":"IMAGE","config":{},"bindings":{}}}}})",
                           config, bindings) + "\n";
    return fmt::format(R"({{"open":{{"capture":{{"name":"acmeCo/tls","connectorType":"IMAGE","config":{},)"
                       R"("bindings":{}}},"range":{{"keyEnd":4294967295,"rClockEnd":4294967295}},"state":{{}}}}}})",
                       config, bindings) + "\n";
}

std::string validate_error(const std::string& config) {
    child c({binary("SOURCE_SOCKET")});
    c.write(request("validate", config));
    c.close_stdin();
    CHECK(c.wait() == 1);
    CHECK(c.rest_lines().empty());
    auto err = c.err_lines();
    REQUIRE(!err.empty());
    return msg_of(err.back());
}

struct check_result {
    int rc = -1;
    std::vector<std::string> out, err;
};

// `source-socket check --config <name>` with `yaml` written to <name> in the certificates' dir.
check_result run_check(const std::string& name, const std::string& yaml) {
    auto path = certs().dir / name;
    std::ofstream(path) << yaml;
    child c({binary("SOURCE_SOCKET"), "check", "--config", path.string()});
    check_result r;
    r.rc = c.wait();
    r.out = c.rest_lines();
    r.err = c.err_lines();
    return r;
}

} // namespace

TEST_CASE("open over TLS: documents of the line codec end to end, then a clean stop", "[tls]") {
    tls_server s("server");
    child c({binary("SOURCE_SOCKET")});
    c.write(request("open", fmt::format(R"({{"host":"127.0.0.1","port":{},"reconnect_delay":60,)"
                                        R"("tls":{{"enabled":true,"ca_cert":"{}"}}}})",
                                        s.port(), certs()("ca.pem"))));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    simdjson::dom::parser p;
    std::vector<std::string> values;
    std::uint64_t last_sequence = 0;
    while (values.size() < 3) {
        auto line = c.read_line();
        REQUIRE(line);
        check_protocol_line(*line);
        simdjson::dom::element doc;
        if (p.parse(*line)["captured"]["doc"].get(doc) != simdjson::SUCCESS) continue; // a checkpoint
        std::string_view v, raw;
        REQUIRE(doc["data"]["value"].get_string().get(v) == simdjson::SUCCESS);
        REQUIRE(doc["raw"].get_string().get(raw) == simdjson::SUCCESS);
        CHECK(v == raw);
        REQUIRE(doc["sequence"].get_uint64().get(last_sequence) == simdjson::SUCCESS);
        CHECK(last_sequence == values.size() + 1);
        values.emplace_back(v);
    }
    CHECK(values == std::vector<std::string>{"first line", "second line", "third"});
    // socat closes with close_notify after the file: the session ends, checkpointed.
    bool checkpointed = false;
    while (auto line = c.read_line(std::chrono::seconds(10))) {
        if (line->rfind(R"({"checkpoint":)", 0) == 0) {
            checkpointed = line->find(R"("sequence":3,)") != std::string::npos;
            if (checkpointed) break;
        }
    }
    CHECK(checkpointed);
    // The close_notify may arrive a moment after the data: the session's end is logged on its
    // own time, so wait for it (at most 10 s) before stopping the connector.
    constexpr std::string_view clean_end = R"("reason":"the server closed the TLS connection")";
    for (int i = 0; i < 100 && c.err().find(clean_end) == std::string::npos; ++i)
        c.read_line(std::chrono::milliseconds(100));
    c.close_stdin();
    CHECK(c.wait() == 0);
    bool connected_tls = false, disconnected_clean = false;
    for (const auto& l : c.err_lines()) {
        connected_tls |= msg_of(l) == "connected" && l.find(R"("tls":true)") != std::string::npos;
        disconnected_clean |= msg_of(l) == "disconnected" &&
                              l.find(R"("reason":"the server closed the TLS connection")") != std::string::npos;
    }
    CHECK(connected_tls);
    INFO(c.err());
    CHECK(disconnected_clean);
}

TEST_CASE("validate over TLS: the user sees why the server was not accepted", "[tls]") {
    SECTION("a wrong tls.server_hostname") {
        tls_server s("server");
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},"tls":{{"enabled":true,"ca_cert":"{}",)"
                                         R"("server_hostname":"wrong.example"}}}})",
                                         s.port(), certs()("ca.pem"))) ==
              fmt::format("cannot connect to 127.0.0.1:{}: server certificate does not match the host name: expected "
                          "\"wrong.example\" (tls.server_hostname), the certificate is for IP:127.0.0.1, DNS:localhost",
                          s.port()));
    }
    SECTION("a TLS 1.3 server that requires a client certificate (rejected only after the handshake)") {
        tls_server s("server", fmt::format("cafile={},verify=1", certs()("ca.pem")));
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},"tls":{{"enabled":true,"ca_cert":"{}"}}}})",
                                         s.port(), certs()("ca.pem"))) ==
              fmt::format("cannot connect to 127.0.0.1:{}: the server requires a client certificate (it sent TLS alert "
                          "certificate_required after the handshake, as TLS 1.3 servers do); set tls.client_cert and "
                          "tls.client_key",
                          s.port()));
    }
    SECTION("a client key that does not match its certificate fails before any connection") {
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":9,"tls":{{"enabled":true,"ca_cert":"{}",)"
                                         R"("client_cert":"{}","client_key":"{}"}}}})",
                                         certs()("ca.pem"), certs()("client.pem"), certs()("mismatched.key"))) ==
              "tls.client_key: does not match tls.client_cert");
    }
    SECTION("an ECDSA P-256 key of another certificate is refused too (issue 12, item 1)") {
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":9,"tls":{{"enabled":true,"ca_cert":"{}",)"
                                         R"("client_cert":"{}","client_key":"{}"}}}})",
                                         certs()("ca.pem"), certs()("client-ec.pem"), certs()("other-ec.key"))) ==
              "tls.client_key: does not match tls.client_cert");
    }
}

namespace {
/// Reads `n` bytes from a blocking socket; false at EOF or after 20 s without bytes.
bool read_exactly(int fd, void* to, std::size_t n) {
    auto* p = static_cast<unsigned char*>(to);
    while (n > 0) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 20000) != 1) return false;
        ssize_t k = ::recv(fd, p, n, 0);
        if (k <= 0) return false;
        p += k;
        n -= std::size_t(k);
    }
    return true;
}
} // namespace

TEST_CASE("validate: many endpoints are checked at once, problems in binding order", "[tls][validate]") {
    // Four endpoints that accept and never answer the ClientHello: each check would wait out
    // its connection_timeout (60 s). All four connections arriving while none is answered
    // shows the checks run at once; checked one after the other, the second would wait 60 s.
    constexpr int endpoints = 4;
    std::vector<std::unique_ptr<listener>> ls;
    std::string bindings;
    for (int k = 0; k < endpoints; ++k) {
        ls.push_back(std::make_unique<listener>());
        bindings += fmt::format(R"({}{{"resourceConfig":{{"stream":"s{}","host":"127.0.0.1","port":{}}},)"
                                R"("resourcePath":["s{}"],"stateKey":"s{}.v1"}})",
                                k == 0 ? "" : ",", k, ls[k]->port(), k, k);
    }
    child c({binary("SOURCE_SOCKET")});
    c.write(fmt::format(R"({{"validate":{{"name":"acmeCo/tls","connectorType":"IMAGE","config":)"
                        R"({{"host":"127.0.0.1","port":9,"connection_timeout":60,"tls":{{"enabled":true,"ca_cert":"{}"}}}},)"
                        R"("bindings":[{}]}}}})",
                        certs()("ca.pem"), bindings) + "\n");
    c.close_stdin();
    std::vector<int> fds;
    for (auto& l : ls) {
        fds.push_back(l->accept(std::chrono::seconds(20)));
        REQUIRE(fds.back() >= 0);
    }
    for (int fd : fds) {
        // The ClientHello whole (a close with bytes unread would be a reset), then a close:
        // each check fails now, in the handshake, as with a server that is not TLS.
        unsigned char header[5];
        REQUIRE(read_exactly(fd, header, sizeof header));
        std::vector<unsigned char> body((header[3] << 8) | header[4]);
        REQUIRE(read_exactly(fd, body.data(), body.size()));
        ::close(fd);
    }
    CHECK(c.wait() == 1);
    CHECK(c.rest_lines().empty());
    std::string expected;
    for (int k = 0; k < endpoints; ++k)
        expected += fmt::format("{}bindings[{}] (s{}): cannot connect to 127.0.0.1:{}: {}", k == 0 ? "" : "; ", k, k,
                                ls[k]->port(), "the server closed the connection during the TLS handshake (no TLS reply); is it a TLS port?");
    auto err = c.err_lines();
    REQUIRE(!err.empty());
    CHECK(msg_of(err.back()) == expected);
}

// open() of a FIFO blocked validate forever; /dev/zero and huge files were read whole (issue 12,
// item 2). The check runs before any connection (port 9 is never tried).
TEST_CASE("validate refuses PEM paths that are not regular files or are over 4 MiB: at once", "[tls]") {
    auto fifo = certs().dir / "validate-fifo";
    std::error_code ignored;
    fs::remove(fifo, ignored);
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    auto sparse = certs().dir / "validate-sparse.pem";
    { std::ofstream(sparse) << "-----BEGIN CERTIFICATE-----\n"; }
    fs::resize_file(sparse, std::uintmax_t(1) << 30);
    for (const char* field : {"ca_cert", "client_cert", "client_key"}) {
        // The field under test gets `path`; the others stay valid.
        auto config = [&](const std::string& path) {
            std::string ca = certs()("ca.pem"), cert = certs()("client.pem"), key = certs()("client.key");
            std::string_view f(field);
            (f == "ca_cert" ? ca : f == "client_cert" ? cert : key) = path;
            return fmt::format(R"({{"host":"127.0.0.1","port":9,"tls":{{"enabled":true,"ca_cert":"{}",)"
                               R"("client_cert":"{}","client_key":"{}"}}}})",
                               ca, cert, key);
        };
        INFO(field);
        auto started = std::chrono::steady_clock::now();
        CHECK(validate_error(config(fifo.string())) ==
              fmt::format("tls.{}: {} is a FIFO (named pipe), not a regular file", field, fifo.string()));
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
        CHECK(validate_error(config("/dev/zero")) ==
              fmt::format("tls.{}: /dev/zero is a character device, not a regular file", field));
        CHECK(validate_error(config(certs().dir.string())) ==
              fmt::format("tls.{}: {} is a directory, not a regular file", field, certs().dir.string()));
        CHECK(validate_error(config(sparse.string())) ==
              fmt::format("tls.{}: {} is larger than the limit of 4 MiB", field, sparse.string()));
    }
    fs::remove(sparse, ignored);
    fs::remove(fifo, ignored);
}

// check_tls_files quoted the value: `cannot read file "MHcCAQEEIBkg..."` (issue 12, item 3).
TEST_CASE("validate never shows a tls.client_key value that names no file", "[tls]") {
    // A key body pasted without its BEGIN/END lines: what a user might do, and a real secret.
    std::ifstream in(certs()("other-ec.key"));
    std::vector<std::string> body;
    for (std::string line; std::getline(in, line);)
        if (line.rfind("-----", 0) != 0) body.push_back(line);
    REQUIRE(body.size() >= 2);
    std::string multi_line, one_line;
    for (const auto& l : body) {
        multi_line += (multi_line.empty() ? "" : "\\n") + l; // JSON-escaped newlines
        one_line += l;
    }
    const std::string expected =
        "tls.client_key: not a PEM private key and no such file (the value is not shown: it may be secret)";
    // The last value makes open() fail with ENOTDIR instead of ENOENT.
    for (const std::string& value : {multi_line, one_line, certs()("ca.pem") + "/" + one_line}) {
        INFO(value);
        child c({binary("SOURCE_SOCKET")});
        c.write(request("validate", fmt::format(R"({{"host":"127.0.0.1","port":9,"tls":{{"enabled":true,)"
                                                R"("ca_cert":"{}","client_cert":"{}","client_key":"{}"}}}})",
                                                certs()("ca.pem"), certs()("client-ec.pem"), value)));
        c.close_stdin();
        CHECK(c.wait() == 1);
        CHECK(c.rest_lines().empty());
        auto err = c.err_lines();
        REQUIRE(!err.empty());
        CHECK(msg_of(err.back()) == expected);
        for (const auto& l : body) CHECK(c.err().find(l) == std::string::npos);
        CHECK(c.err().find(one_line.substr(0, 16)) == std::string::npos);
    }
}

// host is 127.0.0.1 and the certificate's name goes in tls.server_hostname: the tests must not
// depend on the machine's resolver (a minimal root has no /etc/hosts to resolve localhost).
TEST_CASE("the spec's four TLS examples, with loopback hosts", "[tls][spec]") {
    std::string trusted = R"(error: cannot connect to 127.0.0.1:{}: server certificate not trusted: its issuer )"
                          R"("CN=socketcap Test CA" is not in the system CA store (set tls.ca_cert to the CA that signed it))";
    SECTION("Basic TLS (server verification): the system store does not know the test CA") {
        tls_server s("server");
        auto r = run_check("basic.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  tls:\n"
                                                       "    enabled: true\n    server_hostname: localhost\n"
                                                       "    verify_cert: true\n",
                                                       s.port()));
        CHECK(r.rc == 1);
        CHECK(r.err.back() == fmt::format(fmt::runtime(trusted), s.port()));
    }
    SECTION("TLS with custom CA: verified") {
        tls_server s("server");
        auto r = run_check("custom-ca.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  tls:\n"
                                                           "    enabled: true\n    server_hostname: localhost\n"
                                                           "    verify_cert: true\n    ca_cert: {}\n",
                                                           s.port(), certs()("ca.pem")));
        CHECK(r.rc == 0);
        REQUIRE(r.out.size() == 2);
        CHECK(r.out[0] == fmt::format("config OK: 127.0.0.1:{}, codec line, tls on", s.port()));
        CHECK(r.out[1].rfind("connection OK: connected to 127.0.0.1:", 0) == 0);
    }
    SECTION("Mutual TLS: the client certificate and key load; the system store still decides trust") {
        tls_server s("server", fmt::format("cafile={},verify=1", certs()("ca.pem")));
        auto r = run_check("mtls.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  tls:\n"
                                                      "    enabled: true\n    server_hostname: localhost\n"
                                                      "    verify_cert: true\n"
                                                      "    client_cert: {}\n    client_key: {}\n",
                                                      s.port(), certs()("client.pem"), certs()("client.key")));
        CHECK(r.rc == 1);
        CHECK(r.err.back() == fmt::format(fmt::runtime(trusted), s.port()));
    }
    SECTION("Mutual TLS with the CA added: accepted by a server that requires client certificates") {
        tls_server s("server", fmt::format("cafile={},verify=1", certs()("ca.pem")));
        auto r = run_check("mtls-ca.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  tls:\n"
                                                         "    enabled: true\n    server_hostname: localhost\n"
                                                         "    verify_cert: true\n    ca_cert: {}\n"
                                                         "    client_cert: {}\n    client_key: {}\n",
                                                         s.port(), certs()("ca.pem"), certs()("client.pem"),
                                                         certs()("client.key")));
        CHECK(r.rc == 0);
        CHECK(r.out.back().rfind("connection OK: connected to 127.0.0.1:", 0) == 0);
    }
    SECTION("Insecure TLS: a self-signed server is accepted, with a warning") {
        tls_server s("selfsigned");
        auto r = run_check("insecure.yaml", fmt::format("config:\n  host: 127.0.0.1\n  port: {}\n  tls:\n"
                                                          "    enabled: true\n    server_hostname: localhost\n"
                                                          "    verify_cert: false\n",
                                                          s.port()));
        CHECK(r.rc == 0);
        bool warned = false;
        for (const auto& l : r.err)
            warned |= l.find(R"("level":"warn")") != std::string::npos &&
                      msg_of(l) == "certificate verification is disabled (tls.verify_cert: false): the server's identity "
                                   "is not checked";
        CHECK(warned);
    }
}

TEST_CASE("a server that accepts TCP but never answers the TLS handshake fails within connection_timeout", "[tls][fault]") {
    server s({{"", true}}); // accepts, sends nothing, holds the connection open
    child c({binary("SOURCE_SOCKET")});
    auto start = std::chrono::steady_clock::now();
    c.write(request("open", fmt::format(R"({{"host":"127.0.0.1","port":{},"connection_timeout":0.5,)"
                                        R"("max_reconnect_attempts":0,"tls":{{"enabled":true,"ca_cert":"{}"}}}})",
                                        s.port(), certs()("ca.pem"))));
    CHECK(c.wait() == 1);
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed >= std::chrono::milliseconds(450));
    CHECK(elapsed < std::chrono::seconds(15)); // generous: the point is "not never"
    CHECK(c.rest_lines() == std::vector<std::string>{R"({"opened":{}})"});
    CHECK(msg_of(c.err_lines().back()) ==
          fmt::format("cannot connect to 127.0.0.1:{}: TLS handshake timed out: the server accepted the TCP "
                      "connection but did not complete the handshake before the connection timeout (is it a TLS "
                      "port?) (gave up after 1 failed attempt, max_reconnect_attempts is 0)",
                      s.port()));
}

namespace {
/// Reads from `fd` until `want` bytes arrived (or 20 s): what arrived.
std::string receive(int fd, std::size_t want) {
    std::string got;
    auto end = std::chrono::steady_clock::now() + deadline;
    while (got.size() < want && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        char buf[65536];
        ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - got.size()), 0);
        if (n <= 0) break;
        got.append(buf, std::size_t(n));
    }
    return got;
}
} // namespace

TEST_CASE("over TLS the connector talks while it reads: on_connect, then a reply to each of 500 PINGs", "[tls][conversation]") {
    listener behind; // socat decrypts and hands the plaintext to this test
    tls_server s("server", "verify=0", fmt::format("TCP:127.0.0.1:{}", behind.port()));
    child c({binary("SOURCE_SOCKET")});
    c.write(request("open", fmt::format(R"({{"host":"127.0.0.1","port":{},"reconnect_delay":60,)"
                                        R"("tls":{{"enabled":true,"ca_cert":"{}"}},"on_connect":["HELLO\r\n"],)"
                                        R"("replies":[{{"match":"^PING (\\d+)$","reply":"PONG ${{1}}\n","capture":false}}]}})",
                                        s.port(), certs()("ca.pem"))));
    REQUIRE(c.read_line() == std::optional<std::string>(R"({"opened":{}})"));
    int fd = behind.accept();
    REQUIRE(fd >= 0);
    CHECK(receive(fd, 7) == "HELLO\r\n");
    // Lines and PINGs interleaved, sent in one burst while the replies flow back.
    std::string burst, pongs;
    for (int i = 1; i <= 500; ++i) {
        burst += fmt::format("line {}\nPING {}\n", i, i);
        pongs += fmt::format("PONG {}\n", i);
    }
    REQUIRE(send_all(fd, burst));
    CHECK(receive(fd, pongs.size()) == pongs);
    simdjson::dom::parser p;
    std::vector<std::string> values;
    while (values.size() < 500) {
        auto line = c.read_line();
        REQUIRE(line);
        simdjson::dom::element doc;
        if (p.parse(*line)["captured"]["doc"].get(doc) != simdjson::SUCCESS) continue; // a checkpoint
        values.emplace_back(std::string_view(doc["data"]["value"]));
    }
    for (int i = 1; i <= 500; ++i) CHECK(values[std::size_t(i - 1)] == fmt::format("line {}", i));
    ::close(fd);
    c.close_stdin();
    CHECK(c.wait() == 0);
    std::string end;
    for (const auto& l : c.err_lines())
        if (msg_of(l) == "disconnected") end = l;
    INFO(c.err());
    CHECK(end.find(R"("sent_messages":501,"sent_bytes":)") != std::string::npos);
    CHECK(end.find(R"("replies":500,"uncaptured_frames":500})") != std::string::npos);
}
