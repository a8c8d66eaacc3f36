// SPDX-License-Identifier: MIT OR Apache-2.0
// chunk_framer fed a stream cut at fuzzer-chosen points. Invariants: payloads concatenate to
// the input, none is longer than max_frame_bytes, no cut falls inside a well-formed character
// or a maximal ill-formed subpart (so U+FFFD replacement per payload equals replacement of the
// whole input), and at most an incomplete character's first bytes are ever held back.
// Also checks utf8::incomplete_tail and utf8::is_valid against the reference implementation.
#include "fuzz_common.hpp"

#include <socketcap/chunk_framer.hpp>
#include <socketcap/utf8.hpp>

#include <algorithm>
#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::size_t max = d.byte();
    if (max > 250) max = std::size_t{1} << 16;
    fuzz::split_plan splits(d);
    const std::string_view input = d.rest();

    FUZZ_CHECK(utf8::incomplete_tail(input) == fuzz::incomplete_tail_reference(input));
    FUZZ_CHECK(utf8::is_valid(input) == simdjson::validate_utf8(input.data(), input.size()));
    FUZZ_CHECK(utf8::is_valid(input) == (fuzz::replace_invalid_utf8(input) == input));

    chunk_framer framer(max);
    const std::size_t limit = framer.max_frame_bytes();
    FUZZ_CHECK(limit == std::max<std::size_t>(max, 4));
    std::string pending, joined, replaced;
    std::size_t fed = 0;

    auto drain = [&](bool eof) {
        for (;;) {
            frame f = framer.next(pending, eof);
            if (f.kind == frame_kind::need_more) {
                FUZZ_CHECK(f.consumed == 0);
                // Only an incomplete character's first bytes may wait for more.
                FUZZ_CHECK(pending.empty() ||
                           (!eof && pending.size() <= 3 && fuzz::incomplete_tail_reference(pending) == pending.size()));
                return;
            }
            FUZZ_CHECK(f.kind == frame_kind::complete);
            FUZZ_CHECK(f.payload.data() == pending.data() && f.consumed == f.payload.size());
            FUZZ_CHECK(!f.payload.empty() && f.payload.size() <= limit);
            joined.append(f.payload);
            replaced += fuzz::replace_invalid_utf8(f.payload);
            pending.erase(0, f.consumed);
        }
    };

    while (fed < input.size()) {
        std::size_t n = std::min(splits.next(), input.size() - fed);
        pending.append(input.substr(fed, n));
        fed += n;
        drain(false);
        FUZZ_CHECK(pending.size() <= 3);
    }
    drain(true);
    FUZZ_CHECK(pending.empty());
    FUZZ_CHECK(joined == input);
    FUZZ_CHECK(replaced == fuzz::replace_invalid_utf8(input));
    return 0;
}
