// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/flow/config.hpp>
#include <socketcap/read_file.hpp>
#include <socketcap/tls/options.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include "quote.hpp"

#include <cerrno>
#include <cmath>
#include <fcntl.h>
#include <limits>
#include <system_error>
#include <vector>
#include <unistd.h>

namespace socketcap::flow {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

using detail::got;

/// An integer, also from a number like 9000.0 (some form builders write floats).
std::optional<std::int64_t> as_integer(element e) {
    switch (e.type()) {
    case element_type::INT64: return std::int64_t(e.get_int64().value_unsafe());
    case element_type::UINT64: return std::numeric_limits<std::int64_t>::max(); // above every range
    case element_type::DOUBLE: {
        double d = e.get_double().value_unsafe();
        if (d == std::floor(d) && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
        return std::nullopt;
    }
    default: return std::nullopt;
    }
}

std::optional<double> as_number(element e) {
    double d = 0;
    if (!e.is_number() || e.get_double().get(d)) return std::nullopt;
    return d;
}

/// "an array", "a number", …: what a secret field held, without its value.
const char* type_name(element e) noexcept {
    switch (e.type()) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::BOOL: return "a boolean";
    default: return "a value of another type";
    }
}

/// Looks up `key` in `obj`; absent and null both give nothing.
std::optional<element> field(simdjson::dom::object obj, std::string_view key) {
    element e;
    if (obj.at_key(key).get(e) || e.is_null()) return std::nullopt;
    return e;
}

/// Reads fields of one object. Every problem is collected, in field order, so that a user
/// fixes a configuration in one round instead of one error per attempt.
struct reader {
    simdjson::dom::object obj;
    std::string prefix; // "tls." for nested fields
    std::vector<std::string>* errors;

    std::string name(std::string_view key) const { return prefix + std::string(key); }

    bool fail(std::string message) {
        errors->push_back(std::move(message));
        return false;
    }

    /// `secret`: a wrong value is described by its JSON type only, never quoted (a key pasted
    /// into an array, say, must not reach the logs).
    bool string(std::string_view key, std::string& out, bool required, bool secret = false) {
        auto e = field(obj, key);
        if (!e) return required ? fail(name(key) + ": is required") : true;
        std::string_view s;
        if (e->get_string().get(s)) {
            if (secret)
                return fail(fmt::format("{}: must be a string, got {} (the value is not shown: it may be secret)",
                                        name(key), type_name(*e)));
            return fail(fmt::format("{}: must be a string, got {}", name(key), got(*e)));
        }
        out.assign(s);
        return true;
    }

    bool boolean(std::string_view key, bool& out) {
        auto e = field(obj, key);
        if (!e) return true;
        if (e->get_bool().get(out)) return fail(fmt::format("{}: must be true or false, got {}", name(key), got(*e)));
        return true;
    }

    bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t& out, bool required,
                 std::string_view range_text = {}) {
        auto e = field(obj, key);
        if (!e) return required ? fail(name(key) + ": is required") : true;
        auto v = as_integer(*e);
        if (!v || *v < lo || *v > hi) {
            if (range_text.empty())
                return fail(fmt::format("{}: must be an integer from {} to {}, got {}", name(key), lo, hi, got(*e)));
            return fail(fmt::format("{}: must be {}, got {}", name(key), range_text, got(*e)));
        }
        out = *v;
        return true;
    }

    /// A number of seconds in [lo, hi] (or (lo, hi] when `exclusive_lo`).
    bool seconds(std::string_view key, double lo, double hi, bool exclusive_lo, std::string_view range_text,
                 double& out, bool& present) {
        auto e = field(obj, key);
        present = e.has_value();
        if (!e) return true;
        auto v = as_number(*e);
        if (!v || *v > hi || *v < lo || (exclusive_lo && *v == lo))
            return fail(fmt::format("{}: must be {}, got {}", name(key), range_text, got(*e)));
        out = *v;
        return true;
    }
};

/// Host names go to the resolver and the certificate check as C strings: a NUL would cut
/// "localhost\0.evil.example" to "localhost". Control characters are never part of a name.
void check_name(std::string_view key, std::string_view value, reader& r) {
    if (value.empty()) {
        r.fail(fmt::format("{}: must not be empty", key));
        return;
    }
    if (value.find_first_of(" \t\r\n") != std::string_view::npos) {
        r.fail(fmt::format("{}: must not contain spaces", key));
        return;
    }
    for (std::size_t at = 0; at < value.size(); ++at) {
        auto ch = static_cast<unsigned char>(value[at]);
        if (ch < 0x20 || ch == 0x7F) {
            r.fail(fmt::format("{}: must not contain control characters, found U+{:04X} at byte {}", key, ch, at));
            return;
        }
    }
}

