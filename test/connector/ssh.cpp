// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector through an SSH tunnel (networkTunnel.sshForwarding, issue 19), as a process,
// against a real OpenSSH server started here: on 127.0.0.1, on a free port, as the current
// user, with a host key and an authorized key made for the run in a temporary directory (no
// system service or configuration is touched). The feeds are on loopback too: the bastion
// reaches them at 127.0.0.1, as a bastion reaches a private host.
#include "harness.hpp"

#include <socketcap/io/connector.hpp>
#include <socketcap/io/tunneled_connector.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace harness;
namespace fs = std::filesystem;

namespace {

constexpr const char* sshd_path = "/usr/sbin/sshd";

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char ch : s) {
        if (ch == '\n') out += "\\n";
        else if (ch == '"' || ch == '\\') (out += '\\') += ch;
        else out += ch;
    }
    return out;
}

std::string user_name() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw ? pw->pw_name : "root";
}

// Keys, sshd's configuration and the TLS certificates of this run, removed at exit.
struct fixture {
    fs::path dir;
    std::string user_key, wrong_key; // private key texts
    fixture() {
        std::string tmpl = (fs::temp_directory_path() / "socketcap-connector-ssh-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
        for (const char* name : {"host_key", "user_key", "wrong_key"})
            if (std::system(fmt::format("ssh-keygen -q -t ed25519 -N '' -C '' -f '{}'", (dir / name).string()).c_str()) != 0)
                throw std::runtime_error("ssh-keygen failed");
        fs::copy_file(dir / "user_key.pub", dir / "authorized_keys");
        user_key = read_text(dir / "user_key");
        wrong_key = read_text(dir / "wrong_key");
        std::ofstream(dir / "sshd_config") << fmt::format(
            "ListenAddress 127.0.0.1\nHostKey {0}/host_key\nAuthorizedKeysFile {0}/authorized_keys\nPidFile none\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nAllowTcpForwarding local\nLogLevel VERBOSE\n",
            dir.string());
        fs::create_directory(dir / "certs");
        if (std::system(fmt::format("sh '{}' '{}'", SOCKETCAP_TLS_MAKE_CERTS, (dir / "certs").string()).c_str()) != 0)
            throw std::runtime_error("make-certs.sh failed");
        std::ofstream(dir / "certs" / "data.txt", std::ios::binary) << "first line\nsecond line\n";
        // Run as root, sshd wants its privilege separation directory (the Debian service
        // creates it at start; it is empty and root's own).
        if (::geteuid() == 0) ::mkdir("/run/sshd", 0755);
    }
    ~fixture() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string operator()(const std::string& name) const { return (dir / name).string(); }
};

const fixture& fx() {
    static const fixture f;
    return f;
}

bool have_sshd() {
    if (::access(sshd_path, X_OK) == 0) return true;
    WARN("skipped: " << sshd_path << " not found (scripts/bootstrap installs openssh-server)");
    return false;
}

// OpenSSH's sshd in the foreground, logging to stderr; `options` are extra -o settings.
class sshd {
public:
    explicit sshd(std::vector<std::string> options = {}) {
        for (int attempt = 0; attempt < 3 && port_ == 0; ++attempt) {
            auto port = closed_port(); // sshd has no "Port 0": take a free one, retry if lost
            std::vector<std::string> argv{sshd_path, "-D", "-e", "-f", fx()("sshd_config"), "-o",
                                          fmt::format("Port={}", port)};
            for (const auto& o : options) argv.insert(argv.end(), {"-o", o});
            proc_ = std::make_unique<child>(argv);
            const std::string ready = fmt::format("Server listening on 127.0.0.1 port {}.", port);
            for (int i = 0; i < 200; ++i) {
                proc_->read_line(std::chrono::milliseconds(50)); // pumps stderr too
                if (proc_->err().find(ready) != std::string::npos) {
                    port_ = port;
                    break;
                }
                if (proc_->err().find("Cannot bind") != std::string::npos) break;
            }
        }
        INFO(proc_->err());
        REQUIRE(port_ != 0);
    }
    std::uint16_t port() const { return port_; }
    std::string log() const { return proc_->err(); }

private:
    std::unique_ptr<child> proc_;
    std::uint16_t port_ = 0;
};

// socat serving data.txt over TLS with certificate `cert` to one client.
class tls_server {
public:
    explicit tls_server(const std::string& cert)
        : proc_({SOCKETCAP_SOCAT, "-d", "-d",
                 fmt::format("OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert={0}.pem,key={0}.key,verify=0",
                             fx()("certs/" + cert)),
                 fmt::format("OPEN:{},rdonly", fx()("certs/data.txt"))}) {
        constexpr std::string_view marker = "listening on AF=2 127.0.0.1:";
        for (int i = 0; i < 300 && port_ == 0; ++i) {
            proc_.read_line(std::chrono::milliseconds(50));
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

std::string tunnel(std::uint16_t ssh_port, const std::string& key, const std::string& user = user_name()) {
    return fmt::format(R"("networkTunnel":{{"sshForwarding":{{"sshEndpoint":"ssh://{}@127.0.0.1:{}","privateKey":"{}"}}}})",
                       user, ssh_port, json_escape(key));
}

std::string msg_of(const std::string& log_line) {
    simdjson::dom::parser p;
    std::string_view msg;
    INFO("stderr line: " << log_line);
    REQUIRE(p.parse(log_line)["msg"].get_string().get(msg) == simdjson::SUCCESS);
    return std::string(msg);
}

std::string validate_request(const std::string& config) {
    return fmt::format(R"({{"validate":{{"name":"acmeCo/ssh","connectorType":"IMAGE","config":{},)"
                       R"("bindings":[{{"resourceConfig":{{"stream":"events"}},"resourcePath":["events"]}}]}}}})",
                       config) + "\n";
}

struct run_result {
    int rc = -1;
    std::vector<std::string> out;
    std::string err;
};

run_result validate(const std::string& config, const std::map<std::string, std::string>& env = {}) {
    child c({binary("SOURCE_SOCKET")}, env);
    c.write(validate_request(config));
    c.close_stdin();
    run_result r;
    r.rc = c.wait();
    r.out = c.rest_lines();
    r.err = c.err();
    return r;
}

std::string validate_error(const std::string& config) {
    auto r = validate(config);
    CHECK(r.rc == 1);
    CHECK(r.out.empty());
    INFO(r.err);
    REQUIRE(!r.err.empty());
    auto last = r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1);
    return msg_of(last.substr(0, last.size() - 1));
}

// A config file for `source-socket capture`, in a directory of its own.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "socketcap-ssh-test-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

struct doc {
    std::string value, session_id, source_host;
    std::uint64_t source_port = 0, sequence = 0;
};

doc parse_doc(const std::string& line) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    INFO(line);
    REQUIRE(p.parse(line).get(e) == simdjson::SUCCESS);
    doc d;
    std::string_view v;
    REQUIRE(e["data"]["value"].get_string().get(v) == simdjson::SUCCESS);
    d.value = v;
    REQUIRE(e["session_id"].get_string().get(v) == simdjson::SUCCESS);
    d.session_id = v;
    REQUIRE(e["source_host"].get_string().get(v) == simdjson::SUCCESS);
    d.source_host = v;
    REQUIRE(e["source_port"].get_uint64().get(d.source_port) == simdjson::SUCCESS);
    REQUIRE(e["sequence"].get_uint64().get(d.sequence) == simdjson::SUCCESS);
    return d;
}

/// The ssh processes whose parent is `parent`.
std::set<pid_t> ssh_children(pid_t parent) {
    std::set<pid_t> found;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string stat = read_text(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.find("(ssh)") == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        char state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == parent) found.insert(static_cast<pid_t>(std::stoi(name)));
    }
    return found;
}

} // namespace

