// SPDX-License-Identifier: MIT OR Apache-2.0
// A framing chosen at run time (from configuration): which framer and its settings.
// any_framer.hpp makes the framer; the names are the connector's `framing.type` values.
#ifndef SOCKETCAP_FRAMING_HPP
#define SOCKETCAP_FRAMING_HPP

#include <socketcap/length_prefix_framer.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace socketcap {

enum class framing_kind : std::uint8_t {
    lines,           ///< line_framer: LF, one CR before it stripped
    delimiter,       ///< delimiter_framer: any byte string of 1 to 16 bytes
    length_prefixed, ///< length_prefix_framer: a binary length before each frame
    octet_counting,  ///< octet_counting_framer: syslog's RFC 6587 `LEN SP MSG`, else LF
    mllp,            ///< mllp_framer: HL7's 0x0B … 0x1C 0x0D
    chunks,          ///< chunk_framer: each read
};

/// The framings' names, in framing_kind order.
inline constexpr std::array<std::string_view, 6> framing_names{"lines",          "delimiter", "length_prefixed",
                                                               "octet_counting", "mllp",      "chunks"};

constexpr std::string_view to_string(framing_kind k) noexcept {
    return framing_names[static_cast<std::size_t>(k)];
}

struct framing_options {
    framing_kind kind = framing_kind::lines;
    std::string delimiter = "\n";   ///< delimiter: 1 to delimiter_framer::max_delimiter_bytes bytes
    bool keep_delimiter = false;    ///< delimiter: the frame ends with it
    length_prefix_options length{}; ///< length_prefixed
    /// chunks: keep UTF-8 characters whole across reads (text codecs); false for binary ones.
    bool whole_characters = true;
};

} // namespace socketcap

#endif
