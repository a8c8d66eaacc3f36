// SPDX-License-Identifier: MIT OR Apache-2.0
#include "payload.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace socketcap::bench {
namespace {
constexpr std::array<std::string_view, 6> hosts{"web-01", "web-02", "db-primary", "cache-7", "edge-fra", "edge-iad"};
constexpr std::array<std::string_view, 5> apps{"nginx", "postgres", "sshd", "kernel", "cron"};
constexpr std::array<std::string_view, 8> words{"connection", "accepted", "from", "request",
                                                "completed", "timeout", "retrying", "user"};
constexpr std::array<std::string_view, 4> accents{"caf\xC3\xA9", "Stra\xC3\x9F" "e", "\xE6\x9D\xB1\xE4\xBA\xAC",
                                                  "\xF0\x9F\x9A\x80"};
} // namespace

std::string syslog_lines(std::size_t count, rng& r) {
    std::string out;
    out.reserve(count * 104);
    for (std::size_t i = 0; i < count; ++i) {
        auto start = out.size();
        fmt::format_to(std::back_inserter(out), "<{}>1 2026-11-24T10:{:02}:{:02}.{:03}Z {} {} {} - ", r.below(192),
                       r.below(60), r.below(60), r.below(1000), hosts[r.below(hosts.size())],
                       apps[r.below(apps.size())], 1000 + r.below(9000));
        while (out.size() - start < 96) {
            out += r.below(8) == 0 ? accents[r.below(accents.size())] : words[r.below(words.size())];
            out += ' ';
        }
        out += '\n';
    }
    return out;
}

std::string ndjson_lines(std::size_t count, rng& r, unsigned malformed_per_mille) {
    std::string out;
    out.reserve(count * 210);
    for (std::size_t i = 0; i < count; ++i) {
        std::string line = fmt::format(
            R"({{"ts":"2026-11-24T10:{:02}:{:02}Z","host":"{}","level":"{}","msg":"{} {} \"{}\"\t{}",)"
            R"("user":{{"id":{},"name":"{}","tags":["a","b\\c"]}},"bytes":{},"ok":{},"ratio":{}.{}}})",
            r.below(60), r.below(60), hosts[r.below(hosts.size())], r.below(2) ? "info" : "warn",
            words[r.below(words.size())], words[r.below(words.size())], accents[r.below(accents.size())],
            words[r.below(words.size())], 9007199254740993ULL + r.below(1000), apps[r.below(apps.size())],
            r.below(1u << 30), r.below(2) ? "true" : "false", r.below(100), r.below(1000));
        if (malformed_per_mille != 0 && r.below(1000) < malformed_per_mille) {
            switch (r.below(3)) {
            case 0: line.resize(line.size() / 2); break;     // truncated
            case 1: line.back() = ','; line += '}'; break;    // trailing comma
            default: out += "not json at all "; break;        // a bare word first
            }
        }
        out += line;
        out += '\n';
    }
    return out;
}

namespace {
template <class Frame>
std::string reframe(std::string_view lines, Frame frame) {
    std::string out;
    out.reserve(lines.size() + lines.size() / 16);
    while (!lines.empty()) {
        auto nl = lines.find('\n');
        frame(out, lines.substr(0, nl));
        lines.remove_prefix(nl == std::string_view::npos ? lines.size() : nl + 1);
    }
    return out;
}
} // namespace

std::string length_prefixed(std::string_view lines) {
    return reframe(lines, [](std::string& out, std::string_view m) {
        auto n = static_cast<std::uint32_t>(m.size());
        char prefix[4] = {char(n >> 24), char(n >> 16 & 0xFF), char(n >> 8 & 0xFF), char(n & 0xFF)};
        out.append(prefix, 4);
        out += m;
    });
}

std::string octet_counted(std::string_view lines) {
    return reframe(lines, [](std::string& out, std::string_view m) {
        fmt::format_to(std::back_inserter(out), "{} ", m.size());
        out += m;
    });
}

std::string raw_bytes(std::size_t size, rng& r) {
    std::string out(size, ' ');
    for (auto& c : out) c = static_cast<char>(r.below(200) == 0 ? '\n' : 32 + r.below(95));
    return out;
}

} // namespace socketcap::bench