TEST_CASE("capture through an SSH tunnel: the documents, reporting the configured host and port", "[ssh]") {
    if (!have_sshd()) return;
    sshd bastion;
    server feed({{"first line\nsecond line\n", true}});
    temp_dir tmp;
    auto cfg = tmp.write("tunnel.json", fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed.port(),
                                                    tunnel(bastion.port(), fx().user_key)));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg, "--max-docs", "2"}, {{"TMPDIR", tmp.path.string()}});
    REQUIRE(c.wait() == 0);
    auto lines = c.all_lines();
    REQUIRE(lines.size() == 2);
    auto first = parse_doc(lines[0]), second = parse_doc(lines[1]);
    CHECK(first.value == "first line");
    CHECK(second.value == "second line");
    // The feed's address as configured, not the tunnel's local end.
    CHECK(first.source_host == "127.0.0.1");
    CHECK(first.source_port == feed.port());
    CHECK(feed.accepted() == 1); // no probe connection reached the feed
    bool connected = false;
    for (const auto& l : c.err_lines())
        connected |= msg_of(l) == "connected" &&
                     l.find(fmt::format(R"("tunnel":"ssh://{}@127.0.0.1:{}")", user_name(), bastion.port())) !=
                         std::string::npos;
    INFO(c.err());
    CHECK(connected);
    // The key's directory is gone with the process.
    CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1); // tunnel.json only
    // validate and `check` go through the tunnel as well.
    server again({{"x\n", true}});
    auto r = validate(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", again.port(),
                                  tunnel(bastion.port(), fx().user_key)));
    INFO(r.err);
    CHECK(r.rc == 0);
    CHECK(r.out == std::vector<std::string>{R"({"validated":{"bindings":[{"resourcePath":["events"]}]}})"});
}

