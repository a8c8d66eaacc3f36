// SPDX-License-Identifier: MIT OR Apache-2.0
// Newline framing: frames end at '\n'; one '\r' before it is stripped (CRLF). A trailing
// frame at end of stream keeps a final '\r': with no '\n' after it, it is data.
#ifndef SOCKETCAP_LINE_FRAMER_HPP
#define SOCKETCAP_LINE_FRAMER_HPP

#include <socketcap/framer.hpp>

#include <cstring>

namespace socketcap {

class line_framer {
public:
    explicit line_framer(std::size_t max_frame_bytes = std::size_t{1} << 20) noexcept
        : max_(max_frame_bytes) {}

    frame next(std::string_view in, bool eof) noexcept;
    void reset() noexcept { scanned_ = 0; discarding_ = false; }
    std::size_t max_frame_bytes() const noexcept { return max_; }

private:
    static constexpr std::string_view skip_rule = "up to the next newline";

    static std::string_view strip_cr(std::string_view s) noexcept {
        return (!s.empty() && s.back() == '\r') ? s.substr(0, s.size() - 1) : s;
    }

    std::size_t max_;
    std::size_t scanned_ = 0;  // prefix of the input already known to hold no '\n'
    bool discarding_ = false;  // skipping the rest of an oversized frame
};

inline frame line_framer::next(std::string_view in, bool eof) noexcept {
    if (discarding_) {
        if (in.empty()) {
            if (eof) discarding_ = false;
            return {};
        }
        auto* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
        if (nl == nullptr) return {frame_kind::skipped, {}, in.size()};
        discarding_ = false;
        return {frame_kind::skipped, {}, static_cast<std::size_t>(nl - in.data()) + 1};
    }
    const char* nl = scanned_ < in.size()
        ? static_cast<const char*>(std::memchr(in.data() + scanned_, '\n', in.size() - scanned_))
        : nullptr;
    if (nl != nullptr) {
        scanned_ = 0;
        auto end = static_cast<std::size_t>(nl - in.data());
        auto line = strip_cr(in.substr(0, end));
        if (line.size() > max_) return {frame_kind::oversized, line.substr(0, max_), end + 1, 0, max_, true, "line", skip_rule};
        return {frame_kind::complete, line, end + 1, 0, 0, true, "line"};
    }
    scanned_ = in.size();
    // One byte of slack: a '\r' at the end may still turn out to be half of a CRLF.
    if (in.size() > max_ + 1) {
        scanned_ = 0;
        discarding_ = true;
        return {frame_kind::oversized, in.substr(0, max_), in.size(), 0, max_, true, "line", skip_rule};
    }
    if (eof && !in.empty()) {
        scanned_ = 0;
        // The slack byte was only for a CR that an LF might follow: none will now.
        if (in.size() > max_) return {frame_kind::oversized, in.substr(0, max_), in.size(), 0, max_, true, "line", skip_rule};
        return {frame_kind::partial, in, in.size(), 0, 0, true, "line"};
    }
    return {};
}

static_assert(framer<line_framer>);

} // namespace socketcap

#endif
