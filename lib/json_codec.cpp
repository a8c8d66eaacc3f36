// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/json_codec.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/receive_buffer.hpp>
#include <socketcap/text_codec.hpp>
#include <socketcap/utf8.hpp>

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <vector>

namespace socketcap {

static_assert(receive_buffer::padding >= simdjson::SIMDJSON_PADDING,
              "frames from a receive_buffer must be parseable in place");

struct json_codec::impl {
    simdjson::dom::parser parser;
};

json_codec::json_codec() : json_codec(options{}) {}

json_codec::json_codec(options opts) : impl_(std::make_unique<impl>()), opts_(opts) {
    // Only fails for lack of memory; parse() reports that again as MEMALLOC.
    if (auto err = impl_->parser.allocate(4096, opts_.max_depth)) (void)err;
}

json_codec::json_codec(json_codec&&) noexcept = default;
json_codec& json_codec::operator=(json_codec&&) noexcept = default;
json_codec::~json_codec() = default;

namespace {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
    return s;
}

// Byte offset of the first ill-formed UTF-8 sequence, or npos.
std::size_t first_invalid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        std::size_t n = utf8::sequence_length(s.substr(i));
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

// The valid object verbatim, except that a line break between its tokens (a framer other
// than line_framer may deliver one) becomes a space: a document is one line of NDJSON. A valid
// document has no raw line break inside a string, so every one is whitespace.
void write_data(output_buffer& out, std::string_view doc, bool no_newline) {
    append(out, R"("data":)");
    std::size_t at = out.size();
    json::write_raw(out, doc);
    if (no_newline) return;
    char* end = out.data() + out.size();
    for (char* p = out.data() + at; p != end; ++p) {
        p = static_cast<char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (p == nullptr) break;
        *p = ' ';
    }
}

void write_error_body(output_buffer& out, std::string_view message, std::string_view raw) {
    append(out, R"("data":{"_error":true,"_error_message":)");
    json::write_string(out, message);
    append(out, R"(,"_raw":)");
    json::write_string(out, raw);
    out.push_back('}');
}

// Where a line first breaks the JSON grammar (RFC 8259). simdjson reports only an error
// class, so this cold-path scanner, run only for rejected lines, finds the byte offset. It
// checks syntax, escapes, surrogate pairs and nesting depth; number ranges and UTF-8 are
// left to the caller. Iterative, with a stack bounded by max_depth; never throws (bad_alloc aside).
struct syntax_error {
    std::size_t at = std::string_view::npos; // npos: no syntax error found
    std::string what;
};

class syntax_scanner {
public:
    syntax_scanner(std::string_view s, std::size_t max_depth) noexcept : s_(s), max_depth_(max_depth) {}

    syntax_error run() {
        const char* expect_value = "expected a JSON value";
        for (;;) {
            // A value is expected at i_.
            skip_ws();
            if (!value(expect_value)) return std::move(error_);
            // After a value: close containers, or find where the next value starts.
            for (;;) {
                skip_ws();
                if (stack_.empty()) {
                    if (i_ < s_.size()) fail(i_, "unexpected content after the JSON value");
                    return std::move(error_);
                }
                bool in_object = stack_.back() == '{';
                char close = in_object ? '}' : ']';
                if (peek() == close) {
                    stack_.pop_back();
                    ++i_;
                    continue;
                }
                if (peek() != ',') {
                    fail(i_, in_object ? "expected ',' or '}' after an object member"
                                       : "expected ',' or ']' after an array element");
                    return std::move(error_);
                }
                ++i_;
                if (in_object) {
                    skip_ws();
                    if (!key("expected a string key after ','")) return std::move(error_);
                    expect_value = "expected a value after ':'";
                } else {
                    expect_value = "expected a value after ','";
                }
                break;
            }
        }
    }

private:
    char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip_ws() noexcept {
        while (i_ < s_.size() && is_ws(s_[i_])) ++i_;
    }
    void fail(std::size_t at, std::string what) {
        error_.at = at;
        error_.what = std::move(what);
    }

    // Parses one value, or opens a container (leaving i_ where its first value starts).
    bool value(const char* expected) {
        for (;;) {
            std::size_t start = i_;
            char c = peek();
            if (c == '{' || c == '[') {
                if (stack_.size() >= max_depth_) {
                    fail(start, fmt::format("nesting deeper than {} levels", max_depth_));
                    return false;
                }
                stack_.push_back(c);
                ++i_;
                skip_ws();
                if (c == '{') {
                    if (peek() == '}') { stack_.pop_back(); ++i_; return true; }
                    if (!key("expected a string key or '}'")) return false;
                    expected = "expected a value after ':'";
                } else {
                    if (peek() == ']') { stack_.pop_back(); ++i_; return true; }
                    expected = "expected a value or ']'";
                }
                skip_ws();
                continue;
            }
            if (c == '"') return string();
            if (c == '-' || (c >= '0' && c <= '9')) return number();
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return literal();
            if (s_.substr(i_, 3) == "\xEF\xBB\xBF") {
                fail(start, "byte order mark not at the start of the stream");
                return false;
            }
            fail(start, expected);
            return false;
        }
    }

