// SPDX-License-Identifier: MIT OR Apache-2.0
// TLS row of the benchmark, until TLS is wired into the connector: the library path the
// connector will use (session<tls_transport, line_codec> writing Flow lines into a counting
// sink, with the connector's checkpoint lines) against a read-only wolfSSL client (the same
// socketcap::tls context and handshake, then 64 KiB async_read_some until the end). Both in one
// process, one after the other, against a TLS server on 127.0.0.1:PORT that serves the payload
// to every connection (bench/run uses `socat OPENSSL-LISTEN:PORT,fork OPEN:payload`).
//
// The negotiated suite comes from the server (bench/run restricts it per row); the first line
// says which wolfSSL this binary links and what the CPU offers, so rows of two builds
// (-Dwolfssl_prefix, docs/tls.md) can be told apart.
//
//   tls_bench --port P --ca CERT [--repeats 5] [--expect-bytes N]
#include "stats.hpp"

#include <socketcap/tls/connector.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/text_codec.hpp>
#include <socketcap/tls/tls.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace tls = socketcap::tls;
using socketcap::bench::fmt3;
using socketcap::bench::self_cpu;
using socketcap::bench::stat3;
using socketcap::bench::summarize;
using asio::experimental::as_tuple;
using asio::use_awaitable;

/// Discards what is written and counts bytes: the cost of stdout is the end-to-end benchmark's
/// business, this one isolates decryption plus the pipeline. (It must stay near free: counting
/// newlines here with std::count took 20% of the profile.)
class counting_sink {
public:
    using executor_type = asio::any_io_executor;
    explicit counting_sink(executor_type ex) : ex_(std::move(ex)) {}
    executor_type get_executor() const noexcept { return ex_; }

    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer buf) {
                bytes += buf.size();
                auto ex = asio::get_associated_executor(handler, ex_);
                asio::post(ex, [h = std::move(handler), n = buf.size()]() mutable { h(std::error_code{}, n); });
            },
            token, b);
    }

    std::uint64_t bytes = 0;

private:
    executor_type ex_;
};

struct outcome {
    double wall = 0, cpu = 0;
    std::uint64_t in_bytes = 0, out_bytes = 0, documents = 0, checkpoints = 0;
    std::string cipher, error;
};

asio::awaitable<outcome> one_run(asio::io_context& ctx, const tls::client_options& co,
                                 std::shared_ptr<asio::ssl::context> sslctx, std::uint16_t port, bool through_session) {
    outcome o;
    tls::tls_connector connector("127.0.0.1", port, std::chrono::seconds(10), sslctx, co);
    auto transport = connector.make_transport(ctx.get_executor());
    auto& stream = *transport;
    socketcap::connection_info info;
    socketcap::diagnostics diag;
    auto [ec] = co_await connector.async_connect(stream, info, diag, asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) {
        o.error = "connect: " + diag.message();
        co_return o;
    }
    o.cipher = info.tls_version + " " + info.tls_cipher;
    if (through_session) {
        socketcap::session_options so;
        so.source_host = "127.0.0.1";
        so.source_port = port;
        so.document_prefix = socketcap::flow::captured_prefix;
        so.document_suffix = socketcap::flow::captured_suffix;
        so.write_checkpoint = [](socketcap::output_buffer& out, const socketcap::session_progress& p) {
            socketcap::flow::write_checkpoint(out, "bench.v1",
                                              {std::string(p.session_id), p.sequence, p.bytes, p.documents});
        };
        counting_sink sink(ctx.get_executor());
        socketcap::session<tls::tls_transport, socketcap::line_codec> s(stream, socketcap::line_codec{}, std::move(so));
        auto r = co_await s.run(sink);
        o.in_bytes = r.bytes;
        o.documents = r.documents;
        o.checkpoints = r.checkpoints; // one per read that produced documents
        o.out_bytes = sink.bytes;
    } else {
        std::vector<char> buf(65536);
        for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
            o.in_bytes += n;
            if (ec) break; // eof (close_notify) or stream_truncated: the end either way
        }
    }
    co_return o;
}

/// "5.5.4 aesni+intelasm (cpu: aes pclmul avx2), offers AES-GCM first": which wolfSSL this is,
/// what the CPU offers its assembly (wolfSSL chooses at run time from CPUID), and the client's
/// preferred AEAD (what a server honouring the client's order negotiates).
std::string wolfssl_build() {
#if defined(WOLFSSL_AESNI) && defined(USE_INTEL_SPEEDUP)
    std::string s = "aesni+intelasm";
#elif defined(WOLFSSL_AESNI)
    std::string s = "aesni";
#else
    std::string s = "generic";
#endif
    std::string cpu;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("aes")) cpu += " aes";
    if (__builtin_cpu_supports("pclmul")) cpu += " pclmul";
    if (__builtin_cpu_supports("avx2")) cpu += " avx2";
    return fmt::format("{} {} (cpu:{}), offers {} first", wolfSSL_lib_version(), s,
                       cpu.empty() ? " none of aes pclmul avx2" : cpu, tls::prefers_aes_gcm() ? "AES-GCM" : "ChaCha20");
}

