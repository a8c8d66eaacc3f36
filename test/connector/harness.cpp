// SPDX-License-Identifier: MIT OR Apache-2.0
#include "harness.hpp"

#include <algorithm>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace harness {

std::string binary(const char* env_name) {
    const char* p = std::getenv(env_name);
    if (p == nullptr) FAIL("environment variable " << env_name << " is not set (run through meson test)");
    return p;
}

child::child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
    std::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2], err[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);

    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv = *e;
        auto eq = kv.find('=');
        if (eq != std::string_view::npos) vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    for (const auto& [k, v] : env) vars[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : vars) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);

    int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_fd_ = err[0];
    REQUIRE(rc == 0);
}

child::~child() {
    if (in_ >= 0) ::close(in_);
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

void child::write(std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(in_, s.data(), s.size());
        REQUIRE(n > 0);
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

void child::close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

void child::close_stdout() {
    if (out_ >= 0) ::close(out_);
    out_ = -1;
}

void child::signal(int sig) { ::kill(pid_, sig); }

void child::split_lines() {
    std::size_t nl;
    while ((nl = out_buf_.find('\n')) != std::string::npos) {
        lines_.push_back(out_buf_.substr(0, nl));
        out_buf_.erase(0, nl + 1);
    }
}

bool child::pump(std::chrono::milliseconds timeout) {
    pollfd fds[2];
    int n = 0;
    if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return true;
    int r = ::poll(fds, nfds_t(n), int(timeout.count()));
    if (r <= 0) return false;
    for (int i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        char buf[65536];
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (fds[i].fd == out_) {
            if (got <= 0) {
                ::close(out_);
                out_ = -1;
            } else {
                out_buf_.append(buf, std::size_t(got));
                split_lines();
            }
        } else {
            if (got <= 0) {
                ::close(err_fd_);
                err_fd_ = -1;
            } else {
                err_.append(buf, std::size_t(got));
            }
        }
    }
    return true;
}

std::optional<std::string> child::read_line(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (next_line_ >= lines_.size()) {
        if (out_ < 0) return std::nullopt;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !pump(left)) return std::nullopt;
    }
    return lines_[next_line_++];
}

int child::wait(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (out_ >= 0 || err_fd_ >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !pump(left)) return -1;
    }
    if (!out_buf_.empty()) {
        lines_.push_back(out_buf_); // an unterminated last line: kept so tests can see it
        out_buf_.clear();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    return wait_exit(std::max(left, std::chrono::milliseconds(0)));
}

int child::wait_exit(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (std::chrono::steady_clock::now() >= until) return -1;
        std::this_thread::sleep_for(5ms);
    }
    return status_;
}

std::vector<std::string> child::rest_lines() {
    std::vector<std::string> r(lines_.begin() + std::ptrdiff_t(next_line_), lines_.end());
    next_line_ = lines_.size();
    return r;
}

std::vector<std::string> child::err_lines() const {
    std::vector<std::string> r;
    std::size_t start = 0, nl;
    while ((nl = err_.find('\n', start)) != std::string::npos) {
        r.push_back(err_.substr(start, nl - start));
        start = nl + 1;
    }
    if (start < err_.size()) r.push_back(err_.substr(start));
    return r;
}

server::server(std::vector<script> scripts) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, scripts = std::move(scripts)] {
        for (const auto& s : scripts) {
            int fd = -1;
            while (!stop_ && fd < 0) {
                pollfd p{listener_, POLLIN, 0};
                if (::poll(&p, 1, 50) > 0) fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            }
            if (fd < 0) return;
            ++accepted_;
            std::string_view rest = s.payload;
            while (!rest.empty()) {
                ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
                if (n <= 0) break;
                rest.remove_prefix(std::size_t(n));
            }
            if (s.hold) {
                char buf[256];
                while (!stop_) {
                    pollfd p{fd, POLLIN, 0};
                    if (::poll(&p, 1, 50) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) break;
                }
            } else {
                ::shutdown(fd, SHUT_WR);
                // Let the client read to EOF before closing, so no RST can cut the payload.
                char buf[256];
                for (int i = 0; i < 100 && !stop_; ++i) {
                    pollfd p{fd, POLLIN, 0};
                    if (::poll(&p, 1, 50) > 0 && ::recv(fd, buf, sizeof buf, 0) <= 0) break;
                }
            }
            ::close(fd);
        }
    });
}

