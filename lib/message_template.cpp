// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/message_template.hpp>

#include <fmt/format.h>

#include <optional>

namespace socketcap {

namespace {

std::optional<unsigned> hex_digits(std::string_view s) {
    unsigned v = 0;
    for (char c : s) {
        v <<= 4;
        if (c >= '0' && c <= '9') v |= unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
        else return std::nullopt;
    }
    return v;
}

void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

std::string known_names(std::span<const std::string_view> names) {
    std::string s;
    for (auto n : names) s += fmt::format("{}${{{}}}", s.empty() ? "" : ", ", n);
    return s.empty() ? "none" : s;
}

} // namespace

message_template message_template::parse(std::string_view text, std::span<const std::string_view> names,
                                         error_code& ec, diagnostics& diag) {
    message_template t;
    ec = {};
    auto fail = [&](std::string message) {
        ec = make_error_code(error::invalid_template);
        diag.assign(std::move(message));
        return message_template{};
    };
    std::string literal;
    for (std::size_t i = 0; i < text.size();) {
        char c = text[i];
        if (c == '\\') {
            if (i + 1 == text.size())
                return fail(fmt::format("a lone backslash at byte {} ends the message; write \\\\ for a backslash", i));
            char e = text[i + 1];
            switch (e) {
            case 'r': literal.push_back('\r'); i += 2; continue;
            case 'n': literal.push_back('\n'); i += 2; continue;
            case 't': literal.push_back('\t'); i += 2; continue;
            case '0': literal.push_back('\0'); i += 2; continue;
            case '\\': literal.push_back('\\'); i += 2; continue;
            case 'x': {
                auto v = hex_digits(text.substr(i + 2, 2));
                if (i + 4 > text.size() || !v)
                    return fail(fmt::format("\\x at byte {} must be followed by two hex digits", i));
                literal.push_back(char(*v));
                i += 4;
                continue;
            }
            case 'u': {
                auto v = hex_digits(text.substr(i + 2, 4));
                if (i + 6 > text.size() || !v)
                    return fail(fmt::format("\\u at byte {} must be followed by four hex digits", i));
                if (*v >= 0xD800 && *v <= 0xDFFF)
                    return fail(fmt::format("\\u{:04X} at byte {} is a UTF-16 surrogate, not a character", *v, i));
                append_utf8(literal, *v);
                i += 6;
                continue;
            }
            default:
                return fail(fmt::format("unknown escape \\{} at byte {}; use \\r, \\n, \\t, \\0, \\\\, \\xHH or "
                                        "\\uXXXX",
                                        std::string_view(&text[i + 1], 1), i));
            }
        }
        if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
            literal.push_back('$');
            i += 2;
            continue;
        }
        if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
            auto close = text.find('}', i + 2);
            if (close == std::string_view::npos)
                return fail(fmt::format("${{ at byte {} has no closing }}; write $$ for a literal $", i));
            auto name = text.substr(i + 2, close - i - 2);
            std::size_t index = no_placeholder;
            for (std::size_t k = 0; k < names.size(); ++k)
                if (names[k] == name) index = k;
            if (index == no_placeholder)
                return fail(fmt::format("unknown placeholder ${{{}}} at byte {}; known: {}", name, i,
                                        known_names(names)));
            t.parts_.push_back({std::move(literal), index});
            literal.clear();
            i = close + 1;
            continue;
        }
        literal.push_back(c);
        ++i;
    }
    if (!literal.empty()) t.parts_.push_back({std::move(literal), no_placeholder});
    return t;
}

void message_template::render(std::span<const std::string_view> values, std::string& out) const {
    for (const auto& p : parts_) {
        out += p.literal;
        if (p.placeholder != no_placeholder && p.placeholder < values.size()) out += values[p.placeholder];
    }
}

bool message_template::uses(std::size_t index) const noexcept {
    for (const auto& p : parts_)
        if (p.placeholder == index) return true;
    return false;
}

} // namespace socketcap
