// SPDX-License-Identifier: MIT OR Apache-2.0
#include "capture.hpp"
#include "log.hpp"

#include <socketcap/connect.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/reconnect_policy.hpp>
#include <socketcap/session.hpp>
#include <socketcap/text_codec.hpp>
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/tls.hpp>
#endif

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <array>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>
#include <variant>
#include <fcntl.h>
#include <unistd.h>

namespace source_socket {

namespace {

namespace flow = socketcap::flow;
using asio::experimental::as_tuple;
using asio::use_awaitable;

constexpr auto stats_interval = std::chrono::seconds(5);
/// If output does not drain after a stop (a reader that stopped reading), give up this late.
constexpr auto stop_backstop = std::chrono::seconds(2);

std::string describe_connect_error(const socketcap::connect_result& r, const flow::endpoint_config& c) {
    if (!r.message.empty()) return r.message;
    if (r.ec == socketcap::error::connect_timeout)
        return fmt::format("no connection within connection_timeout ({}s)", c.connection_timeout);
    if (r.stage == "resolve") return fmt::format("cannot resolve host \"{}\": {}", c.host, r.ec.message());
    return r.ec.message();
}

std::string describe_end(const socketcap::session_result& r, bool stopping) {
    if (r.ec == asio::error::eof) return "the server closed the connection";
    if (r.ec == socketcap::error::idle_timeout) return "no data within idle_timeout";
    if (r.ec == asio::error::operation_aborted && stopping) return "the capture is stopping";
    return r.ec.message();
}

/// The seam where TLS plugs in: makes a transport and connects it (for TLS: connect, then the
/// verified handshake). The capture loop is templated on it.
struct tcp_connector {
    using transport_type = socketcap::tcp_transport;
    static constexpr bool is_tls = false;
    const flow::endpoint_config& config;

    std::unique_ptr<transport_type> make(asio::io_context& ctx) const { return std::make_unique<transport_type>(ctx); }
    asio::awaitable<socketcap::connect_result> connect(transport_type& t) const {
        return socketcap::async_connect(t, config.host, config.port, config.connection_timeout_duration());
    }
};

#if SOCKETCAP_HAS_TLS
/// TLS: the TCP connect and the verified handshake share one connection_timeout.
struct tls_connector {
    using transport_type = socketcap::tls::tls_transport;
    static constexpr bool is_tls = true;
    const flow::endpoint_config& config;
    std::shared_ptr<asio::ssl::context> context; // made once per capture, shared by connections

    std::unique_ptr<transport_type> make(asio::io_context& ctx) const {
        return std::make_unique<transport_type>(ctx, *context);
    }
    asio::awaitable<socketcap::connect_result> connect(transport_type& t) const {
        auto deadline = std::chrono::steady_clock::now() + config.connection_timeout_duration();
        auto r = co_await socketcap::async_connect(t.next_layer(), config.host, config.port,
                                                   config.connection_timeout_duration());
        if (r.ec) co_return r;
        auto hs = co_await socketcap::tls::handshake(t, config.host, tls_options(config.tls), deadline);
        if (!hs.warning.empty()) log(log_level::warn, hs.warning, {{"host", config.host}, {"port", config.port}});
        if (hs.ec) {
            r.ec = hs.ec;
            r.stage = "handshake";
            r.message = hs.message;
            co_return r;
        }
        log(log_level::debug, "TLS established", {{"version", hs.version}, {"cipher", hs.cipher}});
        co_return r;
    }
};
#endif

/// Stdout for `capture --max-docs N`: passes documents through until N newlines (one per
/// document) went out, then calls on_limit and swallows the rest.
class limited_sink {
public:
    using executor_type = socketcap::fd_sink::executor_type;

    limited_sink(socketcap::fd_sink& next, std::uint64_t limit, std::function<void()> on_limit)
        : next_(next), limit_(limit), remaining_(limit), on_limit_(std::move(on_limit)) {}

    executor_type get_executor() { return next_.get_executor(); }

