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
#include <vector>

#include <socketcap/conversation.hpp>
#include <socketcap/flow/fields.hpp>
#include <socketcap/framing.hpp>
#include <socketcap/tls/options.hpp>

namespace socketcap::flow {

/// A value or the message that says why there is none.
template <class T>
struct parsed {
    T value{};
    std::string error; ///< empty on success
    explicit operator bool() const noexcept { return error.empty(); }
};

enum class codec_kind : std::uint8_t { plain, line, json, base64 };

/// "plain", "line", "json" or "base64".
std::string_view to_string(codec_kind c) noexcept;

/// The `tls` block: the TLS library's options (one definition of each field) plus the switch.
/// The library's options are its base, so `config.tls` passes where they are expected.
struct tls_config : socketcap::tls::client_options {
    bool enabled = config_field_named("tls.enabled").flag;
};

/// networkTunnel.sshForwarding: an SSH bastion to reach `host` through (docs/connector.md,
/// "SSH tunnel"). sshEndpoint is split into user, host and port here.
struct ssh_forwarding_config {
    std::string ssh_endpoint; ///< as written: ssh://user@host[:port]
    std::string user;
    std::string host;         ///< the bastion; an IPv6 address without its brackets
    std::uint16_t port = 22;
    std::string private_key;  ///< secret: never in a message or a log
};

/// The message for tls.enabled in a build without TLS; the validate check and the capture
/// both report it.
inline constexpr std::string_view no_tls_support_message =
    "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)";

namespace detail {
template <class T>
consteval T default_of(std::string_view name) {
    return static_cast<T>(config_field_named(name).value);
}
consteval codec_kind codec_named(std::string_view name) {
    for (std::size_t i = 0; i < codec_names.size(); ++i)
        if (codec_names[i] == name) return static_cast<codec_kind>(i);
    throw "no such codec";
}
} // namespace detail

/// Defaults and ranges come from config_fields (fields.hpp).
struct endpoint_config {
    std::string host;
    std::uint16_t port = 0;
    tls_config tls;
    codec_kind codec = detail::codec_named(config_field_named("codec").text);
    std::size_t buffer_size = detail::default_of<std::size_t>("buffer_size");
    double reconnect_delay = detail::default_of<double>("reconnect_delay"); ///< seconds
    /// Consecutive failed connects allowed; -1 = unlimited.
    std::int64_t max_reconnect_attempts = detail::default_of<std::int64_t>("max_reconnect_attempts");
    std::optional<double> reconnect_max_delay; ///< seconds; set = exponential backoff up to it; none = fixed delay
    double connection_timeout = detail::default_of<double>("connection_timeout"); ///< seconds, resolve + connect (+ handshake)
    std::optional<double> idle_timeout;       ///< seconds; none = off
    std::size_t max_frame_bytes = detail::default_of<std::size_t>("max_frame_bytes");
    /// The `framing` object; none: the codec's own (effective_framing()).
    std::optional<socketcap::framing_options> framing;
    /// networkTunnel.sshForwarding; none: connect directly.
    std::optional<ssh_forwarding_config> ssh_forwarding;
    /// on_connect, heartbeat and replies; `password` is its variable "password" (a secret).
    socketcap::conversation_config conversation;
    /// An endpoint that gives up stops the capture (false: the others go on).
    bool fail_on_endpoint_failure = true;
    /// Worker threads for the endpoints; 0: automatic.
    std::size_t threads = 0;

    /// The framing in force: `framing`, else lines for line and json, each read for plain and
    /// base64; with base64, chunks are cut anywhere (it has no characters to keep whole).
    socketcap::framing_options effective_framing() const;

    std::chrono::steady_clock::duration reconnect_delay_duration() const noexcept;
    /// Zero when reconnect_max_delay is off.
    std::chrono::steady_clock::duration reconnect_max_delay_duration() const noexcept;
    std::chrono::steady_clock::duration connection_timeout_duration() const noexcept;
    /// Zero when idle_timeout is off.
    std::chrono::steady_clock::duration idle_timeout_duration() const noexcept;
};

/// A binding's resource configuration: its stream and, for a capture of several endpoints
/// (issue 17), its own endpoint; what it leaves out comes from the endpoint configuration.
struct resource_config {
    std::string stream;
    std::optional<std::string> host;
    std::optional<std::uint16_t> port;
    std::optional<std::string> server_hostname;      ///< tls.server_hostname
    std::optional<std::vector<std::string>> on_connect;
    std::optional<std::string> password;             ///< secret
    /// True when the binding names an endpoint of its own (host or port).
    bool has_endpoint() const noexcept { return host.has_value() || port.has_value(); }
};

/// Parses and validates the endpoint configuration (a JSON object). Unknown fields are
/// ignored (sops and newer UIs add some); null means "the default" for optional fields.
parsed<endpoint_config> parse_endpoint_config(std::string_view json);

/// Parses a binding's resource configuration: {"stream": non-empty string} and the optional
/// endpoint fields host, port, server_hostname, on_connect and password.
parsed<resource_config> parse_resource_config(std::string_view json);

/// The endpoint a binding dials: `base` with the binding's fields in place of its own. Its
/// conversation is checked again (a binding's on_connect may use ${password}): the problems,
/// each prefixed with `prefix` ("bindings[2]."), go to `problems`.
endpoint_config endpoint_for(const endpoint_config& base, const resource_config& binding, std::string_view prefix,
                             std::vector<std::string>& problems);

/// The checks that touch the file system: a tls.* value that is a path must name a readable
/// file. Empty when all is well. (TLS itself checks that the PEM parses and the key matches.)
std::string check_tls_files(const socketcap::tls::client_options& tls);

/// Several problems as one line, joined by "; ": the Flow runtime shows the user only the last
/// stderr line of a failed connector. Empty when there are none.
std::string join_problems(const std::vector<std::string>& problems);

} // namespace socketcap::flow

#endif
