// SPDX-License-Identifier: MIT OR Apache-2.0
// any_framer is each framer it holds: the same frames (kind, payload, consumed, message) at every
// split of an input that exercises each one's errors, the same limits and slack, the kind named.
#include <socketcap/any_framer.hpp>
#include <socketcap/text_codec.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace socketcap;

namespace {

struct seen {
    frame_kind kind;
    std::string payload;
    std::size_t consumed;
    std::string message;
    bool operator==(const seen&) const = default;
};

// Every frame `f` makes of `input` fed in two reads cut at `cut`, then end of stream.
template <class F>
std::vector<seen> frames(F f, std::string_view input, std::size_t cut) {
    std::vector<seen> out;
    std::string pending;
    auto drain = [&](bool eof) {
        for (;;) {
            frame fr = f.next(pending, eof);
            if (fr.kind == frame_kind::need_more) return;
            out.push_back({fr.kind, std::string(fr.payload), fr.consumed, std::string(fr.message)});
            pending.erase(0, fr.consumed);
        }
    };
    pending.append(input.substr(0, cut));
    drain(false);
    pending.append(input.substr(cut));
    drain(false);
    drain(true);
    return out;
}

template <class F>
void same_as_direct(const framing_options& opts, F direct, std::string_view input) {
    constexpr std::size_t max = 16;
    any_framer any(opts, max);
    CHECK(any.kind() == opts.kind);
    CHECK(any.max_frame_bytes() == direct.max_frame_bytes());
    CHECK(any.slack_bytes() == detail::framer_slack(direct));
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        INFO(to_string(opts.kind) << ", cut at " << cut);
        auto want = frames(direct, input, cut);
        CHECK(frames(any, input, cut) == want);
        CHECK_FALSE(want.empty());
    }
}

} // namespace

TEST_CASE("any_framer: each framing gives the frames its own framer gives, at every split") {
    framing_options o;
    o.kind = framing_kind::lines;
    same_as_direct(o, line_framer(16), "a\r\nbb\n0123456789abcdefXYZ\ntail");
    o.kind = framing_kind::delimiter;
    o.delimiter = "|||";
    o.keep_delimiter = true;
    same_as_direct(o, delimiter_framer("|||", true, 16), "a|||b||c|||0123456789abcdefXYZ|||tail|");
    o.kind = framing_kind::length_prefixed;
    o.length = {.length_bytes = 0, .byte_order = std::endian::big, .length_includes_prefix = false,
                .header_bytes = 1, .keep_prefix = true};
    same_as_direct(o, length_prefix_framer(o.length, 16),
                   std::string("T\x03" "abcT\x00T\x20", 8) + std::string(32, 'x') + "T\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01T\x05" "ab");
    o.kind = framing_kind::octet_counting;
    same_as_direct(o, octet_counting_framer(16), "5 a\nbc<1>line\r\n12x junk\n40 0123456789abcdef0123456789abcdef01234567" "7 partial");
    o.kind = framing_kind::mllp;
    same_as_direct(o, mllp_framer(16), "\x0b" "A|1\rB\r\x1c\r\r\njunk\x0b" "C\x0b" "D\x1c" "x\x0b" "0123456789abcdefgh\x1c\r\x0b" "E");
    o.kind = framing_kind::chunks;
    same_as_direct(o, chunk_framer(16), "caf\xC3\xA9 0123456789abcdef0123");
    o.whole_characters = false;
    same_as_direct(o, chunk_framer(16, false), "caf\xC3\xA9 0123456789abcdef0123");
}

TEST_CASE("any_framer: with no options it reads lines, like a pipeline's default framer") {
    any_framer f(1024);
    CHECK(f.kind() == framing_kind::lines);
    CHECK(f.max_frame_bytes() == 1024);
    CHECK(test::run_all<text_codec>("x\r\ny") ==
          [] {
              pipeline<text_codec, any_framer> p(text_codec{}, any_framer(1u << 20));
              auto env = test::fixed_envelope();
              output_buffer out;
              p.feed("x\r\ny", env, out);
              p.finish(env, out);
              return std::string(out.data(), out.size());
          }());
}

TEST_CASE("any_framer: a pipeline sizes its buffer by the chosen framer's slack, so a frame at the limit passes") {
    // An MLLP message of exactly max_frame_bytes needs its start byte and both end bytes in the
    // buffer at once; with the default slack of 1, one-byte reads would stall it.
    framing_options o;
    o.kind = framing_kind::mllp;
    pipeline<text_codec, any_framer> p(text_codec{}, any_framer(o, 1024), {.read_size = 1, .max_frame_bytes = 1024});
    auto env = test::fixed_envelope();
    output_buffer out;
    std::string message(1024, 'm');
    p.feed("\x0b" + message + "\x1c\r", env, out);
    CHECK(std::string(out.data(), out.size()) == test::text_doc(message, 1));
    CHECK(p.stats().documents == 1);
}