/// One line for all problems: the Flow runtime shows the user the last stderr line.
std::string join_errors(const std::vector<std::string>& errors) {
    std::string joined;
    for (const auto& e : errors) {
        if (!joined.empty()) joined += "; ";
        joined += e;
    }
    return joined;
}

std::string pem_error(std::string_view field_name, std::string_view value) {
    if (socketcap::tls::is_pem(value) && value.find("-----END ") == std::string_view::npos)
        return fmt::format("{}: PEM text has a -----BEGIN line but no -----END line", field_name);
    return {};
}

} // namespace

std::string_view to_string(codec_kind c) noexcept {
    switch (c) {
    case codec_kind::plain: return "plain";
    case codec_kind::line: return "line";
    case codec_kind::json: return "json";
    }
    return "line";
}

namespace {
// Rounded up, never down: an accepted positive number of seconds stays a positive duration.
// Truncation made `connection_timeout: 1e-34` (accepted as > 0) a zero timeout, and a tiny
// positive idle_timeout would have become 0, which the session reads as "no idle timeout".
// Found by fuzz_flow_config.
std::chrono::steady_clock::duration to_duration(double seconds) noexcept {
    return std::chrono::ceil<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}
} // namespace

std::chrono::steady_clock::duration endpoint_config::reconnect_delay_duration() const noexcept {
    return to_duration(reconnect_delay);
}

std::chrono::steady_clock::duration endpoint_config::reconnect_max_delay_duration() const noexcept {
    if (!reconnect_max_delay) return {};
    return to_duration(*reconnect_max_delay);
}

std::chrono::steady_clock::duration endpoint_config::connection_timeout_duration() const noexcept {
    return to_duration(connection_timeout);
}

std::chrono::steady_clock::duration endpoint_config::idle_timeout_duration() const noexcept {
    if (!idle_timeout || *idle_timeout <= 0) return {};
    return to_duration(*idle_timeout);
}

