// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/frame_pattern.hpp>

#include <re2/re2.h>

#include <fmt/format.h>

namespace socketcap {

frame_pattern frame_pattern::compile(std::string_view pattern, error_code& ec, diagnostics& diag) {
    ec = {};
    RE2::Options options;
    options.set_log_errors(false); // the reason goes to diag, not to stderr
    auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!re->ok()) {
        ec = make_error_code(error::invalid_pattern);
        diag.assign(re->error());
        return {};
    }
    frame_pattern p;
    p.groups_ = static_cast<std::size_t>(re->NumberOfCapturingGroups()) + 1;
    for (std::size_t i = 0; i < p.groups_; ++i) {
        p.names_.push_back(std::to_string(i));
        p.numbers_.push_back(static_cast<int>(i));
    }
    for (const auto& [name, number] : re->NamedCapturingGroups()) {
        p.names_.push_back(name);
        p.numbers_.push_back(number);
    }
    p.re_ = std::move(re);
    return p;
}

bool frame_pattern::search(std::string_view text, std::span<std::string_view> groups) const {
    if (!re_ || groups.size() < groups_) return false;
    // RE2 writes StringPieces; at most a handful of groups in practice, so a small array.
    constexpr std::size_t inline_groups = 16;
    re2::StringPiece inline_pieces[inline_groups];
    std::vector<re2::StringPiece> heap;
    re2::StringPiece* pieces = inline_pieces;
    if (groups_ > inline_groups) {
        heap.resize(groups_);
        pieces = heap.data();
    }
    if (!re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, pieces,
                    static_cast<int>(groups_)))
        return false;
    for (std::size_t i = 0; i < groups_; ++i)
        groups[i] = pieces[i].data() ? std::string_view(pieces[i].data(), pieces[i].size()) : std::string_view{};
    return true;
}

} // namespace socketcap
