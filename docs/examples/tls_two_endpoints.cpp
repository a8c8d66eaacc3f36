// SPDX-License-Identifier: MIT OR Apache-2.0
// Another tool on socketcap alone: two TLS feeds captured into one stdout, each reconnecting
// with exponential backoff, through a codec of its own ("key=value" lines).
// Usage: tls_two_endpoints CA_FILE PORT_A PORT_B SESSIONS  (stops once each feed ended SESSIONS
// connections). docs/library.md shows this file; the suite runs it against loopback servers.
#include <socketcap/io/capture_engine.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/tls/connector.hpp>

#include <asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

using namespace socketcap;
using namespace std::chrono_literals;

struct key_value_codec { // "temp=21.5" -> "data":{"key":"temp","value":"21.5"}
    using default_framer = line_framer;
    encode_result encode(const frame& f, output_buffer& out) const {
        auto eq = f.payload.find('=');
        append(out, R"("data":{"key":)");
        json::write_string(out, f.payload.substr(0, eq));
        append(out, R"(,"value":)");
        json::write_string(out, eq == std::string_view::npos ? "" : f.payload.substr(eq + 1));
        append(out, "}");
        return encode_result::document;
    }
    void reset() noexcept {}
};

using engine_type = capture_engine<tls::tls_connector, key_value_codec, exponential_backoff<>>;

struct stop_after_sessions { // the observer: reports failures, stops when both feeds are done
    engine_type* engine;
    int wanted, ended[2] = {0, 0};
    void on_event(const capture_event& e) {
        if (e.kind == capture_event_kind::connect_failed)
            std::fprintf(stderr, "%.*s\n", int(e.reason.size()), e.reason.data());
        if (e.kind == capture_event_kind::disconnected && ++ended[e.endpoint] == wanted && ended[1 - e.endpoint] >= wanted)
            engine->stop();
    }
};

int main(int argc, char** argv) {
    if (argc != 5) return 2;
    tls::client_options tls_options;
    tls_options.ca_cert = argv[1];
    tls_options.server_hostname = "localhost"; // the certificate's name; we dial 127.0.0.1
    auto made = tls::make_context(tls_options);
    if (made.ec) return std::fprintf(stderr, "%s\n", made.message.c_str()), 1;

    std::vector<engine_type::endpoint_type> endpoints;
    for (const char* arg : {argv[2], argv[3]}) {
        auto port = static_cast<std::uint16_t>(std::atoi(arg));
        endpoints.emplace_back(tls::tls_connector("127.0.0.1", port, 5s, made.context, tls_options),
                               exponential_backoff<>(100ms, 2s, /*max_attempts=*/10));
        endpoints.back().session.source_host = "127.0.0.1";
        endpoints.back().session.source_port = port;
    }
    asio::io_context ctx;
    engine_type engine(ctx.get_executor(), std::move(endpoints));
    fd_sink out(ctx, ::dup(STDOUT_FILENO));
    stop_after_sessions observer{&engine, std::atoi(argv[4])};
    diagnostics diag;
    int rc = 0;
    engine.async_run(out, observer, diag, [&](std::error_code ec) {
        if (ec) rc = 1, std::fprintf(stderr, "%s\n", diag.message().c_str());
    });
    ctx.run();
    return rc;
}
