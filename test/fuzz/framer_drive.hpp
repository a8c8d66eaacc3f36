// SPDX-License-Identifier: MIT OR Apache-2.0
// Drives a framer as a pipeline does, for the fuzz targets of framers that compare their frames
// with a reference on the whole input: the reads the fuzzer chose, then the end of stream.
#ifndef SOCKETCAP_TEST_FUZZ_FRAMER_DRIVE_HPP
#define SOCKETCAP_TEST_FUZZ_FRAMER_DRIVE_HPP

#include "fuzz_common.hpp"

#include <socketcap/framer.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace socketcap::fuzz {

/// A frame as the reference sees it: what must not depend on how the input was cut.
struct seen_frame {
    frame_kind kind;
    std::string payload;
    std::string message;
    bool operator==(const seen_frame&) const = default;
};

/// Frames `input` with `framer` in the reads `splits` gives, then at eof, and checks what every
/// framer owes: progress, payloads inside the bytes consumed and within max_frame_bytes, its
/// `unit` on every frame, a message (of at most `max_message` characters) on exactly the error
/// frames, waiting only while it holds at most max_frame_bytes + slack_bytes(), nothing left
/// over. The frames must equal `want`, and again after a reset() in the middle of the input.
template <framer Framer>
void check_framer(Framer& framer, std::string_view input, split_plan& splits, std::string_view unit,
                  std::size_t max_message, const std::vector<seen_frame>& want) {
    const std::size_t max = framer.max_frame_bytes();
    const std::size_t bound = max + detail::framer_slack(framer);
    std::string pending; // unconsumed bytes, as a receive buffer holds them
    std::vector<seen_frame> frames;
    auto drain = [&](bool eof) {
        for (;;) {
            frame f = framer.next(pending, eof);
            if (f.kind == frame_kind::need_more) {
                FUZZ_CHECK(f.consumed == 0);
                FUZZ_CHECK(pending.size() <= bound);
                FUZZ_CHECK(!eof || pending.empty());
                return;
            }
            FUZZ_CHECK(f.consumed > 0 && f.consumed <= pending.size());
            FUZZ_CHECK(f.payload.size() <= max);
            if (!f.payload.empty())
                FUZZ_CHECK(f.payload.data() >= pending.data() &&
                           f.payload.data() + f.payload.size() <= pending.data() + f.consumed);
            if (f.kind == frame_kind::skipped) {
                FUZZ_CHECK(f.payload.empty());
            } else {
                FUZZ_CHECK(f.unit == unit);
                FUZZ_CHECK(f.kind == frame_kind::partial ? eof : true);
                FUZZ_CHECK((f.kind == frame_kind::oversized || f.kind == frame_kind::invalid) == !f.message.empty());
                FUZZ_CHECK(f.message.size() <= max_message);
                if (f.kind == frame_kind::oversized) FUZZ_CHECK(f.max_frame_bytes == max && f.payload.size() == max);
                frames.push_back({f.kind, std::string(f.payload), std::string(f.message)});
            }
            pending.erase(0, f.consumed);
        }
    };

    for (std::size_t fed = 0; fed < input.size();) {
        std::size_t n = std::min(splits.next(), input.size() - fed);
        pending.append(input.substr(fed, n));
        fed += n;
        drain(false);
    }
    drain(true);
    FUZZ_CHECK(pending.empty());
    FUZZ_CHECK(frames == want);

    // reset() forgets whatever was half done (a count, a frame, a skip): then it frames anew.
    pending.assign(input.substr(0, input.size() / 2));
    drain(false);
    framer.reset();
    pending.assign(input);
    frames.clear();
    drain(true);
    FUZZ_CHECK(frames == want);
}

} // namespace socketcap::fuzz

#endif