    /// Documents written to stdout so far (the swallowed ones past the limit not counted).
    std::uint64_t passed() const { return limit_ - remaining_; }

    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer buf) {
                if (remaining_ == 0) {
                    auto ex = asio::get_associated_executor(handler, next_.get_executor());
                    asio::post(ex, [h = std::move(handler), n = buf.size()]() mutable { h(std::error_code{}, n); });
                    return;
                }
                const char* p = static_cast<const char*>(buf.data());
                std::size_t cut = buf.size();
                newlines(p, buf.size(), remaining_, &cut);
                next_.async_write_some(asio::buffer(p, cut),
                                       [this, h = std::move(handler), p, total = buf.size()](std::error_code ec,
                                                                                              std::size_t n) mutable {
                                           remaining_ -= newlines(p, n, remaining_, nullptr);
                                           if (remaining_ == 0 && on_limit_) std::exchange(on_limit_, nullptr)();
                                           h(ec, remaining_ == 0 && !ec ? total : n);
                                       });
            },
            token, b);
    }

private:
    // Newlines in p[0..n), at most `limit`; *cut (when given) becomes the offset just past the
    // limit-th one. memchr: this runs over every byte of output.
    static std::uint64_t newlines(const char* p, std::size_t n, std::uint64_t limit, std::size_t* cut) {
        std::uint64_t seen = 0;
        for (const char *at = p, *end = p + n; seen < limit;) {
            at = static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(end - at)));
            if (at == nullptr) break;
            ++at;
            if (++seen == limit && cut) *cut = static_cast<std::size_t>(at - p);
        }
        return seen;
    }

    socketcap::fd_sink& next_;
    std::uint64_t limit_;
    std::uint64_t remaining_;
    std::function<void()> on_limit_;
};

class capture_runner {
public:
    explicit capture_runner(const capture_options& opts)
        : opts_(opts),
          out_(ctx_, ::dup(STDOUT_FILENO)),
          limited_(out_, opts.max_documents, [this] { request_stop("max-docs reached"); }),
          signals_(ctx_, SIGINT, SIGTERM),
          delay_(ctx_),
          stats_timer_(ctx_),
          backstop_(ctx_),
          total_bytes_(opts.initial.bytes),
          total_documents_(opts.initial.documents),
          last_bytes_(opts.initial.bytes),
          last_docs_(opts.initial.documents) {}

