// SPDX-License-Identifier: MIT OR Apache-2.0
// socketcap::tls against real TLS servers (openssl s_server and socat, both OpenSSL) on
// 127.0.0.1, with certificates made fresh by make-certs.sh for every run. Each case asserts the
// exact documents of a session or the exact sentence a user would see.
// error.hpp first: session.hpp uses error_code without including it (reported to the lead).
#include <socketcap/error.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/io/sink.hpp>
#include <socketcap/text_codec.hpp>
#include <socketcap/tls/tls.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
namespace tls = socketcap::tls;
using namespace std::chrono_literals;

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return std::move(s).str();
}

// The certificates of this test run, made once per process and removed at exit.
class certificates {
public:
    static const certificates& get() {
        static const certificates instance;
        return instance;
    }
    fs::path path(const std::string& name) const { return dir_ / name; }
    std::string str(const std::string& name) const { return path(name).string(); }
    std::string pem(const std::string& name) const { return read_text(path(name)); }
    const fs::path& dir() const { return dir_; }

    certificates(const certificates&) = delete;
    certificates& operator=(const certificates&) = delete;

private:
    certificates() {
        std::string tmpl = (fs::temp_directory_path() / "socketcap-tls-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        std::string cmd = std::string("sh '") + SOCKETCAP_TLS_MAKE_CERTS + "' '" + dir_.string() + "'";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make-certs.sh failed");
        std::ofstream(dir_ / "data.txt", std::ios::binary) << "first line\nsecond line\r\nthird\n";
    }
    ~certificates() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path dir_;
};

// A server process on 127.0.0.1 with a port the kernel chose (both tools print it), so parallel
// test runs never collide. Killed (and reaped) when the object goes away, and by the kernel if
// this test process dies first.
class server_process {
public:
    server_process(std::vector<std::string> args, const fs::path& stdin_file = "/dev/null") {
        static int counter = 0;
        log_ = certificates::get().dir() / ("server-" + std::to_string(getpid()) + "-" + std::to_string(++counter) +
                                            ".log");
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t parent = getpid();
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
            int in = open(stdin_file.c_str(), O_RDONLY);
            int out = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (in < 0 || out < 0) _exit(127);
            dup2(in, 0);
            dup2(out, 1);
            dup2(out, 2);
            chdir(certificates::get().dir().c_str());
            execvp(argv[0], argv.data());
            _exit(127);
        }
        REQUIRE(pid_ > 0);
        // "ACCEPT 127.0.0.1:PORT" (s_server) or "listening on AF=2 127.0.0.1:PORT" (socat -d -d)
        static const std::regex listening("(?:ACCEPT|listening on AF=2) 127\\.0\\.0\\.1:([0-9]+)");
        auto until = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < until) {
            std::smatch m;
            std::string text = log();
            if (std::regex_search(text, m, listening)) {
                port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
                return;
            }
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                FAIL("server exited before listening: " << text);
            }
            std::this_thread::sleep_for(20ms);
        }
        stop(); // a failing constructor runs no destructor
        FAIL("server did not start listening: " << log());
    }
    ~server_process() { stop(); }
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    std::uint16_t port() const { return port_; }
    std::string log() const { return read_text(log_); }

private:
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 500; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    fs::path log_;
};

// socat serving data.txt over TLS to one client, then closing with close_notify.
// `verify`: how the server treats client certificates, e.g. "cafile=ca.pem,verify=1".
server_process socat_server(const std::string& cert, const std::string& verify = "verify=0") {
    return server_process({"socat", "-d", "-d",
                           "OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=" + cert + ".pem,key=" + cert +
                               ".key," + verify,
                           "OPEN:data.txt,rdonly"});
}

// openssl s_server sending data.txt (its stdin) to one client, then closing the TCP connection
// without close_notify. -nbio: with blocking I/O, s_server may sit in SSL_read waiting for the
// client after it has written the data (a stale select result), and never reach stdin's EOF.
server_process s_server(std::vector<std::string> extra) {
    std::vector<std::string> args{"openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-nbio",
                                  "-cert", "server.pem", "-key", "server.key"};
    args.insert(args.end(), extra.begin(), extra.end());
    return server_process(std::move(args), certificates::get().path("data.txt"));
}

// Connects `stream` to 127.0.0.1:port and runs the handshake as `host`, within 30 s.
asio::awaitable<tls::handshake_result> connect_and_handshake(tls::tls_transport& stream, std::uint16_t port,
                                                             std::string host, tls::client_options opts) {
    co_await stream.lowest_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    co_return co_await tls::handshake(stream, std::move(host), std::move(opts), std::chrono::steady_clock::now() + 30s);
}

struct outcome {
    tls::handshake_result handshake;
    std::string documents;   // normalised: timestamps and the session id replaced
    std::error_code read_ec; // what ended the session (classified)
    std::string read_message;
};

