// SPDX-License-Identifier: MIT OR Apache-2.0
// socket-feed: a small deterministic sample feed on loopback, for demos, tests and benchmarks.
// It listens on 127.0.0.1, prints the port it listens on (one line on stdout), and serves each
// connection the same records (log lines, NDJSON objects or raw text) until it is stopped, so a
// `source-socket check` and then a `capture` both get data. Blocking sockets and big
// writes: one connection at a time is all a feed needs, and it keeps the output reproducible.
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr std::string_view usage = R"(socket-feed: serve sample data on 127.0.0.1.

Usage: socket-feed [options]
  --port N                 port to listen on; 0 (default) picks a free one. The port is
                           printed on stdout as one line once the feed listens.
  --mode lines|ndjson|raw  log lines (default), NDJSON objects, or raw text without newlines
  --count N                records per connection (default 10; 0 = no limit)
  --bytes N                stop each connection after N bytes (raw mode default: 1048576)
  --line-bytes N           pad each record to at least N bytes (before its newline)
  --rate N                 records per second (raw: 1 KiB chunks per second); 0 = as fast as possible
  --tail TEXT              bytes sent after the records (e.g. an unterminated line)
  --hold                   keep each connection open after sending, until the client closes
  --close-after SECONDS    close each connection this long after it was accepted
  --repeat-connections N   connections to serve before exiting (default 0: until stopped)
  --help
)";

struct options {
    std::uint16_t port = 0;
    std::string mode = "lines";
    std::uint64_t count = 10;
    std::uint64_t bytes = 0; // 0 = no limit (raw: 1 MiB)
    std::uint64_t line_bytes = 0;
    double rate = 0;
    std::string tail;
    bool hold = false;
    double close_after = 0;
    std::uint64_t repeat = 0; // until stopped: a `check` must not use up the feed a `capture` then needs
};

template <class T>
bool parse_number(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

/// Appends record `i` of connection `conn` (1-based) with its newline.
void append_record(std::string& out, const options& o, std::uint64_t conn, std::uint64_t i) {
    std::size_t start = out.size();
    // A fixed clock, 1 ms per record from 2026-01-01T00:00:00Z: the same input every run.
    std::uint64_t ms = i - 1;
    auto ts = fmt::format("2026-01-01T{:02}:{:02}:{:02}.{:03}Z", (ms / 3600000) % 24, (ms / 60000) % 60,
                          (ms / 1000) % 60, ms % 1000);
    if (o.mode == "ndjson")
        fmt::format_to(std::back_inserter(out),
                       R"({{"ts":"{}","level":"{}","conn":{},"seq":{},"msg":"sample event {}","value":{}.{:02}}})", ts,
                       i % 10 == 0 ? "warn" : "info", conn, i, i, (i * 7919) % 1000, i % 100);
    else
        fmt::format_to(std::back_inserter(out), "{} feed[{}]: level={} seq={} msg=\"sample event {}\" value={}", ts,
                       conn, i % 10 == 0 ? "warn" : "info", i, i, (i * 7919) % 1000);
    std::size_t len = out.size() - start;
    if (o.line_bytes > len) {
        if (o.mode == "ndjson") {
            out.pop_back(); // pad inside the object: "pad":"xxx…"
            std::size_t extra = o.line_bytes - len;
            out += R"(,"pad":")";
            out.append(extra > 9 ? extra - 9 : 0, 'x');
            out += "\"}";
        } else {
            out.push_back(' ');
            out.append(o.line_bytes - len - 1, 'x');
        }
    }
    out.push_back('\n');
}

/// Raw text: printable ASCII from a fixed LCG, no newlines.
void append_raw(std::string& out, std::uint64_t& state, std::size_t n) {
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,;:";
    for (std::size_t k = 0; k < n; ++k) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        out.push_back(alphabet[(state >> 33) % alphabet.size()]);
    }
}

