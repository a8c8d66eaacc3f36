// SPDX-License-Identifier: MIT OR Apache-2.0
// line_framer fed a stream cut at fuzzer-chosen points. Invariants: the frames it returns are
// exactly those of a reference split of the whole input at '\n' (so they do not depend on the
// cuts), and payloads + their delimiters + skipped bytes reassemble the input.
#include "fuzz_common.hpp"

#include <socketcap/line_framer.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

struct seen_frame {
    frame_kind kind;
    std::string payload;
    bool operator==(const seen_frame&) const = default;
};

std::string_view strip_cr(std::string_view s) {
    return !s.empty() && s.back() == '\r' ? s.substr(0, s.size() - 1) : s;
}

// What the framer must produce for the whole input, skipped steps aside.
std::vector<seen_frame> reference(std::string_view in, std::size_t max) {
    std::vector<seen_frame> out;
    while (!in.empty()) {
        auto nl = in.find('\n');
        bool complete = nl != std::string_view::npos;
        // A CR is stripped only before an LF: at the end of the stream it is data.
        std::string_view line = complete ? strip_cr(in.substr(0, nl)) : in;
        if (line.size() > max) out.push_back({frame_kind::oversized, std::string(line.substr(0, max))});
        else out.push_back({complete ? frame_kind::complete : frame_kind::partial, std::string(line)});
        in.remove_prefix(complete ? nl + 1 : in.size());
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

    line_framer framer(max);
    FUZZ_CHECK(framer.max_frame_bytes() == max);
    std::string pending;      // unconsumed bytes, as a receive buffer holds them
    std::string reassembled;  // the consumed bytes, rebuilt from each frame's pieces
    std::vector<seen_frame> frames;
    std::size_t fed = 0;
    bool in_oversized = false; // between an oversized frame and the end of its line

    auto drain = [&](bool eof) {
        for (;;) {
            frame f = framer.next(pending, eof);
            if (f.kind == frame_kind::need_more) {
                FUZZ_CHECK(f.consumed == 0);
                // Without eof the framer only waits while the line may still fit (+1 for a CR).
                FUZZ_CHECK(eof ? pending.empty() || in_oversized : pending.size() <= max + 1 || in_oversized);
                return;
            }
            FUZZ_CHECK(f.consumed > 0 && f.consumed <= pending.size());
            std::string_view consumed(pending.data(), f.consumed);
            switch (f.kind) {
            case frame_kind::complete:
                FUZZ_CHECK(!in_oversized);
                FUZZ_CHECK(f.payload.size() <= max);
                FUZZ_CHECK(f.payload.data() == pending.data());
                FUZZ_CHECK(consumed.back() == '\n');
                FUZZ_CHECK(strip_cr(consumed.substr(0, consumed.size() - 1)) == f.payload);
                reassembled.append(consumed);
                break;
            case frame_kind::partial:
                FUZZ_CHECK(eof && !in_oversized);
                FUZZ_CHECK(f.payload.size() <= max && f.consumed == pending.size());
                FUZZ_CHECK(consumed.find('\n') == std::string_view::npos);
                FUZZ_CHECK(consumed == f.payload);
                reassembled.append(consumed);
                break;
            case frame_kind::oversized:
                FUZZ_CHECK(!in_oversized);
                FUZZ_CHECK(f.payload.size() == max && f.payload.data() == pending.data());
                FUZZ_CHECK(f.payload.find('\n') == std::string_view::npos);
                // The payload's bytes are the line's; the rest of what it consumed is skipped.
                reassembled.append(consumed);
                in_oversized = consumed.back() != '\n' && !eof;
                break;
            case frame_kind::skipped:
                FUZZ_CHECK(in_oversized && f.payload.empty());
                FUZZ_CHECK(consumed.substr(0, consumed.size() - 1).find('\n') == std::string_view::npos);
                reassembled.append(consumed);
                in_oversized = consumed.back() != '\n' && !eof;
                break;
            case frame_kind::invalid: // lines have no invalid bytes
                FUZZ_CHECK(false);
                break;
            case frame_kind::need_more:
                break;
            }
            if (f.kind != frame_kind::skipped) frames.push_back({f.kind, std::string(f.payload)});
            pending.erase(0, f.consumed);
        }
    };

    while (fed < input.size()) {
        std::size_t n = std::min(splits.next(), input.size() - fed);
        pending.append(input.substr(fed, n));
        fed += n;
        drain(false);
    }
    drain(true);
    FUZZ_CHECK(pending.empty());
    FUZZ_CHECK(reassembled == input);
    FUZZ_CHECK(frames == reference(input, max));

    // reset() forgets a half-skipped line: the same framer then behaves like a new one.
    framer.reset();
    pending.assign(input);
    frames.clear();
    in_oversized = false;
    reassembled.clear();
    drain(true);
    FUZZ_CHECK(frames == reference(input, max));
    return 0;
}
