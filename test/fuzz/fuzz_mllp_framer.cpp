// SPDX-License-Identifier: MIT OR Apache-2.0
// mllp_framer fed a stream cut at fuzzer-chosen points. Invariants: the frames it returns
// (kind, payload, message) are exactly those of a reference framing of the whole input (so they
// do not depend on the cuts); every payload lies in the consumed bytes and holds at most
// max_frame_bytes; it waits only while it holds at most max_frame_bytes + slack_bytes(); nothing
// is left at the end; after reset() it frames like a new framer.
#include "framer_drive.hpp"

#include <socketcap/mllp_framer.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

using socketcap::fuzz::seen_frame;

constexpr char vt = '\x0B', fs = '\x1C', cr = '\x0D';

// The bytes as error messages quote them: printable ASCII but '"' and '\' as is, the rest \xNN;
// if that is more than 64 characters, the longest prefix of whole renderings within 61, "...".
std::string quote(std::string_view s) {
    std::vector<std::string> parts;
    std::size_t total = 0;
    for (unsigned char b : s) {
        char buf[8];
        if (b >= 0x20 && b <= 0x7E && b != '"' && b != '\\') std::snprintf(buf, sizeof buf, "%c", b);
        else std::snprintf(buf, sizeof buf, "\\x%02X", b);
        parts.emplace_back(buf);
        total += parts.back().size();
    }
    std::string q;
    if (total <= 64) {
        for (auto& p : parts) q += p;
        return q;
    }
    for (auto& p : parts) {
        if (q.size() + p.size() > 61) break;
        q += p;
    }
    return q + "...";
}

std::size_t next_start(std::string_view s, std::size_t from) {
    auto at = s.find(vt, std::min(from, s.size()));
    return at == std::string_view::npos ? s.size() : at;
}

// MLLP framing of the whole input, straight from the documented rules.
std::vector<seen_frame> reference(std::string_view s, std::size_t max) {
    std::vector<seen_frame> out;
    const std::string rule = "up to the next MLLP start byte";
    std::size_t pos = 0;
    auto cut = [&](std::string_view v) { return std::string(v.substr(0, max)); };
    while (pos < s.size()) {
        char c = s[pos];
        if (c == '\r' || c == '\n' || c == ' ' || c == '\t') {
            ++pos;
            continue;
        }
        if (c == vt) {
            // The first marker among the start byte's next max + 1 bytes decides.
            std::size_t lim = std::min(s.size(), pos + max + 2), i = pos + 1;
            while (i < lim && s[i] != fs && s[i] != vt) ++i;
            if (i < lim && s[i] == vt) {
                out.push_back({frame_kind::invalid, cut(s.substr(pos, i - pos)),
                               "MLLP frame not ended (0x1C 0x0D) before the next start byte 0x0B"});
                pos = i;
            } else if (i < lim && i + 1 < s.size()) { // 0x1C and a byte after it
                if (s[i + 1] == cr) {
                    out.push_back({frame_kind::complete, std::string(s.substr(pos + 1, i - pos - 1)), ""});
                    pos = i + 2;
                } else {
                    out.push_back({frame_kind::invalid, cut(s.substr(pos, i + 1 - pos)),
                                   "MLLP end byte 0x1C followed by \"" + quote(s.substr(i + 1, 1)) +
                                       "\", not 0x0D; skipped up to the next start byte 0x0B"});
                    pos = next_start(s, i + 1);
                }
            } else if (i == pos + max + 2) {
                out.push_back({frame_kind::oversized, cut(s.substr(pos + 1)), rule});
                pos = next_start(s, i);
            } else { // the stream ended inside the frame (perhaps right after a 0x1C)
                auto rest = s.substr(pos + 1);
                out.push_back(rest.size() > max ? seen_frame{frame_kind::oversized, cut(rest), rule}
                                                : seen_frame{frame_kind::partial, std::string(rest), ""});
                pos = s.size();
            }
            continue;
        }
        // Bytes outside a frame: up to a start byte, or through 0x1C 0x0D if the run still fits.
        std::size_t lim = std::min(s.size(), pos + max + 1), i = pos;
        bool ended = false;
        for (; i < lim && s[i] != vt; ++i) {
            if (s[i] == fs && i + 2 - pos <= max && i + 1 < s.size() && s[i + 1] == cr) {
                ended = true;
                break;
            }
        }
        if (ended) {
            std::size_t n = i + 2 - pos;
            out.push_back({frame_kind::invalid, std::string(s.substr(pos, n)),
                           std::to_string(n) + " bytes ending in 0x1C 0x0D without an MLLP start byte 0x0B: \"" +
                               quote(s.substr(pos, n)) + "\""});
            pos = i + 2;
        } else if (i < lim) { // a start byte
            out.push_back({frame_kind::invalid, std::string(s.substr(pos, i - pos)),
                           std::to_string(i - pos) + " bytes before the MLLP start byte 0x0B: \"" +
                               quote(s.substr(pos, i - pos)) + "\""});
            pos = i;
        } else if (i == pos + max + 1) {
            out.push_back({frame_kind::invalid, cut(s.substr(pos)),
                           "more than " + std::to_string(max) + " bytes without an MLLP start byte 0x0B: \"" +
                               quote(s.substr(pos, max)) + "\"; skipped up to the next start byte"});
            pos = next_start(s, i);
        } else {
            out.push_back({frame_kind::invalid, std::string(s.substr(pos)),
                           std::to_string(s.size() - pos) +
                               " bytes without an MLLP start byte 0x0B at the end of the stream: \"" +
                               quote(s.substr(pos)) + "\""});
            pos = s.size();
        }
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

    mllp_framer framer(max);
    FUZZ_CHECK(framer.max_frame_bytes() == max);
    fuzz::check_framer(framer, input, splits, "message", 192, reference(input, max));
    return 0;
}