// Connects to 127.0.0.1:port, handshakes as `host` and runs a line session into memory. `host`
// is only the name to verify and send as SNI (and the documents' source_host): nothing here
// resolves a name, so the tests do not depend on /etc/hosts or DNS.
outcome capture(std::uint16_t port, const std::string& host, const tls::client_options& opts,
                std::chrono::steady_clock::duration timeout = 30s) {
    auto ctx = tls::make_context(opts);
    INFO(ctx.message);
    REQUIRE(ctx.context);
    asio::io_context io;
    outcome out;
    std::exception_ptr failed;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tls::tls_transport stream(io, *ctx.context);
            co_await stream.lowest_layer().async_connect(
                asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
            out.handshake = co_await tls::handshake(stream, host, opts, std::chrono::steady_clock::now() + timeout);
            if (out.handshake.ec) co_return;
            socketcap::memory_sink sink(io.get_executor());
            socketcap::session_options so;
            so.source_host = host;
            so.source_port = port;
            socketcap::session<tls::tls_transport, socketcap::line_codec> s(stream, socketcap::line_codec{}, so);
            auto r = co_await s.run(sink);
            std::string docs = std::regex_replace(sink.str(), std::regex(R"("timestamp":"[^"]*")"), R"("timestamp":"T")");
            std::size_t at = 0;
            while ((at = docs.find(s.session_id(), at)) != std::string::npos) docs.replace(at, s.session_id().size(), "S");
            out.documents = docs;
            out.read_ec = tls::classify_read_error(stream, r.ec);
            out.read_message = tls::describe_read_error(stream, r.ec);
        },
        [&](std::exception_ptr e) { failed = e; });
    io.run();
    if (failed) std::rethrow_exception(failed);
    return out;
}

std::string expected_documents(const std::string& host, std::uint16_t port) {
    std::string head = R"({"timestamp":"T","source_host":")" + host + R"(","source_port":)" + std::to_string(port) + ",";
    return head + R"("data":{"value":"first line"},"raw":"first line","sequence":1,"session_id":"S"})" "\n" +
           head + R"("data":{"value":"second line"},"raw":"second line","sequence":2,"session_id":"S"})" "\n" +
           head + R"("data":{"value":"third"},"raw":"third","sequence":3,"session_id":"S"})" "\n";
}

tls::client_options with_ca() {
    tls::client_options o;
    o.ca_cert = certificates::get().str("ca.pem");
    return o;
}

void require_documents(const outcome& o, const std::string& host, std::uint16_t port) {
    INFO(o.handshake.message);
    REQUIRE(!o.handshake.ec);
    CHECK(o.handshake.warning.empty());
    CHECK(o.documents == expected_documents(host, port));
}

std::string context_error(const tls::client_options& opts, std::error_code expected) {
    auto r = tls::make_context(opts);
    CHECK(r.context == nullptr);
    CHECK(r.ec == expected);
    return r.message;
}

// Opens `fifo` for writing after `after` unless stopped first, which releases a reader blocked
// in open(): code that wrongly blocks on a FIFO then fails the test (too slow, wrong message)
// instead of hanging it.
class fifo_rescuer {
public:
    fifo_rescuer(fs::path fifo, std::chrono::seconds after)
        : thread_([this, fifo = std::move(fifo), after] {
              std::unique_lock lock(mutex_);
              if (cv_.wait_for(lock, after, [this] { return stop_; })) return;
              int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
              if (fd >= 0) close(fd);
          }) {}
    ~fifo_rescuer() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace

TEST_CASE("tls: CA as a file; TLS 1.3 with the faster AEAD preferred; clean close") {
    auto server = socat_server("server");
    auto o = capture(server.port(), "localhost", with_ca());
    require_documents(o, "localhost", server.port());
    CHECK(o.handshake.version == "TLSv1.3");
    // AES-GCM with an AES-NI wolfSSL on an AES-NI CPU (-Dwolfssl_prefix), else ChaCha20.
    CHECK(o.handshake.cipher == (tls::prefers_aes_gcm() ? "TLS13-AES128-GCM-SHA256" : "TLS13-CHACHA20-POLY1305-SHA256"));
    CHECK(o.read_ec == asio::error::eof);
    CHECK(o.read_message == "the server closed the TLS connection");
}

TEST_CASE("tls: a TLS 1.2 server negotiates ECDHE with the faster AEAD") {
    auto server = socat_server("server", "verify=0,openssl-max-proto-version=TLS1.2");
    auto o = capture(server.port(), "localhost", with_ca());
    require_documents(o, "localhost", server.port());
    CHECK(o.handshake.version == "TLSv1.2");
    CHECK(o.handshake.cipher == (tls::prefers_aes_gcm() ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-RSA-CHACHA20-POLY1305"));
}

TEST_CASE("tls: CA as an inline PEM string, one or several certificates") {
    auto server = socat_server("server");
    tls::client_options opts;
    SECTION("one") { opts.ca_cert = certificates::get().pem("ca.pem"); }
    SECTION("bundle, the signing CA second") {
        opts.ca_cert = certificates::get().pem("selfsigned.pem") + certificates::get().pem("ca.pem");
    }
    require_documents(capture(server.port(), "localhost", opts), "localhost", server.port());
}

TEST_CASE("tls: the system CA store does not trust the test CA") {
    auto server = socat_server("server");
    auto o = capture(server.port(), "localhost", tls::client_options{});
    CHECK(o.handshake.ec == tls::error::untrusted_certificate);
    CHECK(o.handshake.message == "server certificate not trusted: its issuer \"CN=socketcap Test CA\" is not in the "
                                 "system CA store (set tls.ca_cert to the CA that signed it)");
}

TEST_CASE("tls: server_hostname is verified and sent as SNI instead of the host") {
    auto opts = with_ca();
    SECTION("right name, IP host") {
        auto server = s_server({"-servername", "localhost", "-servername_fatal", "-cert2", "server.pem", "-key2", "server.key"});
        opts.server_hostname = "localhost";
        auto o = capture(server.port(), "127.0.0.1", opts);
        require_documents(o, "127.0.0.1", server.port());
        CHECK(server.log().find("Hostname in TLS extension: \"localhost\"") != std::string::npos);
    }
    SECTION("no server_hostname: the host is verified and sent as SNI") {
        auto server = s_server({"-servername", "localhost", "-servername_fatal", "-cert2", "server.pem", "-key2", "server.key"});
        auto o = capture(server.port(), "localhost", opts);
        require_documents(o, "localhost", server.port());
        CHECK(server.log().find("Hostname in TLS extension: \"localhost\"") != std::string::npos);
    }
    SECTION("wrong name") {
        auto server = socat_server("server");
        opts.server_hostname = "wrong.example";
        auto o = capture(server.port(), "localhost", opts);
        CHECK(o.handshake.ec == tls::error::hostname_mismatch);
        CHECK(o.handshake.message == "server certificate does not match the host name: expected \"wrong.example\" "
                                     "(tls.server_hostname), the certificate is for IP:127.0.0.1, DNS:localhost");
    }
    SECTION("certificate for another name") {
        auto server = socat_server("wrongname");
        auto o = capture(server.port(), "localhost", opts);
        CHECK(o.handshake.ec == tls::error::hostname_mismatch);
        CHECK(o.handshake.message == "server certificate does not match the host name: expected \"localhost\" "
                                     "(host), the certificate is for DNS:wrong.example");
    }
}

TEST_CASE("tls: an IP host is matched against IP SANs and never sent as SNI") {
    auto opts = with_ca();
    SECTION("matching IP SAN") {
        auto server = s_server({"-servername", "localhost", "-cert2", "server.pem", "-key2", "server.key"});
        auto o = capture(server.port(), "127.0.0.1", opts);
        require_documents(o, "127.0.0.1", server.port());
        CHECK(server.log().find("Hostname in TLS extension") == std::string::npos);
    }
    SECTION("IP not in the certificate") {
        auto server = socat_server("server");
        opts.server_hostname = "127.0.0.2"; // only verified against, the connection is to 127.0.0.1
        auto o = capture(server.port(), "127.0.0.1", opts);
        CHECK(o.handshake.ec == tls::error::hostname_mismatch);
        CHECK(o.handshake.message == "server certificate does not match the host name: expected \"127.0.0.2\" "
                                     "(tls.server_hostname), the certificate is for IP:127.0.0.1, DNS:localhost");
    }
}

TEST_CASE("tls: mutual TLS with file and inline PEM credentials") {
    auto server = socat_server("server", "cafile=ca.pem,verify=1");
    auto& c = certificates::get();
    auto opts = with_ca();
    SECTION("files") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("client.key");
    }
    SECTION("inline PEM") {
        opts.client_cert = c.pem("client.pem");
        opts.client_key = c.pem("client.key");
    }
    SECTION("encrypted PKCS#8 key with its password") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("client-encrypted.key");
        opts.client_key_password = "test-passphrase";
    }
    SECTION("traditional (PKCS#1) key") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("client-pkcs1.key");
    }
    SECTION("traditional PEM-encrypted key with its password") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("client-legacy-encrypted.key");
        opts.client_key_password = "test-passphrase";
    }
    SECTION("EC client certificate with a SEC1 key") {
        opts.client_cert = c.str("client-ec.pem");
        opts.client_key = c.str("client-ec.key");
    }
    SECTION("ECDSA P-384 client certificate with a PKCS#8 key") {
        opts.client_cert = c.str("client-p384.pem");
        opts.client_key = c.str("client-p384.key");
    }
    SECTION("Ed25519 client certificate") {
        opts.client_cert = c.str("client-ed25519.pem");
        opts.client_key = c.str("client-ed25519.key");
    }
    SECTION("Ed448 client certificate") {
        opts.client_cert = c.str("client-ed448.pem");
        opts.client_key = c.str("client-ed448.key");
    }
    SECTION("encrypted PKCS#8 key inline with its password") {
        opts.client_cert = c.pem("client.pem");
        opts.client_key = c.pem("client-encrypted.key");
        opts.client_key_password = "test-passphrase";
    }
    require_documents(capture(server.port(), "localhost", opts), "localhost", server.port());
}

