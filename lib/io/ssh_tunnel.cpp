// SPDX-License-Identifier: MIT OR Apache-2.0
// The ssh process behind ssh_tunnel: spawned with fork/exec (so it can get PR_SET_PDEATHSIG and
// no inherited descriptors), its stderr read through Asio, reaped with waitpid(WNOHANG) on a
// timer once that pipe closes, so the io_context never blocks on it.
#include <socketcap/error.hpp>
#include <socketcap/io/ssh_tunnel.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char** environ;

namespace socketcap {

namespace {

class ssh_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "socketcap.ssh"; }
    std::string message(int ev) const override {
        switch (static_cast<ssh_error>(ev)) {
        case ssh_error::key_file: return "cannot write the SSH private key file";
        case ssh_error::cannot_run: return "cannot run ssh";
        case ssh_error::key_unusable: return "ssh cannot use the private key";
        case ssh_error::key_rejected: return "the SSH server rejected the private key";
        case ssh_error::bastion_unreachable: return "cannot reach the SSH server";
        case ssh_error::forward_refused: return "the SSH server refused the port forward";
        case ssh_error::target_unreachable: return "the SSH server cannot reach the target";
        case ssh_error::exited: return "the SSH tunnel ended";
        }
        return "unknown socketcap.ssh error";
    }
};

std::string seconds_text(std::chrono::steady_clock::duration d) {
    return fmt::format("{}s", std::chrono::duration<double>(d).count());
}

std::string host_port(std::string_view host, std::uint16_t port) {
    if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

/// After the last ": " of an ssh message: the reason ("Connection refused").
std::string_view reason_of(std::string_view line) {
    auto at = line.rfind(": ");
    return at == std::string_view::npos ? line : line.substr(at + 2);
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

/// A free port on 127.0.0.1 now. ssh may still lose it to another process before it binds;
/// start() then retries (OpenSSH 9.2 allocates a port dynamically only for -R, not -L).
std::uint16_t free_local_port(std::error_code& ec) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ec = {errno, std::generic_category()};
        return 0;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        ec = {errno, std::generic_category()};
    ::close(fd);
    return ec ? 0 : ntohs(addr.sin_port);
}

/// The program's path: itself when it holds a '/', else the first executable in PATH.
std::string find_program(const std::string& program) {
    if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : "";
    const char* path = std::getenv("PATH");
    std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (true) {
        auto colon = dirs.find(':');
        auto dir = dirs.substr(0, colon);
        std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, program);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) return "";
        dirs.remove_prefix(colon + 1);
    }
}

} // namespace

const std::error_category& ssh_error_category() noexcept {
    static const ssh_category instance;
    return instance;
}

struct ssh_tunnel::process {
    explicit process(const asio::any_io_executor& ex) : err(ex), reap_timer(ex) {}

    pid_t pid = -1;
    std::uint16_t local_port = 0;
    asio::posix::stream_descriptor err; // ssh's stderr
    asio::steady_timer reap_timer;
    std::array<char, 4096> buf{};
    std::string partial;
    std::deque<std::string> messages; // ssh's own lines (not debug output), the last few
    bool binding = false;             // ssh is about to bind the forward's port
    bool ready = false;               // the forward listens
    bool exited = false;              // reaped
    int status = 0;                   // from waitpid
    std::uint64_t channels = 0;       // forwarded connections ssh reported on
    std::string channel_failure;      // the last report's "open failed" reason; empty: opened
    std::vector<asio::steady_timer*> waiters;

    void notify() {
        for (auto* w : waiters) w->cancel();
    }

