// SPDX-License-Identifier: MIT OR Apache-2.0
#include "log.hpp"

#include <socketcap/document.hpp>
#include <socketcap/json_writer.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <poll.h>
#include <unistd.h>

namespace source_socket {

namespace {
log_level threshold = log_level::info;

constexpr std::string_view names[] = {"trace", "debug", "info", "warn", "error"};

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) { // stderr shares a non-blocking description with stdout (2>&1)
                pollfd p{fd, POLLOUT, 0};
                ::poll(&p, 1, 1000);
                continue;
            }
            return;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}
} // namespace

void init_logging() {
    const char* env = std::getenv("LOG_LEVEL");
    if (env == nullptr) return;
    std::string v(env);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (v == "warning") v = "warn";
    for (std::size_t i = 0; i < std::size(names); ++i)
        if (v == names[i]) threshold = static_cast<log_level>(i);
}

bool log_enabled(log_level level) noexcept { return level >= threshold; }

void log(log_level level, std::string_view msg, std::initializer_list<log_field> fields) {
    log(level, msg, std::span<const log_field>(fields.begin(), fields.size()));
}

void log(log_level level, std::string_view msg, std::span<const log_field> fields) {
    if (!log_enabled(level)) return;
    using namespace socketcap;
    output_buffer out;
    append(out, R"({"ts":")");
    write_timestamp(out, std::chrono::system_clock::now());
    append(out, R"(","level":")");
    append(out, names[static_cast<int>(level)]);
    append(out, R"(","msg":)");
    json::write_string(out, msg);
    for (const auto& f : fields) {
        out.push_back(',');
        json::write_string(out, f.key);
        out.push_back(':');
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::string_view>) json::write_string(out, v);
                else if constexpr (std::is_same_v<T, bool>) append(out, v ? "true" : "false");
                else if constexpr (std::is_same_v<T, double>) fmt::format_to(fmt::appender(out), "{:.3f}", v);
                else if constexpr (std::is_same_v<T, std::int64_t>) json::write_int(out, v);
                else json::write_uint(out, v);
            },
            f.value);
    }
    append(out, "}\n");
    write_all(STDERR_FILENO, view(out));
}

} // namespace source_socket