TEST_CASE("tls: a server that requires a client certificate when none is given") {
    SECTION("TLS 1.3: the handshake succeeds, the first read fails") {
        auto server = s_server({"-tls1_3", "-CAfile", "ca.pem", "-Verify", "1"});
        auto o = capture(server.port(), "localhost", with_ca());
        INFO(o.handshake.message);
        REQUIRE(!o.handshake.ec);
        CHECK(o.documents.empty());
        CHECK(o.read_ec == tls::error::client_certificate_required);
        CHECK(o.read_message == "the server requires a client certificate (it sent TLS alert certificate_required "
                                "after the handshake, as TLS 1.3 servers do); set tls.client_cert and tls.client_key");
    }
    SECTION("TLS 1.2: the handshake fails") {
        auto server = socat_server("server", "cafile=ca.pem,verify=1,openssl-max-proto-version=TLS1.2");
        auto o = capture(server.port(), "localhost", with_ca());
        CHECK(o.handshake.ec == tls::error::client_certificate_required);
        CHECK(o.handshake.message == "the server ended the handshake with TLS alert handshake_failure and no client "
                                     "certificate was sent: it probably requires one (set tls.client_cert and "
                                     "tls.client_key)");
    }
}

TEST_CASE("tls: a client certificate the server does not trust") {
    auto opts = with_ca();
    opts.client_cert = certificates::get().str("selfsigned.pem");
    opts.client_key = certificates::get().str("selfsigned.key");
    SECTION("TLS 1.3: on the first read") {
        auto server = socat_server("server", "cafile=ca.pem,verify=1");
        auto o = capture(server.port(), "localhost", opts);
        INFO(o.handshake.message);
        REQUIRE(!o.handshake.ec);
        CHECK(o.documents.empty());
        CHECK(o.read_ec == tls::error::client_certificate_rejected);
        CHECK(o.read_message ==
              "the server rejected the client certificate (tls.client_cert): it sent TLS alert unknown_ca after the "
              "handshake");
    }
    SECTION("TLS 1.2: in the handshake") {
        auto server = socat_server("server", "cafile=ca.pem,verify=1,openssl-max-proto-version=TLS1.2");
        auto o = capture(server.port(), "localhost", opts);
        CHECK(o.handshake.ec == tls::error::client_certificate_rejected);
        CHECK(o.handshake.message ==
              "the server rejected the client certificate (tls.client_cert): it sent TLS alert unknown_ca");
    }
}

