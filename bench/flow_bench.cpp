// SPDX-License-Identifier: MIT OR Apache-2.0
// End-to-end benchmark of the real source-socket binary through the Flow protocol.
//
// Per scenario it starts bench/load_gen (one process serving the same payload to every client),
// then, for each repeat, runs in turn:
//   * the connector: an `open` request on its stdin, its stdout read here by a counting reader
//     that checks every line (captured/checkpoint/opened prefix and `}}` end; every 1000th
//     document and every checkpoint fully parsed with simdjson). Once a checkpoint reports all
//     payload bytes, stdin is closed: that is how the runtime stops a connector, and it exits 0
//     at once (reconnect_delay is 60 s, so it never reconnects in between). Wall time is spawn to
//     exit; CPU and peak RSS come from wait4() on the connector alone;
//   * floor "read64k": this process drains the socket with 64 KiB read()s (CPU from getrusage);
//   * floor "socat": `socat -u -b 65536 TCP:127.0.0.1:P /dev/null` (if socat is installed);
//   * floor "pipe": the connector's output volume written into a pipe and drained here, without
//     any socket: the part of the connector's work that the read floors leave out.
// It prints median [min-max] over the repeats, and the connector/floor ratio per repeat.
//
//   flow_bench --connector PATH --load-gen PATH [--repeats 5] [--count 1000000]
//              [--plain-bytes 200000000] [--scenarios line,length-prefixed,octet-counted,json,json-bad,plain]
//              [--latency-rate 100 --latency-count 1000] [--connector-log FILE]
//              [--pipe-size BYTES]   (stdout pipe capacity set from this side; default: what the connector
//                                    sets itself, 1 MiB where the kernel allows)
#include "stats.hpp"

#include <simdjson.h>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
using socketcap::bench::fmt3;
using socketcap::bench::self_cpu;
using socketcap::bench::stat3;
using socketcap::bench::summarize;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "flow_bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

struct options {
    std::string connector, load_gen, connector_log = "/dev/null";
    int repeats = 5;
    std::size_t count = 1'000'000, plain_bytes = 200'000'000;
    std::vector<std::string> scenarios{"line", "length-prefixed", "octet-counted", "json", "json-bad", "plain"};
    double latency_rate = 100;
    std::size_t latency_count = 1000;
    bool socat = true;
    int pipe_size = 0; ///< F_SETPIPE_SZ for the connector's stdout; 0: the kernel default (64 KiB)
};

struct child {
    pid_t pid = -1;
    int in = -1;  ///< our end of its stdin, or -1
    int out = -1; ///< our end of its stdout, or -1
};