    bool key(const char* expected) {
        if (peek() != '"') {
            fail(i_, expected);
            return false;
        }
        if (!string()) return false;
        skip_ws();
        if (peek() != ':') {
            fail(i_, "expected ':' after an object key");
            return false;
        }
        ++i_;
        return true;
    }

    bool literal() {
        std::size_t start = i_;
        while (i_ < s_.size() && ((s_[i_] >= 'a' && s_[i_] <= 'z') || (s_[i_] >= 'A' && s_[i_] <= 'Z') ||
                                  (s_[i_] >= '0' && s_[i_] <= '9')))
            ++i_;
        auto word = s_.substr(start, i_ - start);
        if (word == "true" || word == "false" || word == "null") return true;
        fail(start, "invalid literal (expected true, false or null)");
        return false;
    }

    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    bool number() {
        std::size_t start = i_;
        auto bad = [&] {
            fail(start, "invalid number");
            return false;
        };
        if (peek() == '-') ++i_;
        if (peek() == '0') {
            ++i_;
        } else if (digit(peek())) {
            while (digit(peek())) ++i_;
        } else {
            return bad();
        }
        if (peek() == '.') {
            ++i_;
            if (!digit(peek())) return bad();
            while (digit(peek())) ++i_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            if (peek() == '+' || peek() == '-') ++i_;
            if (!digit(peek())) return bad();
            while (digit(peek())) ++i_;
        }
        if (digit(peek()) || peek() == '.' || (peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z'))
            return bad(); // "01", "1.2.3", "1x"
        return true;
    }

    // \uXXXX at i_ (the backslash); returns the code unit or -1.
    long hex4(std::size_t at) const noexcept {
        if (at + 6 > s_.size() || s_[at] != '\\' || s_[at + 1] != 'u') return -1;
        long v = 0;
        for (std::size_t k = at + 2; k < at + 6; ++k) {
            char c = s_[k];
            int d = digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        return v;
    }

    bool string() {
        std::size_t start = i_++;
        while (i_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) {
                fail(i_, "unescaped control character in a string");
                return false;
            }
            if (c != '\\') {
                ++i_;
                continue;
            }
            char e = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
            if (e == 'u') {
                long u = hex4(i_);
                if (u < 0) {
                    fail(i_, "invalid \\u escape (expected 4 hex digits)");
                    return false;
                }
                if (u >= 0xD800 && u <= 0xDBFF) {
                    long low = hex4(i_ + 6);
                    if (low < 0xDC00 || low > 0xDFFF) {
                        fail(i_, "lone surrogate in a \\u escape");
                        return false;
                    }
                    i_ += 12;
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    fail(i_, "lone surrogate in a \\u escape");
                    return false;
                } else {
                    i_ += 6;
                }
                continue;
            }
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                i_ += 2;
                continue;
            }
            fail(i_, "invalid escape in a string");
            return false;
        }
        fail(start, "unterminated string");
        return false;
    }

    std::string_view s_;
    std::size_t max_depth_;
    std::size_t i_ = 0;
    std::vector<char> stack_;
    syntax_error error_;
};

// Decimal exponent of a number token's first significant digit ("123" 2, "0.05" -2, "1e9" 9);
// only meaningful for a token that is not zero.
long magnitude(std::string_view tok) noexcept {
    if (!tok.empty() && tok.front() == '-') tok.remove_prefix(1);
    auto e = tok.find_first_of("eE");
    long exp = 0;
    if (e != std::string_view::npos) {
        auto x = tok.substr(e + 1);
        bool neg = !x.empty() && x.front() == '-';
        if (!x.empty() && (x.front() == '-' || x.front() == '+')) x.remove_prefix(1);
        for (char c : x) exp = std::min(exp * 10 + (c - '0'), 1L << 40); // saturates far past any double
        if (neg) exp = -exp;
        tok = tok.substr(0, e);
    }
    auto dot = tok.find('.');
    auto int_part = tok.substr(0, dot);
    auto nz = int_part.find_first_not_of('0');
    if (nz != std::string_view::npos) return exp + static_cast<long>(int_part.size() - nz) - 1;
    auto frac = dot == std::string_view::npos ? std::string_view{} : tok.substr(dot + 1);
    nz = frac.find_first_not_of('0');
    return exp - static_cast<long>(nz == std::string_view::npos ? 0 : nz) - 1;
}

// Offset of the first number whose magnitude overflows a double, or npos. Flow's runtime
// rejects those; integers beyond 64 bits it reads as doubles (docs/connector.md, "What Flow
// accepts").
std::size_t first_out_of_range_number(std::string_view s) noexcept {
    bool in_string = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') { in_string = true; continue; }
        if (c != '-' && (c < '0' || c > '9')) continue;
        std::size_t j = i;
        while (j < s.size() && (s[j] == '-' || s[j] == '+' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
                                (s[j] >= '0' && s[j] <= '9')))
            ++j;
        auto tok = s.substr(i, j - i);
        double d = 0;
        auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), d);
        (void)p;
        // Underflow rounds to zero, in simdjson and in Flow; only overflow is an error.
        if (ec == std::errc::result_out_of_range && magnitude(tok) > 0) return i;
        i = j - 1;
    }
    return std::string_view::npos;
}