TEST_CASE("tls: expired and not yet valid server certificates") {
    SECTION("expired") {
        auto server = socat_server("expired");
        auto o = capture(server.port(), "localhost", with_ca());
        CHECK(o.handshake.ec == tls::error::certificate_expired);
        CHECK(o.handshake.message == "server certificate expired on 2021-01-01 00:00:00 UTC (valid from 2020-01-01 "
                                     "00:00:00 UTC); check the clock if that seems wrong");
    }
    SECTION("not yet valid") {
        auto server = socat_server("notyet");
        auto o = capture(server.port(), "localhost", with_ca());
        CHECK(o.handshake.ec == tls::error::certificate_not_yet_valid);
        CHECK(o.handshake.message == "server certificate is not valid yet: valid from 2099-01-01 00:00:00 UTC to "
                                     "2100-01-01 00:00:00 UTC; check the clock");
    }
}

TEST_CASE("tls: a self-signed server fails with verification and works without") {
    auto server = socat_server("selfsigned");
    SECTION("verification on (system store)") {
        auto o = capture(server.port(), "localhost", tls::client_options{});
        CHECK(o.handshake.ec == tls::error::untrusted_certificate);
        CHECK(o.handshake.message == "server certificate is self-signed (CN=localhost) and not trusted: add it to "
                                     "tls.ca_cert, or set tls.verify_cert: false (insecure)");
    }
    SECTION("verification on (another CA)") {
        auto o = capture(server.port(), "localhost", with_ca());
        CHECK(o.handshake.ec == tls::error::untrusted_certificate);
        CHECK(o.handshake.message == "server certificate is self-signed (CN=localhost) and not trusted: add it to "
                                     "tls.ca_cert, or set tls.verify_cert: false (insecure)");
    }
    SECTION("pinned as its own CA") {
        tls::client_options opts;
        opts.ca_cert = certificates::get().str("selfsigned.pem");
        require_documents(capture(server.port(), "localhost", opts), "localhost", server.port());
    }
    SECTION("verification off, even with a wrong name") {
        tls::client_options opts;
        opts.verify_cert = false;
        opts.server_hostname = "wrong.example";
        auto o = capture(server.port(), "localhost", opts);
        INFO(o.handshake.message);
        REQUIRE(!o.handshake.ec);
        CHECK(o.handshake.warning == "certificate verification is disabled (tls.verify_cert: false): the server's "
                                     "identity is not checked");
        CHECK(o.documents == expected_documents("localhost", server.port()));
    }
}

TEST_CASE("tls: a server that accepts TCP and never answers fails at the deadline") {
    asio::io_context io;
    asio::ip::tcp::acceptor stalling(io, {asio::ip::make_address("127.0.0.1"), 0}); // listens, never accepts
    auto opts = with_ca();
    auto ctx = tls::make_context(opts);
    REQUIRE(ctx.context);
    tls::handshake_result result;
    auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tls::tls_transport stream(io, *ctx.context);
            co_await stream.lowest_layer().async_connect(stalling.local_endpoint(), asio::use_awaitable);
            result = co_await tls::handshake(stream, "localhost", opts, std::chrono::steady_clock::now() + 1s);
            took = std::chrono::steady_clock::now() - started;
        },
        asio::detached);
    io.run();
    CHECK(result.ec == socketcap::error::connect_timeout);
    CHECK(result.message == "TLS handshake timed out: the server accepted the TCP connection but did not complete the "
                            "handshake before the connection timeout (is it a TLS port?)");
    CHECK(took >= 1s);
    CHECK(took < 60s); // generous: a busy machine
}

