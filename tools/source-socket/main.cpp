// SPDX-License-Identifier: MIT OR Apache-2.0
// source-socket: the Flow capture connector (no arguments) and its command line for humans.
#include "capture.hpp"
#include "config_file.hpp"
#include "log.hpp"
#include "protocol.hpp"

#include <socketcap/flow/response.hpp>
#include <socketcap/flow/shard.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace flow = socketcap::flow;
using namespace source_socket;

constexpr std::string_view usage = R"(source-socket: capture a TCP socket stream into Estuary Flow.

Usage:
  source-socket                      speak the Flow capture protocol on stdin/stdout
  source-socket spec                 print the connector spec (one JSON line)
  source-socket check --config FILE  validate a config file and test the connection
  source-socket capture --config FILE [--max-docs N]
                                     capture and print documents (one JSON per line)
  source-socket key STATE_KEY...     print each binding's place in the key space, which
                                     shard of a split capture dials it: "<hash> <stateKey>"
  source-socket --help | --version

Config files are JSON or YAML with the fields of docs/connector.md (host, port, codec, ...),
or a Flow catalog with one capture (its endpoint's config is used).
Logs go to stderr as JSON lines; LOG_LEVEL=trace|debug|info|warn|error (default info).
)";

int usage_error(std::string_view message) {
    std::fprintf(stderr, "source-socket: %.*s\nTry 'source-socket --help'.\n", int(message.size()), message.data());
    return 2;
}

struct cli_args {
    std::string config;
    std::uint64_t max_docs = 0;
    std::string error;
};

cli_args parse_args(const std::vector<std::string_view>& args, bool allow_max_docs) {
    cli_args a;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size()) {
                a.error = fmt::format("{} needs a value", arg);
                return {};
            }
            return args[++i];
        };
        if (arg == "--config") {
            a.config = value();
        } else if (arg == "--max-docs" && allow_max_docs) {
            std::string_view v = value();
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), a.max_docs);
            if (a.error.empty() && (ec != std::errc{} || p != v.data() + v.size() || a.max_docs == 0))
                a.error = fmt::format("--max-docs: expected a positive integer, got \"{}\"", v);
        } else {
            a.error = fmt::format("unknown argument \"{}\"", arg);
        }
        if (!a.error.empty()) return a;
    }
    if (a.config.empty()) a.error = "--config FILE is required";
    return a;
}

/// Loads and validates a config file; prints the problem for a human.
bool load_config(const std::string& path, flow::endpoint_config& config) {
    auto json = load_config_file(path);
    if (!json) {
        std::fprintf(stderr, "error: %s\n", json.error.c_str());
        return false;
    }
    auto cfg = flow::parse_endpoint_config(json.value);
    if (!cfg) {
        std::fprintf(stderr, "error: %s: %s\n", path.c_str(), cfg.error.c_str());
        return false;
    }
    config = cfg.value;
    return true;
}

int cmd_check(const cli_args& a) {
    flow::endpoint_config config;
    if (!load_config(a.config, config)) return 1;
    std::printf("config OK: %s:%u, codec %s, tls %s\n", config.host.c_str(), unsigned(config.port),
                std::string(flow::to_string(config.codec)).c_str(), config.tls.enabled ? "on" : "off");
    if (auto e = check_tls_support(config); !e.empty()) {
        std::fprintf(stderr, "error: %s\n", e.c_str());
        return 1;
    }
    std::string address;
    if (auto e = check_connection(config, &address); !e.empty()) {
        std::fprintf(stderr, "error: %s\n", e.c_str());
        return 1;
    }
    std::printf("connection OK: connected to %s\n", address.c_str());
    return 0;
}

int cmd_capture(const cli_args& a) {
    capture_options opts;
    if (!load_config(a.config, opts.config)) return 1;
    if (auto e = check_tls_support(opts.config); !e.empty()) {
        log(log_level::error, e);
        return 1;
    }
    opts.flow_protocol = false;
    opts.max_documents = a.max_docs;
    opts.stop_on_stdin_eof = false;
    return run_capture(opts);
}

int run(int argc, char** argv) {
    init_logging();
    if (argc < 2) return run_protocol();
    std::string_view cmd = argv[1];
    std::vector<std::string_view> rest(argv + 2, argv + argc);
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::fwrite(usage.data(), 1, usage.size(), stdout);
        return 0;
    }
    if (cmd == "--version") {
        std::printf("source-socket %s\n", SOCKETCAP_VERSION);
        return 0;
    }
    if (cmd == "spec") {
        if (!rest.empty()) return usage_error("spec takes no arguments");
        socketcap::output_buffer out;
        flow::write_spec(out);
        return write_stdout(socketcap::view(out)) ? 0 : 1;
    }
    if (cmd == "key") {
        if (rest.empty()) return usage_error("key needs at least one STATE_KEY");
        for (auto k : rest) std::printf("%u %.*s\n", unsigned(flow::key_hash(k)), int(k.size()), k.data());
        return 0;
    }
    if (cmd == "check" || cmd == "capture") {
        cli_args a = parse_args(rest, cmd == "capture");
        if (!a.error.empty()) return usage_error(a.error);
        return cmd == "check" ? cmd_check(a) : cmd_capture(a);
    }
    return usage_error(fmt::format("unknown command \"{}\"", cmd));
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        log(log_level::error, fmt::format("internal error: {}", e.what()));
        return 1;
    }
}
