// SPDX-License-Identifier: MIT OR Apache-2.0
// Load generator: serves a deterministic payload over loopback TCP as fast as the kernel takes
// it, then closes. Listens on 127.0.0.1 (port 0 unless --port), prints the port on stdout, and
// serves --connections clients one after the other, each the same bytes.
//
//   load_gen --payload line|json|json-bad|plain|length-prefixed|octet-counted [--count N] [--bytes B] [--connections K]
//   load_gen --payload stamped --rate R --count N   (latency: each line starts with the
//                                                    CLOCK_REALTIME nanoseconds it was sent at)
//   load_gen --payload line --dump FILE             (write the payload to FILE and exit)
#include "payload.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void die(std::string_view what) {
    std::fprintf(stderr, "load_gen: %.*s: %s\n", int(what.size()), what.data(), std::strerror(errno));
    std::exit(1);
}

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false; // the reader went away: not our problem to report
        }
        p += w;
        n -= std::size_t(w);
    }
    return true;
}

std::uint64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

/// Rate mode: one ~100-byte line every 1/rate s on an absolute schedule, stamped just before
/// its write (TCP_NODELAY, so the stamp is when the kernel got it).
void serve_stamped(int fd, std::size_t count, double rate) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    socketcap::bench::rng r;
    std::string filler = socketcap::bench::syslog_lines(count, r);
    timespec next{};
    ::clock_gettime(CLOCK_MONOTONIC, &next);
    const long step_ns = long(1e9 / rate);
    std::size_t pos = 0;
    for (std::size_t i = 0; i < count; ++i) {
        next.tv_nsec += step_ns;
        while (next.tv_nsec >= 1'000'000'000) {
            next.tv_nsec -= 1'000'000'000;
            ++next.tv_sec;
        }
        while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
        }
        std::size_t end = filler.find('\n', pos);
        std::string line = fmt::format("{} {}\n", realtime_ns(), std::string_view(filler).substr(pos, end - pos));
        pos = end + 1;
        if (!write_all(fd, line.data(), line.size())) return;
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string payload_kind = "line", dump;
    std::size_t count = 1'000'000, bytes = 200'000'000, connections = 1;
    int port = 0;
    double rate = 0;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "load_gen: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--payload") payload_kind = value();
        else if (a == "--count") count = std::strtoull(value(), nullptr, 10);
        else if (a == "--bytes") bytes = std::strtoull(value(), nullptr, 10);
        else if (a == "--connections") connections = std::strtoull(value(), nullptr, 10);
        else if (a == "--port") port = std::atoi(value());
        else if (a == "--rate") rate = std::strtod(value(), nullptr);
        else if (a == "--dump") dump = value();
        else {
            std::fprintf(stderr, "load_gen: unknown argument %s\n", argv[i]);
            return 2;
        }
    }

    std::string payload;
    socketcap::bench::rng r;
    if (payload_kind == "line") payload = socketcap::bench::syslog_lines(count, r);
    else if (payload_kind == "json") payload = socketcap::bench::ndjson_lines(count, r);
    else if (payload_kind == "json-bad") payload = socketcap::bench::ndjson_lines(count, r, 20);
    else if (payload_kind == "plain") payload = socketcap::bench::raw_bytes(bytes, r);
    else if (payload_kind == "length-prefixed")
        payload = socketcap::bench::length_prefixed(socketcap::bench::syslog_lines(count, r));
    else if (payload_kind == "octet-counted")
        payload = socketcap::bench::octet_counted(socketcap::bench::syslog_lines(count, r));
    else if (payload_kind != "stamped" || rate <= 0) {
        std::fprintf(stderr, "load_gen: --payload line|json|json-bad|plain|length-prefixed|octet-counted, or "
                             "stamped with --rate\n");
        return 2;
    }

    if (!dump.empty()) {
        std::FILE* f = std::fopen(dump.c_str(), "wb");
        if (!f || std::fwrite(payload.data(), 1, payload.size(), f) != payload.size() || std::fclose(f) != 0)
            die(dump);
        std::printf("%zu\n", payload.size());
        return 0;
    }

    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(std::uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind 127.0.0.1");
    if (::listen(lfd, 16) != 0) die("listen");
    socklen_t len = sizeof addr;
    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
    // The port, then the payload size: the driver needs both before it starts a client.
    std::printf("%u %zu\n", unsigned(ntohs(addr.sin_port)), payload.size());
    std::fflush(stdout);

    for (std::size_t c = 0; c < connections; ++c) {
        int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) die("accept");
        if (payload_kind == "stamped") serve_stamped(fd, count, rate);
        else write_all(fd, payload.data(), payload.size());
        ::close(fd); // the FIN follows the data: the client reads everything, then EOF
    }
    ::close(lfd);
    return 0;
}
