// SPDX-License-Identifier: MIT OR Apache-2.0
#include "config_file.hpp"

#include <socketcap/json_writer.hpp>
#include <socketcap/io/read_file.hpp>

#include <yaml-cpp/yaml.h>

#include <charconv>

namespace source_socket {

namespace {

using socketcap::output_buffer;

bool is_one_of(const std::string& s, std::initializer_list<const char*> words) {
    for (const char* w : words)
        if (s == w) return true;
    return false;
}

void write_scalar(output_buffer& out, const YAML::Node& n) {
    const std::string& s = n.Scalar();
    // "!" marks a quoted scalar: always a string, like "9000" in JSON.
    if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") {
        socketcap::json::write_string(out, s);
        return;
    }
    if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return socketcap::append(out, "null");
    if (is_one_of(s, {"true", "True", "TRUE"})) return socketcap::append(out, "true");
    if (is_one_of(s, {"false", "False", "FALSE"})) return socketcap::append(out, "false");
    // YAML 1.2 core schema numbers: digits with an optional sign, fraction and exponent
    // (from_chars alone would also take "inf", "nan" and hex floats).
    std::string_view v = s;
    if (!v.empty() && v.front() == '+') v.remove_prefix(1);
    bool numeric = !v.empty() && v.find_first_not_of("0123456789+-.eE") == std::string_view::npos &&
        v.find_first_of("0123456789") != std::string_view::npos;
    if (numeric) {
        std::int64_t i = 0;
        auto [ip, iec] = std::from_chars(v.data(), v.data() + v.size(), i);
        if (iec == std::errc{} && ip == v.data() + v.size()) {
            socketcap::json::write_int(out, i);
            return;
        }
        double d = 0;
        auto [dp, dec] = std::from_chars(v.data(), v.data() + v.size(), d);
        if (dec == std::errc{} && dp == v.data() + v.size()) {
            fmt::format_to(fmt::appender(out), "{}", d);
            return;
        }
    }
    socketcap::json::write_string(out, s);
}

// Aliases make a YAML document a graph: an anchor may contain itself (`&a {x: *a}`), and
// nested aliases grow exponentially ("billion laughs"). Both end here, as parse errors.
// Limits far above any real configuration (a few dozen values; a CA bundle is < 1 MB). The
// file itself is held to the same byte limit (load_config_file).
constexpr int max_depth = 64;
constexpr std::size_t max_values = 100'000;
constexpr std::size_t max_json_bytes = 16 << 20;

void write_node(output_buffer& out, const YAML::Node& n, std::size_t& values, int depth = 0) {
    auto fail = [&](std::string what) { throw YAML::ParserException(n.Mark(), std::move(what)); };
    if (++values > max_values)
        fail(fmt::format("the configuration expands to more than {} values (aliases inside aliases?)", max_values));
    if (depth > max_depth) fail(fmt::format("nesting deeper than {} levels (an alias that contains itself?)", max_depth));
    if (out.size() > max_json_bytes)
        fail(fmt::format("the configuration expands to more than {} MiB (aliases inside aliases?)", max_json_bytes >> 20));
    switch (n.Type()) {
    case YAML::NodeType::Scalar: write_scalar(out, n); break;
    case YAML::NodeType::Sequence: {
        out.push_back('[');
        bool first = true;
        for (const auto& item : n) {
            if (!first) out.push_back(',');
            first = false;
            write_node(out, item, values, depth + 1);
        }
        out.push_back(']');
        break;
    }
    case YAML::NodeType::Map: {
        out.push_back('{');
        bool first = true;
        for (const auto& kv : n) {
            if (!first) out.push_back(',');
            first = false;
            socketcap::json::write_string(out, kv.first.Scalar());
            out.push_back(':');
            write_node(out, kv.second, values, depth + 1);
        }
        out.push_back('}');
        break;
    }
    default: socketcap::append(out, "null"); break;
    }
}

/// The endpoint config of a Flow catalog's one capture: captures.<name>.endpoint.connector.config,
/// or .local.config for a local connector (docs/flow.md shows both).
YAML::Node catalog_config(const YAML::Node& captures) {
    auto fail = [](const YAML::Node& at, std::string what) { throw YAML::ParserException(at.Mark(), std::move(what)); };
    if (!captures.IsMap() || captures.size() == 0)
        fail(captures, "captures: no capture in the file; looked for captures.<name>.endpoint.connector.config");
    if (captures.size() > 1) {
        std::string names;
        std::size_t listed = 0;
        for (const auto& kv : captures) {
            if (listed++ == 5) {
                names += ", …";
                break;
            }
            names += (names.empty() ? "" : ", ") + kv.first.Scalar();
        }
        fail(captures, fmt::format("captures: the file has {} captures ({}) and source-socket reads one; keep one "
                                   "capture in the file or give its endpoint config alone",
                                   captures.size(), names));
    }
    const auto kv = *captures.begin();
    const std::string name = kv.first.Scalar();
    const YAML::Node capture = kv.second;
    // Const lookups into maps only: yaml-cpp throws on a scalar's subscript and on the type of
    // a missing key's (invalid) node.
    auto child = [](const YAML::Node& n, const char* key) {
        if (!n.IsDefined() || !n.IsMap()) return YAML::Node();
        const YAML::Node c = n[key];
        return c.IsDefined() ? c : YAML::Node();
    };
    for (const char* kind : {"connector", "local"}) {
        const YAML::Node config = child(child(child(capture, "endpoint"), kind), "config");
        if (config.IsMap()) return config;
    }
    fail(capture, fmt::format("captures.{0}: no endpoint config found; looked for captures.{0}.endpoint.connector.config "
                              "and captures.{0}.endpoint.local.config", name));
    return {};
}

} // namespace

std::string yaml_to_json(const std::string& text) {
    YAML::Node root = YAML::Load(text);
    // The spec's examples show `config: {host: …}`, and Flow's catalogs `captures: {name:
    // {endpoint: {connector: {config: …}}}}`: accept those wrappings as well.
    if (root.IsMap() && !root["host"] && root["captures"]) root = catalog_config(root["captures"]);
    else if (root.IsMap() && !root["host"] && root["config"] && root["config"].IsMap()) root = root["config"];
    output_buffer out;
    std::size_t values = 0;
    write_node(out, root, values);
    return std::string(out.data(), out.size());
}

socketcap::flow::parsed<std::string> load_config_file(const std::string& path) {
    socketcap::flow::parsed<std::string> result;
    // A regular file of at most the expanded-JSON limit: a FIFO would block, /dev/zero never ends.
    std::string text, diagnostics;
    if (auto ec = socketcap::read_regular_file(path, max_json_bytes, text, diagnostics)) {
        if (ec == socketcap::error::not_a_regular_file || ec == socketcap::error::file_too_large)
            result.error = fmt::format("config file {}", diagnostics);
        else
            result.error = fmt::format("cannot read config file \"{}\": {}", path, ec.message());
        return result;
    }
    try {
        result.value = yaml_to_json(text);
    } catch (const YAML::Exception& e) {
        result.error = fmt::format("config file \"{}\": line {}, column {}: {}", path, e.mark.line + 1,
                                   e.mark.column + 1, e.msg);
    }
    return result;
}

} // namespace source_socket
