// SPDX-License-Identifier: MIT OR Apache-2.0
// length_prefix_framer with fuzzer-chosen options (length field, byte order, header, whether the
// length counts the prefix, whether the frame keeps it) and max_frame_bytes, fed a stream cut at
// fuzzer-chosen points. Invariants: the frames (each with the skipped bytes after it) are exactly
// those of a reference that parses the whole input with 128-bit arithmetic, so they do not
// depend on the cuts (a prefix split anywhere included); every byte is accounted for; it waits
// only while a frame can still fit (max_frame_bytes + the longest prefix); reset().
#include "fuzz_common.hpp"

#include <socketcap/length_prefix_framer.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

__extension__ typedef unsigned __int128 u128;

struct seen_frame {
    frame_kind kind;
    std::string payload;
    std::size_t consumed; // with the skipped bytes after it
    std::string message;  // oversized: the whole message; invalid: what was wrong
    bool operator==(const seen_frame&) const = default;
};

std::string what_was_wrong(std::string_view message) {
    for (std::string_view key : {"is longer than 10 bytes", "overflows 64 bits", "is less than its own prefix"})
        if (message.find(key) != std::string_view::npos) return std::string(key);
    return "?";
}

std::string declared(u128 n) { return "(its declared length, " + std::to_string(std::uint64_t(n)) + " bytes)"; }

