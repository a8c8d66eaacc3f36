// SPDX-License-Identifier: MIT OR Apache-2.0
// What an idle connection costs (docs/performance.md, "Cost per connection"). A server (a child
// process) accepts N loopback connections, sends each one short line (or what --line-bytes and
// --lines say) and then stays silent. The client (another child) runs them through the library
// and reports the resident memory they added, divided by N, once every line has arrived and
// every connection waits for more. Each measurement is a fresh client process, so memory freed
// by an earlier run cannot hide the growth of the next.
//
//   idle_connections [--connections 1000,5000] [--mode engine|session|socket] [--tls]
//                    [--repeats 3] [--codec line|json] [--read-size B] [--max-frame-bytes B]
//                    [--line-bytes B] [--lines K] [--rate R [--seconds S]]
//
// --rate R: after the first lines, the server sends every connection one more line R times a
// second (connections staggered) for S seconds (default 10), and the client reports its CPU
// time per line in that phase and its memory at its end: the cost of connections that are
// mostly idle but not silent (1,000 x 100 lines/s is issue 17's figure).
//
// Modes, from most to least of the library:
//   engine   one capture_engine with N endpoints (tcp_connector or tls_connector, text codec over
//            any_framer as in the connector, Flow-like prefix and a checkpoint line per read);
//   session  N connections made with the connector, each read by a session<…> into a discarding sink;
//   socket   N connections made with the connector, their line read once into a 512-byte array,
//            nothing pending: what the transport (Asio socket, TLS stream) costs by itself.
//
// Memory: VmRSS and RssAnon from /proc/self/status, and the bytes malloc has handed out
// (mallinfo2: in use + mmapped), before the connections and after the lines arrived plus a
// settling pause (200 ms); then VmRSS again after malloc_trim(0), which returns the free pages
// glibc keeps for reuse (after a burst on every connection at once, RSS is the burst's peak).
// Kernel socket buffers are not in RSS; /proc/net/sockstat's TCP pages (both ends, the whole
// machine) are printed beside.
#include "stats.hpp"

#include <socketcap/any_framer.hpp>
#include <socketcap/io/capture_engine.hpp>
#include <socketcap/io/connector.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/reconnect_policy.hpp>
#include <socketcap/text_codec.hpp>
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/connector.hpp>
#include <socketcap/tls/tls.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using asio::experimental::as_tuple;
using asio::ip::tcp;
using asio::use_awaitable;
using namespace std::chrono_literals;

struct config {
    std::vector<std::size_t> connections{1000, 5000};
    std::string mode = "engine";
    bool tls = false;
    int repeats = 3;
    std::string codec = "line";
    std::size_t read_size = socketcap::pipeline_options{}.read_size;
    std::size_t max_frame_bytes = socketcap::pipeline_options{}.max_frame_bytes;
    std::size_t line_bytes = 32; ///< each line, its newline included
    std::size_t lines = 1;       ///< lines per connection
    double rate = 0;             ///< lines per second per connection after the first ones
    double seconds = 10;         ///< how long they come
    std::string cert, key;       ///< TLS: the server's certificate and key (made when empty)
};

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::string payload(const config& c) {
    std::string line(c.line_bytes > 1 ? c.line_bytes - 1 : 0, 'x');
    const char* hello = c.codec == "json" ? R"({"hello":"idle connection"})" : "hello from an idle connection";
    if (c.codec == "json" && line.size() >= std::strlen(hello)) {
        line.replace(0, std::strlen(hello), hello);
        line[std::strlen(hello) - 1] = ' ';
        line.back() = '}';
    } else if (line.size() >= std::strlen(hello)) {
        line.replace(0, std::strlen(hello), hello);
    }
    line += '\n';
    std::string all;
    for (std::size_t i = 0; i < c.lines; ++i) all += line;
    return all;
}

// ---------------------------------------------------------------------------------------------
// The server: accepts, (handshakes,) writes the payload, keeps every connection open and silent.

