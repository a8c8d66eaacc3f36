// SPDX-License-Identifier: MIT OR Apache-2.0
// Hand-written because it is the hottest loop of every codec. Runs that need no escaping are
// found 16 bytes at a time (SSE2, part of every x86-64) or 8 (SWAR elsewhere) and appended in
// one copy. Non-ASCII bytes are special only until the rest of the string has been checked by
// the SIMD UTF-8 validator: well-formed text (nearly all of it) is then copied as it is, and
// only ill-formed text walks sequence by sequence to place its U+FFFD.
#include <socketcap/json_writer.hpp>
#include <socketcap/utf8.hpp>

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace socketcap::json {
namespace {

// Bytes examined per step of the scan.
#if defined(__SSE2__)
constexpr std::size_t block = 16;

// Bit i set when p[i] needs escaping: '"', '\\', a control character (< 0x20), and, when
// `with_high`, any byte >= 0x80.
template <bool with_high>
inline unsigned special_bits(const char* p) noexcept {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    if constexpr (with_high) {
        // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too.
        m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    } else {
        // Unsigned "<= 0x1F": saturating subtraction leaves zero.
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_subs_epu8(v, _mm_set1_epi8(0x1F)), _mm_setzero_si128()));
    }
    return static_cast<unsigned>(_mm_movemask_epi8(m));
}
#else
constexpr std::size_t block = 8;
constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// The high bit of byte i set when p[i] is special (see above). Borrows may also mark bytes
// after the first special one, never before it, so only the lowest mark is meaningful.
template <bool with_high>
inline std::uint64_t special_bits(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w); // p[0] lowest
    std::uint64_t ctl = (w - ones * 0x20) & ~w;          // bytes < 0x20
    std::uint64_t q = w ^ (ones * '"');
    q = (q - ones) & ~q;                                  // bytes == '"'
    std::uint64_t bs = w ^ (ones * '\\');
    bs = (bs - ones) & ~bs;                               // bytes == '\\'
    std::uint64_t m = ctl | q | bs;
    if constexpr (with_high) m |= w;                      // bytes >= 0x80
    return m & highs;
}
#endif

// Index within the block of its first special byte, or `block`.
template <bool with_high>
inline std::size_t first_special(const char* p) noexcept {
    auto bits = special_bits<with_high>(p);
    if (bits == 0) return block;
#if defined(__SSE2__)
    return static_cast<std::size_t>(std::countr_zero(bits));
#else
    return static_cast<std::size_t>(std::countr_zero(bits)) / 8;
#endif
}

template <bool with_high>
inline bool is_special(unsigned char c) noexcept {
    return c < 0x20 || c == '"' || c == '\\' || (with_high && c >= 0x80);
}

// The end of the run starting at `p` that needs no escaping (at most `end`).
template <bool with_high>
inline const char* skip_plain(const char* p, const char* end) noexcept {
    while (static_cast<std::size_t>(end - p) >= block) {
        std::size_t k = first_special<with_high>(p);
        p += k;
        if (k != block) return p;
    }
    while (p < end && !is_special<with_high>(static_cast<unsigned char>(*p))) ++p;
    return p;
}

void write_ascii_special(output_buffer& out, unsigned char c) {
    static constexpr char hex[] = "0123456789abcdef";
    switch (c) {
    case '"': append(out, "\\\""); return;
    case '\\': append(out, "\\\\"); return;
    case '\n': append(out, "\\n"); return;
    case '\r': append(out, "\\r"); return;
    case '\t': append(out, "\\t"); return;
    case '\b': append(out, "\\b"); return;
    case '\f': append(out, "\\f"); return;
    default: {
        const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        append(out, {u, 6});
    }
    }
}

// Escapes [p, end), known to be well-formed UTF-8: only ASCII specials need work.
void write_escaped_valid(output_buffer& out, const char* p, const char* const end) {
    while (p < end) {
        const char* run = p;
        p = skip_plain<false>(p, end);
        if (p != run) append(out, {run, static_cast<std::size_t>(p - run)});
        if (p == end) break;
        write_ascii_special(out, static_cast<unsigned char>(*p++));
    }
}

} // namespace

void write_escaped(output_buffer& out, std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    bool checked = false; // the rest of `s` was validated and is ill-formed
    while (p < end) {
        const char* run = p;
        p = skip_plain<true>(p, end);
        if (p != run) append(out, {run, static_cast<std::size_t>(p - run)});
        if (p == end) break;
        auto c = static_cast<unsigned char>(*p);
        if (c < 0x80) {
            write_ascii_special(out, c);
            ++p;
            continue;
        }
        // `p` is at a character boundary: everything before it was consumed whole.
        std::string_view rest{p, static_cast<std::size_t>(end - p)};
        if (!checked) {
            if (utf8::is_valid(rest)) return write_escaped_valid(out, p, end);
            checked = true;
        }
        std::size_t bad = 0;
        std::size_t n = utf8::sequence_length(rest, &bad);
        if (n != 0) {
            append(out, {p, n});
            p += n;
        } else {
            append(out, "\xEF\xBF\xBD"); // U+FFFD REPLACEMENT CHARACTER
            p += bad;
        }
    }
}

void write_string(output_buffer& out, std::string_view s) {
    out.push_back('"');
    write_escaped(out, s);
    out.push_back('"');
}

// format_int: once per document (the sequence), and the general formatter showed in profiles.
void write_uint(output_buffer& out, std::uint64_t v) {
    fmt::format_int f(v);
    append(out, {f.data(), f.size()});
}
void write_int(output_buffer& out, std::int64_t v) {
    fmt::format_int f(v);
    append(out, {f.data(), f.size()});
}

} // namespace socketcap::json
