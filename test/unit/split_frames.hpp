// SPDX-License-Identifier: MIT OR Apache-2.0
// Runs a framer over an input cut into reads, holding unconsumed bytes as a pipeline does, and
// records every frame but `skipped` ones with its message: what must not depend on the cuts.
#ifndef SOCKETCAP_TEST_UNIT_SPLIT_FRAMES_HPP
#define SOCKETCAP_TEST_UNIT_SPLIT_FRAMES_HPP

#include <socketcap/frame.hpp>

#include <catch2/catch.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

struct seen {
    socketcap::frame_kind kind;
    std::string payload;
    std::string message;
    bool operator==(const seen&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const seen& s) {
    return os << "{" << static_cast<int>(s.kind) << ", \"" << s.payload << "\", \"" << s.message << "\"}";
}

/// One step of a framer over one buffer, all of it: what, how many bytes, and its words.
struct full_step {
    socketcap::frame_kind kind;
    std::string payload;
    std::size_t consumed;
    std::string message = {};
    bool operator==(const full_step&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const full_step& s) {
    return os << "{" << static_cast<int>(s.kind) << ", \"" << s.payload << "\", " << s.consumed << ", \"" << s.message
              << "\"}";
}

/// Runs `f` over `in` (one read), consuming as a pipeline does, until it needs more.
template <socketcap::framer Framer>
std::vector<full_step> steps(Framer& f, std::string_view in, bool eof) {
    std::vector<full_step> v;
    for (;;) {
        socketcap::frame fr = f.next(in, eof);
        if (fr.kind == socketcap::frame_kind::need_more) break;
        v.push_back({fr.kind, std::string(fr.payload), fr.consumed, std::string(fr.message)});
        in.remove_prefix(fr.consumed);
    }
    return v;
}

/// Feeds `reads` in turn, then the end of stream. Checks on the way that a framer waits only
/// while it holds at most max_frame_bytes() + slack_bytes() bytes, and leaves nothing at eof.
template <socketcap::framer Framer>
std::vector<seen> frames_of_reads(Framer& f, const std::vector<std::string_view>& reads) {
    using socketcap::frame_kind;
    std::vector<seen> v;
    std::string pending;
    auto drain = [&](bool eof) {
        for (;;) {
            socketcap::frame fr = f.next(pending, eof);
            if (fr.kind == frame_kind::need_more) {
                REQUIRE(fr.consumed == 0);
                REQUIRE(pending.size() <= f.max_frame_bytes() + f.slack_bytes());
                if (eof) REQUIRE(pending.empty());
                return;
            }
            REQUIRE(fr.consumed > 0);
            REQUIRE(fr.consumed <= pending.size());
            REQUIRE(fr.payload.size() <= f.max_frame_bytes());
            if (!fr.payload.empty()) {
                REQUIRE(fr.payload.data() >= pending.data());
                REQUIRE(fr.payload.data() + fr.payload.size() <= pending.data() + fr.consumed);
            }
            if (fr.kind != frame_kind::skipped) v.push_back({fr.kind, std::string(fr.payload), std::string(fr.message)});
            pending.erase(0, fr.consumed);
        }
    };
    for (auto r : reads) {
        pending.append(r);
        drain(false);
    }
    drain(true);
    return v;
}

/// The frames of `in` in one read; then checks that every cut into two reads, 1-byte reads and
/// 3-byte reads give the same frames.
template <socketcap::framer Framer>
std::vector<seen> frames_at_every_split(const Framer& proto, std::string_view in) {
    Framer whole = proto;
    auto want = frames_of_reads(whole, {in});
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        Framer f = proto;
        CHECK(frames_of_reads(f, {in.substr(0, cut), in.substr(cut)}) == want);
    }
    for (std::size_t n : {1, 3}) {
        INFO(n << "-byte reads");
        std::vector<std::string_view> reads;
        for (std::size_t i = 0; i < in.size(); i += n) reads.push_back(in.substr(i, n));
        Framer f = proto;
        CHECK(frames_of_reads(f, reads) == want);
    }
    return want;
}

#endif