    // ssh runs with LogLevel=DEBUG2: the forward's listener is in debug1 lines and a forwarded
    // connection's "open confirm" in debug2; failures are plain lines. Other debug lines are
    // dropped; ssh never writes key material to its log.
    void consume(std::string_view line) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("debug")) {
            // ssh logs "listening" before bind() and listen(); the listener's channel comes after.
            if (line == fmt::format("debug1: Local forwarding listening on 127.0.0.1 port {}.", local_port)) {
                binding = true;
            } else if (binding && !ready && line.starts_with("debug1: channel ") && contains(line, ": new port-listener")) {
                ready = true;
                notify();
            } else if (line.starts_with("debug2: channel ") && contains(line, ": open confirm ")) {
                ++channels;
                channel_failure.clear();
                notify();
            }
            return;
        }
        if (line.starts_with("channel ") && contains(line, ": open failed: ")) {
            ++channels;
            channel_failure = std::string(line.substr(line.find(": open failed: ") + 15));
            notify();
            return;
        }
        for (std::string_view noise : {"Warning: Permanently added", "Authenticated to ", "Transferred: ",
                                       "Bytes per second: "})
            if (line.starts_with(noise)) return;
        if (line.empty()) return;
        messages.emplace_back(line.substr(0, 400));
        if (messages.size() > 16) messages.pop_front();
    }

    void consume_bytes(std::size_t n) {
        partial.append(buf.data(), n);
        std::size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
            consume(std::string_view(partial).substr(0, nl));
            partial.erase(0, nl + 1);
        }
        if (partial.size() > 16384) partial.clear(); // no line is that long; never grow without bound
    }

    void terminate() noexcept {
        if (pid > 0 && !exited) ::kill(pid, SIGTERM);
    }

    /// "ssh exited with status 255", "ssh was killed by signal 9".
    std::string status_text() const {
        if (WIFSIGNALED(status)) return fmt::format("ssh was killed by signal {}", WTERMSIG(status));
        return fmt::format("ssh exited with status {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
};

namespace {

using process_ptr = std::shared_ptr<ssh_tunnel::process>;

void reap(process_ptr p) {
    int status = 0;
    pid_t r = p->pid > 0 ? ::waitpid(p->pid, &status, WNOHANG) : -1;
    if (r == 0) { // stderr closed a moment before the exit: look again soon
        p->reap_timer.expires_after(std::chrono::milliseconds(10));
        p->reap_timer.async_wait([p](std::error_code) { reap(p); });
        return;
    }
    if (r == p->pid) p->status = status;
    p->pid = -1;
    p->exited = true;
    std::error_code ignored;
    p->err.close(ignored);
    p->notify();
}

// stderr closes when ssh exits (nothing else holds the pipe's write end): then reap it.
void read_stderr(process_ptr p) {
    p->err.async_read_some(asio::buffer(p->buf), [p](std::error_code ec, std::size_t n) {
        if (!ec) {
            p->consume_bytes(n);
            return read_stderr(p);
        }
        if (!p->partial.empty()) p->consume(p->partial);
        p->partial.clear();
        reap(p);
    });
}

asio::awaitable<void> wait_for_change(ssh_tunnel::process& p, std::chrono::steady_clock::time_point until) {
    asio::steady_timer t(co_await asio::this_coro::executor, until);
    p.waiters.push_back(&t);
    co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    std::erase(p.waiters, &t);
}

/// Forks and execs `path` with `args`: stdin and stdout /dev/null, stderr the returned pipe,
/// every other descriptor closed, SIGTERM when this thread ends. errno of a failed exec comes
/// back through a close-on-exec pipe (EOF there means exec succeeded).
pid_t spawn(const std::string& path, const std::vector<std::string>& args, int& err_fd, std::error_code& ec) {
    int errp[2], execp[2];
    if (::pipe2(errp, O_CLOEXEC) != 0) {
        ec = {errno, std::generic_category()};
        return -1;
    }
    if (::pipe2(execp, O_CLOEXEC) != 0) {
        ec = {errno, std::generic_category()};
        ::close(errp[0]);
        ::close(errp[1]);
        return -1;
    }
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    std::vector<std::string> argv_strings;
    argv_strings.push_back(path);
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid == 0) {
        // The child: only async-signal-safe calls from here to exec.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        if (devnull >= 0) {
            ::dup2(devnull, 0);
            ::dup2(devnull, 1);
        }
        ::dup2(errp[1], 2);
        // Sockets and pipes of the capture must not stay open in ssh (a closed connection
        // would stay up): everything above stderr closes on exec.
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
            for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(argv[0], argv.data(), environ);
        int e = errno;
        [[maybe_unused]] auto n = ::write(execp[1], &e, sizeof e);
        ::_exit(127);
    }
    int fork_errno = errno;
    ::close(errp[1]);
    ::close(execp[1]);
    if (devnull >= 0) ::close(devnull);
    if (pid < 0) {
        ec = {fork_errno, std::generic_category()};
        ::close(errp[0]);
        ::close(execp[0]);
        return -1;
    }
    // Blocks only until the exec (or its failure): a millisecond, not ssh's run.
    int exec_errno = 0;
    ssize_t got;
    do got = ::read(execp[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    ::close(execp[0]);
    if (got == static_cast<ssize_t>(sizeof exec_errno)) {
        ec = {exec_errno, std::generic_category()};
        ::waitpid(pid, nullptr, 0); // exited at once (_exit above)
        ::close(errp[0]);
        return -1;
    }
    err_fd = errp[0];
    return pid;
}

struct verdict {
    std::error_code ec;
    std::string message;
    bool port_taken = false; // retry with another local port
};

/// Why ssh ended before its forward listened, from its own lines (LogLevel shows them all).
verdict classify_exit(const ssh_tunnel::process& p, const ssh_tunnel_options& o) {
    const std::string bastion = host_port(o.host, o.port);
    for (const auto& line : p.messages)
        if (contains(line, "Address already in use") || contains(line, "Could not request local forwarding"))
            return {make_error_code(ssh_error::exited), {}, true};
    for (const auto& line : p.messages) {
        if (line.starts_with("Load key ") || contains(line, "error in libcrypto"))
            return {make_error_code(ssh_error::key_unusable),
                    fmt::format("SSH tunnel: ssh cannot use networkTunnel.sshForwarding.privateKey ({}): it must be a "
                                "complete OpenSSH or PEM private key without a passphrase",
                                reason_of(line))};
    }
    for (const auto& line : p.messages) {
        if (contains(line, "Permission denied"))
            return {make_error_code(ssh_error::key_rejected),
                    fmt::format("SSH tunnel: the SSH server {} rejected the private key for user \"{}\" (check "
                                "networkTunnel.sshForwarding.privateKey and the user in sshEndpoint)",
                                bastion, o.user)};
        if (contains(line, "Could not resolve hostname"))
            return {make_error_code(ssh_error::bastion_unreachable),
                    fmt::format("SSH tunnel: cannot resolve the SSH server \"{}\" "
                                "(networkTunnel.sshForwarding.sshEndpoint): {}",
                                o.host, reason_of(line))};
        if (line.starts_with("ssh: connect to host "))
            return {make_error_code(ssh_error::bastion_unreachable),
                    fmt::format("SSH tunnel: cannot reach the SSH server {} (networkTunnel.sshForwarding.sshEndpoint): "
                                "{}",
                                bastion, reason_of(line))};
        if (contains(line, "timed out"))
            return {make_error_code(ssh_error::bastion_unreachable),
                    fmt::format("SSH tunnel: the SSH server {} did not answer within connection_timeout "
                                "(networkTunnel.sshForwarding.sshEndpoint)",
                                bastion)};
        if (contains(line, "kex_exchange_identification") || line.starts_with("Connection closed by") ||
            line.starts_with("Connection reset by"))
            return {make_error_code(ssh_error::bastion_unreachable),
                    fmt::format("SSH tunnel: {} closed the connection before authentication: is it an SSH server? "
                                "(networkTunnel.sshForwarding.sshEndpoint)",
                                bastion)};
    }
    std::string last = p.messages.empty() ? std::string() : ": " + p.messages.back();
    return {make_error_code(ssh_error::exited),
            fmt::format("SSH tunnel: {} before the forward was ready{}", p.status_text(), last)};
}

} // namespace

ssh_tunnel::ssh_tunnel(ssh_tunnel_options opts) : opts_(std::move(opts)) {}

ssh_tunnel::~ssh_tunnel() {
    if (proc_ && proc_->pid > 0 && !proc_->exited) {
        // Teardown: no io_context to reap with any more. ssh ends on SIGTERM at once.
        ::kill(proc_->pid, SIGTERM);
        int status = 0;
        pid_t r = 0;
        for (int i = 0; i < 100 && (r = ::waitpid(proc_->pid, &status, WNOHANG)) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (r == 0) {
            ::kill(proc_->pid, SIGKILL);
            ::waitpid(proc_->pid, &status, 0);
        }
        proc_->pid = -1;
        proc_->exited = true;
        proc_->notify();
    }
    if (!key_path_.empty()) ::unlink(key_path_.c_str());
    if (!key_dir_.empty()) ::rmdir(key_dir_.c_str());
}

std::vector<std::string> ssh_tunnel::arguments(std::uint16_t local_port) const {
    auto target = opts_.target_host.find(':') != std::string::npos ? fmt::format("[{}]", opts_.target_host)
                                                                    : opts_.target_host;
    auto connect_seconds = std::max<long long>(
        1, std::chrono::ceil<std::chrono::seconds>(opts_.timeout).count());
    return {
        "-F", "none", // no user or system ssh_config: the same behaviour everywhere
        "-N",         // forward only, no remote command
        "-L", fmt::format("127.0.0.1:{}:{}:{}", local_port, target, opts_.target_port),
        "-i", key_path_,
        "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "PreferredAuthentications=publickey",
        "-o", "BatchMode=yes", // never prompt
        // As Estuary's network-tunnel: the bastion's host key is not checked (docs/connector.md).
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ExitOnForwardFailure=yes", // a local port that cannot be bound ends ssh at once
        "-o", fmt::format("ConnectTimeout={}", connect_seconds),
        "-o", fmt::format("ServerAliveInterval={}", std::max<long long>(1, opts_.keepalive.count())),
        "-o", "ServerAliveCountMax=3",
        // debug1 says when the forward listens, debug2 when the bastion opened a connection.
        "-o", "LogLevel=DEBUG2",
        "-p", std::to_string(opts_.port),
        "-l", opts_.user,
        "--", opts_.host,
    };
}

std::error_code ssh_tunnel::write_key(diagnostics& diag) {
    if (!key_path_.empty()) return {};
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = fmt::format("{}/socketcap-ssh-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (::mkdtemp(dir.data()) == nullptr) { // mode 0700
        std::error_code ec(errno, std::generic_category());
        diag.assign(fmt::format("SSH tunnel: cannot create a private directory for the key in {}: {}",
                                tmp && *tmp ? tmp : "/tmp", ec.message()));
        return make_error_code(ssh_error::key_file);
    }
    key_dir_ = dir;
    std::string path = dir + "/id";
    // OpenSSH wants LF line ends and a final newline; keys pasted into web forms may lack both.
    std::string text;
    text.reserve(opts_.private_key.size() + 1);
    for (std::size_t i = 0; i < opts_.private_key.size(); ++i)
        if (!(opts_.private_key[i] == '\r' && i + 1 < opts_.private_key.size() && opts_.private_key[i + 1] == '\n'))
            text.push_back(opts_.private_key[i]);
    if (text.empty() || text.back() != '\n') text.push_back('\n');
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    std::error_code ec;
    if (fd < 0) ec = {errno, std::generic_category()};
    std::string_view rest = text;
    while (!ec && !rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ec = {errno, std::generic_category()};
        else rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (fd >= 0 && ::close(fd) != 0 && !ec) ec = {errno, std::generic_category()};
    std::fill(text.begin(), text.end(), '\0');
    if (ec) {
        ::unlink(path.c_str());
        diag.assign(fmt::format("SSH tunnel: cannot write the private key to {}: {}", path, ec.message()));
        return make_error_code(ssh_error::key_file);
    }
    key_path_ = path;
    // The file is the copy ssh needs from now on; this one is wiped.
    std::fill(opts_.private_key.begin(), opts_.private_key.end(), '\0');
    opts_.private_key.clear();
    return {};
}

asio::awaitable<std::error_code> ssh_tunnel::start(std::function<bool()> abandoned, diagnostics& diag,
                                                   asio::any_io_executor ex) {
    diag.clear();
    if (running()) co_return std::error_code{};
    if (auto ec = write_key(diag)) co_return ec;
    const auto deadline = std::chrono::steady_clock::now() + opts_.timeout;
    for (int attempt = 0;; ++attempt) {
        if (!proc_ || proc_->exited) {
            std::error_code ec;
            auto port = free_local_port(ec);
            if (ec) {
                diag.assign(fmt::format("SSH tunnel: cannot find a free local port: {}", ec.message()));
                co_return ec;
            }
            auto path = find_program(opts_.program);
            if (path.empty()) {
                diag.assign(fmt::format("SSH tunnel: cannot run {}: not found in PATH (install the OpenSSH client)",
                                        opts_.program));
                co_return make_error_code(ssh_error::cannot_run);
            }
            int err_fd = -1;
            pid_t pid = spawn(path, arguments(port), err_fd, ec);
            if (pid < 0) {
                diag.assign(fmt::format("SSH tunnel: cannot run {}: {}", path, ec.message()));
                co_return make_error_code(ssh_error::cannot_run);
            }
            auto p = std::make_shared<process>(ex);
            p->pid = pid;
            p->local_port = port;
            p->err.assign(err_fd);
            proc_ = p;
            read_stderr(p);
        }
        auto p = proc_; // kept alive across the waits
        while (!p->ready && !p->exited) {
            if (abandoned && abandoned()) co_return make_error_code(asio::error::operation_aborted);
            auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                p->terminate();
                std::string last = p->messages.empty() ? std::string() : " (ssh: " + p->messages.back() + ")";
                diag.assign(fmt::format("SSH tunnel: the forward through {} was not ready within connection_timeout "
                                        "({}){}",
                                        host_port(opts_.host, opts_.port), seconds_text(opts_.timeout), last));
                co_return make_error_code(error::connect_timeout);
            }
            co_await wait_for_change(*p, std::min(deadline, now + std::chrono::milliseconds(100)));
        }
        if (p->ready && !p->exited) co_return std::error_code{};
        auto v = classify_exit(*p, opts_);
        if (v.port_taken && attempt < 4) continue; // lost the port to another process: take another
        diag.assign(v.port_taken ? "SSH tunnel: cannot bind a local port for the forward (all tried were taken)"
                                 : v.message);
        co_return v.ec;
    }
}

std::uint64_t ssh_tunnel::channel_mark() const noexcept { return proc_ ? proc_->channels : 0; }

asio::awaitable<std::error_code> ssh_tunnel::wait_channel(std::uint64_t mark,
                                                          std::chrono::steady_clock::time_point deadline,
                                                          diagnostics& diag) {
    diag.clear();
    auto p = proc_;
    const std::string bastion = host_port(opts_.host, opts_.port);
    const std::string target = host_port(opts_.target_host, opts_.target_port);
    while (p && p->channels <= mark && !p->exited) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            diag.assign(fmt::format("SSH tunnel: the SSH server {} did not open a connection to {} within "
                                    "connection_timeout ({})",
                                    bastion, target, seconds_text(opts_.timeout)));
            co_return make_error_code(error::connect_timeout);
        }
        co_await wait_for_change(*p, deadline);
    }
    if (p && p->channels > mark) {
        if (p->channel_failure.empty()) co_return std::error_code{};
        const auto& why = p->channel_failure;
        if (contains(why, "administratively prohibited")) {
            diag.assign(fmt::format("SSH tunnel: the SSH server {} refused to forward to {} ({}): its sshd must allow "
                                    "it (AllowTcpForwarding, PermitOpen)",
                                    bastion, target, why));
            co_return make_error_code(ssh_error::forward_refused);
        }
        constexpr std::string_view connect_failed = "connect failed: ";
        std::string_view reason = why;
        if (reason.starts_with(connect_failed)) reason.remove_prefix(connect_failed.size());
        diag.assign(fmt::format("SSH tunnel: the SSH server {} cannot reach {}: {}", bastion, target, reason));
        co_return make_error_code(ssh_error::target_unreachable);
    }
    diag.assign(fmt::format("SSH tunnel: {}", end_reason().empty() ? "ssh is not running" : end_reason()));
    co_return make_error_code(ssh_error::exited);
}

bool ssh_tunnel::running() const noexcept { return proc_ && proc_->ready && !proc_->exited; }

std::uint16_t ssh_tunnel::local_port() const noexcept { return proc_ ? proc_->local_port : 0; }

std::string ssh_tunnel::end_reason() const {
    if (proc_ && !proc_->exited && proc_->pid > 0) {
        // Its stderr may not have been read to the end yet (a connection that ssh's exit
        // closed is often seen first): ask the kernel without reaping (WNOWAIT).
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(proc_->pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == proc_->pid) {
            if (info.si_code == CLD_EXITED) return fmt::format("ssh exited with status {}", info.si_status);
            return fmt::format("ssh was killed by signal {}", info.si_status);
        }
    }
    if (!proc_ || !proc_->exited) return {};
    std::string last = proc_->messages.empty() ? std::string() : " (" + proc_->messages.back() + ")";
    return proc_->status_text() + last;
}

void ssh_tunnel::stop() noexcept {
    if (proc_) proc_->terminate();
}

} // namespace socketcap
