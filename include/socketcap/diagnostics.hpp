// SPDX-License-Identifier: MIT OR Apache-2.0
// The library's one failure shape: an error_code for programs, plus `diagnostics` for people.
// The code says what kind of failure it was (compare it, switch on it); the diagnostics say
// it in a sentence that names what was wrong ("cannot resolve host \"feed.example\": Host not
// found"), for logs and for users. Operations that can fail that way take a `diagnostics&`,
// as Boost.MySQL's do, and leave it empty on success.
#ifndef SOCKETCAP_DIAGNOSTICS_HPP
#define SOCKETCAP_DIAGNOSTICS_HPP

#include <string>
#include <string_view>
#include <utility>

namespace socketcap {

class diagnostics {
public:
    diagnostics() = default;
    explicit diagnostics(std::string message) : message_(std::move(message)) {}

    /// The sentence, or empty when there is nothing to add to the error code's own message.
    const std::string& message() const noexcept { return message_; }
    void assign(std::string message) { message_ = std::move(message); }
    void clear() noexcept { message_.clear(); }
    bool empty() const noexcept { return message_.empty(); }

private:
    std::string message_;
};

} // namespace socketcap

#endif