bool send_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Waits until the client closes (or `deadline`, if set).
void wait_for_close(int fd, std::chrono::steady_clock::time_point deadline, bool has_deadline) {
    char buf[4096];
    for (;;) {
        int timeout = -1;
        if (has_deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return;
            timeout = static_cast<int>(left.count());
        }
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, timeout);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
    }
}

void serve(int fd, const options& o, std::uint64_t conn) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const bool has_deadline = o.close_after > 0;
    const auto deadline = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.close_after));
    const bool raw = o.mode == "raw";
    const std::uint64_t byte_limit = o.bytes != 0 ? o.bytes : (raw ? 1048576 : 0);
    const std::uint64_t record_limit = raw ? 0 : o.count;
    constexpr std::size_t batch = 256 * 1024;
    constexpr std::size_t raw_chunk = 1024;

    std::string out;
    std::uint64_t sent = 0, records = 0, raw_state = 0x5eed + conn;
    bool done = false;
    while (!done) {
        out.clear();
        // Fill one batch (or one record/chunk when rate-limited).
        while (out.size() < batch) {
            if (record_limit != 0 && records >= record_limit) { done = true; break; }
            if (byte_limit != 0 && sent + out.size() >= byte_limit) { done = true; break; }
            ++records;
            if (raw) append_raw(out, raw_state, raw_chunk);
            else append_record(out, o, conn, records);
            if (o.rate > 0) break;
        }
        if (byte_limit != 0 && sent + out.size() > byte_limit) out.resize(byte_limit - sent);
        if (o.rate > 0 && !out.empty()) {
            auto due = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>((records - 1) / o.rate));
            if (has_deadline && due > deadline) return;
            std::this_thread::sleep_until(due);
        }
        if (has_deadline && clock::now() >= deadline) return;
        if (!send_all(fd, out)) return;
        sent += out.size();
    }
    if (!o.tail.empty() && !send_all(fd, o.tail)) return;
    if (o.hold || has_deadline) wait_for_close(fd, deadline, has_deadline);
}

int run(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "socket-feed: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        bool ok = true;
        if (a == "--help") {
            std::fwrite(usage.data(), 1, usage.size(), stdout);
            return 0;
        } else if (a == "--port") ok = parse_number(value(), o.port);
        else if (a == "--mode") {
            o.mode = value();
            ok = o.mode == "lines" || o.mode == "ndjson" || o.mode == "raw";
        } else if (a == "--count") ok = parse_number(value(), o.count);
        else if (a == "--bytes") ok = parse_number(value(), o.bytes);
        else if (a == "--line-bytes") ok = parse_number(value(), o.line_bytes);
        else if (a == "--rate") ok = parse_number(value(), o.rate) && o.rate >= 0;
        else if (a == "--tail") o.tail = value();
        else if (a == "--hold") o.hold = true;
        else if (a == "--close-after") ok = parse_number(value(), o.close_after) && o.close_after >= 0;
        else if (a == "--repeat-connections") ok = parse_number(value(), o.repeat);
        else {
            std::fprintf(stderr, "socket-feed: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "socket-feed: bad value for %s\n", argv[i - 1]);
            return 2;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);

    int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); // loopback only: this is a sample feed
    addr.sin_port = htons(o.port);
    if (::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 16) != 0) {
        std::fprintf(stderr, "socket-feed: cannot listen on 127.0.0.1:%u: %s\n", unsigned(o.port), std::strerror(errno));
        return 1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &len);
    std::printf("%u\n", unsigned(ntohs(addr.sin_port)));
    std::fflush(stdout);

    for (std::uint64_t conn = 1; o.repeat == 0 || conn <= o.repeat; ++conn) {
        int fd = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) { --conn; continue; }
            std::fprintf(stderr, "socket-feed: accept: %s\n", std::strerror(errno));
            return 1;
        }
        serve(fd, o, conn);
        ::close(fd);
    }
    ::close(ls);
    return 0;
}

} // namespace

int main(int argc, char** argv) { return run(argc, argv); }
