// SPDX-License-Identifier: MIT OR Apache-2.0
// The framer concept: incremental, sans-I/O splitting of a byte stream into frames. A framer is
// a policy of its own: any codec runs over any framer (pipeline<Codec, Framer>).
#ifndef SOCKETCAP_FRAMER_HPP
#define SOCKETCAP_FRAMER_HPP

#include <socketcap/frame.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string_view>

namespace socketcap {

/// Framer requirements (docs/design.md has the table):
///  - f.next(input, eof): `input` is every unconsumed byte; after need_more the next call passes
///    the same bytes followed by new ones (a framer may remember how far it already scanned).
///    With eof true, a trailing frame is returned as `partial`. Never throws.
///  - f.reset(): forget all state (a new stream begins).
///  - f.max_frame_bytes(): the largest payload it returns; memory a caller needs is bounded by
///    max_frame_bytes() + a read, because longer frames come out as `oversized` early.
///  - optional f.slack_bytes() noexcept: how many bytes beyond max_frame_bytes() it may hold
///    while a frame can still fit (a delimiter or a length prefix around it); 1 if absent.
/// A pipeline constructs its framer from max_frame_bytes (`Framer(std::size_t)`) unless it is
/// handed one; that constructor is not part of the concept (a delimiter needs more).
template <class F>
concept framer = std::movable<F> && requires(F& f, const F& cf, std::string_view in, bool eof) {
    { f.next(in, eof) } noexcept -> std::same_as<frame>;
    { f.reset() } noexcept;
    { cf.max_frame_bytes() } noexcept -> std::convertible_to<std::size_t>;
};

namespace detail {
// Bytes past max_frame_bytes() a framer may hold while its frame can still fit: a framer that
// says (a long delimiter, a length prefix) gets that many, any other 1 (line_framer's CR).
template <class F>
std::size_t framer_slack(const F& f) noexcept {
    if constexpr (requires { { f.slack_bytes() } noexcept -> std::convertible_to<std::size_t>; })
        return std::max<std::size_t>(1, f.slack_bytes());
    else
        return 1;
}
} // namespace detail

} // namespace socketcap

#endif