#if SOCKETCAP_HAS_TLS
// No ": " late in a section name: Catch2 v2's console reporter indents the wrapped name to it,
// and aborts when that is past its width (on a failure, leaving sshd behind).
TEST_CASE("TLS through an SSH tunnel verifies the configured name, not the tunnel's 127.0.0.1", "[ssh][tls]") {
    if (!have_sshd()) return;
    sshd bastion;
    auto config = [&](std::uint16_t port, const std::string& server_hostname) {
        return fmt::format(R"({{"host":"127.0.0.1","port":{},"max_reconnect_attempts":0,)"
                           R"("tls":{{"enabled":true,"ca_cert":"{}"{}}},{}}})",
                           port, fx()("certs/ca.pem"),
                           server_hostname.empty() ? "" : fmt::format(R"(,"server_hostname":"{}")", server_hostname),
                           tunnel(bastion.port(), fx().user_key));
    };
    SECTION("a certificate for wrong.example only (no IP address), accepted as tls.server_hostname") {
        tls_server s("wrongname");
        temp_dir tmp;
        child c({binary("SOURCE_SOCKET"), "capture", "--config", tmp.write("tls.json", config(s.port(), "wrong.example")),
                 "--max-docs", "2"});
        REQUIRE(c.wait() == 0);
        auto lines = c.all_lines();
        REQUIRE(lines.size() == 2);
        CHECK(parse_doc(lines[0]).value == "first line");
        CHECK(parse_doc(lines[1]).value == "second line");
        bool tls = false;
        for (const auto& l : c.err_lines())
            tls |= msg_of(l) == "connected" && l.find(R"("tls":true)") != std::string::npos;
        CHECK(tls);
    }
    SECTION("the same certificate without tls.server_hostname, checked against host and refused") {
        tls_server s("wrongname");
        CHECK(validate_error(config(s.port(), "")) ==
              fmt::format("cannot connect to 127.0.0.1:{}: server certificate does not match the host name: expected "
                          "\"127.0.0.1\" (host), the certificate is for DNS:wrong.example",
                          s.port()));
    }
    SECTION("a certificate for 127.0.0.1 and localhost, tls.server_hostname wrong.example, refused") {
        tls_server s("server");
        CHECK(validate_error(config(s.port(), "wrong.example")) ==
              fmt::format("cannot connect to 127.0.0.1:{}: server certificate does not match the host name: expected "
                          "\"wrong.example\" (tls.server_hostname), the certificate is for IP:127.0.0.1, DNS:localhost",
                          s.port()));
    }
}

#endif