/// Writes `data`, then with a rate one line per period (from a staggered start) for ever.
template <class Stream>
asio::awaitable<void> feed(Stream& st, const std::string& data, const config& c, std::size_t index) {
    auto [ec, n] = co_await asio::async_write(st, asio::buffer(data), as_tuple(use_awaitable));
    if (ec || c.rate <= 0) co_return;
    const std::string line = data.substr(0, data.find('\n') + 1);
    const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(1.0 / c.rate));
    double phase = static_cast<double>(index) * 0.6180339887;
    phase -= static_cast<double>(static_cast<std::uint64_t>(phase));
    asio::steady_timer timer(st.get_executor());
    auto next = std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(phase * period);
    for (;;) {
        timer.expires_at(next);
        co_await timer.async_wait(as_tuple(use_awaitable));
        auto [wec, wn] = co_await asio::async_write(st, asio::buffer(line), as_tuple(use_awaitable));
        if (wec) co_return;
        next += period;
    }
}

asio::awaitable<void> serve_one(tcp::socket s, void* tls_ctx, const std::string& data, const config& c,
                                std::size_t index, std::vector<std::shared_ptr<void>>& keep) {
#if SOCKETCAP_HAS_TLS
    if (tls_ctx) {
        auto st = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(s), *static_cast<asio::ssl::context*>(tls_ctx));
        keep.push_back(st);
        auto [ec] = co_await st->async_handshake(asio::ssl::stream_base::server, as_tuple(use_awaitable));
        if (ec) co_return;
        co_await feed(*st, data, c, index);
        co_return;
    }
#else
    (void)tls_ctx;
#endif
    auto sp = std::make_shared<tcp::socket>(std::move(s));
    keep.push_back(sp);
    co_await feed(*sp, data, c, index);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acc, void* tls_ctx, const std::string& data, const config& c,
                                  std::vector<std::shared_ptr<void>>& keep) {
    for (std::size_t index = 0;; ++index) {
        auto [ec, s] = co_await acc.async_accept(as_tuple(use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            continue; // EMFILE and the like: the client will notice the missing line
        }
        asio::co_spawn(acc.get_executor(), serve_one(std::move(s), tls_ctx, data, c, index, keep), asio::detached);
    }
}

[[noreturn]] void run_server(int port_fd, const config& c) {
    raise_fd_limit();
    asio::io_context io{1};
    tcp::acceptor acc(io);
    acc.open(tcp::v4());
    acc.set_option(tcp::acceptor::reuse_address(true));
    acc.bind({asio::ip::make_address("127.0.0.1"), 0});
    acc.listen(4096);
    std::uint16_t port = acc.local_endpoint().port();
    if (::write(port_fd, &port, sizeof port) != sizeof port) ::_exit(1);
    ::close(port_fd);
    void* tls_ctx = nullptr;
#if SOCKETCAP_HAS_TLS
    std::optional<asio::ssl::context> ctx;
    if (c.tls) {
        ctx.emplace(asio::ssl::context::tls_server);
        ctx->use_certificate_chain_file(c.cert);
        ctx->use_private_key_file(c.key, asio::ssl::context::pem);
        tls_ctx = &*ctx;
    }
#endif
    const std::string data = payload(c);
    std::vector<std::shared_ptr<void>> keep;
    asio::co_spawn(io, accept_loop(acc, tls_ctx, data, c, keep), asio::detached);
    io.run();
    ::_exit(0);
}

// ---------------------------------------------------------------------------------------------
// The client.

struct memory {
    double rss_kib = 0, anon_kib = 0, heap_kib = 0, tcp_kib = 0;
    double trimmed_rss_kib = 0; ///< after malloc_trim(0): what the allocator kept but nothing uses
};

memory sample() {
    memory m;
    std::ifstream status("/proc/self/status");
    std::string key;
    double v = 0;
    std::string unit;
    while (status >> key) {
        if (key == "VmRSS:" && status >> v >> unit) m.rss_kib = v;
        else if (key == "RssAnon:" && status >> v >> unit) m.anon_kib = v;
    }
    struct mallinfo2 mi = ::mallinfo2();
    m.heap_kib = double(mi.uordblks + mi.hblkhd) / 1024.0;
    std::ifstream sockstat("/proc/net/sockstat");
    std::string line;
    while (std::getline(sockstat, line)) {
        if (line.rfind("TCP:", 0) != 0) continue;
        auto at = line.find(" mem ");
        if (at != std::string::npos) m.tcp_kib = std::strtod(line.c_str() + at + 5, nullptr) * double(::getpagesize()) / 1024.0;
    }
    return m;
}

/// Discards what is written (its completion goes through the executor, like a real sink's).
class discard_sink {
public:
    using executor_type = asio::any_io_executor;
    explicit discard_sink(executor_type ex) : ex_(std::move(ex)) {}
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
    memory before, after;
    double seconds = 0; ///< from the first connect to the last line
    std::uint64_t documents = 0;
    double trickle_cpu = 0;            ///< --rate: CPU seconds of the trickle phase
    std::uint64_t trickle_lines = 0;   ///< --rate: lines that arrived in it
    double trickle_seconds = 0;
    std::string error;
};

template <class Codec>
socketcap::session_options session_opts(const config& c, std::uint16_t port) {
    socketcap::session_options so;
    so.source_host = "127.0.0.1";
    so.source_port = port;
    so.document_prefix = R"({"captured":{"binding":0,"doc":)";
    so.document_suffix = "}}\n";
    so.pipeline.read_size = c.read_size;
    so.pipeline.max_frame_bytes = c.max_frame_bytes;
    return so;
}

/// Runs the io_context until `arrived()` reaches `want`, lets it settle (with a rate: lets the
/// lines trickle for c.seconds), samples memory, then calls `stop` and runs until the work is done.
outcome drive(const config& c, asio::io_context& io, std::uint64_t want,
              const std::function<std::uint64_t()>& arrived, const std::function<void()>& stop, outcome o) {
    auto t0 = std::chrono::steady_clock::now();
    asio::steady_timer tick(io);
    bool settled = false, stopped = false;
    double cpu0 = 0;
    std::uint64_t got0 = 0;
    std::chrono::steady_clock::time_point trickle0;
    std::function<void(std::error_code)> poll = [&](std::error_code) {
        if (stopped) return;
        auto got = arrived();
        if (got >= want && !settled) {
            o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            settled = true;
            cpu0 = socketcap::bench::self_cpu();
            got0 = got;
            trickle0 = std::chrono::steady_clock::now();
            // Every session back to waiting for more, or the trickle phase.
            tick.expires_after(c.rate > 0 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::chrono::duration<double>(c.seconds))
                                          : std::chrono::steady_clock::duration(200ms));
            return tick.async_wait(poll);
        }
        if (settled) {
            if (c.rate > 0) {
                o.trickle_cpu = socketcap::bench::self_cpu() - cpu0;
                o.trickle_lines = got - got0;
                o.trickle_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - trickle0).count();
            }
            o.documents = got;
            o.after = sample();
            ::malloc_trim(0);
            o.after.trimmed_rss_kib = sample().rss_kib;
            stopped = true;
            return stop();
        }
        if (std::chrono::steady_clock::now() - t0 > 120s) {
            o.documents = got;
            o.error = fmt::format("timed out: {} of {} lines after 120 s", got, want);
            stopped = true;
            return stop();
        }
        tick.expires_after(10ms);
        tick.async_wait(poll);
    };
    tick.expires_after(10ms);
    tick.async_wait(poll);
    io.run();
    return o;
}

