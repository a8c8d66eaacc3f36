// SPDX-License-Identifier: MIT OR Apache-2.0
// Fan-out server for bench/many_endpoints (issue 17): one process, N listeners on 127.0.0.1, one
// thread on epoll. Each accepted connection gets, by --mode:
//   stamped  a ~100-byte line every 1/R s (--rate R), --lines L of them, then silence; each line
//            starts with the CLOCK_REALTIME nanoseconds of its write (as load_gen's `stamped`
//            payload). Connections' schedules are spread over the period by endpoint index, so
//            N x R lines/s arrive evenly rather than in bursts of N;
//   idle     one stamped line, then silence;
//   line     load_gen's `line` payload (--count lines) as fast as the kernel takes it, then FIN.
// Prints the N ports and the payload size on one line ("P1 P2 ... PN BYTES"), serves until its
// stdin closes, then prints a summary to stderr: connections, lines, bytes, and for stamped how
// late the latest line was against its schedule (the generator keeping up is part of the result).
//
//   fanout --endpoints N --mode stamped|idle|line [--rate R] [--lines L] [--count C]
#include "payload.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(std::string_view what) {
    std::fprintf(stderr, "fanout: %.*s: %s\n", int(what.size()), what.data(), std::strerror(errno));
    std::exit(1);
}

std::int64_t now_ns(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

enum class mode { stamped, idle, line };

struct conn {
    int fd = -1;
    std::size_t endpoint = 0;
    std::string pending;    ///< bytes the kernel did not take yet (stamped/idle)
    std::size_t offset = 0; ///< line mode: how much of the payload is written
    std::size_t lines = 0;  ///< stamped lines produced
    bool closed = false;
    bool armed = false;     ///< EPOLLOUT is being watched
};

} // namespace

