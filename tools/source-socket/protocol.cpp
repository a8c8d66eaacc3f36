// SPDX-License-Identifier: MIT OR Apache-2.0
#include "protocol.hpp"
#include "capture.hpp"
#include "log.hpp"
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/tls.hpp>
#endif

#include <socketcap/flow/response.hpp>
#include <socketcap/flow/shard.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <cerrno>
#include <poll.h>
#include <unistd.h>

namespace source_socket {

namespace flow = socketcap::flow;

namespace {

/// Requests are one JSON line; 64 MiB is the runtime's own message limit (MAX_MESSAGE_SIZE in
/// flow's crates/runtime), far above a config with PEM bundles plus the capture's state.
constexpr std::size_t max_request_bytes = std::size_t(64) << 20;

/// The first non-blank line of stdin (without its newline); EOF ends a last unterminated one.
/// Each byte is scanned once (searching the whole buffer after every 4 KiB read cost 12 s of
/// CPU for a 50 MB line). Fails with `error` set when the line is longer than max_request_bytes.
bool read_request_line(std::string& line, std::string& error) {
    std::string buf;
    std::size_t start = 0;   // where the current line begins (blank lines before it skipped)
    std::size_t scanned = 0; // bytes of buf already searched for a newline
    constexpr std::size_t chunk = 64 * 1024;
    auto is_blank = [&](std::size_t end) {
        return std::string_view(buf).substr(start, end - start).find_first_not_of(" \t\r") == std::string_view::npos;
    };
    auto too_long = [&](std::size_t end) {
        if (end - start <= max_request_bytes) return false;
        error = "request: the first line on stdin is longer than the limit of 64 MiB";
        return true;
    };
    for (;;) {
        for (auto nl = buf.find('\n', scanned); nl != std::string::npos; nl = buf.find('\n', scanned)) {
            scanned = nl + 1;
            if (!is_blank(nl)) {
                if (too_long(nl)) return false;
                buf.resize(nl); // the line is moved out, not copied: it may be 64 MiB
                buf.erase(0, start);
                line = std::move(buf);
                return true;
            }
            start = scanned;
        }
        scanned = buf.size();
        if (too_long(buf.size())) return false;
        if (start == buf.size()) { // only blank lines so far: nothing to keep
            buf.clear();
            start = scanned = 0;
        }
        std::size_t have = buf.size();
        buf.resize(have + chunk);
        ssize_t n = ::read(STDIN_FILENO, buf.data() + have, chunk);
        buf.resize(have + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (is_blank(buf.size())) {
                error = "no request: stdin closed before a request arrived";
                return false;
            }
            buf.erase(0, start);
            line = std::move(buf);
            return true;
        }
    }
}

int fail(std::string_view message) {
    log(log_level::error, message);
    return 1;
}

int respond(const socketcap::output_buffer& out) {
    if (!write_stdout(socketcap::view(out))) return fail("cannot write the response to stdout");
    return 0;
}

} // namespace

bool write_stdout(std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, s.data(), s.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd p{STDOUT_FILENO, POLLOUT, 0};
                ::poll(&p, 1, -1);
                continue;
            }
            return false;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string check_tls_support(const flow::endpoint_config& config) {
    if (!config.tls.enabled) return {};
    if (auto e = flow::check_tls_files(config.tls); !e.empty()) return e;
#if SOCKETCAP_HAS_TLS
    // Loads everything once: bad PEM, a key that does not match its certificate, an encrypted
    // key without its password all fail here, before any connection is tried.
    auto made = socketcap::tls::make_context(config.tls);
    return made.ec ? made.message : std::string{};
#else
    return std::string(flow::no_tls_support_message);
#endif
}

/// A capture's bindings with their endpoints (issue 17): each resource config parsed and
/// merged over the endpoint config. Every problem at once, config first, then each binding.
struct checked_capture {
    std::vector<capture_binding> bindings; // all of open's or validate's, in order
    std::string problems;                  // empty when all is well
};

checked_capture check_capture(const flow::parsed<flow::endpoint_config>& config,
                              const std::vector<flow::binding_request>& bindings) {
    checked_capture c;
    std::vector<std::string> problems;
    if (!config) problems.push_back(config.error);
    for (std::size_t i = 0; i < bindings.size(); ++i) {
        auto rc = flow::parse_resource_config(bindings[i].resource_config);
        if (!rc) {
            problems.push_back(fmt::format("bindings[{}].{}", i, rc.error));
            continue;
        }
        capture_binding b;
        b.index = static_cast<std::uint32_t>(i);
        b.stream = rc.value.stream;
        b.state_key = bindings[i].state_key.empty() ? rc.value.stream : bindings[i].state_key;
        if (config) b.config = flow::endpoint_for(config.value, rc.value, fmt::format("bindings[{}].", i), problems);
        c.bindings.push_back(std::move(b));
    }
    // TLS files and keys are loaded only for a configuration that parsed.
    if (config)
        if (auto e = check_tls_support(config.value); !e.empty()) problems.push_back(std::move(e));
    c.problems = flow::join_problems(problems);
    return c;
}

/// Tries each distinct endpoint once; a binding with an endpoint of its own is named. The
/// checks run at once, at most max_parallel_checks at a time: each may wait out its
/// connection_timeout, and a capture of many endpoints must validate in the time of its slowest
/// few, not of their sum. Through an SSH tunnel (a process per check) they go one at a time.
std::string check_endpoints(const flow::endpoint_config& base, const std::vector<capture_binding>& bindings,
                            std::string& address) {
    constexpr std::size_t max_parallel_checks = 64;
    struct check {
        const capture_binding* binding;
        std::string error;
        std::string where;
    };
    std::vector<check> checks;
    bool tunnel = false;
    for (const auto& b : bindings) {
        auto same = [&](const check& c) { return c.binding->config.host == b.config.host && c.binding->config.port == b.config.port; };
        if (std::none_of(checks.begin(), checks.end(), same)) checks.push_back({&b, {}, {}});
        tunnel = tunnel || b.config.ssh_forwarding.has_value();
    }
    std::atomic<std::size_t> next{0};
    std::mutex failed_mutex;
    std::exception_ptr failed; // bad_alloc in a check: rethrown here, as without threads
    auto work = [&] {
        try {
            for (std::size_t i; (i = next.fetch_add(1)) < checks.size();)
                checks[i].error = check_connection(checks[i].binding->config, &checks[i].where);
        } catch (...) {
            std::lock_guard lock(failed_mutex);
            failed = std::current_exception();
        }
    };
    auto helper = [&] {
        work();
#if SOCKETCAP_HAS_TLS
        socketcap::tls::release_thread_state();
#endif
    };
    std::vector<std::thread> helpers(tunnel || checks.empty() ? 0 : std::min(max_parallel_checks, checks.size()) - 1);
    for (auto& t : helpers) t = std::thread(helper);
    work();
    for (auto& t : helpers) t.join();
    if (failed) std::rethrow_exception(failed);

    std::vector<std::string> problems;
    for (const auto& c : checks) {
        const auto& b = *c.binding;
        if (!c.error.empty()) {
            bool own = b.config.host != base.host || b.config.port != base.port;
            problems.push_back(own ? fmt::format("bindings[{}] ({}): {}", b.index, b.stream, c.error) : c.error);
        } else if (address.empty()) {
            address = c.where;
        }
    }
    return flow::join_problems(problems);
}

int run_protocol() {
    std::string line, error;
    if (!read_request_line(line, error)) return fail(error);
    auto req = flow::parse_request(line);
    if (!req) return fail(req.error);
    const flow::request& r = req.value;
    log(log_level::debug, "request", {{"type", flow::to_string(r.kind)}});

    socketcap::output_buffer out;
    switch (r.kind) {
    case flow::request_kind::spec:
        flow::write_spec(out);
        return respond(out);
    case flow::request_kind::apply:
        flow::write_applied(out);
        return respond(out);
    case flow::request_kind::acknowledge:
        return fail("acknowledge: unexpected before open");
    case flow::request_kind::discover: {
        auto cfg = flow::parse_endpoint_config(r.config);
        if (!cfg) return fail(cfg.error);
        const auto& pos = cfg.value.conversation.position;
        flow::write_discovered(out, cfg.value.codec,
                               pos.source == socketcap::position_source::none ? flow::document_positions::none
                               : pos.is_string                                ? flow::document_positions::string
                                                                              : flow::document_positions::integer);
        return respond(out);
    }
    case flow::request_kind::validate: {
        auto cfg = flow::parse_endpoint_config(r.config);
        auto checked = check_capture(cfg, r.bindings);
        if (!checked.problems.empty()) return fail(checked.problems);
        std::vector<capture_binding> dial = checked.bindings;
        if (dial.empty()) dial.push_back({0, "", "", cfg.value, {}}); // still check the endpoint
        std::string address;
        if (auto e = check_endpoints(cfg.value, dial, address); !e.empty()) return fail(e);
        log(log_level::info, "connection check passed", {{"address", address}});
        std::vector<std::string> streams;
        for (const auto& b : checked.bindings) streams.push_back(b.stream);
        flow::write_validated(out, streams);
        return respond(out);
    }
    case flow::request_kind::open: {
        auto cfg = flow::parse_endpoint_config(r.config);
        auto checked = check_capture(cfg, r.bindings);
        if (!checked.problems.empty()) return fail(checked.problems);
        if (checked.bindings.empty()) return fail("bindings: the capture has no bindings");
        capture_options opts;
        opts.config = cfg.value;
        const bool many = checked.bindings.size() > 1;
        for (auto& b : checked.bindings) {
            // A split capture: this shard dials the bindings whose stateKey hashes into its range.
            if (!flow::owns(r.range, b.state_key)) continue;
            b.initial = flow::parse_binding_state(r.state, b.state_key);
            const auto& st = b.initial;
            if (many)
                log(log_level::info, "capture started",
                    {{"eventType", "connectorStatus"}, {"binding", b.index}, {"stream", b.stream},
                     {"host", b.config.host}, {"port", b.config.port}, {"codec", flow::to_string(b.config.codec)},
                     {"state_key", b.state_key}, {"previous_session_id", st.session_id},
                     {"previous_sequence", st.sequence}, {"documents", st.documents}, {"bytes", st.bytes}});
            else
                log(log_level::info, "capture started",
                    {{"eventType", "connectorStatus"}, {"host", b.config.host}, {"port", b.config.port},
                     {"codec", flow::to_string(b.config.codec)}, {"state_key", b.state_key},
                     {"previous_session_id", st.session_id}, {"previous_sequence", st.sequence},
                     {"documents", st.documents}, {"bytes", st.bytes}});
            opts.bindings.push_back(std::move(b));
        }
        if (opts.bindings.empty()) // idle, not gone: exiting would make Flow restart the shard in a loop
            log(log_level::info, "this shard owns no endpoint",
                {{"eventType", "connectorStatus"}, {"key_begin", r.range.key_begin}, {"key_end", r.range.key_end},
                 {"bindings", checked.bindings.size()}});
        // Resuming needs positions in the state, acking needs to know what was committed.
        const auto& conv = opts.config.conversation;
        opts.explicit_acknowledgements = conv.position.source != socketcap::position_source::none || conv.ack.has_value();
        flow::write_opened(out, opts.explicit_acknowledgements);
        if (!write_stdout(socketcap::view(out))) return fail("cannot write the response to stdout");
        return run_capture(opts);
    }
    }
    return fail("unreachable request type");
}

} // namespace source_socket
