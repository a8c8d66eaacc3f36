// SPDX-License-Identifier: MIT OR Apache-2.0
// delimiter_framer with a fuzzer-chosen delimiter (1-16 bytes, kept or not) and max_frame_bytes,
// fed a stream cut at fuzzer-chosen points. Invariants: the frames (each with the skipped bytes
// after it) are exactly those of a naive reference split of the whole input, so they do not
// depend on the cuts; every step's bytes are accounted for; it waits only while a frame can
// still fit (max_frame_bytes + delimiter size - 1 bytes) and holds at most the bytes that may
// begin a delimiter while skipping; reset().
#include "fuzz_common.hpp"

#include <socketcap/delimiter_framer.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

struct seen_frame {
    frame_kind kind;
    std::string payload;
    std::size_t consumed; // with the skipped bytes after it
    std::string message;
    bool operator==(const seen_frame&) const = default;
};

// Byte-by-byte comparison at every position: obviously right, quadratic, fine for fuzz inputs.
std::size_t naive_find(std::string_view in, std::string_view d, std::size_t from) {
    for (std::size_t i = from; i + d.size() <= in.size(); ++i) {
        bool match = true;
        for (std::size_t k = 0; k < d.size() && match; ++k) match = in[i + k] == d[k];
        if (match) return i;
    }
    return std::string_view::npos;
}

std::vector<seen_frame> reference(std::string_view in, std::string_view d, bool keep, std::size_t max) {
    const std::string rule = "up to the next delimiter";
    std::vector<seen_frame> out;
    std::size_t pos = 0;
    while (pos < in.size()) {
        std::size_t at = naive_find(in, d, pos);
        std::size_t end = at == std::string_view::npos ? in.size() : at + d.size();
        std::size_t frame_end = at == std::string_view::npos ? in.size() : keep ? end : at;
        std::string_view frame = in.substr(pos, frame_end - pos);
        if (frame.size() > max)
            out.push_back({frame_kind::oversized, std::string(frame.substr(0, max)), end - pos, rule});
        else
            out.push_back({at == std::string_view::npos ? frame_kind::partial : frame_kind::complete,
                           std::string(frame), end - pos, ""});
        pos = end;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::size_t max = d.byte();
    if (max > 250) max = std::size_t{1} << 16;
    const std::uint8_t shape = d.byte();
    const bool keep = (shape & 0x10) != 0;
    std::string delim;
    for (std::size_t n = 1 + (shape & 0x0F); n != 0; --n) delim += char(d.byte());
    fuzz::split_plan splits(d);
    const std::string_view input = d.rest();

    delimiter_framer framer(delim, keep, max);
    max = std::max<std::size_t>(max, 1); // the framer's floor
    FUZZ_CHECK(framer.max_frame_bytes() == max);
    FUZZ_CHECK(framer.delimiter() == delim);
    FUZZ_CHECK(framer.slack_bytes() == delim.size() - 1);
    std::string pending;
    std::vector<seen_frame> frames;
    std::size_t fed = 0, consumed_total = 0;
    bool skipping = false; // between an early oversized frame and the delimiter that ends it
    auto ends_with_delim = [&](std::string_view s) {
        return s.size() >= delim.size() && s.substr(s.size() - delim.size()) == delim;
    };

    auto drain = [&](bool eof) {
        for (;;) {
            frame f = framer.next(pending, eof);
            if (f.kind == frame_kind::need_more) {
                FUZZ_CHECK(f.consumed == 0);
                if (eof) FUZZ_CHECK(pending.empty());
                // Bounded waiting: a frame that can still fit, or what may begin a delimiter.
                else FUZZ_CHECK(pending.size() <= (skipping ? 0 : max) + delim.size() - 1);
                return;
            }
            FUZZ_CHECK(f.consumed > 0 && f.consumed <= pending.size());
            FUZZ_CHECK(f.payload.size() <= max);
            FUZZ_CHECK(f.unit == "frame");
            std::string_view consumed(pending.data(), f.consumed);
            // Every payload is the front of what the step consumed.
            FUZZ_CHECK(f.payload.empty() || f.payload.data() == pending.data());
            FUZZ_CHECK(f.payload.size() <= f.consumed);
            switch (f.kind) {
            case frame_kind::complete:
                FUZZ_CHECK(!skipping && ends_with_delim(consumed));
                FUZZ_CHECK(f.payload == (keep ? consumed : consumed.substr(0, consumed.size() - delim.size())));
                FUZZ_CHECK(naive_find(consumed, delim, 0) == consumed.size() - delim.size());
                break;
            case frame_kind::partial:
                FUZZ_CHECK(eof && !skipping && f.consumed == pending.size() && f.payload == consumed);
                FUZZ_CHECK(naive_find(consumed, delim, 0) == std::string_view::npos);
                break;
            case frame_kind::oversized:
                FUZZ_CHECK(!skipping && f.payload.size() == max && f.max_frame_bytes == max);
                FUZZ_CHECK(f.message == "up to the next delimiter");
                skipping = !ends_with_delim(consumed) && !eof;
                break;
            case frame_kind::skipped:
                FUZZ_CHECK(skipping && f.payload.empty());
                // It stops at the first delimiter.
                FUZZ_CHECK(naive_find(consumed, delim, 0) == std::string_view::npos ||
                           naive_find(consumed, delim, 0) == consumed.size() - delim.size());
                skipping = !ends_with_delim(consumed) && !eof;
                break;
            case frame_kind::invalid: // every byte is data
            case frame_kind::need_more:
                FUZZ_CHECK(false);
                break;
            }
            if (f.kind == frame_kind::skipped) frames.back().consumed += f.consumed;
            else frames.push_back({f.kind, std::string(f.payload), f.consumed, std::string(f.message)});
            consumed_total += f.consumed;
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
    FUZZ_CHECK(pending.empty() && consumed_total == input.size());
    const auto want = reference(input, delim, keep, max);
    FUZZ_CHECK(frames == want);

    // reset() forgets a half-scanned or half-skipped frame: then it frames as a new one would.
    framer.reset();
    pending.assign(input.substr(0, input.size() / 2));
    skipping = false;
    frames.clear();
    drain(false);
    framer.reset();
    pending.assign(input);
    skipping = false;
    frames.clear();
    consumed_total = 0;
    drain(false);
    drain(true);
    FUZZ_CHECK(frames == want);
    return 0;
}