std::string describe(simdjson::error_code err, std::string_view line, std::size_t max_depth) {
    using namespace simdjson;
    switch (err) {
    case CAPACITY: return "invalid JSON: line too large for the parser";
    case MEMALLOC: return "invalid JSON: parser out of memory";
    case UTF8_ERROR:
        // simdjson checks the encoding of the whole line before its grammar.
        if (auto at = first_invalid_utf8(line); at != std::string_view::npos)
            return fmt::format("invalid JSON: invalid UTF-8 at byte {}", at);
        return "invalid JSON: invalid UTF-8";
    default: break;
    }
    auto syntax = syntax_scanner(line, max_depth).run();
    if (syntax.at != std::string_view::npos) return fmt::format("invalid JSON: {} at byte {}", syntax.what, syntax.at);
    if (err == NUMBER_ERROR) {
        if (auto at = first_out_of_range_number(line); at != std::string_view::npos)
            return fmt::format("invalid JSON: number out of range at byte {}", at);
        return "invalid JSON: invalid or out-of-range number";
    }
    // The scanner found nothing simdjson objects to: report simdjson's own words.
    return fmt::format("invalid JSON: {}", error_message(err));
}

// The slow path for what simdjson declines but Flow's runtime accepts: integers outside
// [-2^63, 2^64) (NUMBER_ERROR; Flow falls back to serde_json, which reads them as doubles),
// and exactly max_depth levels whose innermost container is not empty (DEPTH_ERROR: simdjson
// counts such a line one level deeper). The line is accepted when it has no other fault: its
// UTF-8 was already validated (simdjson checks that first), the scanner finds no syntax or
// depth error and no number overflows a double. `root` names a root that is not an object.
struct fallback_verdict {
    bool valid = false;
    const char* root = nullptr; // "an array", ... when valid but not an object
};

fallback_verdict check_slowly(std::string_view doc, std::size_t max_depth) {
    if (syntax_scanner(doc, max_depth).run().at != std::string_view::npos) return {};
    if (first_out_of_range_number(doc) != std::string_view::npos) return {};
    switch (doc.front()) {
    case '{': return {true, nullptr};
    case '[': return {true, "an array"};
    case '"': return {true, "a string"};
    case 't': case 'f': return {true, "a boolean"};
    case 'n': return {true, "null"};
    default: return {true, "a number"};
    }
}

const char* type_name(simdjson::dom::element_type t) noexcept {
    using simdjson::dom::element_type;
    switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64: case element_type::UINT64: case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    }
    return "a value";
}

} // namespace

encode_result json_codec::encode(const frame& f, output_buffer& out) {
    std::string_view line = f.payload;
    if (at_stream_start_) {
        at_stream_start_ = false;
        if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    }
    if (f.kind == frame_kind::oversized || f.kind == frame_kind::invalid) {
        // An invalid frame's bytes are the framer's business: they are kept as they came.
        std::string_view head = f.kind == frame_kind::invalid ? f.payload : line;
        detail::write_framing_error_body(out, f, head.substr(0, opts_.error_raw_bytes), detail::error_raw::text);
        return encode_result::error_document;
    }
    std::string_view doc = trim(line);
    if (doc.empty()) return encode_result::skipped;

    // In place when the bytes after the line are readable padding; a copy otherwise.
    std::size_t tail = static_cast<std::size_t>(f.payload.data() + f.payload.size() - (doc.data() + doc.size()));
    bool in_place = tail + f.padding >= simdjson::SIMDJSON_PADDING;
    simdjson::dom::element root;
    auto err = impl_->parser.parse(doc.data(), doc.size(), !in_place).get(root);
    if (err == simdjson::NUMBER_ERROR || err == simdjson::DEPTH_ERROR) {
        if (auto v = check_slowly(doc, opts_.max_depth); v.valid) {
            if (v.root) {
                write_error_body(out, fmt::format("expected a JSON object, got {}", v.root), line);
                return encode_result::error_document;
            }
            write_data(out, doc, f.no_newline);
            return encode_result::document;
        }
    }
    if (err) {
        // Offsets count from the start of `_raw` (the line, a stream-start BOM removed).
        auto message = describe(err, line, opts_.max_depth);
        if (f.kind == frame_kind::partial)
            message += f.unit == "line" ? " (the stream ended before the line's newline)"
                                        : fmt::format(" (the stream ended before the {}'s end)", f.unit);
        write_error_body(out, message, line);
        return encode_result::error_document;
    }
    if (!root.is_object()) {
        write_error_body(out, fmt::format("expected a JSON object, got {}", type_name(root.type())), line);
        return encode_result::error_document;
    }
    write_data(out, doc, f.no_newline);
    return encode_result::document;
}

} // namespace socketcap