TEST_CASE("tls: a plain TCP server that answers with text") {
    asio::io_context io;
    asio::ip::tcp::acceptor plain(io, {asio::ip::make_address("127.0.0.1"), 0});
    std::uint16_t port = plain.local_endpoint().port();
    auto opts = with_ca();
    auto ctx = tls::make_context(opts);
    REQUIRE(ctx.context);
    tls::handshake_result result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto peer = co_await plain.async_accept(asio::use_awaitable);
            co_await asio::async_write(peer, asio::buffer(std::string_view("220 hello, this is not TLS\r\n")),
                                       asio::use_awaitable);
            std::array<char, 4096> sink{};
            co_await peer.async_read_some(asio::buffer(sink), asio::experimental::as_tuple(asio::use_awaitable));
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            tls::tls_transport stream(io, *ctx.context);
            result = co_await connect_and_handshake(stream, port, "localhost", opts);
        },
        asio::detached);
    io.run();
    CHECK(result.ec == tls::error::not_tls);
    CHECK(result.message == "the server does not speak TLS: its reply is not a TLS record (is it a plain TCP port? "
                            "then disable tls)");
}

TEST_CASE("tls: a server limited to TLS 1.1 fails with a protocol version message") {
    auto server = s_server({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
    auto o = capture(server.port(), "localhost", with_ca());
    CHECK(o.handshake.ec == tls::error::protocol_version);
    CHECK(o.handshake.message == "no common TLS protocol version: the server sent TLS alert protocol_version; TLS 1.2 "
                                 "is the oldest version socketcap accepts");
}

// The session ended with advice about a missing client certificate (issue 12, item 8): wolfSSL
// declines with a no_renegotiation warning and OpenSSL then sends handshake_failure.
TEST_CASE("tls: a TLS 1.2 server that asks to renegotiate") {
    auto& c = certificates::get();
    // s_server's stdin is a FIFO held open here: "hello" is sent as data, "r" makes it send a
    // HelloRequest, each only when this test writes it.
    auto control = c.path("renegotiate-control");
    fs::remove(control);
    REQUIRE(mkfifo(control.c_str(), 0600) == 0);
    int control_fd = open(control.c_str(), O_RDWR | O_CLOEXEC); // s_server's open() need not wait
    REQUIRE(control_fd >= 0);
    auto say = [&](std::string_view line) {
        REQUIRE(write(control_fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    };
    server_process server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-nbio", "-tls1_2",
                           "-cert", "server.pem", "-key", "server.key"},
                          control);
    auto opts = with_ca();
    opts.server_hostname = "localhost";
    auto ctx = tls::make_context(opts);
    REQUIRE(ctx.context);
    asio::io_context io;
    tls::handshake_result hs;
    std::string received, reason;
    std::error_code read_ec;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            using asio::experimental::as_tuple;
            tls::tls_transport stream(io, *ctx.context);
            hs = co_await connect_and_handshake(stream, server.port(), "127.0.0.1", opts);
            if (hs.ec) co_return;
            say("hello\n");
            std::array<char, 4096> buf{};
            std::error_code ec;
            while (!ec && received.find('\n') == std::string::npos) {
                auto [e, n] = co_await stream.async_read_some(asio::buffer(buf), as_tuple(asio::use_awaitable));
                ec = e;
                received.append(buf.data(), n);
            }
            if (ec) co_return;
            say("r\n");
            while (!ec) {
                auto [e, n] = co_await stream.async_read_some(asio::buffer(buf), as_tuple(asio::use_awaitable));
                ec = e;
                received.append(buf.data(), n);
            }
            read_ec = tls::classify_read_error(stream, ec);
            reason = tls::describe_read_error(stream, ec);
        },
        asio::detached);
    io.run();
    close(control_fd);
    INFO(hs.message);
    REQUIRE(!hs.ec);
    CHECK(hs.version == "TLSv1.2");
    CHECK(received == "hello\n");
    INFO(server.log());
    CHECK(read_ec == tls::error::renegotiation_unsupported);
    CHECK(reason == "the server asked to renegotiate the TLS session, which socketcap does not support (it then "
                    "sent TLS alert handshake_failure)");
}

TEST_CASE("tls: a server that closes without close_notify") {
    auto server = s_server({});
    auto o = capture(server.port(), "localhost", with_ca());
    require_documents(o, "localhost", server.port());
    CHECK(o.read_ec == asio::ssl::error::stream_truncated);
    CHECK(o.read_message == "the server closed the connection without a TLS close_notify (the data may be truncated)");
}