template <class Connector, class Codec>
outcome measure_with(const config& c, std::size_t n, const std::function<Connector()>& make_connector) {
    using socketcap::any_framer;
    asio::io_context io{1};
    auto ex = io.get_executor();
    const std::uint64_t want_docs = n * c.lines;
    outcome o;
    o.before = sample();

    if (c.mode == "engine") {
        using engine_type = socketcap::capture_engine<Connector, Codec, socketcap::fixed_delay,
                                                      socketcap::checkpoint_per_read, asio::steady_timer, any_framer>;
        std::vector<typename engine_type::endpoint_type> eps;
        eps.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            typename engine_type::endpoint_type ep{make_connector(), socketcap::fixed_delay(1s)};
            ep.session = session_opts<Codec>(c, ep.connector.port());
            ep.make_framer = [max = c.max_frame_bytes] { return any_framer(socketcap::framing_options{}, max); };
            ep.write_checkpoint = [](socketcap::output_buffer& out, const socketcap::session_progress& p,
                                     const socketcap::capture_totals& before) {
                fmt::format_to(std::back_inserter(out), R"({{"checkpoint":{{"bytes":{},"documents":{}}}}})" "\n",
                               before.bytes + p.bytes, before.documents + p.documents);
            };
            eps.push_back(std::move(ep));
        }
        engine_type engine(ex, std::move(eps));
        discard_sink sink(ex);
        socketcap::null_capture_observer observer;
        socketcap::diagnostics diag;
        engine.async_run(sink, observer, diag, [](std::error_code) {});
        return drive(
            c, io, want_docs, [&] { return engine.stats().totals.documents; }, [&] { engine.stop(); }, o);
    }

    using transport_type = typename Connector::transport_type;
    struct conn {
        std::unique_ptr<transport_type> t;
        std::unique_ptr<socketcap::session<transport_type, Codec, socketcap::checkpoint_per_read,
                                           asio::steady_timer, any_framer>>
            s;
    };
    std::vector<conn> conns(n);
    std::uint64_t socket_lines = 0;
    std::size_t running = n;
    discard_sink sink(ex);
    for (std::size_t i = 0; i < n; ++i) {
        asio::co_spawn(
            ex,
            [&, i]() -> asio::awaitable<void> {
                Connector connector = make_connector();
                auto& k = conns[i];
                k.t = connector.make_transport(ex);
                socketcap::connection_info info;
                socketcap::diagnostics diag;
                auto [ec] = co_await connector.async_connect(*k.t, info, diag, as_tuple(use_awaitable));
                if (ec) co_return;
                if (c.mode == "session") {
                    k.s = std::make_unique<typename decltype(k.s)::element_type>(
                        *k.t, Codec{}, any_framer(socketcap::framing_options{}, c.max_frame_bytes),
                        session_opts<Codec>(c, connector.port()));
                    co_await k.s->run(sink);
                } else {
                    for (;;) { // counts line ends, and keeps reading (with a rate, lines keep coming)
                        std::array<char, 512> buf;
                        auto [rec, m] = co_await k.t->async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
                        if (rec) co_return;
                        socket_lines += static_cast<std::uint64_t>(std::count(buf.begin(), buf.begin() + m, '\n'));
                    }
                }
            },
            [&](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
                --running;
            });
    }
    auto arrived = [&]() -> std::uint64_t {
        if (c.mode != "session") return socket_lines;
        std::uint64_t d = 0;
        for (auto& k : conns)
            if (k.s) d += k.s->get_pipeline().stats().documents;
        return d;
    };
    auto stop = [&] {
        for (auto& k : conns) {
            if (k.s) k.s->stop();
            else if (k.t) {
                std::error_code ignored;
                k.t->lowest_layer().close(ignored);
            }
        }
    };
    return drive(c, io, want_docs, arrived, stop, o);
}

