// SPDX-License-Identifier: MIT OR Apache-2.0
// Hand-written because it is the hottest loop of every codec: runs of plain ASCII are found
// eight bytes at a time and appended in one copy; only specials take the slow path.
#include <socketcap/json_writer.hpp>
#include <socketcap/utf8.hpp>

#include <bit>
#include <cstring>

namespace socketcap::json {
namespace {

constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// Index of the first byte of `p[0..8)` that needs escaping or UTF-8 checking, or 8.
inline unsigned first_special(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    std::uint64_t ctl = (w - ones * 0x20) & ~w;          // bytes < 0x20
    std::uint64_t q = w ^ (ones * '"');
    q = (q - ones) & ~q;                                  // bytes == '"'
    std::uint64_t bs = w ^ (ones * '\\');
    bs = (bs - ones) & ~bs;                               // bytes == '\\'
    std::uint64_t m = (ctl | q | bs | w) & highs;         // w: bytes >= 0x80
    // Borrows may mark bytes after the first special one, never before it.
    return m == 0 ? 8 : static_cast<unsigned>(std::countr_zero(m)) / 8;
}

inline bool is_special(unsigned char c) noexcept { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

void write_control(output_buffer& out, unsigned char c) {
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
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        out.append(u, u + 6);
    }
    }
}

} // namespace

void write_escaped(output_buffer& out, std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    while (p < end) {
        const char* run = p;
        while (end - p >= 8) {
            unsigned k = first_special(p);
            p += k;
            if (k != 8) goto special;
        }
        while (p < end && !is_special(static_cast<unsigned char>(*p))) ++p;
    special:
        if (p != run) out.append(run, p);
        if (p == end) break;
        auto c = static_cast<unsigned char>(*p);
        if (c < 0x80) {
            write_control(out, c);
            ++p;
            continue;
        }
        std::size_t bad = 0;
        std::size_t n = utf8::sequence_length({p, static_cast<std::size_t>(end - p)}, &bad);
        if (n != 0) {
            out.append(p, p + n);
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
void write_uint(output_buffer& out, std::uint64_t v) { append(out, fmt::format_int(v).c_str()); }
void write_int(output_buffer& out, std::int64_t v) { append(out, fmt::format_int(v).c_str()); }

} // namespace socketcap::json