server::~server() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
}

listener::listener(std::uint16_t port, int backlog) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, backlog) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
}

listener::~listener() { ::close(fd_); }

int listener::accept(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int(timeout.count())) <= 0) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(std::size_t(n));
    }
    return true;
}

void reset(int fd) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

std::uint16_t closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

namespace {
std::set<std::string> keys_of(simdjson::dom::object o) {
    std::set<std::string> keys;
    for (auto field : o) {
        bool fresh = keys.insert(std::string(field.key)).second;
        CHECK(fresh); // duplicate fields are rejected by the runtime
    }
    return keys;
}

void check_subset(const std::set<std::string>& keys, const std::set<std::string>& allowed, const std::string& where) {
    for (const auto& k : keys) {
        INFO(where << " has field " << k);
        CHECK(allowed.count(k) == 1);
    }
}
} // namespace

std::string check_protocol_line(const std::string& line) {
    INFO("stdout line: " << line.substr(0, 300));
    REQUIRE(!line.empty());
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    REQUIRE(parser.parse(line).get(root) == simdjson::SUCCESS);
    simdjson::dom::object obj;
    REQUIRE(root.get_object().get(obj) == simdjson::SUCCESS);
    auto keys = keys_of(obj);
    REQUIRE(keys.size() == 1);
    std::string key = *keys.begin();
    static const std::map<std::string, std::set<std::string>> fields = {
        {"spec", {"protocol", "configSchema", "resourceConfigSchema", "documentationUrl", "oauth2", "resourcePathPointers"}},
        {"discovered", {"bindings"}},
        {"validated", {"bindings"}},
        {"applied", {"actionDescription"}},
        {"opened", {"explicitAcknowledgements"}},
        {"captured", {"binding", "doc"}},
        {"checkpoint", {"state"}},
    };
    auto it = fields.find(key);
    INFO("top-level key " << key);
    REQUIRE(it != fields.end());
    simdjson::dom::object body;
    REQUIRE(obj[key].get_object().get(body) == simdjson::SUCCESS);
    check_subset(keys_of(body), it->second, key);
    if (key == "discovered" || key == "validated") {
        simdjson::dom::array bindings;
        REQUIRE(body["bindings"].get_array().get(bindings) == simdjson::SUCCESS);
        std::set<std::string> allowed = key == "validated"
            ? std::set<std::string>{"resourcePath"}
            : std::set<std::string>{"recommendedName", "resourceConfig", "documentSchema", "key", "disable", "resourcePath"};
        for (auto b : bindings) {
            simdjson::dom::object bo;
            REQUIRE(b.get_object().get(bo) == simdjson::SUCCESS);
            check_subset(keys_of(bo), allowed, key + ".bindings[]");
        }
    }
    if (key == "checkpoint") {
        simdjson::dom::object state;
        REQUIRE(body["state"].get_object().get(state) == simdjson::SUCCESS);
        auto sk = keys_of(state);
        check_subset(sk, {"updated", "mergePatch"}, "checkpoint.state");
        CHECK(sk.count("updated") == 1);
        simdjson::dom::object updated;
        CHECK(state["updated"].get_object().get(updated) == simdjson::SUCCESS);
    }
    if (key == "captured") {
        simdjson::dom::object doc;
        CHECK(body["doc"].get_object().get(doc) == simdjson::SUCCESS); // an object, not a string
    }
    return key;
}

} // namespace harness