template <class Codec>
outcome measure(const config& c, std::size_t n, std::uint16_t port) {
    if (!c.tls)
        return measure_with<socketcap::tcp_connector, Codec>(
            c, n, [port] { return socketcap::tcp_connector("127.0.0.1", port, 30s); });
#if SOCKETCAP_HAS_TLS
    socketcap::tls::client_options co;
    co.ca_cert = c.cert;
    auto made = socketcap::tls::make_context(co);
    if (!made.context) {
        outcome o;
        o.error = made.message;
        return o;
    }
    auto ctx = made.context;
    return measure_with<socketcap::tls::tls_connector, Codec>(
        c, n, [&] { return socketcap::tls::tls_connector("127.0.0.1", port, 30s, ctx, co); });
#else
    outcome o;
    o.error = "built without TLS";
    return o;
#endif
}

[[noreturn]] void run_client(int result_fd, const config& c, std::size_t n, std::uint16_t port) {
    raise_fd_limit();
    outcome o = c.codec == "json" ? measure<socketcap::json_codec>(c, n, port) : measure<socketcap::text_codec>(c, n, port);
    auto line = fmt::format("{} {} {} {} {} {} {} {} {} {} {:.3f} {:.4f} {} {:.3f} {}\n", n, o.documents,
                            o.before.rss_kib, o.after.rss_kib, o.after.trimmed_rss_kib, o.before.anon_kib,
                            o.after.anon_kib, o.before.heap_kib, o.after.heap_kib, o.after.tcp_kib - o.before.tcp_kib,
                            o.seconds, o.trickle_cpu, o.trickle_lines, o.trickle_seconds,
                            o.error.empty() ? "-" : o.error);
    if (::write(result_fd, line.data(), line.size()) < 0) ::_exit(1);
    ::_exit(o.error.empty() ? 0 : 1);
}