// wolfSSL_CTX_check_private_key alone let any ECDSA key of the same curve pass (issue 12, item 1).
TEST_CASE("tls: the client key must belong to the client certificate: every key type") {
    auto& c = certificates::get();
    struct pairing {
        const char* type;
        const char* cert;
        const char* key;
        const char* other_key; // same type and curve, another key
    };
    const pairing pairings[] = {
        {"RSA", "client.pem", "client.key", "other.key"},
        {"ECDSA P-256 (SEC1 key)", "client-ec.pem", "client-ec.key", "other-ec.key"},
        {"ECDSA P-384", "client-p384.pem", "client-p384.key", "other-p384.key"},
        {"Ed25519", "client-ed25519.pem", "client-ed25519.key", "other-ed25519.key"},
        {"Ed448", "client-ed448.pem", "client-ed448.key", "other-ed448.key"},
    };
    for (const auto& p : pairings) {
        INFO(p.type);
        tls::client_options opts = with_ca();
        opts.client_cert = c.str(p.cert);
        opts.client_key = c.str(p.key);
        auto good = tls::make_context(opts);
        INFO(good.message);
        CHECK(good.context != nullptr);
        CHECK(!good.ec);
        opts.client_key = c.str(p.other_key);
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
        opts.client_key = c.pem(p.other_key); // inline, too
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
    }
    SECTION("a key of another type") {
        tls::client_options opts = with_ca();
        opts.client_cert = c.str("client-ec.pem");
        opts.client_key = c.str("client-p384.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
        opts.client_key = c.str("client.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
        opts.client_cert = c.str("client-ed25519.pem");
        opts.client_key = c.str("client-ed448.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
    }
    SECTION("an encrypted key of another certificate") {
        tls::client_options opts = with_ca();
        opts.client_cert = c.str("other.pem");
        opts.client_key = c.str("client-encrypted.key");
        opts.client_key_password = "test-passphrase";
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
        opts.client_key = c.str("client-legacy-encrypted.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
    }
}

// A FIFO hung make_context, /dev/zero grew memory without end, a sparse 1 GiB file cost 1 GiB
// (issue 12, item 2).
TEST_CASE("tls: PEM paths must name regular files of at most 4 MiB") {
    auto& c = certificates::get();
    struct field {
        const char* name;
        std::string tls::client_options::*member;
        tls::error code;
    };
    const field fields[] = {
        {"tls.ca_cert", &tls::client_options::ca_cert, tls::error::invalid_ca_cert},
        {"tls.client_cert", &tls::client_options::client_cert, tls::error::invalid_client_cert},
        {"tls.client_key", &tls::client_options::client_key, tls::error::invalid_client_key},
    };
    // The options with `path` in field f (the other client field set, so f is reached).
    auto with = [&](const field& f, const std::string& path) {
        tls::client_options o = with_ca();
        o.client_cert = c.str("client.pem");
        o.client_key = c.str("client.key");
        o.*f.member = path;
        return o;
    };
    SECTION("a FIFO is refused at once, without waiting for a writer") {
        auto fifo = c.path("pem-fifo");
        fs::remove(fifo);
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        for (const auto& f : fields) {
            INFO(f.name);
            fifo_rescuer rescuer(fifo, 10s);
            auto started = std::chrono::steady_clock::now();
            CHECK(context_error(with(f, fifo.string()), f.code) ==
                  std::string(f.name) + ": " + fifo.string() + " is a FIFO (named pipe), not a regular file");
            CHECK(std::chrono::steady_clock::now() - started < 5s);
        }
    }
    SECTION("a device") {
        for (const auto& f : fields) {
            INFO(f.name);
            CHECK(context_error(with(f, "/dev/zero"), f.code) ==
                  std::string(f.name) + ": /dev/zero is a character device, not a regular file");
        }
    }
    SECTION("a directory") {
        for (const auto& f : fields) {
            INFO(f.name);
            CHECK(context_error(with(f, c.dir().string()), f.code) ==
                  std::string(f.name) + ": " + c.dir().string() + " is a directory, not a regular file");
        }
    }
    SECTION("a sparse 1 GiB file is refused before it is read") {
        auto big = c.path("sparse-1g.pem");
        { std::ofstream(big) << c.pem("ca.pem"); }
        fs::resize_file(big, std::uintmax_t(1) << 30);
        for (const auto& f : fields) {
            INFO(f.name);
            CHECK(context_error(with(f, big.string()), f.code) ==
                  std::string(f.name) + ": " + big.string() + " is larger than the limit of 4 MiB");
        }
        fs::remove(big);
    }
    SECTION("a CA bundle of exactly 4 MiB is read; one byte more is refused") {
        auto bundle = c.path("ca-4mib.pem");
        std::string text = c.pem("ca.pem");
        text.resize(tls::max_pem_file_bytes, '\n'); // text after the last END line is ignored
        { std::ofstream(bundle, std::ios::binary) << text; }
        auto r = tls::make_context(with(fields[0], bundle.string()));
        INFO(r.message);
        CHECK(r.context != nullptr);
        { std::ofstream(bundle, std::ios::binary | std::ios::app) << '\n'; }
        CHECK(context_error(with(fields[0], bundle.string()), tls::error::invalid_ca_cert) ==
              "tls.ca_cert: " + bundle.string() + " is larger than the limit of 4 MiB");
        fs::remove(bundle);
    }
}

TEST_CASE("tls: configuration errors name the field and never show secrets") {
    auto& c = certificates::get();
    tls::client_options opts = with_ca();
    SECTION("mismatched key and certificate") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("mismatched.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
    }
    SECTION("mismatched inline key") {
        opts.client_cert = c.pem("client.pem");
        opts.client_key = c.pem("mismatched.key");
        CHECK(context_error(opts, tls::error::client_key_mismatch) == "tls.client_key: does not match tls.client_cert");
    }
    SECTION("garbage PEM CA, inline") {
        opts.ca_cert = c.pem("garbage.pem");
        CHECK(context_error(opts, tls::error::invalid_ca_cert) == "tls.ca_cert: inline PEM is not a valid PEM certificate");
    }
    SECTION("a PEM block whose body decodes to nothing, alone or after a good certificate") {
        // asio's add_certificate_authority took these as "no more certificates" and succeeded.
        const std::string empty_block = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
        opts.ca_cert = empty_block;
        CHECK(context_error(opts, tls::error::invalid_ca_cert) == "tls.ca_cert: inline PEM is not a valid PEM certificate");
        opts.ca_cert = c.pem("ca.pem") + empty_block;
        CHECK(context_error(opts, tls::error::invalid_ca_cert) == "tls.ca_cert: inline PEM is not a valid PEM certificate");
    }
    SECTION("garbage PEM CA, checked even with verification off") {
        opts.verify_cert = false;
        opts.ca_cert = c.pem("garbage.pem");
        CHECK(context_error(opts, tls::error::invalid_ca_cert) == "tls.ca_cert: inline PEM is not a valid PEM certificate");
    }
    SECTION("garbage PEM CA, file") {
        opts.ca_cert = c.str("garbage.pem");
        CHECK(context_error(opts, tls::error::invalid_ca_cert) ==
              "tls.ca_cert: file " + c.str("garbage.pem") + " is not a valid PEM certificate");
    }
    SECTION("a file without PEM") {
        opts.ca_cert = c.str("ca.cnf");
        CHECK(context_error(opts, tls::error::invalid_ca_cert) ==
              "tls.ca_cert: file " + c.str("ca.cnf") + " contains no PEM certificate (no \"-----BEGIN\" line)");
    }
    SECTION("missing CA file") {
        opts.ca_cert = "/nonexistent/ca.pem";
        CHECK(context_error(opts, tls::error::invalid_ca_cert) ==
              "tls.ca_cert: not a PEM certificate and no such file: /nonexistent/ca.pem");
    }
    SECTION("garbage PEM client certificate") {
        opts.client_cert = c.pem("garbage.pem");
        opts.client_key = c.str("client.key");
        CHECK(context_error(opts, tls::error::invalid_client_cert) ==
              "tls.client_cert: inline PEM is not a valid PEM certificate");
    }
    SECTION("missing client certificate file") {
        opts.client_cert = "/nonexistent/client.pem";
        opts.client_key = c.str("client.key");
        CHECK(context_error(opts, tls::error::invalid_client_cert) ==
              "tls.client_cert: not a PEM certificate and no such file: /nonexistent/client.pem");
    }
    SECTION("garbage PEM key, inline: not echoed") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleSBtYXRlcmlhbA==\n-----END PRIVATE KEY-----\n";
        auto m = context_error(opts, tls::error::invalid_client_key);
        CHECK(m == "tls.client_key: inline PEM is not a valid PEM private key");
    }
    SECTION("a key that is neither PEM nor a file: not echoed") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = "c2VjcmV0IGtleSBtYXRlcmlhbA==";
        CHECK(context_error(opts, tls::error::invalid_client_key) ==
              "tls.client_key: not a PEM private key and no such file (the value is not shown: it may be secret)");
    }
    SECTION("a key body without its BEGIN line, also one that makes open() fail with ENOTDIR: not echoed") {
        // The base64 body of a real key (issue 12, item 3): the connector quoted it.
        std::string body;
        std::istringstream lines(c.pem("other-ec.key"));
        for (std::string line; std::getline(lines, line);)
            if (line.rfind("-----", 0) != 0) body += line;
        opts.client_cert = c.str("client-ec.pem");
        for (const std::string& value : {body, c.str("ca.pem") + "/" + body}) {
            opts.client_key = value;
            auto m = context_error(opts, tls::error::invalid_client_key);
            CHECK(m == "tls.client_key: not a PEM private key and no such file (the value is not shown: it may be "
                       "secret)");
            CHECK(m.find(body.substr(0, 16)) == std::string::npos);
        }
    }
    SECTION("encrypted key without a password") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.str("client-encrypted.key");
        CHECK(context_error(opts, tls::error::client_key_password_missing) ==
              "tls.client_key: the key in file " + c.str("client-encrypted.key") +
                  " is encrypted and tls.client_key_password is not set");
    }
    SECTION("traditional PEM-encrypted key without a password") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.pem("client-legacy-encrypted.key");
        CHECK(context_error(opts, tls::error::client_key_password_missing) ==
              "tls.client_key: the key in inline PEM is encrypted and tls.client_key_password is not set");
    }
    SECTION("encrypted inline key with a wrong password") {
        opts.client_cert = c.str("client.pem");
        opts.client_key = c.pem("client-encrypted.key");
        opts.client_key_password = "not-the-passphrase";
        auto m = context_error(opts, tls::error::invalid_client_key);
        CHECK(m == "tls.client_key: cannot decrypt the key in inline PEM with tls.client_key_password (wrong password?)");
        CHECK(m.find("not-the-passphrase") == std::string::npos);
    }
    SECTION("certificate without key, key without certificate") {
        opts.client_cert = c.str("client.pem");
        CHECK(context_error(opts, tls::error::incomplete_client_identity) ==
              "tls.client_key: required when tls.client_cert is set");
        opts.client_cert.clear();
        opts.client_key = c.str("client.key");
        CHECK(context_error(opts, tls::error::incomplete_client_identity) ==
              "tls.client_cert: required when tls.client_key is set");
    }
}