// The framing as the header comment states it, on the whole input at once.
std::vector<seen_frame> reference(std::string_view in, const length_prefix_options& o, std::size_t max) {
    std::vector<seen_frame> out;
    const std::size_t n = in.size(), h = o.header_bytes;
    std::size_t pos = 0;
    auto tail = [&](std::size_t from) { // the stream ended inside a frame
        std::string_view rest = in.substr(from);
        if (rest.size() > max) out.push_back({frame_kind::oversized, std::string(rest.substr(0, max)), n - pos,
                                              "up to the end of the stream"});
        else out.push_back({frame_kind::partial, std::string(rest), n - pos, ""});
        pos = n;
    };
    while (pos < n) {
        u128 value = 0;
        std::size_t field = 0;
        if (o.length_bytes != 0) {
            field = o.length_bytes;
            if (n - pos < h + field) { tail(pos); break; }
            for (std::size_t i = 0; i < field; ++i) {
                std::size_t significance = o.byte_order == std::endian::big ? field - 1 - i : i;
                value += u128(static_cast<unsigned char>(in[pos + h + i])) << (8 * significance);
            }
        } else {
            bool ended = false, bad = false;
            std::string problem;
            for (std::size_t i = 0; !ended && !bad; ++i) {
                if (pos + h + i >= n) break;
                auto b = static_cast<unsigned char>(in[pos + h + i]);
                value += u128(b & 0x7F) << (7 * i);
                field = i + 1;
                ended = (b & 0x80) == 0;
                if (i == 9 && !ended) { bad = true; problem = "is longer than 10 bytes"; }
                else if (i == 9 && value >> 64 != 0) { bad = true; problem = "overflows 64 bits"; }
            }
            if (bad) {
                out.push_back({frame_kind::invalid, std::string(in.substr(pos, std::min(h + field, max))), h + field,
                               problem});
                pos += h + field;
                continue;
            }
            if (!ended) { tail(pos); break; }
        }
        const std::size_t prefix = h + field;
        if (o.length_includes_prefix && value < prefix) {
            out.push_back({frame_kind::invalid, std::string(in.substr(pos, std::min(prefix, max))), prefix,
                           "is less than its own prefix"});
            pos += prefix;
            continue;
        }
        const u128 body = o.length_includes_prefix ? value - prefix : value;
        const u128 whole = prefix + body; // on the wire
        const u128 frame = o.keep_prefix ? whole : body;
        const std::size_t start = pos + (o.keep_prefix ? 0 : prefix);
        if (frame <= max) {
            if (n - pos < whole) { tail(start); break; }
            out.push_back({frame_kind::complete, std::string(in.substr(start, std::size_t(frame))), std::size_t(whole),
                           ""});
            pos += std::size_t(whole);
        } else {
            if (n - start < max) { tail(start); break; }
            std::size_t end = whole > n - pos ? n : pos + std::size_t(whole);
            out.push_back({frame_kind::oversized, std::string(in.substr(start, max)), end - pos, declared(value)});
            pos = end;
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::size_t max = d.byte();
    if (max > 250) max = std::size_t{1} << 16;
    const std::uint8_t shape = d.byte();
    static constexpr std::uint8_t fields[] = {0, 1, 2, 4, 8, 0, 1, 4};
    length_prefix_options o;
    o.length_bytes = fields[shape & 7];
    o.byte_order = (shape & 0x08) != 0 ? std::endian::little : std::endian::big;
    o.length_includes_prefix = (shape & 0x10) != 0;
    o.keep_prefix = (shape & 0x20) != 0;
    switch (shape >> 6) {
    case 0: o.header_bytes = 0; break;
    case 1: o.header_bytes = 1; break;
    case 2: o.header_bytes = 2; break;
    default: o.header_bytes = d.byte() % 65; break;
    }
    fuzz::split_plan splits(d);
    const std::string_view input = d.rest();

    length_prefix_framer framer(o, max);
    max = std::max<std::size_t>(max, 1); // the framer's floor
    FUZZ_CHECK(framer.max_frame_bytes() == max);
    const std::size_t longest_prefix = o.header_bytes + (o.length_bytes != 0 ? o.length_bytes : 10);
    FUZZ_CHECK(framer.slack_bytes() == longest_prefix);
    std::string pending;
    std::vector<seen_frame> frames;
    std::size_t fed = 0, consumed_total = 0;
    bool skipping = false; // after an oversized frame, until the framer needs more or eof

    auto drain = [&](bool eof) {
        for (;;) {
            frame f = framer.next(pending, eof);
            if (f.kind == frame_kind::need_more) {
                FUZZ_CHECK(f.consumed == 0);
                if (eof) FUZZ_CHECK(pending.empty());
                else FUZZ_CHECK(pending.size() < max + longest_prefix || (skipping && pending.empty()));
                return;
            }
            FUZZ_CHECK(f.consumed > 0 && f.consumed <= pending.size());
            FUZZ_CHECK(f.payload.size() <= max && f.payload.size() <= f.consumed);
            FUZZ_CHECK(f.unit == "frame");
            if (!f.payload.empty()) {
                FUZZ_CHECK(f.payload.data() >= pending.data());
                FUZZ_CHECK(f.payload.data() + f.payload.size() <= pending.data() + f.consumed);
            }
            std::string message(f.message);
            switch (f.kind) {
            case frame_kind::complete:
            case frame_kind::partial:
                FUZZ_CHECK(f.message.empty());
                FUZZ_CHECK(f.kind == frame_kind::complete || (eof && f.consumed == pending.size()));
                skipping = false;
                break;
            case frame_kind::oversized:
                FUZZ_CHECK(f.payload.size() == max && f.max_frame_bytes == max);
                skipping = true;
                break;
            case frame_kind::invalid:
                FUZZ_CHECK(f.message.starts_with("length_prefixed framing: ") && f.message.size() <= 160);
                FUZZ_CHECK(f.payload.data() == pending.data());
                message = what_was_wrong(f.message);
                skipping = false;
                break;
            case frame_kind::skipped:
                FUZZ_CHECK(skipping && f.payload.empty());
                break;
            case frame_kind::need_more:
                break;
            }
            if (f.kind == frame_kind::skipped) frames.back().consumed += f.consumed;
            else frames.push_back({f.kind, std::string(f.payload), f.consumed, message});
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
    const auto want = reference(input, o, max);
    FUZZ_CHECK(frames == want);

    // reset() forgets a half-read prefix or a half-skipped frame.
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