int main(int argc, char** argv) {
    std::size_t endpoints = 1, lines = 1000, count = 100'000;
    double rate = 100;
    mode m = mode::stamped;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "fanout: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--endpoints") endpoints = std::strtoull(value(), nullptr, 10);
        else if (a == "--rate") rate = std::strtod(value(), nullptr);
        else if (a == "--lines") lines = std::strtoull(value(), nullptr, 10);
        else if (a == "--count") count = std::strtoull(value(), nullptr, 10);
        else if (a == "--mode") {
            std::string_view v = value();
            if (v == "stamped") m = mode::stamped;
            else if (v == "idle") m = mode::idle;
            else if (v == "line") m = mode::line;
            else {
                std::fprintf(stderr, "fanout: --mode stamped|idle|line\n");
                return 2;
            }
        } else {
            std::fprintf(stderr, "fanout: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (endpoints == 0 || rate <= 0) {
        std::fprintf(stderr, "fanout: --endpoints and --rate must be positive\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; // 2 descriptors per endpoint
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }

    socketcap::bench::rng r;
    const std::string payload = m == mode::line ? socketcap::bench::syslog_lines(count, r) : std::string{};
    // Stamped lines: the filler after the stamp cycles through ~100-byte syslog lines.
    std::vector<std::string> filler;
    if (m != mode::line) {
        std::string text = socketcap::bench::syslog_lines(1000, r);
        for (std::size_t p = 0; p < text.size();) {
            std::size_t e = text.find('\n', p);
            filler.push_back(text.substr(p, e - p));
            p = e + 1;
        }
    }

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    // epoll data: index < endpoints is a listener, endpoints + k is connection k, ~0 is stdin.
    std::vector<int> listeners;
    std::string ports;
    for (std::size_t i = 0; i < endpoints; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) die("socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind 127.0.0.1");
        if (::listen(fd, 16) != 0) die("listen");
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        ports += fmt::format("{} ", ntohs(addr.sin_port));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
        listeners.push_back(fd);
    }
    {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ~std::uint64_t{0};
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) != 0) die("epoll_ctl stdin");
    }
    std::printf("%s%zu\n", ports.c_str(), payload.size());
    std::fflush(stdout);

    std::vector<conn> conns;
    const std::int64_t period = std::int64_t(1e9 / rate);
    using due = std::pair<std::int64_t, std::size_t>; // (monotonic ns, connection)
    std::priority_queue<due, std::vector<due>, std::greater<>> schedule;
    std::uint64_t lines_sent = 0, bytes_sent = 0, closed_by_peer = 0, write_blocked = 0;
    std::int64_t max_late_ns = 0;

    auto watch = [&](std::size_t k, bool out) {
        if (conns[k].armed == out) return;
        conns[k].armed = out;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0u);
        ev.data.u64 = endpoints + k;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, conns[k].fd, &ev);
    };
    auto close_conn = [&](std::size_t k) {
        if (conns[k].closed) return;
        conns[k].closed = true;
        ::close(conns[k].fd); // also leaves the epoll set
    };
    // Writes what is pending; line mode: the rest of the payload, then FIN.
    auto flush = [&](std::size_t k) {
        conn& c = conns[k];
        if (c.closed) return;
        const char* p = m == mode::line ? payload.data() + c.offset : c.pending.data();
        std::size_t n = m == mode::line ? payload.size() - c.offset : c.pending.size();
        while (n > 0) {
            ssize_t w = ::write(c.fd, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) {
                    ++write_blocked;
                    watch(k, true);
                    return;
                }
                close_conn(k);
                return;
            }
            bytes_sent += std::size_t(w);
            p += w;
            n -= std::size_t(w);
            if (m == mode::line) c.offset += std::size_t(w);
        }
        if (m == mode::line) close_conn(k); // all written: the FIN follows the data
        else {
            c.pending.clear();
            watch(k, false);
        }
    };
    auto stamp_line = [&](conn& c) {
        c.pending += fmt::format("{} {}\n", now_ns(CLOCK_REALTIME), filler[(c.endpoint + c.lines) % filler.size()]);
        ++c.lines;
        ++lines_sent;
    };

    std::vector<epoll_event> events(256);
    bool running = true;
    while (running) {
        int timeout = -1;
        if (!schedule.empty()) {
            std::int64_t wait = schedule.top().first - now_ns(CLOCK_MONOTONIC);
            timeout = wait <= 0 ? 0 : int((wait + 999'999) / 1'000'000);
        }
        int n = ::epoll_wait(ep, events.data(), int(events.size()), timeout);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int e = 0; e < n; ++e) {
            std::uint64_t id = events[e].data.u64;
            if (id == ~std::uint64_t{0}) {
                char b[256];
                if (::read(0, b, sizeof b) <= 0) running = false;
            } else if (id < endpoints) {
                for (;;) {
                    int fd = ::accept4(listeners[id], nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                    if (fd < 0) break;
                    int one = 1;
                    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    std::size_t k = conns.size();
                    conns.push_back(conn{fd, std::size_t(id), {}, 0, 0, false, false});
                    epoll_event ev{};
                    ev.events = EPOLLIN | EPOLLRDHUP;
                    ev.data.u64 = endpoints + k;
                    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
                    if (m == mode::idle) {
                        stamp_line(conns[k]);
                        flush(k);
                    } else if (m == mode::line) {
                        flush(k);
                    } else {
                        // Spread the endpoints' schedules over one period.
                        std::int64_t phase = period * std::int64_t(id) / std::int64_t(endpoints);
                        schedule.emplace(now_ns(CLOCK_MONOTONIC) + phase, k);
                    }
                }
            } else {
                std::size_t k = std::size_t(id - endpoints);
                if (events[e].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                    ++closed_by_peer;
                    close_conn(k);
                } else if (events[e].events & EPOLLIN) {
                    char b[4096];
                    ssize_t got = ::read(conns[k].fd, b, sizeof b); // the connector sends nothing here
                    if (got == 0) {
                        ++closed_by_peer;
                        close_conn(k);
                    }
                } else if (events[e].events & EPOLLOUT) {
                    flush(k);
                }
            }
        }
        // Stamped: every line that is due, each stamped as it is handed to the kernel.
        std::int64_t now = now_ns(CLOCK_MONOTONIC);
        while (!schedule.empty() && schedule.top().first <= now) {
            auto [when, k] = schedule.top();
            schedule.pop();
            conn& c = conns[k];
            if (c.closed) continue;
            max_late_ns = std::max(max_late_ns, now - when);
            bool blocked = !c.pending.empty();
            stamp_line(c);
            if (!blocked) flush(k); // else EPOLLOUT is armed and takes it with the rest
            if (c.lines < lines) schedule.emplace(when + period, k);
        }
    }
    std::fprintf(stderr,
                 "fanout: %zu connections (%llu closed by the peer), %llu lines, %llu bytes, %llu blocked writes, "
                 "latest line %.3f ms behind its schedule\n",
                 conns.size(), static_cast<unsigned long long>(closed_by_peer),
                 static_cast<unsigned long long>(lines_sent), static_cast<unsigned long long>(bytes_sent),
                 static_cast<unsigned long long>(write_blocked), double(max_late_ns) / 1e6);
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::fprintf(stderr, "RESULT fanout connections=%zu lines=%llu bytes=%llu blocked=%llu max_late_ms=%.3f cpu=%.3f\n",
                 conns.size(), static_cast<unsigned long long>(lines_sent),
                 static_cast<unsigned long long>(bytes_sent), static_cast<unsigned long long>(write_blocked),
                 double(max_late_ns) / 1e6, cpu);
    return 0;
}