parsed<endpoint_config> parse_endpoint_config(std::string_view json) {
    parsed<endpoint_config> result;
    simdjson::dom::parser parser;
    element root;
    if (auto err = parser.parse(json.data(), json.size(), true).get(root)) {
        result.error = fmt::format("config: not valid JSON: {}", simdjson::error_message(err));
        return result;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) {
        result.error = fmt::format("config: must be an object, got {}", got(root));
        return result;
    }

    endpoint_config& c = result.value;
    std::vector<std::string> errors;
    reader r{obj, {}, &errors};
    std::int64_t i = 0;
    if (r.string("host", c.host, true)) check_name("host", c.host, r);
    if (r.integer("port", 1, 65535, i, true)) c.port = static_cast<std::uint16_t>(i);

    if (auto t = field(obj, "tls")) {
        simdjson::dom::object tobj;
        if (t->get_object().get(tobj)) {
            r.fail(fmt::format("tls: must be an object, got {}", got(*t)));
        } else {
            reader tr{tobj, "tls.", &errors};
            tr.boolean("enabled", c.tls.enabled);
            tr.boolean("verify_cert", c.tls.verify_cert);
            bool identity_ok = true; // client_cert and client_key are strings: their pairing can be checked
            for (auto [key, out] : {std::pair<std::string_view, std::string*>{"ca_cert", &c.tls.ca_cert},
                                    {"client_cert", &c.tls.client_cert},
                                    {"client_key", &c.tls.client_key}}) {
                if (!tr.string(key, *out, false, key == "client_key")) identity_ok = identity_ok && key == "ca_cert";
                else if (auto e = pem_error(tr.name(key), *out); !e.empty()) tr.fail(e);
            }
            tr.string("client_key_password", c.tls.client_key_password, false, true);
            if (tr.string("server_hostname", c.tls.server_hostname, false) && !c.tls.server_hostname.empty())
                check_name("tls.server_hostname", c.tls.server_hostname, tr);
            if (identity_ok && !c.tls.client_cert.empty() && c.tls.client_key.empty())
                tr.fail("tls.client_key: is required when tls.client_cert is set");
            if (identity_ok && c.tls.client_cert.empty() && !c.tls.client_key.empty())
                tr.fail("tls.client_cert: is required when tls.client_key is set");
        }
    }

    if (auto e = field(obj, "codec")) {
        std::string_view s;
        if (!e->get_string().get(s) && s == "plain") c.codec = codec_kind::plain;
        else if (!e->get_string().get(s) && s == "line") c.codec = codec_kind::line;
        else if (!e->get_string().get(s) && s == "json") c.codec = codec_kind::json;
        else r.fail(fmt::format(R"(codec: must be one of "plain", "line", "json", got {})", got(*e)));
    }
    if (r.integer("buffer_size", limits::min_buffer_size, limits::max_buffer_size, i = std::int64_t(c.buffer_size),
                  false))
        c.buffer_size = static_cast<std::size_t>(i);
    bool present = false;
    const bool delay_ok = r.seconds("reconnect_delay", 0, limits::max_reconnect_delay, false,
                                    "a number of seconds from 0 to 86400", c.reconnect_delay, present);
    r.integer("max_reconnect_attempts", -1, limits::max_reconnect_attempts, c.max_reconnect_attempts, false,
              "an integer from 0 to 2147483647, or -1 for unlimited");
    double cap = 0;
    if (r.seconds("reconnect_max_delay", 0, limits::max_reconnect_delay, false,
                  "null (off) or a number of seconds from 0 (off) to 86400", cap, present) &&
        present && cap > 0) {
        // Compared only with a valid reconnect_delay: an invalid one was reported already.
        if (delay_ok && cap < c.reconnect_delay)
            r.fail(fmt::format("reconnect_max_delay: must be at least reconnect_delay ({}), got {}", c.reconnect_delay, cap));
        else
            c.reconnect_max_delay = cap;
    }
    r.seconds("connection_timeout", 0, limits::max_connection_timeout, true,
              "a number of seconds greater than 0 and at most 3600", c.connection_timeout, present);
    double idle = 0;
    if (r.seconds("idle_timeout", 0, limits::max_idle_timeout, false,
                  "null (off) or a number of seconds from 0 (off) to 86400", idle, present) &&
        present && idle > 0)
        c.idle_timeout = idle;
    if (r.integer("max_frame_bytes", limits::min_frame_bytes, limits::max_frame_bytes,
                  i = std::int64_t(c.max_frame_bytes), false))
        c.max_frame_bytes = static_cast<std::size_t>(i);

    result.error = join_errors(errors);
    if (!result.error.empty()) result.value = endpoint_config{};
    return result;
}

parsed<resource_config> parse_resource_config(std::string_view json) {
    parsed<resource_config> result;
    simdjson::dom::parser parser;
    element root;
    if (auto err = parser.parse(json.data(), json.size(), true).get(root)) {
        result.error = fmt::format("resourceConfig: not valid JSON: {}", simdjson::error_message(err));
        return result;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj)) {
        result.error = fmt::format("resourceConfig: must be an object, got {}", got(root));
        return result;
    }
    std::vector<std::string> errors;
    reader r{obj, {}, &errors};
    if (r.string("stream", result.value.stream, true) && result.value.stream.empty())
        r.fail("stream: must not be empty");
    result.error = join_errors(errors);
    return result;
}

std::string check_tls_files(const socketcap::tls::client_options& tls) {
    for (auto [n, v] : {std::pair<std::string_view, const std::string*>{"tls.ca_cert", &tls.ca_cert},
                        {"tls.client_cert", &tls.client_cert},
                        {"tls.client_key", &tls.client_key}}) {
        if (v->empty() || socketcap::tls::is_pem(*v)) continue;
        // Read, not just opened: only a regular file within the limit passes (a FIFO would
        // block, /dev/zero never ends). TLS reads it again and checks the PEM.
        std::string content, why;
        auto ec = read_regular_file(*v, socketcap::tls::max_pem_file_bytes, content, why);
        if (!ec) continue;
        // A type or size problem means the value names something that exists: a path, safe to
        // show. Otherwise tls.client_key is never quoted (it may be a key pasted without its
        // BEGIN line); the sentence is the one make_context uses.
        if (ec.category() == std::generic_category()) {
            if (n == "tls.client_key") {
                bool missing = ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory ||
                               ec == std::errc::filename_too_long || ec == std::errc::too_many_symbolic_link_levels;
                return socketcap::tls::unreadable_client_key_message(missing ? std::string() : ec.message());
            }
            return fmt::format("{}: cannot read file \"{}\": {}", n, *v, ec.message());
        }
        return fmt::format("{}: {}", n, why);
    }
    return {};
}

} // namespace socketcap::flow
