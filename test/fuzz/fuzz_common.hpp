// SPDX-License-Identifier: MIT OR Apache-2.0
// Shared helpers of the fuzz targets: carving parameters off the input, invariant checks that
// abort (so libFuzzer and the replay main both report them), and reference implementations
// that are deliberately written differently from the library's.
#ifndef SOCKETCAP_TEST_FUZZ_FUZZ_COMMON_HPP
#define SOCKETCAP_TEST_FUZZ_FUZZ_COMMON_HPP

#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// An invariant violation: print where and what, then abort (libFuzzer saves the input).
#define FUZZ_CHECK(cond)                                                                        \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
            std::abort();                                                                       \
        }                                                                                       \
    } while (false)

namespace socketcap::fuzz {

/// Takes parameters off the front of the fuzzer's input (as simdjson's FuzzData does); the
/// rest is the payload. Running out of bytes yields zeros, never an error.
class fuzz_data {
public:
    fuzz_data(const std::uint8_t* data, std::size_t size) noexcept
        : rest_(reinterpret_cast<const char*>(data), size) {}

    std::uint8_t byte() noexcept {
        if (rest_.empty()) return 0;
        auto b = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
    std::string_view rest() const noexcept { return rest_; }

private:
    std::string_view rest_;
};

/// How a stream is cut into reads: up to 7 read sizes (1-256 bytes) taken off the input and
/// used in turn; none means one read with everything.
class split_plan {
public:
    explicit split_plan(fuzz_data& d) {
        for (std::size_t n = d.byte() % 8; n != 0; --n) sizes_.push_back(std::size_t{d.byte()} + 1);
    }
    std::size_t next() noexcept {
        if (sizes_.empty()) return static_cast<std::size_t>(-1);
        return sizes_[i_++ % sizes_.size()];
    }

private:
    std::vector<std::size_t> sizes_;
    std::size_t i_ = 0;
};

/// UTF-8 encoding of a code point by the textbook bit layout.
inline std::string encode_utf8(std::uint32_t cp) {
    if (cp < 0x80) return std::string(1, char(cp));
    if (cp < 0x800) return {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
    if (cp < 0x10000)
        return {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
    return {char(0xF0 | (cp >> 18)), char(0x80 | ((cp >> 12) & 0x3F)), char(0x80 | ((cp >> 6) & 0x3F)),
            char(0x80 | (cp & 0x3F))};
}

/// Every proper prefix of the encoding of every Unicode scalar value (about 20 000 strings).
inline const std::set<std::string>& proper_prefixes() {
    static const std::set<std::string> prefixes = [] {
        std::set<std::string> p;
        // Aligned blocks of 64 code points differ only in their last byte: one per block.
        for (std::uint32_t cp = 0x80; cp <= 0x10FFFF; cp += 0x40) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            std::string e = encode_utf8(cp);
            for (std::size_t k = 1; k < e.size(); ++k) p.insert(e.substr(0, k));
        }
        return p;
    }();
    return prefixes;
}

/// The input with every ill-formed UTF-8 sequence replaced by U+FFFD, one per maximal subpart
/// (Unicode §3.9). Works from the encodings of all scalar values (a sequence is well-formed
/// when it is the encoding of what it decodes to) and from the set of their proper prefixes,
/// so it shares no logic with socketcap::utf8's table 3-7.
inline std::string replace_invalid_utf8(std::string_view s) {
    const auto& prefixes = proper_prefixes();
    auto well_formed = [](std::string_view c) {
        auto b = [&](std::size_t k) { return std::uint32_t(static_cast<unsigned char>(c[k])); };
        std::uint32_t cp = 0;
        if (c.size() == 2) cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        else if (c.size() == 3) cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        else if (c.size() == 4)
            cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
        else return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        return encode_utf8(cp) == c;
    };
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            out += s[i++];
            continue;
        }
        std::size_t full = 0, prefix = 0;
        for (std::size_t k = 1; k <= 4 && i + k <= s.size(); ++k) {
            if (well_formed(s.substr(i, k))) full = k;
            if (prefixes.count(std::string(s.substr(i, k)))) prefix = k;
        }
        if (full != 0) {
            out.append(s.substr(i, full));
            i += full;
        } else {
            out += "\xEF\xBF\xBD";
            i += prefix == 0 ? 1 : prefix;
        }
    }
    return out;
}

/// Length of the longest suffix of `s` (at most 3 bytes) that is a proper prefix of a
/// well-formed sequence: what a reader must carry over so as not to break a character.
inline std::size_t incomplete_tail_reference(std::string_view s) {
    std::size_t best = 0;
    for (std::size_t k = 1; k <= 3 && k <= s.size(); ++k)
        if (proper_prefixes().count(std::string(s.substr(s.size() - k)))) best = k;
    return best;
}

/// True when `json` contains a \uD800-\uDFFF escape that is not half of a high-low pair.
inline bool has_lone_surrogate_escape(std::string_view json) noexcept {
    auto hex4 = [&](std::size_t at, unsigned& v) {
        if (at + 4 > json.size()) return false;
        v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            char c = json[at + k];
            unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0')
                       : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10)
                       : c >= 'A' && c <= 'F' ? unsigned(c - 'A' + 10) : 16;
            if (d == 16) return false;
            v = v * 16 + d;
        }
        return true;
    };
    // Backslashes occur only inside strings, so a linear scan that skips escapes is exact.
    for (std::size_t i = 0; i + 1 < json.size(); ++i) {
        if (json[i] != '\\') continue;
        if (json[i + 1] != 'u') { ++i; continue; }
        unsigned v = 0;
        if (!hex4(i + 2, v)) return true; // not even a valid escape
        i += 5;
        if (v >= 0xDC00 && v <= 0xDFFF) return true; // low half first
        if (v >= 0xD800 && v <= 0xDBFF) {
            unsigned lo = 0;
            if (i + 2 >= json.size() || json[i + 1] != '\\' || json[i + 2] != 'u' || !hex4(i + 3, lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return true;
            i += 6;
        }
    }
    return false;
}

/// The strict parser every emitted document must satisfy (DOM validates everything).
inline bool parses_strictly(simdjson::dom::parser& parser, std::string_view json,
                            simdjson::dom::element* root = nullptr) {
    simdjson::dom::element el;
    // libFuzzer's buffers carry no padding: let simdjson copy into a padded one.
    if (parser.parse(json.data(), json.size(), true).get(el)) return false;
    if (root) *root = el;
    return true;
}

/// Checks one emitted document line (without its trailing newline): strict JSON, valid UTF-8,
/// no lone surrogate escape, and an object. Returns the parsed root.
inline simdjson::dom::element check_document(simdjson::dom::parser& parser, std::string_view doc) {
    simdjson::dom::element root;
    if (!parses_strictly(parser, doc, &root)) {
        std::fprintf(stderr, "not strict JSON: %.*s\n", int(std::min<std::size_t>(doc.size(), 2000)), doc.data());
        FUZZ_CHECK(false);
    }
    FUZZ_CHECK(simdjson::validate_utf8(doc.data(), doc.size()));
    FUZZ_CHECK(!has_lone_surrogate_escape(doc));
    FUZZ_CHECK(root.is_object());
    return root;
}

} // namespace socketcap::fuzz

#endif
