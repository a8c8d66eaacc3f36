// SPDX-License-Identifier: MIT OR Apache-2.0
// Drives a framer as a pipeline does (unconsumed bytes kept, each read appended, then eof) and
// records every step with its message, so tests can compare the frames of any cut of an input.
#ifndef SOCKETCAP_TEST_UNIT_FRAMER_READS_HPP
#define SOCKETCAP_TEST_UNIT_FRAMER_READS_HPP

#include <socketcap/frame.hpp>

#include <catch2/catch.hpp>

#include "pipeline_harness.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace socketcap::test {

struct framed {
    frame_kind kind;
    std::string payload;
    std::size_t consumed;
    std::string message = {};
    bool operator==(const framed&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const framed& f) {
    static constexpr const char* kinds[] = {"need_more", "complete", "oversized", "partial", "skipped", "invalid"};
    return os << "{" << kinds[static_cast<int>(f.kind)] << ", \"" << f.payload << "\", " << f.consumed << ", \""
              << f.message << "\"}";
}

/// Every step of `f` over `reads` then end of stream. Checks what holds for any framer: a step
/// consumes at least one byte and never more than it was given; payloads lie inside the input
/// and are at most max_frame_bytes; nothing is left over at the end.
template <class Framer>
std::vector<framed> framer_steps(Framer& f, const std::vector<std::string_view>& reads, std::size_t* peak = nullptr) {
    std::vector<framed> v;
    std::string pending;
    auto drain = [&](bool eof) {
        for (;;) {
            frame fr = f.next(pending, eof);
            if (fr.kind == frame_kind::need_more) {
                CHECK(fr.consumed == 0);
                return;
            }
            REQUIRE(fr.consumed > 0);
            REQUIRE(fr.consumed <= pending.size());
            CHECK(fr.payload.size() <= f.max_frame_bytes());
            if (!fr.payload.empty()) {
                CHECK(fr.payload.data() >= pending.data());
                CHECK(fr.payload.data() + fr.payload.size() <= pending.data() + pending.size());
            }
            v.push_back({fr.kind, std::string(fr.payload), fr.consumed, std::string(fr.message)});
            pending.erase(0, fr.consumed);
        }
    };
    for (auto r : reads) {
        pending.append(r);
        if (peak && pending.size() > *peak) *peak = pending.size();
        drain(false);
    }
    drain(true);
    CHECK(pending.empty());
    return v;
}

/// The steps with each `skipped` step's bytes added to the frame before it: how far a frame
/// and its skipped tail reach does not depend on the cuts, how they are split into steps does.
inline std::vector<framed> merged(std::vector<framed> v) {
    std::vector<framed> out;
    for (auto& s : v) {
        if (s.kind == frame_kind::skipped && !out.empty()) out.back().consumed += s.consumed;
        else out.push_back(std::move(s));
    }
    return out;
}

/// The input cut at every offset, in 1-, 2- and 3-byte reads: the frames equal `want` each time.
template <class Framer>
void check_every_split(const Framer& proto, std::string_view in, const std::vector<framed>& want) {
    auto run = [&](const std::vector<std::string_view>& reads) {
        Framer f = proto;
        return merged(framer_steps(f, reads));
    };
    CHECK(run({in}) == want);
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(run({in.substr(0, cut), in.substr(cut)}) == want);
    }
    for (std::size_t n = 1; n <= 3; ++n) {
        INFO(n << "-byte reads");
        CHECK(run(reads_of(in, n)) == want);
    }
}

} // namespace socketcap::test

#endif
