// SPDX-License-Identifier: MIT OR Apache-2.0
// octet_counting_framer fed a stream cut at fuzzer-chosen points. Invariants: the frames it
// returns (kind, payload, message) are exactly those of a reference framing of the whole input
// (so they do not depend on the cuts); every payload lies in the consumed bytes and holds at
// most max_frame_bytes; it waits only while it holds at most max_frame_bytes + slack_bytes();
// nothing is left at the end; after reset() it frames like a new framer.
#include "framer_drive.hpp"

#include <socketcap/octet_counting_framer.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

using socketcap::fuzz::seen_frame;

bool digit(char c) { return c >= '0' && c <= '9'; }

// The bytes as error messages quote them: printable ASCII but '"' and '\' as is, the rest \xNN.
// A count's bytes never need cutting (at most 11 of them).
std::string quote(std::string_view s) {
    std::string q;
    for (unsigned char b : s) {
        if (b >= 0x20 && b <= 0x7E && b != '"' && b != '\\') {
            q += char(b);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", b);
            q += buf;
        }
    }
    return q;
}

// RFC 6587 framing of the whole input, message by message, straight from the definitions.
std::vector<seen_frame> reference(std::string_view s, std::size_t max) {
    std::vector<seen_frame> out;
    const std::string skip_line = "; skipped up to the next newline";
    std::size_t pos = 0;
    while (pos < s.size()) {
        if (!digit(s[pos])) {
            // Non-transparent framing: up to LF, one CR before it stripped.
            std::size_t lf = s.find('\n', pos);
            std::string_view line = s.substr(pos, lf == std::string_view::npos ? std::string_view::npos : lf - pos);
            if (lf != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.size() > max)
                out.push_back({frame_kind::oversized, std::string(line.substr(0, max)), "up to the next newline"});
            else
                out.push_back({lf == std::string_view::npos ? frame_kind::partial : frame_kind::complete,
                               std::string(line), ""});
            pos = lf == std::string_view::npos ? s.size() : lf + 1;
            continue;
        }
        std::size_t d = 0;
        while (pos + d < s.size() && digit(s[pos + d]) && d < 11) ++d;
        std::string message;
        if (d == 11) {
            message = "octet count \"" + quote(s.substr(pos, 11)) + "\" has more than 10 digits" + skip_line;
        } else if (pos + d == s.size()) { // the stream ended in the count
            if (d > max) out.push_back({frame_kind::oversized, std::string(s.substr(pos, max)), "at the end of the stream"});
            else out.push_back({frame_kind::partial, std::string(s.substr(pos)), ""});
            break;
        } else if (s[pos + d] != ' ') {
            message = "octet count \"" + quote(s.substr(pos, d + 1)) + "\" is not followed by a space" + skip_line;
        } else if (s[pos] == '0') {
            message = "octet count \"" + quote(s.substr(pos, d)) + "\" starts with 0" + skip_line;
        } else {
            std::uint64_t n = std::stoull(std::string(s.substr(pos, d)));
            std::size_t body = pos + d + 1;
            std::uint64_t have = s.size() - body;
            if (n <= max && have >= n) {
                out.push_back({frame_kind::complete, std::string(s.substr(body, n)), ""});
                pos = body + n;
            } else if (n > max && have >= max) {
                out.push_back({frame_kind::oversized, std::string(s.substr(body, max)),
                               "(its declared length, " + std::to_string(n) + " bytes)"});
                pos = static_cast<std::size_t>(std::min<std::uint64_t>(s.size(), body + n));
            } else {
                out.push_back({frame_kind::partial, std::string(s.substr(body)), ""});
                pos = s.size();
            }
            continue;
        }
        // A bad count: the message up to LF is invalid, cut to max bytes.
        std::size_t lf = s.find('\n', pos);
        std::size_t end = lf == std::string_view::npos ? s.size() : lf;
        out.push_back({frame_kind::invalid, std::string(s.substr(pos, std::min(end - pos, max))), message});
        pos = lf == std::string_view::npos ? s.size() : lf + 1;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::size_t max = d.byte();
    if (max > 250) max = std::size_t{1} << 16;
    fuzz::split_plan splits(d);
    const std::string_view input = d.rest();

    octet_counting_framer framer(max);
    FUZZ_CHECK(framer.max_frame_bytes() == max);
    fuzz::check_framer(framer, input, splits, "message", 160, reference(input, max));
    return 0;
}
