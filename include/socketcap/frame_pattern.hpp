// SPDX-License-Identifier: MIT OR Apache-2.0
// frame_pattern: a regular expression searched in frames (a reply rule's `match`), compiled once
// and shared by every connection (matching is const and thread-safe).
// RE2, not std::regex or a backtracking engine: it runs in time linear in the frame whatever the
// pattern, so a hostile or unlucky server line cannot stall the read path, and it never throws.
// RE2 stays out of this header: programs that include it need no RE2 headers.
#ifndef SOCKETCAP_FRAME_PATTERN_HPP
#define SOCKETCAP_FRAME_PATTERN_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/error.hpp>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace socketcap {

class frame_pattern {
public:
    /// Matches nothing; compile() makes a real one.
    frame_pattern() = default;

    /// Compiles RE2 syntax (https://github.com/google/re2/wiki/Syntax). On failure ec is
    /// error::invalid_pattern and `diag` has RE2's reason ("missing ): (a").
    static frame_pattern compile(std::string_view pattern, error_code& ec, diagnostics& diag);

    /// The group names a template may use, index = group number: "0" (the whole match), "1",
    /// "2", …; a named group (?P<id>…) is listed again under its name after the numbers.
    const std::vector<std::string>& group_names() const noexcept { return names_; }
    /// For each entry of group_names(), the group number it stands for.
    const std::vector<int>& group_numbers() const noexcept { return numbers_; }
    /// Capturing groups plus one (the whole match).
    std::size_t groups() const noexcept { return groups_; }

    /// Searches `text` anywhere (anchor with ^ and $). On a match, groups[i] is group i, empty
    /// when it did not take part; `groups` holds at least groups() views.
    bool search(std::string_view text, std::span<std::string_view> groups) const;

private:
    std::shared_ptr<const re2::RE2> re_;
    std::vector<std::string> names_;
    std::vector<int> numbers_;
    std::size_t groups_ = 0;
};

} // namespace socketcap

#endif