/// Starts argv[0] with stdin/stdout on pipes (when asked) and stderr on `err_path`.
child spawn(const std::vector<std::string>& args, bool pipe_in, bool pipe_out, const std::string& err_path) {
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe_in && ::pipe2(in, O_CLOEXEC) != 0) die("pipe");
    if (pipe_out && ::pipe2(out, O_CLOEXEC) != 0) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (pipe_in) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (pipe_out) posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    else posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (!err_path.empty()) // empty: inherit our stderr
        posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    child c;
    if (int e = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ); e != 0) {
        errno = e;
        die("cannot start " + args[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (pipe_in) {
        ::close(in[0]);
        c.in = in[1];
    }
    if (pipe_out) {
        ::close(out[1]);
        c.out = out[0];
    }
    return c;
}

struct exit_info {
    int status = 0;
    double cpu = 0;          ///< user + system seconds
    long max_rss_kib = 0;
};

exit_info wait_child(pid_t pid) {
    int status = 0;
    rusage ru{};
    while (::wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) die("wait4");
    auto secs = [](timeval t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return {status, secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss};
}

std::uint64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

/// A load_gen process serving `connections` clients.
struct generator {
    child proc;
    unsigned port = 0;
    std::size_t payload_bytes = 0;
};

generator start_generator(const options& o, const std::string& payload, std::size_t connections,
                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{o.load_gen, "--payload", payload, "--count", std::to_string(o.count),
                                  "--bytes", std::to_string(o.plain_bytes), "--connections",
                                  std::to_string(connections)};
    args.insert(args.end(), extra.begin(), extra.end());
    generator g{spawn(args, false, true, "")};
    std::string line;
    char c;
    while (::read(g.proc.out, &c, 1) == 1 && c != '\n') line += c;
    if (std::sscanf(line.c_str(), "%u %zu", &g.port, &g.payload_bytes) != 2) die("load_gen did not print its port");
    return g;
}

struct run_result {
    std::uint64_t documents = 0, checkpoints = 0, in_bytes = 0, out_bytes = 0;
    double wall = 0, cpu = 0;
    double reader_cpu = 0; ///< this process, counting and checking the connector's stdout
    long max_rss_kib = 0;
    std::vector<double> latencies_ms;
};

/// The endpoint config after host and port: the codec, and a framing for the re-framed payloads.
std::string scenario_config(std::string_view name) {
    if (name == "length-prefixed") return R"("codec":"line","framing":{"type":"length_prefixed"})";
    if (name == "octet-counted") return R"("codec":"line","framing":{"type":"octet_counting"})";
    return fmt::format(R"("codec":"{}")", name == "json-bad" ? "json" : name);
}

std::string open_request(unsigned port, std::string_view scenario) {
    return fmt::format(
        R"({{"open":{{"capture":{{"name":"bench/socket","connectorType":"LOCAL","config":{{"host":"127.0.0.1",)"
        R"("port":{},{},"reconnect_delay":60,"max_reconnect_attempts":0}},"bindings":[{{"resourceConfig":)"
        R"({{"stream":"bench"}},"resourcePath":["bench"],"collection":{{"name":"bench/docs","writeSchema":)"
        R"({{"type":"object"}},"key":["/session_id","/sequence"]}},"stateKey":"bench.v1"}}]}},"version":"1",)"
        R"("range":{{"keyEnd":4294967295,"rClockEnd":4294967295}},"state":{{}}}}}})"
        "\n",
        port, scenario_config(scenario));
}

[[noreturn]] void bad_line(std::string_view line, std::string_view why) {
    std::fprintf(stderr, "flow_bench: bad connector output (%.*s): %.*s\n", int(why.size()), why.data(),
                 int(std::min<std::size_t>(line.size(), 300)), line.data());
    std::exit(1);
}

/// Runs the connector against `port` until a checkpoint reports `payload_bytes` read (or, with
/// `latency`, until `expect_docs` documents arrived), checking and counting its stdout.
run_result run_connector(const options& o, unsigned port, std::string_view scenario, std::size_t payload_bytes,
                         std::uint64_t expect_docs, bool latency) {
    static constexpr std::string_view captured = R"({"captured":{"binding":0,"doc":{)";
    static constexpr std::string_view checkpoint = R"({"checkpoint":{"state":{"updated":)";
    static constexpr std::string_view opened = R"({"opened":)";
    static constexpr std::string_view bytes_key = R"("bytes":)";
    static constexpr std::string_view value_key = R"("value":")";

    run_result r;
    simdjson::dom::parser parser;
    double reader_cpu0 = self_cpu();
    auto t0 = clock_type::now();
    child c = spawn({o.connector}, true, true, o.connector_log);
    if (o.pipe_size > 0 && ::fcntl(c.out, F_SETPIPE_SZ, o.pipe_size) < 0) die("F_SETPIPE_SZ");
    std::string req = open_request(port, scenario);
    if (::write(c.in, req.data(), req.size()) != ssize_t(req.size())) die("write open request");

    std::vector<char> buf(1 << 20);
    std::size_t have = 0;
    bool done = false;
    auto check = [&](std::string_view line) {
        if (line.size() < 2 || line.substr(line.size() - 2) != "}}") bad_line(line, "does not end in }}");
        if (line.starts_with(captured)) {
            ++r.documents;
            if (latency) {
                auto now = realtime_ns();
                auto v = line.find(value_key);
                if (v == std::string_view::npos) bad_line(line, "no data.value");
                std::uint64_t sent = std::strtoull(line.data() + v + value_key.size(), nullptr, 10);
                r.latencies_ms.push_back(double(now - sent) / 1e6);
            }
            if (r.documents % 1000 == 1 && parser.parse(line.data(), line.size()).error())
                bad_line(line, "invalid JSON");
        } else if (line.starts_with(checkpoint)) {
            ++r.checkpoints;
            if (parser.parse(line.data(), line.size()).error()) bad_line(line, "invalid JSON");
            auto b = line.rfind(bytes_key);
            if (b == std::string_view::npos) bad_line(line, "checkpoint without bytes");
            r.in_bytes = std::strtoull(line.data() + b + bytes_key.size(), nullptr, 10);
            bool all = latency ? r.documents >= expect_docs : r.in_bytes >= payload_bytes;
            if (all && !done) {
                done = true;
                ::close(c.in); // how the runtime ends a capture: the connector exits 0
                c.in = -1;
            }
        } else if (!line.starts_with(opened)) {
            bad_line(line, "neither captured, checkpoint nor opened");
        }
    };
    for (;;) {
        ssize_t n = ::read(c.out, buf.data() + have, buf.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        r.out_bytes += std::size_t(n);
        have += std::size_t(n);
        std::size_t start = 0;
        while (const void* nl = std::memchr(buf.data() + start, '\n', have - start)) {
            auto end = std::size_t(static_cast<const char*>(nl) - buf.data());
            check(std::string_view(buf.data() + start, end - start));
            start = end + 1;
        }
        std::memmove(buf.data(), buf.data() + start, have - start);
        have -= start;
        if (have == buf.size()) buf.resize(buf.size() * 2); // a document longer than the buffer
    }
    ::close(c.out);
    if (c.in >= 0) ::close(c.in);
    auto e = wait_child(c.pid);
    r.wall = std::chrono::duration<double>(clock_type::now() - t0).count();
    r.cpu = e.cpu;
    r.reader_cpu = self_cpu() - reader_cpu0;
    r.max_rss_kib = e.max_rss_kib;
    if (!done || !WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0) {
        std::fprintf(stderr, "flow_bench: connector ended early (status %d, %llu of %zu bytes); see %s\n", e.status,
                     static_cast<unsigned long long>(r.in_bytes), payload_bytes, o.connector_log.c_str());
        std::exit(1);
    }
    if (expect_docs != 0 && r.documents != expect_docs) {
        std::fprintf(stderr, "flow_bench: expected %llu documents, got %llu\n",
                     static_cast<unsigned long long>(expect_docs), static_cast<unsigned long long>(r.documents));
        std::exit(1);
    }
    return r;
}

/// Floor: drain the socket with 64 KiB reads, nothing else.
run_result floor_read64k(unsigned port) {
    run_result r;
    double cpu0 = self_cpu();
    auto t0 = clock_type::now();
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(std::uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
    std::vector<char> buf(65536);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        r.in_bytes += std::size_t(n);
    }
    ::close(fd);
    r.wall = std::chrono::duration<double>(clock_type::now() - t0).count();
    r.cpu = self_cpu() - cpu0;
    return r;
}

run_result floor_socat(unsigned port) {
    run_result r;
    auto t0 = clock_type::now();
    child c = spawn({"/usr/bin/socat", "-u", "-b", "65536", fmt::format("TCP:127.0.0.1:{}", port), "/dev/null"}, false,
                    false, "");
    auto e = wait_child(c.pid);
    r.wall = std::chrono::duration<double>(clock_type::now() - t0).count();
    r.cpu = e.cpu;
    r.max_rss_kib = e.max_rss_kib;
    if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0) die("socat failed");
    return r;
}

/// Floor "pipe": what writing the connector's output costs by itself. A forked writer pushes
/// `out_bytes` of 420-byte lines into a 1 MiB pipe (the connector's size) in 256 KiB writes
/// (about one read's output), and this process drains it with 1 MiB reads, finding each line
/// with memchr but checking nothing. CPU is the writer's; the reader's is in reader_cpu.
run_result floor_pipe(std::uint64_t out_bytes) {
    run_result r;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) die("pipe");
    (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
    double reader_cpu0 = self_cpu();
    auto t0 = clock_type::now();
    pid_t pid = ::fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        ::close(fds[0]);
        std::string chunk(256 * 1024, 'x');
        for (std::size_t i = 419; i < chunk.size(); i += 420) chunk[i] = '\n';
        std::uint64_t left = out_bytes;
        while (left > 0) {
            std::size_t n = std::size_t(std::min<std::uint64_t>(left, chunk.size()));
            ssize_t w = ::write(fds[1], chunk.data(), n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) ::_exit(1);
            left -= std::uint64_t(w);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fds[0], buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        r.out_bytes += std::size_t(n);
        const char* p = buf.data();
        const char* end = p + n;
        while (const void* nl = std::memchr(p, '\n', std::size_t(end - p))) {
            ++r.documents;
            p = static_cast<const char*>(nl) + 1;
        }
    }
    ::close(fds[0]);
    auto e = wait_child(pid);
    r.wall = std::chrono::duration<double>(clock_type::now() - t0).count();
    r.cpu = e.cpu;
    r.reader_cpu = self_cpu() - reader_cpu0;
    if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 0 || r.out_bytes != out_bytes) die("pipe floor failed");
    return r;
}

void run_scenario(const options& o, const std::string& name) {
    bool counted = name != "plain"; // plain: one document per read, so no fixed count
    std::size_t per_rep = o.socat ? 3 : 2;
    generator g = start_generator(o, name, per_rep * std::size_t(o.repeats));
    std::vector<double> wall, cpu, dps, dpcpu, mbps, floor_wall, floor_cpu, socat_wall, socat_cpu, ratio,
        cpu_ratio, socat_ratio, reader_cpu, pipe_wall, pipe_cpu, pipe_reader_cpu, both_ratio;
    run_result last;
    long rss = 0;
    for (int rep = 0; rep < o.repeats; ++rep) {
        last = run_connector(o, g.port, name, g.payload_bytes, counted ? o.count : 0, false);
        auto fl = floor_read64k(g.port);
        if (fl.in_bytes != g.payload_bytes) die("floor read a short payload");
        wall.push_back(last.wall);
        cpu.push_back(last.cpu);
        dps.push_back(double(last.documents) / last.wall / 1e6);
        dpcpu.push_back(double(last.documents) / last.cpu / 1e6);
        reader_cpu.push_back(last.reader_cpu);
        floor_cpu.push_back(fl.cpu);
        cpu_ratio.push_back(last.cpu / fl.cpu);
        mbps.push_back(double(last.in_bytes) / last.wall / 1e6);
        floor_wall.push_back(fl.wall);
        ratio.push_back(last.wall / fl.wall);
        rss = std::max(rss, last.max_rss_kib);
        auto pf = floor_pipe(last.out_bytes);
        pipe_wall.push_back(pf.wall);
        pipe_cpu.push_back(pf.cpu);
        pipe_reader_cpu.push_back(pf.reader_cpu);
        both_ratio.push_back(last.wall / (fl.wall + pf.wall));
        if (o.socat) {
            auto so = floor_socat(g.port);
            socat_wall.push_back(so.wall);
            socat_cpu.push_back(so.cpu);
            socat_ratio.push_back(last.wall / so.wall);
        }
    }
    auto gen = wait_child(g.proc.pid);
    ::close(g.proc.out);
    fmt::print("\n## {} ({}), {} repeats: median [min-max]\n", name, scenario_config(name), o.repeats);
    fmt::print("  documents {}  checkpoints {}  input {:.1f} MB  output {:.1f} MB (x{:.2f})\n", last.documents,
               last.checkpoints, double(last.in_bytes) / 1e6, double(last.out_bytes) / 1e6,
               double(last.out_bytes) / double(last.in_bytes));
    fmt::print("  connector wall s      {}\n", fmt3(summarize(wall)));
    fmt::print("  connector CPU s       {}\n", fmt3(summarize(cpu)));
    fmt::print("  reader CPU s          {}   (this process: counting and checking stdout)\n",
               fmt3(summarize(reader_cpu)));
    fmt::print("  M documents/s         {}\n", fmt3(summarize(dps), 2));
    fmt::print("  M documents/CPU-s     {}   (connector CPU only: robust to a busy machine)\n",
               fmt3(summarize(dpcpu), 2));
    fmt::print("  input MB/s            {}\n", fmt3(summarize(mbps), 0));
    fmt::print("  peak RSS              {:.1f} MiB\n", double(rss) / 1024);
    fmt::print("  floor read64k wall s  {}   ratio connector/floor {}\n", fmt3(summarize(floor_wall)),
               fmt3(summarize(ratio), 2));
    fmt::print("  floor read64k CPU s   {}   CPU ratio connector/floor {}\n", fmt3(summarize(floor_cpu)),
               fmt3(summarize(cpu_ratio), 2));
    fmt::print("  floor pipe wall s     {}   (the same output through a pipe: writer CPU s {}, reader CPU s {})\n",
               fmt3(summarize(pipe_wall)), fmt3(summarize(pipe_cpu)), fmt3(summarize(pipe_reader_cpu)));
    fmt::print("  ratio connector/(read64k + pipe) {}\n", fmt3(summarize(both_ratio), 2));
    // Three busy processes share the machine: on N cores the wall time cannot drop below
    // (generator + connector + reader CPU) / N, whatever the connector does.
    double gen_cpu = gen.cpu / double(per_rep * std::size_t(o.repeats));
    double all_cpu = gen_cpu + summarize(cpu).med + summarize(reader_cpu).med;
    long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    fmt::print("  CPU of all three      generator {:.3f} (mean per connection) + connector {:.3f} + reader {:.3f} "
               "= {:.3f} s: on {} cores wall >= {:.3f} s\n",
               gen_cpu, summarize(cpu).med, summarize(reader_cpu).med, all_cpu, cores, all_cpu / double(cores));
    if (o.socat)
        fmt::print("  floor socat wall s    {}   ratio connector/socat {}   socat CPU s {}\n",
                   fmt3(summarize(socat_wall)), fmt3(summarize(socat_ratio), 2), fmt3(summarize(socat_cpu)));
    fmt::print("RESULT {} docs={} in_bytes={} out_bytes={} wall={:.4f} cpu={:.4f} mdocs_s={:.3f} mdocs_cpu_s={:.3f} "
               "in_mb_s={:.1f} rss_mib={:.1f} floor_wall={:.4f} floor_cpu={:.4f} ratio={:.2f} cpu_ratio={:.2f} "
               "socat_wall={:.4f} socat_ratio={:.2f} pipe_wall={:.4f} both_ratio={:.2f}\n",
               name, last.documents, last.in_bytes, last.out_bytes, summarize(wall).med, summarize(cpu).med,
               summarize(dps).med, summarize(dpcpu).med, summarize(mbps).med, double(rss) / 1024,
               summarize(floor_wall).med, summarize(floor_cpu).med, summarize(ratio).med, summarize(cpu_ratio).med, o.socat ? summarize(socat_wall).med : 0.0,
               o.socat ? summarize(socat_ratio).med : 0.0, summarize(pipe_wall).med, summarize(both_ratio).med);
    std::fflush(stdout);
}

void run_latency(const options& o) {
    options lo = o;
    lo.count = o.latency_count;
    generator g = start_generator(lo, "stamped", 1, {"--rate", fmt::format("{}", o.latency_rate)});
    auto r = run_connector(lo, g.port, "line", 0, lo.count, true);
    wait_child(g.proc.pid);
    ::close(g.proc.out);
    auto v = r.latencies_ms;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) { return v[std::min(v.size() - 1, std::size_t(p * double(v.size())))]; };
    fmt::print("\n## latency: {} lines at {} lines/s (codec line), generator write -> document read from stdout\n",
               v.size(), o.latency_rate);
    fmt::print("  median {:.3f} ms  p90 {:.3f} ms  p99 {:.3f} ms  max {:.3f} ms  (connector CPU {:.3f} s, RSS {:.1f} "
               "MiB)\n",
               pct(0.5), pct(0.9), pct(0.99), v.back(), r.cpu, double(r.max_rss_kib) / 1024);
    fmt::print("RESULT latency n={} median_ms={:.3f} p99_ms={:.3f} max_ms={:.3f}\n", v.size(), pct(0.5), pct(0.99),
               v.back());
}

} // namespace

