// SPDX-License-Identifier: MIT OR Apache-2.0
// any_framer: one of the library's framers, chosen at run time. A program that reads its
// framing from configuration instantiates its pipeline, session or engine once, with this,
// instead of once per framer.
#ifndef SOCKETCAP_ANY_FRAMER_HPP
#define SOCKETCAP_ANY_FRAMER_HPP

#include <socketcap/chunk_framer.hpp>
#include <socketcap/delimiter_framer.hpp>
#include <socketcap/framing.hpp>
#include <socketcap/length_prefix_framer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/mllp_framer.hpp>
#include <socketcap/octet_counting_framer.hpp>

#include <variant>

namespace socketcap {

class any_framer {
public:
    /// Lines, like a pipeline's default framer.
    explicit any_framer(std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : framer_(std::in_place_type<line_framer>, max_frame_bytes) {}
    /// The framer `opts` describes. opts.delimiter must hold 1 to 16 bytes (configuration checks it).
    any_framer(const framing_options& opts, std::size_t max_frame_bytes) noexcept;

    frame next(std::string_view in, bool eof) noexcept {
        // The common case first, without a dispatch; the rest by index (a jump table).
        if (auto* lines = std::get_if<line_framer>(&framer_)) return lines->next(in, eof);
        return std::visit([&](auto& f) noexcept { return f.next(in, eof); }, framer_);
    }
    void reset() noexcept {
        std::visit([](auto& f) noexcept { f.reset(); }, framer_);
    }
    std::size_t max_frame_bytes() const noexcept {
        return std::visit([](const auto& f) noexcept -> std::size_t { return f.max_frame_bytes(); }, framer_);
    }
    /// The chosen framer's slack_bytes() (1 for one that declares none): the pipeline sizes its
    /// buffer by it, and a framer given too little would stall (framer.hpp).
    std::size_t slack_bytes() const noexcept {
        return std::visit([](const auto& f) noexcept -> std::size_t { return detail::framer_slack(f); }, framer_);
    }
    framing_kind kind() const noexcept { return static_cast<framing_kind>(framer_.index()); }

private:
    // In framing_kind order: kind() is the index.
    std::variant<line_framer, delimiter_framer, length_prefix_framer, octet_counting_framer, mllp_framer, chunk_framer>
        framer_;
};

inline any_framer::any_framer(const framing_options& opts, std::size_t max_frame_bytes) noexcept
    : framer_(std::in_place_type<line_framer>, max_frame_bytes) {
    switch (opts.kind) {
    case framing_kind::lines: break;
    case framing_kind::delimiter:
        framer_.emplace<delimiter_framer>(opts.delimiter, opts.keep_delimiter, max_frame_bytes);
        break;
    case framing_kind::length_prefixed: framer_.emplace<length_prefix_framer>(opts.length, max_frame_bytes); break;
    case framing_kind::octet_counting: framer_.emplace<octet_counting_framer>(max_frame_bytes); break;
    case framing_kind::mllp: framer_.emplace<mllp_framer>(max_frame_bytes); break;
    case framing_kind::chunks: framer_.emplace<chunk_framer>(max_frame_bytes, opts.whole_characters); break;
    }
}

static_assert(framer<any_framer>);

} // namespace socketcap

#endif
