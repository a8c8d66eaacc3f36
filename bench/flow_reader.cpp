// SPDX-License-Identifier: MIT OR Apache-2.0
// The runtime's reading side for bench/many_endpoints (issue 17): reads a connector's Flow output
// on stdin with 1 MiB reads (a Python reader was slower than the connector at full speed), takes
// CLOCK_REALTIME once per read as the time it read every document in it, and
//   --latency          takes each document's send stamp (the number starting data.value, as
//                      bench/fanout and load_gen's `stamped` payload write it);
//   --until-docs N     prints "DONE ..." once N documents were read;
//   --until-bytes B --bindings K
//                      prints "DONE ..." once checkpoints report at least B bytes for each of K
//                      bindings (bindingStateV1.<stateKey>.bytes, simdjson-parsed);
// then keeps reading until EOF (the driver closes the connector's stdin after DONE) and prints
// "RESULT docs=... checkpoints=... bad_lines=... [latency percentiles in ms, all and after
// --warmup S] reader_cpu=...". Every line must be one whole captured, checkpoint or opened
// message; a line that is not (two connections' output interleaved inside it, say) is counted
// in bad_lines and shown on stderr (the first 3), its documents counted by their
// `{"captured":{` openings, and the run goes on. With --until-docs, 2 s without output after
// the first document also ends the wait (complete=0: documents were lost or mangled), so a
// broken run is measured and reported rather than waited on forever.
#include "stats.hpp"

#include <simdjson.h>

#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::uint64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

[[noreturn]] void bad_line(std::string_view line, std::string_view why) {
    std::fprintf(stderr, "flow_reader: bad connector output (%.*s): %.*s\n", int(why.size()), why.data(),
                 int(std::min<std::size_t>(line.size(), 300)), line.data());
    std::exit(1);
}

std::string percentiles(std::vector<double> v, std::string_view prefix) {
    if (v.empty()) return fmt::format("{}n=0", prefix);
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) { return v[std::min(v.size() - 1, std::size_t(p * double(v.size())))]; };
    return fmt::format("{0}n={1} {0}median_ms={2:.3f} {0}p90_ms={3:.3f} {0}p99_ms={4:.3f} {0}max_ms={5:.3f}", prefix,
                       v.size(), pct(0.5), pct(0.9), pct(0.99), v.back());
}

} // namespace

int main(int argc, char** argv) {
    bool latency = false;
    std::uint64_t until_docs = 0, until_bytes = 0;
    std::size_t bindings = 0;
    double warmup = 0;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "flow_reader: %s needs a value\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--latency") latency = true;
        else if (a == "--until-docs") until_docs = std::strtoull(value(), nullptr, 10);
        else if (a == "--until-bytes") until_bytes = std::strtoull(value(), nullptr, 10);
        else if (a == "--bindings") bindings = std::strtoull(value(), nullptr, 10);
        else if (a == "--warmup") warmup = std::strtod(value(), nullptr);
        else {
            std::fprintf(stderr, "flow_reader: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    static constexpr std::string_view captured = R"({"captured":{)";
    static constexpr std::string_view checkpoint = R"({"checkpoint":{)";
    static constexpr std::string_view opened = R"({"opened":)";
    static constexpr std::string_view value_key = R"("value":")";

    simdjson::dom::parser parser;
    std::map<std::string, std::uint64_t, std::less<>> bytes_of;
    std::size_t bindings_done = 0;
    std::uint64_t docs = 0, checkpoints = 0, bad_lines = 0;
    std::vector<double> lat_all, lat_warm;
    bool done = false;
    auto t0 = std::chrono::steady_clock::now();
    std::vector<char> buf(1 << 20);
    std::size_t have = 0;
    double last_read = 0;
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    auto finish_wait = [&](double t, bool complete) {
        done = true;
        std::printf("DONE docs=%llu seconds=%.6f complete=%d reader_cpu=%.3f\n", static_cast<unsigned long long>(docs),
                    t, complete ? 1 : 0, socketcap::bench::self_cpu());
        std::fflush(stdout);
    };
    for (;;) {
        if (!done && until_docs && docs > 0) {
            pollfd pfd{0, POLLIN, 0};
            if (::poll(&pfd, 1, 2000) == 0) {
                finish_wait(last_read, false);
                continue;
            }
        }
        ssize_t n = ::read(0, buf.data() + have, buf.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::uint64_t now = realtime_ns();
        last_read = elapsed();
        bool warm = last_read >= warmup;
        have += std::size_t(n);
        std::size_t start = 0;
        while (const void* nl = std::memchr(buf.data() + start, '\n', have - start)) {
            auto end = std::size_t(static_cast<const char*>(nl) - buf.data());
            std::string_view line(buf.data() + start, end - start);
            start = end + 1;
            bool known = line.starts_with(captured) || line.starts_with(checkpoint) || line.starts_with(opened);
            if (!known || line.find(captured, 1) != std::string_view::npos ||
                line.find(checkpoint, 1) != std::string_view::npos || !line.ends_with("}}")) {
                if (++bad_lines <= 3)
                    std::fprintf(stderr, "flow_reader: a mangled line (%zu bytes): %.*s\n", line.size(),
                                 int(std::min<std::size_t>(line.size(), 1500)), line.data());
                for (auto at = line.find(captured); at != std::string_view::npos; at = line.find(captured, at + 1))
                    ++docs;
                continue;
            }
            if (line.starts_with(captured)) { // whole: one document
                ++docs;
                if (latency) {
                    auto v = line.find(value_key);
                    if (v == std::string_view::npos) bad_line(line, "no data.value");
                    std::uint64_t sent = std::strtoull(line.data() + v + value_key.size(), nullptr, 10);
                    double ms = (double(now) - double(sent)) / 1e6;
                    lat_all.push_back(ms);
                    if (warm) lat_warm.push_back(ms);
                }
            } else if (line.starts_with(checkpoint)) {
                ++checkpoints;
                if (until_bytes == 0) continue;
                simdjson::dom::element root;
                if (parser.parse(line.data(), line.size()).get(root)) bad_line(line, "invalid JSON");
                simdjson::dom::object states;
                if (root["checkpoint"]["state"]["updated"]["bindingStateV1"].get(states)) continue;
                for (auto [key, entry] : states) {
                    std::uint64_t b = 0;
                    if (entry["bytes"].get(b)) bad_line(line, "a binding's state without bytes");
                    auto it = bytes_of.find(key);
                    if (it == bytes_of.end()) it = bytes_of.emplace(std::string(key), 0).first;
                    if (it->second < until_bytes && b >= until_bytes) ++bindings_done;
                    it->second = b;
                }
            }
        }
        std::memmove(buf.data(), buf.data() + start, have - start);
        have -= start;
        if (have == buf.size()) buf.resize(buf.size() * 2);
        if (!done && ((until_docs && docs >= until_docs) || (until_bytes && bindings_done >= bindings)))
            finish_wait(last_read, true);
    }
    std::string lat = latency ? " " + percentiles(lat_all, "") + " " + percentiles(lat_warm, "warm_") : "";
    std::printf("RESULT docs=%llu checkpoints=%llu bad_lines=%llu%s reader_cpu=%.3f\n",
                static_cast<unsigned long long>(docs), static_cast<unsigned long long>(checkpoints),
                static_cast<unsigned long long>(bad_lines), lat.c_str(), socketcap::bench::self_cpu());
    return done ? 0 : 1;
}