TEST_CASE("tls::stream: a read takes as many records as are there; the close_notify behind them comes next") {
    // 200,000 bytes that say where they are, so a lost or repeated record shows.
    std::string payload;
    for (int i = 0; payload.size() < 200000; ++i) payload += fmt::format("line {:06}\n", i);
    payload.resize(200000);
    std::ofstream(certificates::get().path("big.txt"), std::ios::binary) << payload;
    // socat sends what it reads from the file in 8 KiB TLS records, then close_notify.
    server_process server({"socat", "-d", "-d",
                           "OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=server.pem,key=server.key,verify=0",
                           "OPEN:big.txt,rdonly"});
    auto opts = with_ca();
    auto ctx = tls::make_context(opts);
    REQUIRE(ctx.context);
    asio::io_context io;
    tls::handshake_result hs;
    std::vector<std::size_t> reads;
    std::string received;
    std::error_code end_ec, wait_ec;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            using asio::experimental::as_tuple;
            tls::tls_transport stream(io, *ctx.context);
            hs = co_await connect_and_handshake(stream, server.port(), "localhost", opts);
            if (hs.ec) co_return;
            // Let every record arrive first (the socket then holds more ciphertext than the
            // plaintext), so that what one read returns depends on the stream alone.
            asio::steady_timer pause(io);
            std::error_code ec;
            for (int i = 0; i < 3000 && stream.available(ec) < payload.size() + 25 * 22; ++i) {
                pause.expires_after(10ms);
                co_await pause.async_wait(asio::use_awaitable);
            }
            std::vector<char> area(65536);
            for (;;) {
                auto [rec, n] = co_await stream.async_read_some(asio::buffer(area), as_tuple(asio::use_awaitable));
                if (rec) {
                    end_ec = rec;
                    break;
                }
                reads.push_back(n);
                received.append(area.data(), n);
                if (received.size() == payload.size()) {
                    // Nothing left but the close_notify: a wait for reading completes, and the
                    // read after it reports the clean end.
                    auto [wec] = co_await stream.async_wait(asio::socket_base::wait_read, as_tuple(asio::use_awaitable));
                    wait_ec = wec;
                }
            }
        },
        asio::detached);
    io.run();
    INFO(hs.message);
    REQUIRE(!hs.ec);
    CHECK(received == payload);
    CHECK(reads == std::vector<std::size_t>{65536, 65536, 65536, 200000 - 3 * 65536});
    CHECK(!wait_ec);
    CHECK(end_ec == asio::error::eof);
}

