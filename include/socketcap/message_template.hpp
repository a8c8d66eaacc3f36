// SPDX-License-Identifier: MIT OR Apache-2.0
// message_template: a message a connection sends (a login, a subscription, a reply), parsed once
// and rendered per use. Text is literal except for
//   ${name}  a placeholder, one of the names the caller allows (session_id, 1, …)
//   $$       a literal $  (a $ before anything else is literal too)
//   \r \n \t \0 \\ \xHH \uXXXX   escapes, so that a message typed into a form (where JSON's
//            own escapes are not available) can still hold control bytes.
// Parsing reports the first problem with where it is; rendering cannot fail. Sans-I/O, never
// throws (std::bad_alloc aside).
#ifndef SOCKETCAP_MESSAGE_TEMPLATE_HPP
#define SOCKETCAP_MESSAGE_TEMPLATE_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/error.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace socketcap {

class message_template {
public:
    static constexpr std::size_t no_placeholder = static_cast<std::size_t>(-1);

    /// The empty message.
    message_template() = default;

    /// Parses `text`; each placeholder must be one of `names`, and renders as the value at the
    /// same index. On failure: ec is error::invalid_template and `diag` says what and at which
    /// byte of `text` ("unknown placeholder ${sesion_id} at byte 5; known: ${session_id}, …").
    static message_template parse(std::string_view text, std::span<const std::string_view> names, error_code& ec,
                                  diagnostics& diag);

    /// Appends the message to `out`, placeholder i replaced by values[i] (values.size() must be
    /// at least the names' count at parse time).
    void render(std::span<const std::string_view> values, std::string& out) const;

    /// True when the message uses the placeholder at `index` (to compute a value only if needed).
    bool uses(std::size_t index) const noexcept;
    bool empty() const noexcept { return parts_.empty(); }

private:
    struct part {
        std::string literal;                   // bytes before the placeholder (escapes applied)
        std::size_t placeholder = no_placeholder; // then this value, if any
    };
    std::vector<part> parts_;
};

} // namespace socketcap

#endif