    int run() {
        // One 64 KiB read can make ~270 KB of documents; a 1 MiB pipe takes them in one write
        // instead of several blocking rounds (measured: 4-8% less CPU for the line codec).
        // Best effort: not a pipe, or over /proc/sys/fs/pipe-max-size, leaves it as it was.
        ::fcntl(out_.native_handle(), F_SETPIPE_SZ, 1 << 20);
        signals_.async_wait([this](std::error_code ec, int sig) {
            if (!ec) request_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
        });
        if (opts_.stop_on_stdin_eof) watch_stdin();
        arm_stats();
        switch (opts_.config.codec) {
        case flow::codec_kind::line: spawn<socketcap::line_codec>(); break;
        case flow::codec_kind::plain: spawn<socketcap::plain_codec>(); break;
        case flow::codec_kind::json: spawn<socketcap::json_codec>(); break;
        }
        ctx_.run();
        if (!fatal_.empty()) {
            log(log_level::error, fatal_, {{"host", opts_.config.host}, {"port", opts_.config.port}});
            return 1;
        }
        log(log_level::info, "capture stopped",
            {{"reason", stop_reason_}, {"bytes", total_bytes_}, {"documents", total_documents_}});
        return 0;
    }

private:
    template <class Codec>
    void spawn() {
        auto done = [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    fatal_ = fmt::format("internal error: {}", ex.what());
                }
            }
            shutdown();
        };
        if (opts_.config.tls.enabled) {
#if SOCKETCAP_HAS_TLS
            auto made = socketcap::tls::make_context(tls_options(opts_.config.tls));
            if (made.ec) {
                fatal_ = made.message;
                asio::post(ctx_, [this] { shutdown(); });
                return;
            }
            asio::co_spawn(ctx_, run_loop<Codec>(tls_connector{opts_.config, std::move(made.context)}), done);
#else
            fatal_ = "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)";
            asio::post(ctx_, [this] { shutdown(); });
#endif
            return;
        }
        asio::co_spawn(ctx_, run_loop<Codec>(tcp_connector{opts_.config}), done);
    }

    void shutdown() {
        live_stats_ = nullptr;
        ctx_.stop();
    }

    void request_stop(std::string_view reason) {
        if (stopping_) return;
        stopping_ = true;
        stop_reason_ = std::string(reason);
        log(log_level::info, "stopping", {{"reason", reason}});
        if (stop_session_) {
            stop_session_();
            backstop_.expires_after(stop_backstop);
            backstop_.async_wait([this](std::error_code ec) {
                if (!ec) shutdown();
            });
        } else {
            shutdown(); // between sessions nothing is pending: every session ends checkpointed
        }
    }

    void watch_stdin() {
        int fd = ::dup(STDIN_FILENO);
        if (fd < 0) return;
        in_ = std::make_unique<asio::posix::stream_descriptor>(ctx_, fd);
        read_stdin();
    }

    void read_stdin() {
        // Without explicit acknowledgements nothing more is expected: the bytes are ignored and
        // only the end of stdin matters.
        in_->async_read_some(asio::buffer(in_buf_), [this](std::error_code ec, std::size_t) {
            if (ec) {
                request_stop(ec == asio::error::eof ? "stdin closed" : "stdin failed: " + ec.message());
                return;
            }
            read_stdin();
        });
    }

    void arm_stats() {
        stats_timer_.expires_after(stats_interval);
        stats_timer_.async_wait([this](std::error_code ec) {
            if (ec) return;
            std::uint64_t bytes = total_bytes_, docs = total_documents_;
            if (live_stats_) {
                bytes += live_stats_->bytes;
                docs += live_stats_->documents;
            }
            if (opts_.max_documents != 0) docs = opts_.initial.documents + limited_.passed(); // what was printed
            double secs = std::chrono::duration<double>(stats_interval).count();
            log(log_level::info, "stats",
                {{"documents", docs}, {"bytes", bytes}, {"documents_per_second", double(docs - last_docs_) / secs},
                 {"bytes_per_second", double(bytes - last_bytes_) / secs}, {"connected", live_stats_ != nullptr}});
            last_docs_ = docs;
            last_bytes_ = bytes;
            arm_stats();
        });
    }

    template <class Sink, class Transport, class Codec>
    asio::awaitable<socketcap::session_result> run_session(Sink& sink, Transport& t) {
        socketcap::session_options so;
        so.source_host = opts_.config.host;
        so.source_port = opts_.config.port;
        so.pipeline.read_size = opts_.config.buffer_size;
        so.pipeline.max_frame_bytes = opts_.config.max_frame_bytes;
        so.idle_timeout = opts_.config.idle_timeout_duration();
        if (opts_.flow_protocol) {
            so.document_prefix = flow::captured_prefix;
            so.document_suffix = flow::captured_suffix;
            so.write_checkpoint = [this](socketcap::output_buffer& out, const socketcap::session_progress& p) {
                flow::binding_state st{std::string(p.session_id), p.sequence, total_bytes_ + p.bytes,
                                       total_documents_ + p.documents};
                flow::write_checkpoint(out, opts_.state_key, st);
            };
        } else {
            so.document_prefix = "";
            so.document_suffix = "\n";
        }
        socketcap::session<Transport, Codec> s(t, Codec{}, std::move(so));
        log(log_level::info, "session started", {{"session_id", s.session_id()}});
        stop_session_ = [&s] { s.stop(); };
        live_stats_ = &s.get_pipeline().stats();
        std::uint64_t printed_before = 0;
        if constexpr (std::is_same_v<Sink, limited_sink>) printed_before = sink.passed();
        auto result = co_await s.run(sink);
        live_stats_ = nullptr;
        stop_session_ = nullptr;
        // Past --max-docs the sink swallows documents: count only those printed, so the logs and
        // the totals agree with the output.
        if constexpr (std::is_same_v<Sink, limited_sink>) result.documents = sink.passed() - printed_before;
        std::string reason = describe_end(result, stopping_);
#if SOCKETCAP_HAS_TLS
        if constexpr (std::is_same_v<Transport, socketcap::tls::tls_transport>) {
            if (result.ec && !result.sink_failed && result.ec != socketcap::error::idle_timeout &&
                !(stopping_ && result.ec == asio::error::operation_aborted))
                reason = socketcap::tls::describe_read_error(t, result.ec);
        }
#endif
        log(log_level::info, "disconnected",
            {{"session_id", s.session_id()}, {"reason", reason}, {"bytes", result.bytes},
             {"documents", result.documents}, {"checkpoints", result.checkpoints},
             {"error_documents", result.stats.error_documents}, {"partial_frames", result.stats.partial_frames}});
        co_return result;
    }

    /// reconnect_delay alone: a fixed delay; with reconnect_max_delay: exponential backoff.
    using reconnect_policy = std::variant<socketcap::fixed_delay, socketcap::exponential_backoff<>>;

    reconnect_policy make_reconnect_policy() const {
        const auto& c = opts_.config;
        if (c.reconnect_max_delay)
            return socketcap::exponential_backoff<>(c.reconnect_delay_duration(), c.reconnect_max_delay_duration(),
                                                    c.max_reconnect_attempts);
        return socketcap::fixed_delay(c.reconnect_delay_duration(), c.max_reconnect_attempts);
    }

    template <class Codec, class Connector>
    asio::awaitable<void> run_loop(Connector connector) {
        const auto& c = opts_.config;
        auto policy = make_reconnect_policy();
        while (!stopping_) {
            auto transport = connector.make(ctx_);
            log(log_level::debug, "connecting", {{"host", c.host}, {"port", c.port}});
            auto cr = co_await connector.connect(*transport);
            if (stopping_) break;
            socketcap::reconnect_decision next;
            if (cr.ec) {
                next = std::visit([](auto& p) { return p.next(socketcap::attempt_end::connect_failed); }, policy);
                std::string reason = describe_connect_error(cr, c);
                if (next.give_up) {
                    fatal_ = fmt::format("cannot connect to {}:{}: {} (gave up after {} failed attempt{}, "
                                         "max_reconnect_attempts is {})",
                                         c.host, c.port, reason, next.failures, next.failures == 1 ? "" : "s",
                                         c.max_reconnect_attempts);
                    co_return;
                }
                log(log_level::warn, "connection failed",
                    {{"host", c.host}, {"port", c.port}, {"error", reason}, {"failures", next.failures}});
            } else {
                std::string address = fmt::format("{}:{}", cr.endpoint.address().to_string(), cr.endpoint.port());
                log(log_level::info, "connected", {{"host", c.host}, {"port", c.port}, {"address", address}, {"tls", Connector::is_tls}});
                socketcap::session_result result;
                const auto session_start = std::chrono::steady_clock::now();
                if (opts_.max_documents != 0)
                    result = co_await run_session<limited_sink, typename Connector::transport_type, Codec>(limited_, *transport);
                else
                    result = co_await run_session<socketcap::fd_sink, typename Connector::transport_type, Codec>(out_, *transport);
                total_bytes_ += result.bytes;
                total_documents_ += result.documents;
                // Healthy: data came, or the connection lasted the base delay.
                auto end = result.bytes > 0 || std::chrono::steady_clock::now() - session_start >= c.reconnect_delay_duration()
                    ? socketcap::attempt_end::healthy
                    : socketcap::attempt_end::unhealthy;
                if (result.sink_failed) {
                    if (!stopping_) fatal_ = fmt::format("cannot write to stdout: {}", result.ec.message());
                    co_return;
                }
                next = std::visit([end](auto& p) { return p.next(end); }, policy);
            }
            if (stopping_) break;
            const double seconds = std::chrono::duration<double>(next.delay).count();
            if (c.reconnect_max_delay)
                log(log_level::info, "waiting to reconnect",
                    {{"delay_seconds", seconds},
                     {"max_delay_seconds", std::chrono::duration<double>(next.bound).count()}});
            else
                log(log_level::info, "waiting to reconnect", {{"delay_seconds", seconds}});
            delay_.expires_after(next.delay);
            co_await delay_.async_wait(as_tuple(use_awaitable));
        }
    }

    const capture_options& opts_;
    asio::io_context ctx_{1};
    socketcap::fd_sink out_;
    limited_sink limited_;
    asio::signal_set signals_;
    asio::steady_timer delay_;
    asio::steady_timer stats_timer_;
    asio::steady_timer backstop_;
    std::unique_ptr<asio::posix::stream_descriptor> in_;
    std::array<char, 4096> in_buf_{};
    std::function<void()> stop_session_;
    const socketcap::pipeline_stats* live_stats_ = nullptr;
    std::uint64_t total_bytes_;
    std::uint64_t total_documents_;
    std::uint64_t last_bytes_;
    std::uint64_t last_docs_;
    bool stopping_ = false;
    std::string stop_reason_;
    std::string fatal_;
};

} // namespace

