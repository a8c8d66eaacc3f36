// SPDX-License-Identifier: MIT OR Apache-2.0
// Structured logs on stderr, one JSON object per line, as the Flow runtime parses them:
// {"ts":"<RFC 3339>","level":"info","msg":"connected","host":"…",…}. LOG_LEVEL filters.
// The runtime shows the `msg` of the last line of a failed run to the user, so a fatal error
// is always logged last.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_LOG_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_LOG_HPP

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <variant>

namespace source_socket {

enum class log_level { trace, debug, info, warn, error };

struct log_field {
    using value_type = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
    std::string_view key;
    value_type value;

    log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
    log_field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    log_field(std::string_view k, double v) : key(k), value(v) {}
    log_field(std::string_view k, bool v) : key(k), value(v) {}
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
    log_field(std::string_view k, I v) : key(k) {
        if constexpr (std::is_signed_v<I>) value = std::int64_t(v);
        else value = std::uint64_t(v);
    }
};

/// Reads LOG_LEVEL (trace|debug|info|warn|error, any case; default info).
void init_logging();
bool log_enabled(log_level level) noexcept;
void log(log_level level, std::string_view msg, std::initializer_list<log_field> fields = {});
void log(log_level level, std::string_view msg, std::span<const log_field> fields);

} // namespace source_socket

#endif
