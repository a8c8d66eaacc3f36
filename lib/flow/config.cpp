// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/delimiter_framer.hpp>
#include <socketcap/flow/config.hpp>
#include <socketcap/io/read_file.hpp>
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
    case element_type::STRING: return "a string";
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
/// fixes a configuration in one round instead of one error per attempt. Each field's key,
/// name, range and secrecy come from its config_field.
struct reader {
    simdjson::dom::object obj;
    std::vector<std::string>* errors;

    bool fail(std::string message) {
        errors->push_back(std::move(message));
        return false;
    }

    bool fail_range(const config_field& f, element e) {
        return fail(fmt::format("{}: must be {}, got {}", f.name, range_text(f), got(e)));
    }

    /// A secret's wrong value is described by its JSON type only, never quoted (a key pasted
    /// into an array, say, must not reach the logs).
    bool string(const config_field& f, std::string& out) {
        auto e = field(obj, f.key());
        if (!e) return f.required ? fail(std::string(f.name) + ": is required") : true;
        std::string_view s;
        if (e->get_string().get(s)) {
            if (f.secret)
                return fail(fmt::format("{}: must be a string, got {} (the value is not shown: it may be secret)",
                                        f.name, type_name(*e)));
            return fail(fmt::format("{}: must be a string, got {}", f.name, got(*e)));
        }
        out.assign(s);
        return true;
    }

    bool boolean(const config_field& f, bool& out) {
        auto e = field(obj, f.key());
        if (!e) return true;
        if (e->get_bool().get(out)) return fail(fmt::format("{}: must be true or false, got {}", f.name, got(*e)));
        return true;
    }

    bool integer(const config_field& f, std::int64_t& out) {
        auto e = field(obj, f.key());
        if (!e) return f.required ? fail(std::string(f.name) + ": is required") : true;
        auto v = as_integer(*e);
        if (!v || *v < std::int64_t(f.minimum) || *v > std::int64_t(f.maximum)) return fail_range(f, *e);
        out = *v;
        return true;
    }

    /// A number in the field's range; `present`: the field was there and not null.
    bool number(const config_field& f, double& out, bool& present) {
        auto e = field(obj, f.key());
        present = e.has_value();
        if (!e) return true;
        auto v = as_number(*e);
        if (!v || *v > f.maximum || *v < f.minimum || (f.exclusive_minimum && *v == f.minimum))
            return fail_range(f, *e);
        out = *v;
        return true;
    }

