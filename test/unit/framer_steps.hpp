// SPDX-License-Identifier: MIT OR Apache-2.0
// Runs a framer over one buffer, consuming as a pipeline does, and records every step.
#ifndef SOCKETCAP_TEST_UNIT_FRAMER_STEPS_HPP
#define SOCKETCAP_TEST_UNIT_FRAMER_STEPS_HPP

#include <socketcap/frame.hpp>

#include <string>
#include <string_view>
#include <vector>

struct step {
    socketcap::frame_kind kind;
    std::string payload;
    std::size_t consumed;
    bool operator==(const step&) const = default;
};

template <socketcap::framer Framer>
std::vector<step> frames(Framer& f, std::string_view in, bool eof) {
    std::vector<step> v;
    for (;;) {
        socketcap::frame fr = f.next(in, eof);
        if (fr.kind == socketcap::frame_kind::need_more) break;
        v.push_back({fr.kind, std::string(fr.payload), fr.consumed});
        in.remove_prefix(fr.consumed);
    }
    return v;
}

#endif
