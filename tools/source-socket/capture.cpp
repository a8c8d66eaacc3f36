// SPDX-License-Identifier: MIT OR Apache-2.0
#include "capture.hpp"
#include "backoff.hpp"
#include "log.hpp"

#include <socketcap/connect.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/session.hpp>
#include <socketcap/text_codec.hpp>

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
#include <functional>
#include <memory>
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
    const flow::endpoint_config& config;

    std::unique_ptr<transport_type> make(asio::io_context& ctx) const { return std::make_unique<transport_type>(ctx); }
    asio::awaitable<socketcap::connect_result> connect(transport_type& t) const {
        return socketcap::async_connect(t, config.host, config.port, config.connection_timeout_duration());
    }
};

/// Stdout for `capture --max-docs N`: passes documents through until N newlines (one per
/// document) went out, then calls on_limit and swallows the rest.
class limited_sink {
public:
    using executor_type = socketcap::fd_sink::executor_type;

    limited_sink(socketcap::fd_sink& next, std::uint64_t limit, std::function<void()> on_limit)
        : next_(next), remaining_(limit), on_limit_(std::move(on_limit)) {}

    executor_type get_executor() { return next_.get_executor(); }

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
                std::uint64_t seen = 0;
                for (std::size_t i = 0; i < buf.size(); ++i)
                    if (p[i] == '\n' && ++seen == remaining_) {
                        cut = i + 1;
                        break;
                    }
                next_.async_write_some(asio::buffer(p, cut),
                                       [this, h = std::move(handler), p, total = buf.size()](std::error_code ec,
                                                                                              std::size_t n) mutable {
                                           for (std::size_t i = 0; i < n && remaining_ != 0; ++i)
                                               if (p[i] == '\n') --remaining_;
                                           if (remaining_ == 0 && on_limit_) std::exchange(on_limit_, nullptr)();
                                           h(ec, remaining_ == 0 && !ec ? total : n);
                                       });
            },
            token, b);
    }

private:
    socketcap::fd_sink& next_;
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
        asio::co_spawn(ctx_, run_loop<Codec>(tcp_connector{opts_.config}), [this](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    fatal_ = fmt::format("internal error: {}", ex.what());
                }
            }
            shutdown();
        });
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
        auto result = co_await s.run(sink);
        live_stats_ = nullptr;
        stop_session_ = nullptr;
        log(log_level::info, "disconnected",
            {{"session_id", s.session_id()}, {"reason", describe_end(result, stopping_)}, {"bytes", result.bytes},
             {"documents", result.documents}, {"checkpoints", result.checkpoints},
             {"error_documents", result.stats.error_documents}, {"partial_frames", result.stats.partial_frames}});
        co_return result;
    }

    template <class Codec, class Connector>
    asio::awaitable<void> run_loop(Connector connector) {
        const auto& c = opts_.config;
        std::int64_t failures = 0;
        reconnect_backoff backoff(c.reconnect_delay, c.reconnect_max_delay);
        while (!stopping_) {
            bool healthy = false; // decides the backoff: data came, or the connection lasted
            auto transport = connector.make(ctx_);
            log(log_level::debug, "connecting", {{"host", c.host}, {"port", c.port}});
            auto cr = co_await connector.connect(*transport);
            if (stopping_) break;
            if (cr.ec) {
                ++failures;
                std::string reason = describe_connect_error(cr, c);
                if (c.max_reconnect_attempts >= 0 && failures > c.max_reconnect_attempts) {
                    fatal_ = fmt::format("cannot connect to {}:{}: {} (gave up after {} failed attempt{}, "
                                         "max_reconnect_attempts is {})",
                                         c.host, c.port, reason, failures, failures == 1 ? "" : "s",
                                         c.max_reconnect_attempts);
                    co_return;
                }
                log(log_level::warn, "connection failed",
                    {{"host", c.host}, {"port", c.port}, {"error", reason}, {"failures", failures}});
            } else {
                failures = 0;
                std::string address = fmt::format("{}:{}", cr.endpoint.address().to_string(), cr.endpoint.port());
                log(log_level::info, "connected", {{"host", c.host}, {"port", c.port}, {"address", address}, {"tls", false}});
                socketcap::session_result result;
                const auto session_start = std::chrono::steady_clock::now();
                if (opts_.max_documents != 0)
                    result = co_await run_session<limited_sink, typename Connector::transport_type, Codec>(limited_, *transport);
                else
                    result = co_await run_session<socketcap::fd_sink, typename Connector::transport_type, Codec>(out_, *transport);
                total_bytes_ += result.bytes;
                total_documents_ += result.documents;
                healthy = result.bytes > 0 || std::chrono::steady_clock::now() - session_start >= c.reconnect_delay_duration();
                if (result.sink_failed) {
                    if (!stopping_) fatal_ = fmt::format("cannot write to stdout: {}", result.ec.message());
                    co_return;
                }
            }
            if (stopping_) break;
            auto wait = backoff.next(healthy);
            if (c.reconnect_max_delay)
                log(log_level::info, "waiting to reconnect",
                    {{"delay_seconds", wait.seconds}, {"max_delay_seconds", wait.max_seconds}});
            else
                log(log_level::info, "waiting to reconnect", {{"delay_seconds", wait.seconds}});
            delay_.expires_after(
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(wait.seconds)));
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

std::string check_connection(const flow::endpoint_config& config, std::string* address) {
    asio::io_context ctx;
    socketcap::tcp_transport socket(ctx);
    socketcap::connect_result result;
    asio::co_spawn(ctx, socketcap::async_connect(socket, config.host, config.port, config.connection_timeout_duration()),
                   [&](std::exception_ptr, socketcap::connect_result r) { result = r; });
    ctx.run();
    if (result.ec)
        return fmt::format("cannot connect to {}:{}: {}", config.host, config.port, describe_connect_error(result, config));
    if (address) *address = fmt::format("{}:{}", result.endpoint.address().to_string(), result.endpoint.port());
    return {};
}

} // namespace source_socket