    /// The position of the value in f.choices.
    bool choice(const config_field& f, std::size_t& out) {
        auto e = field(obj, f.key());
        if (!e) return true;
        std::string_view s;
        if (!e->get_string().get(s))
            for (std::size_t i = 0; i < f.choices.size(); ++i)
                if (f.choices[i] == s) {
                    out = i;
                    return true;
                }
        return fail_range(f, *e);
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

std::string pem_error(std::string_view field_name, std::string_view value) {
    if (socketcap::tls::is_pem(value) && value.find("-----END ") == std::string_view::npos)
        return fmt::format("{}: PEM text has a -----BEGIN line but no -----END line", field_name);
    return {};
}

/// The `framing` object into `out`. Every member is read; one that belongs to another
/// framing.type is an error unless it holds its default (forms fill in every default).
void read_framing(simdjson::dom::object fobj, std::vector<std::string>& errors, socketcap::framing_options& out) {
    reader r{fobj, &errors};
    constexpr auto& type = config_field_named("framing.type");
    constexpr auto& delimiter = config_field_named("framing.delimiter");
    constexpr auto& keep_delimiter = config_field_named("framing.keep_delimiter");
    constexpr auto& length_format = config_field_named("framing.length_format");
    constexpr auto& includes_prefix = config_field_named("framing.length_includes_prefix");
    constexpr auto& header_bytes = config_field_named("framing.header_bytes");
    constexpr auto& keep_prefix = config_field_named("framing.keep_prefix");

    std::size_t kind = framing_type_names.size(); // none yet
    if (!field(fobj, type.key())) r.fail(std::string(type.name) + ": is required");
    else r.choice(type, kind);
    const bool known = kind < framing_type_names.size();
    if (known) out.kind = static_cast<socketcap::framing_kind>(kind);

    // A value set for another type: named, with the type it belongs to.
    auto misplaced = [&](const config_field& f, bool is_default) {
        if (!known || is_default || f.applies_to == framing_type_names[kind]) return false;
        r.fail(fmt::format("{}: applies only when {} is \"{}\", not \"{}\"", f.name, type.name, f.applies_to,
                           framing_type_names[kind]));
        return true;
    };

    std::string delim;
    bool has_delim = field(fobj, delimiter.key()).has_value();
    if (r.string(delimiter, delim) && has_delim && !misplaced(delimiter, false)) {
        if (delim.empty() || delim.size() > socketcap::delimiter_framer::max_delimiter_bytes)
            r.fail(fmt::format("{}: must be 1 to {} bytes, got {}", delimiter.name,
                               socketcap::delimiter_framer::max_delimiter_bytes, delim.size()));
        else
            out.delimiter = std::move(delim);
    }
    if (known && out.kind == socketcap::framing_kind::delimiter && !has_delim)
        r.fail(fmt::format("{}: is required when {} is \"delimiter\"", delimiter.name, type.name));

    bool flag = keep_delimiter.flag;
    if (r.boolean(keep_delimiter, flag) && !misplaced(keep_delimiter, flag == keep_delimiter.flag))
        out.keep_delimiter = flag;

    std::size_t format = 3; // uint32_be
    static_assert(length_format_names[3] == length_format.text);
    if (r.choice(length_format, format) && !misplaced(length_format, format == 3)) {
        static constexpr std::uint8_t widths[] = {1, 2, 2, 4, 4, 8, 8, 0};
        out.length.length_bytes = widths[format];
        out.length.byte_order = length_format_names[format].ends_with("_le") ? std::endian::little : std::endian::big;
    }
    if (flag = includes_prefix.flag; r.boolean(includes_prefix, flag) && !misplaced(includes_prefix, flag == includes_prefix.flag))
        out.length.length_includes_prefix = flag;
    std::int64_t header = 0;
    if (r.integer(header_bytes, header) && !misplaced(header_bytes, header == 0))
        out.length.header_bytes = static_cast<std::uint8_t>(header);
    if (flag = keep_prefix.flag; r.boolean(keep_prefix, flag) && !misplaced(keep_prefix, flag == keep_prefix.flag))
        out.length.keep_prefix = flag;
}

/// sshEndpoint's value as ssh://user@host[:port] (an IPv6 host in brackets) into `out`; false
/// when it is not. Neither part may start with '-' (ssh would read it as an option) or hold
/// spaces, control characters or URL path characters.
bool parse_ssh_endpoint(std::string_view v, ssh_forwarding_config& out) {
    constexpr std::string_view scheme = "ssh://";
    if (!v.starts_with(scheme)) return false;
    auto rest = v.substr(scheme.size());
    auto at = rest.rfind('@');
    if (at == std::string_view::npos) return false;
    auto user = rest.substr(0, at), hostport = rest.substr(at + 1);
    std::string_view host, port;
    if (hostport.starts_with('[')) {
        auto close = hostport.find(']');
        if (close == std::string_view::npos) return false;
        host = hostport.substr(1, close - 1);
        auto after = hostport.substr(close + 1);
        if (!after.empty() && (after[0] != ':' || after.size() == 1)) return false;
        if (!after.empty()) port = after.substr(1);
    } else {
        auto colon = hostport.find(':');
        host = hostport.substr(0, colon);
        if (colon != std::string_view::npos) {
            port = hostport.substr(colon + 1);
            if (port.empty()) return false;
        }
    }
    auto bad = [](std::string_view part) {
        if (part.empty() || part[0] == '-') return true;
        for (unsigned char ch : part)
            if (ch <= 0x20 || ch == 0x7F || ch == '/' || ch == '?' || ch == '#' || ch == '[' || ch == ']') return true;
        return false;
    };
    if (bad(user) || bad(host)) return false;
    unsigned long number = 22;
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
        number = std::stoul(std::string(port));
        if (number < 1 || number > 65535) return false;
    }
    out.ssh_endpoint.assign(v);
    out.user.assign(user);
    out.host.assign(host);
    out.port = static_cast<std::uint16_t>(number);
    return true;
}

/// Members of a closed object (networkTunnel, sshForwarding) that the table does not know.
void reject_unknown(simdjson::dom::object obj, const config_field& object, reader& r) {
    for (auto member : obj) {
        bool known = false;
        for (const auto& f : config_fields) known = known || (f.parent() == object.name && f.key() == member.key);
        if (!known) r.fail(fmt::format("{}: unknown field \"{}\"", object.name, std::string_view(member.key)));
    }
}

/// The `networkTunnel` object: absent, null, {} or a null sshForwarding mean no tunnel.
/// The objects' values are described by their JSON type only: they hold the private key.
void read_network_tunnel(element value, std::vector<std::string>& errors, std::optional<ssh_forwarding_config>& out) {
    constexpr auto& tunnel = config_field_named("networkTunnel");
    constexpr auto& forwarding = config_field_named("networkTunnel.sshForwarding");
    constexpr auto& endpoint = config_field_named("networkTunnel.sshForwarding.sshEndpoint");
    constexpr auto& key = config_field_named("networkTunnel.sshForwarding.privateKey");
    reader top{{}, &errors};
    simdjson::dom::object tobj;
    if (value.get_object().get(tobj)) {
        top.fail(fmt::format("{}: must be an object, got {}", tunnel.name, type_name(value)));
        return;
    }
    reject_unknown(tobj, tunnel, top);
    auto f = field(tobj, forwarding.key());
    if (!f) return;
    simdjson::dom::object fobj;
    if (f->get_object().get(fobj)) {
        top.fail(fmt::format("{}: must be an object, got {}", forwarding.name, type_name(*f)));
        return;
    }
    reader r{fobj, &errors};
    reject_unknown(fobj, forwarding, r);
    ssh_forwarding_config c;
    bool ok = true;
    std::string text;
    if (r.string(endpoint, text)) {
        if (!parse_ssh_endpoint(text, c))
            ok = r.fail(fmt::format("{}: must look like ssh://user@host[:port], got {}", endpoint.name,
                                    got(*field(fobj, endpoint.key()))));
    } else {
        ok = false;
    }
    if (r.string(key, c.private_key)) {
        const auto& k = c.private_key;
        if (k.find("-----BEGIN ") == std::string::npos || k.find("PRIVATE KEY-----") == std::string::npos ||
            k.find("-----END ") == std::string::npos)
            ok = r.fail(fmt::format("{}: must be a private key in OpenSSH or PEM format, from its -----BEGIN line to "
                                    "its -----END line (the value is not shown: it is secret)",
                                    key.name));
    } else {
        ok = false;
    }
    if (ok) out = std::move(c);
}

/// An array of strings (on_connect) into `out`, each wrong item named.
void read_strings(element e, std::string_view name, std::vector<std::string>& errors, std::vector<std::string>& out) {
    reader r{{}, &errors};
    simdjson::dom::array items;
    if (e.get_array().get(items)) {
        r.fail(fmt::format("{}: must be an array of strings, got {}", name, got(e)));
        return;
    }
    std::size_t i = 0;
    for (element item : items) {
        std::string_view text;
        if (item.get_string().get(text)) r.fail(fmt::format("{}[{}]: must be a string, got {}", name, i, got(item)));
        else out.emplace_back(text);
        ++i;
    }
}

/// The `position` and `ack` objects into `out` (issue 16).
void read_position(simdjson::dom::object obj, std::vector<std::string>& errors, socketcap::conversation_config& out) {
    constexpr auto& position = config_field_named("position");
    constexpr auto& pattern = config_field_named("position.pattern");
    constexpr auto& pointer = config_field_named("position.pointer");
    constexpr auto& counted = config_field_named("position.counted");
    constexpr auto& type = config_field_named("position.type");
    constexpr auto& ack = config_field_named("ack");
    constexpr auto& message = config_field_named("ack.message");
    constexpr auto& per = config_field_named("ack.per");
    reader r{obj, &errors};
    if (auto e = field(obj, position.key())) {
        simdjson::dom::object pobj;
        if (e->get_object().get(pobj)) {
            r.fail(fmt::format("{}: must be an object, got {}", position.name, got(*e)));
        } else {
            reader pr{pobj, &errors};
            reject_unknown(pobj, position, pr);
            auto& p = out.position;
            bool is_counted = false;
            int given = 0;
            if (pr.string(pattern, p.pattern) && field(pobj, pattern.key())) ++given, p.source = socketcap::position_source::pattern;
            if (pr.string(pointer, p.pointer) && field(pobj, pointer.key())) ++given, p.source = socketcap::position_source::pointer;
            if (pr.boolean(counted, is_counted) && is_counted) ++given, p.source = socketcap::position_source::counted;
            std::size_t t = 0;
            if (pr.choice(type, t)) p.is_string = t == 1;
            if (given != 1)
                pr.fail(fmt::format("{}: needs exactly one of pattern, pointer or counted, got {}", position.name, given));
            else if (is_counted && p.is_string)
                pr.fail(fmt::format("{}: counted positions are integers", type.name));
        }
    }
    if (auto e = field(obj, ack.key())) {
        simdjson::dom::object aobj;
        if (e->get_object().get(aobj)) {
            r.fail(fmt::format("{}: must be an object, got {}", ack.name, got(*e)));
        } else {
            reader ar{aobj, &errors};
            reject_unknown(aobj, ack, ar);
            socketcap::ack_config a;
            if (ar.string(message, a.message) && a.message.empty() && field(aobj, message.key()))
                ar.fail(fmt::format("{}: must not be empty", message.name));
            std::size_t scope = 0;
            if (ar.choice(per, scope)) a.per_frame = scope == 0;
            out.ack = std::move(a);
        }
    }
}

/// Compiles each part of the conversation on its own, so that every mistake is reported at
/// once (conversation_plan stops at its first): each message, the heartbeat, each rule, then
/// position and ack together.
void check_conversation(const socketcap::conversation_config& c, reader& r) {
    // ${password} is always a known name, so a message that uses it without a password set is
    // named here rather than sent with an empty one.
    auto uses_password = [](std::string_view text) { return text.find("${password}") != std::string_view::npos; };
    bool no_password = true;
    for (const auto& [name, value] : c.variables) no_password = no_password && !(name == "password" && !value.empty());
    if (no_password) {
        bool used = uses_password(c.heartbeat) || (c.ack && uses_password(c.ack->message));
        for (const auto& m : c.on_connect) used = used || uses_password(m);
        for (const auto& rule : c.replies) used = used || uses_password(rule.reply);
        if (used) r.fail("password: is required: a message uses ${password}");
    }
    socketcap::error_code ec;
    socketcap::diagnostics why;
    auto check = [&](const socketcap::conversation_config& part) {
        socketcap::conversation_plan::compile(part, ec, why);
        if (ec) r.fail(why.message());
        return !ec;
    };
    socketcap::conversation_config base;
    base.variables = c.variables;
    base.position = c.position;
    bool ok = true;
    for (std::size_t i = 0; i < c.on_connect.size(); ++i) {
        auto part = base;
        part.on_connect.assign(i, "x"); // earlier members are checked on their own: a valid stand-in
        part.on_connect.push_back(c.on_connect[i]);
        ok = check(part) && ok;
    }
    if (!c.heartbeat.empty() || c.heartbeat_interval.count() > 0) {
        auto part = base;
        part.heartbeat = c.heartbeat;
        part.heartbeat_interval = c.heartbeat_interval;
        ok = check(part) && ok;
    }
    for (std::size_t i = 0; i < c.replies.size(); ++i) {
        auto part = base;
        part.replies.assign(i, socketcap::reply_rule_config{"x", "x", true});
        part.replies.push_back(c.replies[i]);
        ok = check(part) && ok;
    }
    if (ok) check(c); // position, ack, and what only the whole can say
}

/// The conversation fields (on_connect, password, heartbeat, replies) into `out`, then compiled
/// once to check every template and pattern (conversation_plan names the member that fails).
void read_conversation(simdjson::dom::object obj, std::vector<std::string>& errors,
                       socketcap::conversation_config& out) {
    constexpr auto& on_connect = config_field_named("on_connect");
    constexpr auto& password = config_field_named("password");
    constexpr auto& heartbeat = config_field_named("heartbeat");
    constexpr auto& hb_message = config_field_named("heartbeat.message");
    constexpr auto& hb_interval = config_field_named("heartbeat.interval");
    constexpr auto& replies = config_field_named("replies");
    constexpr auto& match = config_field_named("replies[].match");
    constexpr auto& reply = config_field_named("replies[].reply");
    constexpr auto& capture = config_field_named("replies[].capture");
    reader r{obj, &errors};
    const std::size_t errors_before = errors.size();

    if (auto e = field(obj, on_connect.key())) read_strings(*e, on_connect.name, errors, out.on_connect);

    std::string secret;
    r.string(password, secret);

    if (auto e = field(obj, heartbeat.key())) {
        simdjson::dom::object hobj;
        if (e->get_object().get(hobj)) {
            r.fail(fmt::format("{}: must be an object, got {}", heartbeat.name, got(*e)));
        } else {
            reader hr{hobj, &errors};
            reject_unknown(hobj, heartbeat, hr);
            if (hr.string(hb_message, out.heartbeat) && out.heartbeat.empty() && field(hobj, hb_message.key()))
                hr.fail(fmt::format("{}: must not be empty", hb_message.name));
            double seconds = 0;
            bool present = false;
            if (hr.number(hb_interval, seconds, present) && !present)
                hr.fail(fmt::format("{}: is required", hb_interval.name));
            else if (present && seconds > 0)
                out.heartbeat_interval =
                    std::chrono::ceil<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
        }
    }

    if (auto e = field(obj, replies.key())) {
        simdjson::dom::array items;
        if (e->get_array().get(items)) {
            r.fail(fmt::format("{}: must be an array of objects, got {}", replies.name, got(*e)));
        } else {
            std::size_t i = 0;
            for (element item : items) {
                // Messages name the item: "replies[2].match: is required".
                std::string prefix = fmt::format("{}[{}]", replies.name, i++);
                simdjson::dom::object robj;
                if (item.get_object().get(robj)) {
                    r.fail(fmt::format("{}: must be an object, got {}", prefix, got(item)));
                    continue;
                }
                std::vector<std::string> item_errors;
                reader ir{robj, &item_errors};
                reject_unknown(robj, config_field{.name = "replies[]"}, ir);
                socketcap::reply_rule_config rule;
                for (auto [f, text] : {std::pair{&match, &rule.match}, std::pair{&reply, &rule.reply}})
                    if (ir.string(*f, *text) && text->empty() && field(robj, f->key()))
                        ir.fail(fmt::format("{}: must not be empty", f->name));
                ir.boolean(capture, rule.capture);
                for (auto& m : item_errors) {
                    // "replies[].match: …" and "replies[]: unknown field" → "replies[2]…"
                    m.replace(0, std::string_view("replies[]").size(), prefix);
                    errors.push_back(std::move(m));
                }
                out.replies.push_back(std::move(rule));
            }
        }
    }

    read_position(obj, errors, out);

    if (errors.size() != errors_before) return; // the texts are not all there to compile
    out.variables.emplace_back("password", std::move(secret));
    check_conversation(out, r);
}

} // namespace