int main(int argc, char** argv) {
    options o;
    bool latency = true;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "flow_bench: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--connector") o.connector = value();
        else if (a == "--load-gen") o.load_gen = value();
        else if (a == "--connector-log") o.connector_log = value();
        else if (a == "--repeats") o.repeats = std::max(1, std::atoi(value().c_str()));
        else if (a == "--count") o.count = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--plain-bytes") o.plain_bytes = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--latency-rate") o.latency_rate = std::strtod(value().c_str(), nullptr);
        else if (a == "--latency-count") o.latency_count = std::strtoull(value().c_str(), nullptr, 10);
        else if (a == "--no-latency") latency = false;
        else if (a == "--no-socat") o.socat = false;
        else if (a == "--pipe-size") o.pipe_size = std::atoi(value().c_str());
        else if (a == "--scenarios") {
            o.scenarios.clear();
            std::string s = value();
            for (std::size_t p = 0; p <= s.size();) {
                auto q = std::min(s.find(',', p), s.size());
                if (q > p) o.scenarios.push_back(s.substr(p, q - p));
                p = q + 1;
            }
        } else {
            std::fprintf(stderr, "flow_bench: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (o.connector.empty() || o.load_gen.empty()) {
        std::fprintf(stderr, "usage: flow_bench --connector PATH --load-gen PATH [--repeats N] [--count N] "
                             "[--scenarios line,length-prefixed,octet-counted,json,json-bad,plain] [--no-latency] [--no-socat]\n");
        return 2;
    }
    if (o.socat && ::access("/usr/bin/socat", X_OK) != 0) o.socat = false;
    std::signal(SIGPIPE, SIG_IGN);
    for (const auto& s : o.scenarios) run_scenario(o, s);
    if (latency) run_latency(o);
}