int run_capture(const capture_options& opts) {
    std::signal(SIGPIPE, SIG_IGN);
    // Asio makes stdin and stdout non-blocking, and that flag lives on the open file
    // description, shared with the shell when they are a terminal: restore it on the way out.
    int in_flags = ::fcntl(STDIN_FILENO, F_GETFL);
    int out_flags = ::fcntl(STDOUT_FILENO, F_GETFL);
    int rc = 1;
    {
        capture_runner runner(opts);
        rc = runner.run();
    }
    if (in_flags >= 0) ::fcntl(STDIN_FILENO, F_SETFL, in_flags);
    if (out_flags >= 0) ::fcntl(STDOUT_FILENO, F_SETFL, out_flags);
    return rc;
}

namespace {

/// One connection attempt as the capture would make it; the error text, or empty.
template <class Connector>
asio::awaitable<std::string> check_with(asio::io_context& ctx, Connector connector, std::string* address) {
    const auto& c = connector.config;
    auto t = connector.make(ctx);
    auto r = co_await connector.connect(*t);
    if (r.ec) co_return fmt::format("cannot connect to {}:{}: {}", c.host, c.port, describe_connect_error(r, c));
    if (address) *address = fmt::format("{}:{}", r.endpoint.address().to_string(), r.endpoint.port());
#if SOCKETCAP_HAS_TLS
    if constexpr (Connector::is_tls) {
        // A TLS 1.3 server rejects a missing or untrusted client certificate only after the
        // handshake, with an alert on the first read: wait briefly for one.
        asio::steady_timer timer(ctx);
        timer.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(500),
                                                                          c.connection_timeout_duration()));
        timer.async_wait([&t](std::error_code ec) {
            std::error_code ignored;
            if (!ec) t->lowest_layer().cancel(ignored);
        });
        std::array<char, 4096> buf;
        auto [ec, n] = co_await t->async_read_some(asio::buffer(buf), as_tuple(use_awaitable));
        (void)n;
        timer.cancel();
        if (ec && ec != asio::error::operation_aborted && ec != asio::error::eof &&
            ec != asio::ssl::error::stream_truncated)
            co_return fmt::format("cannot connect to {}:{}: {}", c.host, c.port,
                                  socketcap::tls::describe_read_error(*t, ec));
    }
#endif
    co_return std::string{};
}

} // namespace

std::string check_connection(const flow::endpoint_config& config, std::string* address) {
    asio::io_context ctx;
    std::string error;
    auto done = [&](std::exception_ptr e, std::string r) {
        error = e ? "internal error while checking the connection" : std::move(r);
    };
    if (config.tls.enabled) {
#if SOCKETCAP_HAS_TLS
        auto made = socketcap::tls::make_context(tls_options(config.tls));
        if (made.ec) return made.message;
        asio::co_spawn(ctx, check_with(ctx, tls_connector{config, std::move(made.context)}, address), done);
#else
        return "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)";
#endif
    } else {
        asio::co_spawn(ctx, check_with(ctx, tcp_connector{config}, address), done);
    }
    ctx.run();
    return error;
}

} // namespace source_socket