socketcap::framing_options endpoint_config::effective_framing() const {
    socketcap::framing_options f;
    if (framing) f = *framing;
    else if (codec == codec_kind::plain || codec == codec_kind::base64) f.kind = socketcap::framing_kind::chunks;
    // Bytes are bytes to a binary codec: chunks cut anywhere, whichever framing chose them.
    f.whole_characters = codec != codec_kind::base64;
    return f;
}

std::string_view to_string(codec_kind c) noexcept {
    auto i = static_cast<std::size_t>(c);
    return i < codec_names.size() ? codec_names[i] : "line";
}

// The TLS library owns verify_cert's default; the table must say the same (checked in
// test/connector/fields.cpp: clang 14 cannot evaluate client_options{} in a static_assert, its
// std::string members are not constexpr-constructible there).

std::string range_text(const config_field& f) {
    switch (f.type) {
    case field_type::integer:
        if (!f.minimum_means.empty()) // a sentinel below the counting range: "-1 for unlimited"
            return fmt::format("an integer from {} to {}, or {} for {}", std::int64_t(f.minimum) + 1,
                               std::int64_t(f.maximum), std::int64_t(f.minimum), f.minimum_means);
        return fmt::format("an integer from {} to {}", std::int64_t(f.minimum), std::int64_t(f.maximum));
    case field_type::number:
        if (f.exclusive_minimum)
            return fmt::format("a number of {} greater than {} and at most {}", f.unit, f.minimum, f.maximum);
        return fmt::format("{}a number of {} from {}{} to {}", f.nullable ? "null (off) or " : "", f.unit, f.minimum,
                           f.minimum_means.empty() ? std::string() : fmt::format(" ({})", f.minimum_means),
                           f.maximum);
    case field_type::choice: {
        std::string s = "one of ";
        for (std::size_t i = 0; i < f.choices.size(); ++i) s += fmt::format("{}\"{}\"", i ? ", " : "", f.choices[i]);
        return s;
    }
    default: return {};
    }
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

    // The checks run in this order (the messages are joined in it), not in the table's.
    constexpr auto& host = config_field_named("host");
    constexpr auto& port = config_field_named("port");
    constexpr auto& tls = config_field_named("tls");
    constexpr auto& codec = config_field_named("codec");
    constexpr auto& server_hostname = config_field_named("tls.server_hostname");
    constexpr auto& client_key = config_field_named("tls.client_key");

    endpoint_config& c = result.value;
    std::vector<std::string> errors;
    reader r{obj, &errors};
    std::int64_t i = 0;
    if (r.string(host, c.host)) check_name(host.name, c.host, r);
    if (r.integer(port, i)) c.port = static_cast<std::uint16_t>(i);

    if (auto t = field(obj, tls.key())) {
        simdjson::dom::object tobj;
        if (t->get_object().get(tobj)) {
            r.fail(fmt::format("{}: must be an object, got {}", tls.name, got(*t)));
        } else {
            reader tr{tobj, &errors};
            tr.boolean(config_field_named("tls.enabled"), c.tls.enabled);
            tr.boolean(config_field_named("tls.verify_cert"), c.tls.verify_cert);
            bool identity_ok = true; // client_cert and client_key are strings: their pairing can be checked
            for (auto [f, out] : {std::pair<const config_field*, std::string*>{&config_field_named("tls.ca_cert"),
                                                                               &c.tls.ca_cert},
                                  {&config_field_named("tls.client_cert"), &c.tls.client_cert},
                                  {&client_key, &c.tls.client_key}}) {
                if (!tr.string(*f, *out)) identity_ok = identity_ok && f->key() == "ca_cert";
                else if (auto e = pem_error(f->name, *out); !e.empty()) tr.fail(e);
            }
            tr.string(config_field_named("tls.client_key_password"), c.tls.client_key_password);
            if (tr.string(server_hostname, c.tls.server_hostname) && !c.tls.server_hostname.empty())
                check_name(server_hostname.name, c.tls.server_hostname, tr);
            if (identity_ok && !c.tls.client_cert.empty() && c.tls.client_key.empty())
                tr.fail("tls.client_key: is required when tls.client_cert is set");
            if (identity_ok && c.tls.client_cert.empty() && !c.tls.client_key.empty())
                tr.fail("tls.client_cert: is required when tls.client_key is set");
        }
    }

    auto codec_index = static_cast<std::size_t>(c.codec);
    if (r.choice(codec, codec_index)) c.codec = static_cast<codec_kind>(codec_index);
    if (r.integer(config_field_named("buffer_size"), i = std::int64_t(c.buffer_size)))
        c.buffer_size = static_cast<std::size_t>(i);
    bool present = false;
    const bool delay_ok = r.number(config_field_named("reconnect_delay"), c.reconnect_delay, present);
    r.integer(config_field_named("max_reconnect_attempts"), c.max_reconnect_attempts);
    double cap = 0;
    if (r.number(config_field_named("reconnect_max_delay"), cap, present) && present && cap > 0) {
        // Compared only with a valid reconnect_delay: an invalid one was reported already.
        if (delay_ok && cap < c.reconnect_delay)
            r.fail(fmt::format("reconnect_max_delay: must be at least reconnect_delay ({}), got {}", c.reconnect_delay, cap));
        else
            c.reconnect_max_delay = cap;
    }
    r.number(config_field_named("connection_timeout"), c.connection_timeout, present);
    double idle = 0;
    if (r.number(config_field_named("idle_timeout"), idle, present) && present && idle > 0) c.idle_timeout = idle;
    if (r.integer(config_field_named("max_frame_bytes"), i = std::int64_t(c.max_frame_bytes)))
        c.max_frame_bytes = static_cast<std::size_t>(i);
    constexpr auto& framing = config_field_named("framing");
    if (auto f = field(obj, framing.key())) {
        simdjson::dom::object fobj;
        if (f->get_object().get(fobj)) {
            r.fail(fmt::format("{}: must be an object, got {}", framing.name, got(*f)));
        } else {
            socketcap::framing_options opts;
            read_framing(fobj, errors, opts);
            c.framing = std::move(opts);
        }
    }

    read_conversation(obj, errors, c.conversation);
    std::size_t failure = 0;
    if (r.choice(config_field_named("endpoint_failure"), failure)) c.fail_on_endpoint_failure = failure == 0;
    if (r.integer(config_field_named("threads"), i = 0)) c.threads = static_cast<std::size_t>(i);
    if (c.conversation.position.source == socketcap::position_source::pointer && c.codec != codec_kind::json)
        errors.push_back(fmt::format("position.pointer: needs the json codec, not \"{}\"", to_string(c.codec)));

    if (auto t = field(obj, config_field_named("networkTunnel").key()))
        read_network_tunnel(*t, errors, c.ssh_forwarding);

    result.error = join_problems(errors);
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
    // Not config_fields: the resource schema is a literal (response.cpp).
    constexpr config_field stream{.name = "stream", .required = true};
    constexpr config_field host{.name = "host"};
    constexpr config_field port{.name = "port", .type = field_type::integer, .minimum = 1, .maximum = 65535};
    constexpr config_field server_hostname{.name = "server_hostname"};
    constexpr config_field password{.name = "password", .secret = true};
    auto& rc = result.value;
    std::vector<std::string> errors;
    reader r{obj, &errors};
    if (r.string(stream, rc.stream) && rc.stream.empty()) r.fail("stream: must not be empty");
    std::string text;
    if (field(obj, host.key()) && r.string(host, text)) {
        check_name(host.name, text, r);
        rc.host = text;
    }
    std::int64_t n = 0;
    if (field(obj, port.key()) && r.integer(port, n)) rc.port = static_cast<std::uint16_t>(n);
    if (field(obj, server_hostname.key()) && r.string(server_hostname, text)) {
        check_name(server_hostname.name, text, r);
        rc.server_hostname = text;
    }
    if (auto e = field(obj, "on_connect")) {
        std::vector<std::string> messages;
        read_strings(*e, "on_connect", errors, messages);
        rc.on_connect = std::move(messages);
    }
    if (field(obj, password.key()) && r.string(password, text)) rc.password = text;
    result.error = join_problems(errors);
    return result;
}

endpoint_config endpoint_for(const endpoint_config& base, const resource_config& binding, std::string_view prefix,
                             std::vector<std::string>& problems) {
    endpoint_config c = base;
    if (binding.host) c.host = *binding.host;
    if (binding.port) c.port = *binding.port;
    if (binding.server_hostname) c.tls.server_hostname = *binding.server_hostname;
    if (!binding.on_connect && !binding.password) return c; // the conversation was checked with the base
    auto& conv = c.conversation;
    if (binding.on_connect) conv.on_connect = *binding.on_connect;
    if (binding.password)
        for (auto& [name, value] : conv.variables)
            if (name == "password") value = *binding.password;
    std::vector<std::string> found;
    reader r{{}, &found};
    check_conversation(conv, r);
    for (auto& f : found) problems.push_back(fmt::format("{}{}", prefix, f));
    return c;
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

std::string join_problems(const std::vector<std::string>& problems) {
    std::string joined;
    for (const auto& p : problems) {
        if (!joined.empty()) joined += "; ";
        joined += p;
    }
    return joined;
}

} // namespace socketcap::flow