TEST_CASE("tls::stream: a write larger than every buffer on the way waits for the socket and arrives whole") {
    // The client writes 16 MB through socat (TLS in, plain TCP out) to a server of the test's
    // own that reads nothing at first: the kernel buffers fill, wolfSSL's send returns
    // WANT_WRITE, and the write must wait for writability and repeat the same call (as wolfSSL
    // requires) until the server reads.
    std::string payload(16 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    asio::io_context io;
    asio::ip::tcp::acceptor plain(io, {asio::ip::make_address("127.0.0.1"), 0});
    server_process front({"socat", "-d", "-d",
                          "OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=server.pem,key=server.key,verify=0",
                          fmt::format("TCP:127.0.0.1:{}", plain.local_endpoint().port())});
    auto opts = with_ca();
    auto ctx = tls::make_context(opts);
    REQUIRE(ctx.context);
    asio::steady_timer go(io, std::chrono::steady_clock::time_point::max()); // the server waits on it
    // The client stays connected until the server has everything: closing a socket with unread
    // bytes (socat's session tickets) resets the connection, and socat would drop what it holds.
    asio::steady_timer server_done(io, std::chrono::steady_clock::time_point::max());
    std::string received;
    bool blocked_at_go = false, write_done = false;
    std::error_code write_ec, read_ec;
    std::size_t written = 0;
    tls::handshake_result hs;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto peer = co_await plain.async_accept(asio::use_awaitable);
            auto [ec] = co_await go.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            (void)ec; // cancelled: go
            received.resize(payload.size());
            auto [rec, rn] = co_await asio::async_read(peer, asio::buffer(received),
                                                       asio::experimental::as_tuple(asio::use_awaitable));
            read_ec = rec;
            received.resize(rn);
            server_done.cancel();
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            using asio::experimental::as_tuple;
            tls::tls_transport stream(io, *ctx.context);
            hs = co_await connect_and_handshake(stream, front.port(), "localhost", opts);
            if (hs.ec) {
                plain.close(); // no server will come
                co_return;
            }
            asio::steady_timer later(io, 300ms);
            later.async_wait([&](std::error_code) {
                blocked_at_go = !write_done;
                go.cancel();
            });
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(payload), as_tuple(asio::use_awaitable));
            write_ec = ec;
            written = n;
            write_done = true;
            co_await server_done.async_wait(as_tuple(asio::use_awaitable));
        },
        asio::detached);
    io.run();
    INFO(hs.message);
    REQUIRE(!hs.ec);
    CHECK(blocked_at_go);
    CHECK(!write_ec);
    CHECK(written == payload.size());
    CHECK(!read_ec);
    REQUIRE(received.size() == payload.size());
    // The offset of the first difference, not 16 MB strings in the log: 16777216 means none.
    auto first_difference = static_cast<std::size_t>(
        std::mismatch(received.begin(), received.end(), payload.begin()).first - received.begin());
    CHECK(first_difference == payload.size());
}