outcome measure(const tls::client_options& co, std::shared_ptr<asio::ssl::context> sslctx, std::uint16_t port,
                bool through_session) {
    asio::io_context ctx{1};
    outcome o;
    double cpu0 = self_cpu();
    auto t0 = std::chrono::steady_clock::now();
    asio::co_spawn(ctx, one_run(ctx, co, sslctx, port, through_session), [&](std::exception_ptr e, outcome r) {
        if (e) std::rethrow_exception(e);
        o = std::move(r);
    });
    ctx.run();
    o.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    o.cpu = self_cpu() - cpu0;
    return o;
}

} // namespace

int main(int argc, char** argv) {
    std::uint16_t port = 0;
    int repeats = 5;
    std::uint64_t expect = 0;
    tls::client_options co;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--port") port = std::uint16_t(std::atoi(argv[i + 1]));
        else if (a == "--ca") co.ca_cert = argv[i + 1];
        else if (a == "--repeats") repeats = std::max(1, std::atoi(argv[i + 1]));
        else if (a == "--expect-bytes") expect = std::strtoull(argv[i + 1], nullptr, 10);
    }
    if (port == 0 || co.ca_cert.empty()) {
        fmt::print(stderr, "usage: tls_bench --port P --ca CERT [--repeats N] [--expect-bytes N]\n");
        return 2;
    }
    auto cr = tls::make_context(co);
    if (!cr.context) {
        fmt::print(stderr, "tls_bench: {}\n", cr.message);
        return 1;
    }
    const std::string build = wolfssl_build();
    std::vector<double> floor_wall, floor_cpu, floor_mbps, lib_wall, lib_cpu, lib_mbps, lib_dps, ratio;
    outcome last;
    for (int rep = 0; rep < repeats; ++rep) {
        auto fl = measure(co, cr.context, port, false);
        auto lib = measure(co, cr.context, port, true);
        for (auto* o : {&fl, &lib})
            if (!o->error.empty() || (expect != 0 && o->in_bytes != expect)) {
                fmt::print(stderr, "tls_bench: {} (read {} of {} bytes)\n", o->error, o->in_bytes, expect);
                return 1;
            }
        floor_wall.push_back(fl.wall);
        floor_cpu.push_back(fl.cpu);
        floor_mbps.push_back(double(fl.in_bytes) / fl.wall / 1e6);
        lib_wall.push_back(lib.wall);
        lib_cpu.push_back(lib.cpu);
        lib_mbps.push_back(double(lib.in_bytes) / lib.wall / 1e6);
        lib_dps.push_back(double(lib.documents) / lib.wall / 1e6);
        ratio.push_back(fl.wall / lib.wall); // library throughput as a fraction of the floor's
        last = lib;
    }
    fmt::print("\n## line over TLS ({}), library path, {} repeats: median [min-max]\n", last.cipher, repeats);
    fmt::print("  wolfSSL {}\n", build);
    fmt::print("  documents {}  checkpoints {}  input {:.1f} MB  output {:.1f} MB\n", last.documents,
               last.checkpoints, double(last.in_bytes) / 1e6, double(last.out_bytes) / 1e6);
    fmt::print("  session<tls_transport,line_codec> wall s {}  CPU s {}  M docs/s {}  MB/s in {}\n",
               fmt3(summarize(lib_wall), 3), fmt3(summarize(lib_cpu), 3), fmt3(summarize(lib_dps), 2),
               fmt3(summarize(lib_mbps), 0));
    // MB per CPU second: what the client's decryption path costs by itself; its wall MB/s is
    // bounded by the server when both share the cores.
    fmt::print("  read-only wolfSSL client wall s {}  CPU s {}  MB/s in {}  MB per CPU s {:.0f}\n",
               fmt3(summarize(floor_wall), 3), fmt3(summarize(floor_cpu), 3), fmt3(summarize(floor_mbps), 0),
               double(last.in_bytes) / summarize(floor_cpu).med / 1e6);
    fmt::print("  library/floor throughput {}\n", fmt3(summarize(ratio), 2));
    fmt::print("RESULT tls wolfssl=\"{}\" cipher=\"{}\" docs={} lib_wall={:.4f} lib_mdocs_s={:.3f} lib_mb_s={:.1f} lib_cpu={:.4f} floor_wall={:.4f} "
               "floor_cpu={:.4f} floor_mb_s={:.1f} floor_mb_cpu_s={:.0f} fraction_of_floor={:.2f}\n",
               build, last.cipher, last.documents, summarize(lib_wall).med, summarize(lib_dps).med, summarize(lib_mbps).med,
               summarize(lib_cpu).med, summarize(floor_wall).med, summarize(floor_cpu).med, summarize(floor_mbps).med,
               double(last.in_bytes) / summarize(floor_cpu).med / 1e6, summarize(ratio).med);
}