struct row {
    std::size_t n = 0;
    std::uint64_t documents = 0;
    double rss0 = 0, rss1 = 0, trimmed = 0, anon0 = 0, anon1 = 0, heap0 = 0, heap1 = 0, tcp = 0, seconds = 0;
    double trickle_cpu = 0, trickle_seconds = 0;
    std::uint64_t trickle_lines = 0;
    std::string error;
};

std::optional<row> one_measurement(const config& c, std::size_t n) {
    int port_pipe[2], result_pipe[2];
    if (::pipe(port_pipe) != 0) return std::nullopt;
    std::fflush(nullptr);
    pid_t server = ::fork();
    if (server == 0) {
        ::close(port_pipe[0]);
        run_server(port_pipe[1], c);
    }
    ::close(port_pipe[1]);
    std::uint16_t port = 0;
    if (::read(port_pipe[0], &port, sizeof port) != sizeof port) return std::nullopt;
    ::close(port_pipe[0]);
    if (::pipe(result_pipe) != 0) return std::nullopt; // after the server's fork: it must not hold the write end
    pid_t client = ::fork();
    if (client == 0) {
        ::close(result_pipe[0]);
        run_client(result_pipe[1], c, n, port);
    }
    ::close(result_pipe[1]);
    std::string text;
    char buf[512];
    for (ssize_t k; (k = ::read(result_pipe[0], buf, sizeof buf)) > 0;) text.append(buf, std::size_t(k));
    ::close(result_pipe[0]);
    int st = 0;
    ::waitpid(client, &st, 0);
    ::kill(server, SIGKILL);
    ::waitpid(server, nullptr, 0);
    std::istringstream in(text);
    row r;
    in >> r.n >> r.documents >> r.rss0 >> r.rss1 >> r.trimmed >> r.anon0 >> r.anon1 >> r.heap0 >> r.heap1 >> r.tcp >> r.seconds >> r.trickle_cpu
       >> r.trickle_lines >> r.trickle_seconds;
    std::getline(in >> std::ws, r.error);
    if (!in && r.error.empty()) r.error = "client died (status " + std::to_string(st) + ")";
    if (r.error == "-") r.error.clear();
    return r;
}

std::string make_cert(config& c) {
    char dir[] = "/tmp/idle-connections-XXXXXX";
    if (!::mkdtemp(dir)) return "mkdtemp failed";
    c.cert = std::string(dir) + "/cert.pem";
    c.key = std::string(dir) + "/key.pem";
    auto cmd = fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                           "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout {} -out {} 2>/dev/null",
                           c.key, c.cert);
    return std::system(cmd.c_str()) == 0 ? "" : "openssl req failed";
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

std::vector<std::size_t> parse_list(const char* s) {
    std::vector<std::size_t> v;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) v.push_back(std::strtoull(item.c_str(), nullptr, 10));
    return v;
}

} // namespace

