// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector's endpoint and resource configuration (docs/connector.md is the reference).
// Parsing is sans-I/O and never throws (std::bad_alloc aside): every problem comes back as one
// message that names the field, e.g. "port: must be an integer from 1 to 65535, got 70000".
#ifndef SOCKETCAP_FLOW_CONFIG_HPP
#define SOCKETCAP_FLOW_CONFIG_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <socketcap/tls/options.hpp>

namespace socketcap::flow {

/// A value or the message that says why there is none.
template <class T>
struct parsed {
    T value{};
    std::string error; ///< empty on success
    explicit operator bool() const noexcept { return error.empty(); }
};

enum class codec_kind : std::uint8_t { plain, line, json };

/// "plain", "line" or "json".
std::string_view to_string(codec_kind c) noexcept;

/// The `tls` block: the TLS library's options (one definition of each field) plus the switch.
/// The library's options are its base, so `config.tls` passes where they are expected.
struct tls_config : socketcap::tls::client_options {
    bool enabled = false;
};

/// The message for tls.enabled in a build without TLS; the validate check and the capture
/// both report it.
inline constexpr std::string_view no_tls_support_message =
    "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)";

/// Ranges enforced by parse_endpoint_config (the spec's configSchema says the same).
namespace limits {
inline constexpr std::int64_t min_buffer_size = 1024;
inline constexpr std::int64_t max_buffer_size = 16 * 1024 * 1024;
inline constexpr std::int64_t min_frame_bytes = 1024;
inline constexpr std::int64_t max_frame_bytes = 64 * 1024 * 1024; // Flow's largest document
inline constexpr double max_reconnect_delay = 86400;
inline constexpr double max_connection_timeout = 3600;
inline constexpr double max_idle_timeout = 86400;
inline constexpr std::int64_t max_reconnect_attempts = 2147483647;
} // namespace limits

struct endpoint_config {
    std::string host;
    std::uint16_t port = 0;
    tls_config tls;
    codec_kind codec = codec_kind::line;
    std::size_t buffer_size = 65536;
    double reconnect_delay = 5.0;            ///< seconds
    std::int64_t max_reconnect_attempts = -1; ///< consecutive failed connects allowed; -1 = unlimited
    std::optional<double> reconnect_max_delay; ///< seconds; set = exponential backoff up to it; none = fixed delay
    double connection_timeout = 30.0;         ///< seconds, resolve + connect (+ handshake)
    std::optional<double> idle_timeout;       ///< seconds; none = off
    std::size_t max_frame_bytes = std::size_t{1} << 20;

    std::chrono::steady_clock::duration reconnect_delay_duration() const noexcept;
    /// Zero when reconnect_max_delay is off.
    std::chrono::steady_clock::duration reconnect_max_delay_duration() const noexcept;
    std::chrono::steady_clock::duration connection_timeout_duration() const noexcept;
    /// Zero when idle_timeout is off.
    std::chrono::steady_clock::duration idle_timeout_duration() const noexcept;
};

struct resource_config {
    std::string stream;
};

/// Parses and validates the endpoint configuration (a JSON object). Unknown fields are
/// ignored (sops and newer UIs add some); null means "the default" for optional fields.
parsed<endpoint_config> parse_endpoint_config(std::string_view json);

/// Parses a binding's resource configuration: {"stream": non-empty string}.
parsed<resource_config> parse_resource_config(std::string_view json);

/// The checks that touch the file system: a tls.* value that is a path must name a readable
/// file. Empty when all is well. (TLS itself checks that the PEM parses and the key matches.)
std::string check_tls_files(const socketcap::tls::client_options& tls);

} // namespace socketcap::flow

#endif