TEST_CASE("validate through an SSH tunnel: each failure as a sentence", "[ssh][validate]") {
    if (!have_sshd()) return;
    const std::string user = user_name();
    SECTION("a key the bastion does not accept") {
        sshd bastion;
        server feed({});
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed.port(),
                                         tunnel(bastion.port(), fx().wrong_key))) ==
              fmt::format("cannot connect to 127.0.0.1:{}: SSH tunnel: the SSH server 127.0.0.1:{} rejected the private "
                          "key for user \"{}\" (check networkTunnel.sshForwarding.privateKey and the user in sshEndpoint)",
                          feed.port(), bastion.port(), user));
    }
    SECTION("a key ssh cannot read (cut short)") {
        sshd bastion;
        auto damaged = fx().user_key.substr(0, fx().user_key.size() / 2) + "\n-----END OPENSSH PRIVATE KEY-----\n";
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":9,{}}})", tunnel(bastion.port(), damaged))) ==
              "cannot connect to 127.0.0.1:9: SSH tunnel: ssh cannot use networkTunnel.sshForwarding.privateKey (error "
              "in libcrypto): it must be a complete OpenSSH or PEM private key without a passphrase");
    }
    SECTION("an endpoint that is not an SSH server") {
        server not_ssh({{"HTTP/1.0 400 Bad Request\r\n\r\n", false}});
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":9,{}}})", tunnel(not_ssh.port(), fx().user_key))) ==
              fmt::format("cannot connect to 127.0.0.1:9: SSH tunnel: 127.0.0.1:{} closed the connection before "
                          "authentication: is it an SSH server? (networkTunnel.sshForwarding.sshEndpoint)",
                          not_ssh.port()));
    }
    SECTION("a bastion that refuses connections") {
        auto closed = closed_port();
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":9,{}}})", tunnel(closed, fx().user_key))) ==
              fmt::format("cannot connect to 127.0.0.1:9: SSH tunnel: cannot reach the SSH server 127.0.0.1:{} "
                          "(networkTunnel.sshForwarding.sshEndpoint): Connection refused",
                          closed));
    }
    SECTION("a bastion that forbids forwarding (AllowTcpForwarding no)") {
        sshd bastion({"AllowTcpForwarding=no"});
        server feed({});
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed.port(),
                                         tunnel(bastion.port(), fx().user_key))) ==
              fmt::format("cannot connect to 127.0.0.1:{0}: SSH tunnel: the SSH server 127.0.0.1:{1} refused to forward "
                          "to 127.0.0.1:{0} (administratively prohibited: open failed): its sshd must allow it "
                          "(AllowTcpForwarding, PermitOpen)",
                          feed.port(), bastion.port()));
        CHECK(feed.accepted() == 0);
    }
    SECTION("a bastion that forwards only to another target (PermitOpen)") {
        sshd bastion({"PermitOpen=127.0.0.1:9"});
        server feed({});
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed.port(),
                                         tunnel(bastion.port(), fx().user_key))) ==
              fmt::format("cannot connect to 127.0.0.1:{0}: SSH tunnel: the SSH server 127.0.0.1:{1} refused to forward "
                          "to 127.0.0.1:{0} (administratively prohibited: open failed): its sshd must allow it "
                          "(AllowTcpForwarding, PermitOpen)",
                          feed.port(), bastion.port()));
    }
    SECTION("a target the bastion cannot reach") {
        sshd bastion;
        auto closed = closed_port();
        CHECK(validate_error(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", closed,
                                         tunnel(bastion.port(), fx().user_key))) ==
              fmt::format("cannot connect to 127.0.0.1:{0}: SSH tunnel: the SSH server 127.0.0.1:{1} cannot reach "
                          "127.0.0.1:{0}: Connection refused",
                          closed, bastion.port()));
    }
}