int main(int argc, char** argv) {
    config c;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) {
                fmt::print(stderr, "idle_connections: {} needs a value\n", a);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--connections") c.connections = parse_list(next());
        else if (a == "--mode") c.mode = next();
        else if (a == "--tls") c.tls = true;
        else if (a == "--repeats") c.repeats = std::max(1, std::atoi(next()));
        else if (a == "--codec") c.codec = next();
        else if (a == "--read-size") c.read_size = std::strtoull(next(), nullptr, 10);
        else if (a == "--max-frame-bytes") c.max_frame_bytes = std::strtoull(next(), nullptr, 10);
        else if (a == "--line-bytes") c.line_bytes = std::max<std::size_t>(2, std::strtoull(next(), nullptr, 10));
        else if (a == "--lines") c.lines = std::max<std::size_t>(1, std::strtoull(next(), nullptr, 10));
        else if (a == "--rate") c.rate = std::strtod(next(), nullptr);
        else if (a == "--seconds") c.seconds = std::strtod(next(), nullptr);
        else {
            fmt::print(stderr,
                       "usage: idle_connections [--connections N,...] [--mode engine|session|socket] [--tls] "
                       "[--repeats R] [--codec line|json] [--read-size B] [--max-frame-bytes B] [--line-bytes B] "
                       "[--lines K] [--rate R [--seconds S]]\n");
            return 2;
        }
    }
    if (c.mode != "engine" && c.mode != "session" && c.mode != "socket") {
        fmt::print(stderr, "idle_connections: --mode is engine, session or socket\n");
        return 2;
    }
    if (c.tls) {
        auto err = make_cert(c);
        if (!err.empty()) {
            fmt::print(stderr, "idle_connections: {}\n", err);
            return 1;
        }
    }
    fmt::print("# idle_connections: mode {}, {}, codec {}, read_size {}, max_frame_bytes {}, {} line(s) of {} B per "
               "connection, {} repeats\n",
               c.mode, c.tls ? "TLS" : "plain TCP", c.codec, c.read_size, c.max_frame_bytes, c.lines, c.line_bytes,
               c.repeats);
    if (c.rate > 0)
        fmt::print("# then {} line(s) per second per connection for {} s: CPU per line and lines/s in that phase; "
                   "memory at its end\n",
                   c.rate, c.seconds);
    fmt::print("# load before: {}\n", load_average());
    fmt::print("{:>6} {:>4} {:>9} {:>9} {:>12} {:>12} {:>11} {:>11} {:>11} {:>8}\n", "N", "run", "RSS0 MiB",
               "RSS1 MiB", "RSS KiB/conn", "trimmed KiB", "anon KiB/c", "heap KiB/c", "kTCP KiB/c", "lines s");
    int failures = 0;
    for (auto n : c.connections) {
        std::vector<double> rss, trimmed, anon, heap, cpu_us, lines_per_s;
        for (int rep = 0; rep < c.repeats; ++rep) {
            auto r = one_measurement(c, n);
            if (!r || !r->error.empty()) {
                fmt::print("{:>6} {:>4} failed: {}\n", n, rep + 1, r ? r->error : "fork or pipe failed");
                ++failures;
                continue;
            }
            double dn = double(n);
            rss.push_back((r->rss1 - r->rss0) / dn);
            trimmed.push_back((r->trimmed - r->rss0) / dn);
            anon.push_back((r->anon1 - r->anon0) / dn);
            heap.push_back((r->heap1 - r->heap0) / dn);
            fmt::print("{:>6} {:>4} {:>9.1f} {:>9.1f} {:>12.2f} {:>12.2f} {:>11.2f} {:>11.2f} {:>11.2f} {:>8.2f}", n,
                       rep + 1, r->rss0 / 1024, r->rss1 / 1024, rss.back(), trimmed.back(), anon.back(), heap.back(),
                       r->tcp / dn, r->seconds);
            if (c.rate > 0 && r->trickle_lines > 0) {
                cpu_us.push_back(r->trickle_cpu / double(r->trickle_lines) * 1e6);
                lines_per_s.push_back(double(r->trickle_lines) / r->trickle_seconds);
                fmt::print("  trickle: {:.0f} lines/s, {:.2f} CPU-s, {:.2f} us/line", lines_per_s.back(),
                           r->trickle_cpu, cpu_us.back());
            }
            fmt::print("\n");
        }
        if (rss.empty()) continue;
        using socketcap::bench::fmt3;
        using socketcap::bench::summarize;
        fmt::print("RESULT idle mode={} transport={} codec={} lines={}x{}B n={} rss_kib_per_conn={} "
                   "trimmed_rss_kib_per_conn={} anon_kib_per_conn={} heap_kib_per_conn={}\n",
                   c.mode, c.tls ? "tls" : "tcp", c.codec, c.lines, c.line_bytes, n, fmt3(summarize(rss), 2),
                   fmt3(summarize(trimmed), 2), fmt3(summarize(anon), 2), fmt3(summarize(heap), 2));
        if (!cpu_us.empty())
            fmt::print("RESULT trickle mode={} transport={} n={} rate={} lines_per_s={} cpu_us_per_line={} "
                       "cpu_share={:.3f}\n",
                       c.mode, c.tls ? "tls" : "tcp", n, c.rate, fmt3(summarize(lines_per_s), 0),
                       fmt3(summarize(cpu_us), 2), summarize(cpu_us).med * summarize(lines_per_s).med / 1e6);
    }
    fmt::print("# load after: {}\n", load_average());
    if (c.tls) {
        std::remove(c.cert.c_str());
        std::remove(c.key.c_str());
        std::remove(c.cert.substr(0, c.cert.rfind('/')).c_str());
    }
    return failures == 0 ? 0 : 1;
}