TEST_CASE("the SSH tunnel killed mid-capture: the capture reconnects it and goes on", "[ssh][fault]") {
    if (!have_sshd()) return;
    sshd bastion;
    child feed({binary("SOCKET_FEED"), "--port", "0", "--mode", "lines", "--count", "0", "--rate", "100"});
    auto port_line = feed.read_line();
    REQUIRE(port_line);
    temp_dir tmp;
    auto cfg = tmp.write("kill.json", fmt::format(R"({{"host":"127.0.0.1","port":{},"reconnect_delay":0.2,{}}})",
                                                  *port_line, tunnel(bastion.port(), fx().user_key)));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg, "--max-docs", "30"}, {{"TMPDIR", tmp.path.string()}});
    std::vector<doc> docs;
    for (int i = 0; i < 10; ++i) {
        auto line = c.read_line();
        REQUIRE(line);
        docs.push_back(parse_doc(*line));
    }
    // While the tunnel runs, its key is a 0600 file in a 0700 directory of its own.
    std::vector<fs::path> key_dirs;
    for (const auto& e : fs::directory_iterator(tmp.path))
        if (e.path().filename().string().rfind("socketcap-ssh-", 0) == 0) key_dirs.push_back(e.path());
    REQUIRE(key_dirs.size() == 1);
    CHECK((fs::status(key_dirs[0]).permissions() & fs::perms::all) == fs::perms::owner_all);
    CHECK((fs::status(key_dirs[0] / "id").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(read_text(key_dirs[0] / "id") == fx().user_key);

    auto before = ssh_children(c.pid());
    REQUIRE(before.size() == 1);
    ::kill(*before.begin(), SIGKILL);
    REQUIRE(c.wait() == 0); // --max-docs 30: 20 more, after the kill
    auto rest = c.rest_lines();
    REQUIRE(rest.size() == 20);
    for (const auto& l : rest) docs.push_back(parse_doc(l));
    const std::string first_session = docs.front().session_id;
    std::size_t at = 0;
    while (at < docs.size() && docs[at].session_id == first_session) ++at;
    REQUIRE(at < docs.size()); // a second session delivered documents after the kill
    CHECK(docs[at].sequence == 1);
    for (std::size_t i = at; i < docs.size(); ++i) CHECK(docs[i].session_id == docs[at].session_id);
    // A new ssh made the second session: the log says so, and the key is gone at exit.
    int connected = 0;
    for (const auto& l : c.err_lines()) connected += msg_of(l) == "connected";
    CHECK(connected == 2);
    CHECK(!fs::exists(key_dirs[0]));
    feed.signal(SIGTERM);
    feed.wait();
}

TEST_CASE("the private key never reaches stderr, at any log level", "[ssh][secret]") {
    if (!have_sshd()) return;
    sshd bastion;
    std::vector<std::string> key_lines;
    for (const auto& key : {fx().user_key, fx().wrong_key}) {
        std::istringstream in(key);
        for (std::string l; std::getline(in, l);)
            if (l.rfind("-----", 0) != 0 && !l.empty()) key_lines.push_back(l);
    }
    REQUIRE(key_lines.size() >= 4);
    auto check_clean = [&](const std::string& err) {
        for (const auto& l : key_lines) {
            INFO(l);
            CHECK(err.find(l) == std::string::npos);
            CHECK(err.find(l.substr(0, 16)) == std::string::npos);
        }
    };
    const std::map<std::string, std::string> trace{{"LOG_LEVEL", "trace"}};
    server feed({{"one\n", true}});
    temp_dir tmp;
    auto cfg = tmp.write("trace.json", fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed.port(),
                                                   tunnel(bastion.port(), fx().user_key)));
    child c({binary("SOURCE_SOCKET"), "capture", "--config", cfg, "--max-docs", "1"}, trace);
    REQUIRE(c.wait() == 0);
    CHECK(c.all_lines().size() == 1);
    CHECK(c.err().find(R"("level":"debug")") != std::string::npos); // the log level took
    check_clean(c.err());
    // A rejected key, a key that is not one, and a broken config: still never shown.
    server feed2({});
    check_clean(validate(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed2.port(),
                                     tunnel(bastion.port(), fx().wrong_key)),
                         trace)
                    .err);
    auto damaged = fx().user_key.substr(0, fx().user_key.size() / 2) + "-----END OPENSSH PRIVATE KEY-----\n";
    auto r = validate(fmt::format(R"({{"host":"127.0.0.1","port":{},{}}})", feed2.port(),
                                  tunnel(bastion.port(), damaged)),
                      trace);
    CHECK(r.rc == 1);
    check_clean(r.err);
    r = validate(fmt::format(R"({{"host":"127.0.0.1","port":0,{}}})", tunnel(bastion.port(), fx().user_key)), trace);
    CHECK(r.rc == 1);
    check_clean(r.err);
}

TEST_CASE("tcp_connector dials another address when asked, and still reports the configured one", "[ssh][connector]") {
    listener l;
    asio::io_context ctx;
    socketcap::tcp_connector direct("feed.invalid", 5140, std::chrono::seconds(5));
    socketcap::tunneled_connector<socketcap::tcp_connector> untunneled(direct, nullptr); // no tunnel: direct
    socketcap::tcp_transport socket(ctx);
    socketcap::connection_info info;
    socketcap::diagnostics diag;
    std::error_code result = asio::error::would_block;
    direct.async_connect_via(socket, "127.0.0.1", l.port(), info, diag, [&](std::error_code ec) { result = ec; });
    ctx.run();
    CHECK(result == std::error_code{});
    CHECK(info.endpoint.port() == l.port());
    CHECK(direct.host() == "feed.invalid"); // what documents and messages name
    CHECK(untunneled.host() == "feed.invalid");
    CHECK(untunneled.port() == 5140);
    int fd = l.accept(std::chrono::seconds(5));
    CHECK(fd >= 0);
    if (fd >= 0) ::close(fd);
    // Without a tunnel, the adaptor is the inner connector: it resolves feed.invalid itself.
    ctx.restart();
    socketcap::tcp_transport other(ctx);
    untunneled.async_connect(other, info, diag, [&](std::error_code ec) { result = ec; });
    ctx.run();
    CHECK(result != std::error_code{});
    CHECK(diag.message().rfind("cannot resolve host \"feed.invalid\"", 0) == 0);
}
