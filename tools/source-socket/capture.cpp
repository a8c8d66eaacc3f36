// SPDX-License-Identifier: MIT OR Apache-2.0
// The connector's capture: the library's capture_engine with one endpoint from the Flow config,
// Flow's document envelope and checkpoints, a log observer, and the process around it (stdout,
// stdin EOF, signals, periodic stats).
#include "capture.hpp"
#include "limited_sink.hpp"
#include "log.hpp"

#include <socketcap/any_framer.hpp>
#include <socketcap/base64_codec.hpp>
#include <socketcap/io/bridge_sink.hpp>
#include <socketcap/io/capture_engine.hpp>
#include <socketcap/io/connector.hpp>
#include <socketcap/io/tunneled_connector.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/reconnect_policy.hpp>
#include <socketcap/text_codec.hpp>
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/connector.hpp>
#endif

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <fmt/format.h>

#include <array>
#include <csignal>
#include <deque>
#include <functional>
#include <sys/resource.h>
#include <thread>
#include <memory>
#include <variant>
#include <fcntl.h>
#include <unistd.h>

namespace source_socket {

namespace {

namespace flow = socketcap::flow;
using socketcap::capture_event;
using socketcap::capture_event_kind;

constexpr auto stats_interval = std::chrono::seconds(5);
/// If output does not drain after a stop (a reader that stopped reading), give up this late.
constexpr auto stop_backstop = std::chrono::seconds(2);

/// reconnect_delay alone: a fixed delay; with reconnect_max_delay: exponential backoff.
struct configured_reconnect {
    std::variant<socketcap::fixed_delay, socketcap::exponential_backoff<>> policy;

    explicit configured_reconnect(const flow::endpoint_config& c)
        : policy(c.reconnect_max_delay
                     ? decltype(policy)(socketcap::exponential_backoff<>(c.reconnect_delay_duration(),
                                                                         c.reconnect_max_delay_duration(),
                                                                         c.max_reconnect_attempts))
                     : decltype(policy)(socketcap::fixed_delay(c.reconnect_delay_duration(), c.max_reconnect_attempts))) {}
    socketcap::reconnect_decision next(socketcap::attempt_end end) {
        return std::visit([end](auto& p) { return p.next(end); }, policy);
    }
};

/// networkTunnel.sshForwarding's tunnel to host:port, or null without one.
std::shared_ptr<socketcap::ssh_tunnel> make_tunnel(const flow::endpoint_config& c) {
    if (!c.ssh_forwarding) return nullptr;
    const auto& f = *c.ssh_forwarding;
    socketcap::ssh_tunnel_options o;
    o.user = f.user;
    o.host = f.host;
    o.port = f.port;
    o.private_key = f.private_key;
    o.target_host = c.host;
    o.target_port = c.port;
    o.timeout = c.connection_timeout_duration();
    return std::make_shared<socketcap::ssh_tunnel>(std::move(o));
}

/// The configured connector, through the SSH tunnel when there is one.
template <class Inner>
using with_tunnel_t = socketcap::tunneled_connector<Inner>;
template <class Inner>
socketcap::tunneled_connector<Inner> with_tunnel(Inner inner, const flow::endpoint_config& c) {
    return socketcap::tunneled_connector<Inner>(std::move(inner), make_tunnel(c));
}

/// What the capture needs of an engine whose connector and codec were chosen at run time.
struct running_capture {
    virtual ~running_capture() = default;
    virtual void stop() = 0;
    virtual socketcap::capture_stats stats() const = 0;
    virtual bool deliver(std::size_t endpoint, std::string_view session_id, std::string_view bytes,
                         std::size_t messages) = 0;
};

class capture_runner;

/// The engine's events as the connector's log lines (docs/connector.md, Logs).
struct log_observer {
    capture_runner& runner;
    /// The binding (opts.bindings index) of each of its engine's endpoints; empty: the same index.
    std::vector<std::size_t> binding_of = {};
    /// Runs on a worker thread: what touches the runner goes to the runner's thread.
    bool on_worker = false;
    void on_event(const capture_event& e);
};

class capture_runner {
public:
    explicit capture_runner(const capture_options& opts)
        : opts_(opts),
          out_(ctx_, ::dup(STDOUT_FILENO)),
          limited_(out_, opts.max_documents, [this] { request_stop("max-docs reached"); }),
          signals_(ctx_, SIGINT, SIGTERM),
          stats_timer_(ctx_),
          backstop_(ctx_),
          last_bytes_(0),
          last_docs_(0) {
        for (const auto& b : opts.bindings) { // the stats' rates start from the states' totals
            last_bytes_ += b.initial.bytes;
            last_docs_ += b.initial.documents;
        }
    }

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
        for (const auto& b : opts_.bindings) initial_documents_ += b.initial.documents;
        if (opts_.bindings.empty()) { // an idle shard: it waits for stdin to close, like any capture
        } else switch (opts_.config.codec) {
        // line and plain are one text codec; the framing (any_framer) is what differs.
        case flow::codec_kind::line:
        case flow::codec_kind::plain: start<socketcap::text_codec>(); break;
        case flow::codec_kind::json: start<socketcap::json_codec>(); break;
        case flow::codec_kind::base64: start<socketcap::base64_codec>(); break;
        }
        ctx_.run();
        if (!fatal_.empty()) {
            log(log_level::error, fatal_, {{"host", opts_.config.host}, {"port", opts_.config.port}});
            return 1;
        }
        auto totals = final_.totals;
        if (opts_.explicit_acknowledgements)
            log(log_level::info, "capture stopped",
                {{"reason", stop_reason_}, {"bytes", totals.bytes}, {"documents", documents(totals.documents)},
                 {"checkpoints_acknowledged", acknowledged_}, {"acks_sent", acks_sent_},
                 {"acks_dropped", acks_dropped_}});
        else
            log(log_level::info, "capture stopped",
                {{"reason", stop_reason_}, {"bytes", totals.bytes}, {"documents", documents(totals.documents)}});
        return 0;
    }

private:
    friend struct log_observer;

    /// One worker thread: its own io_context and engine (its endpoints' every coroutine).
    struct worker {
        asio::io_context ctx{1};
        asio::executor_work_guard<asio::io_context::executor_type> guard{ctx.get_executor()};
        std::unique_ptr<log_observer> observer;
        std::unique_ptr<socketcap::bridge_sink<socketcap::ordered_sink<limited_sink>>> bridge;
        std::unique_ptr<running_capture> capture; // destroyed before ctx, as the runner's own
        std::function<socketcap::capture_stats()> stats; // run on ctx only
        std::function<void()> stop;                       // run on ctx only
        socketcap::capture_stats latest;      // the last snapshot it sent (the runner's thread)
        socketcap::capture_stats final_stats;
        std::thread thread;
    };

    /// The workers, seen from the runner's thread: every call goes to a worker by a post.
    struct worker_pool final : running_capture {
        std::unique_ptr<socketcap::ordered_sink<limited_sink>> output;
        std::vector<std::unique_ptr<worker>> workers;
        std::size_t done = 0;
        ~worker_pool() override { join(); }
        void join() {
            for (auto& w : workers) {
                w->guard.reset();
                w->ctx.stop();
                if (w->thread.joinable()) w->thread.join();
            }
        }
        void stop() override {
            for (auto& w : workers) asio::post(w->ctx, [&w = *w] { w.stop(); });
        }
        /// The snapshots the workers sent last (refresh() asks for new ones): one stats
        /// interval old, as the runner logs them every interval anyway.
        socketcap::capture_stats stats() const override {
            socketcap::capture_stats all;
            for (const auto& w : workers) all += done == workers.size() ? w->final_stats : w->latest;
            return all;
        }
        void refresh(asio::io_context& home) {
            for (auto& w : workers)
                asio::post(w->ctx, [&w = *w, &home] {
                    auto s = w.stats();
                    asio::post(home, [&w, s] { w.latest = s; });
                });
        }
        bool deliver(std::size_t, std::string_view, std::string_view, std::size_t) override {
            return false; // explicit acknowledgements run on one thread (worker_threads)
        }
    };

    template <class Connector, class Codec>
    struct engine_holder final : running_capture {
        using engine_type = socketcap::capture_engine<Connector, Codec, configured_reconnect,
                                                      socketcap::checkpoint_per_read, asio::steady_timer,
                                                      socketcap::any_framer>;
        engine_holder(asio::io_context& ctx, std::vector<typename engine_type::endpoint_type> endpoints)
            : engine(ctx.get_executor(), std::move(endpoints)) {}
        void stop() override { engine.stop(); }
        socketcap::capture_stats stats() const override { return engine.stats(); }
        bool deliver(std::size_t endpoint, std::string_view session_id, std::string_view bytes,
                     std::size_t messages) override {
            return engine.deliver(endpoint, session_id, bytes, messages);
        }
        engine_type engine;
        socketcap::diagnostics diag;
    };

    template <class Codec>
    void start() {
        if (!opts_.config.tls.enabled) {
            std::vector<with_tunnel_t<socketcap::tcp_connector>> connectors;
            for (const auto& b : opts_.bindings) {
                const auto& c = b.config;
                connectors.push_back(
                    with_tunnel(socketcap::tcp_connector(c.host, c.port, c.connection_timeout_duration()), c));
            }
            return start_with<Codec>(std::move(connectors));
        }
#if SOCKETCAP_HAS_TLS
        // One context (CA, client certificate) for every binding; each verifies its own name.
        auto made = socketcap::tls::make_context(opts_.config.tls);
        if (made.ec) return fail_at_start(made.message);
        std::vector<with_tunnel_t<socketcap::tls::tls_connector>> connectors;
        for (const auto& b : opts_.bindings) {
            const auto& c = b.config;
            connectors.push_back(with_tunnel(
                socketcap::tls::tls_connector(c.host, c.port, c.connection_timeout_duration(), made.context, c.tls), c));
        }
        start_with<Codec>(std::move(connectors));
#else
        fail_at_start(std::string(flow::no_tls_support_message));
#endif
    }

    template <class Codec, class Connector>
    void start_with(std::vector<Connector> connectors) {
        using holder = engine_holder<Connector, Codec>;
        std::vector<typename holder::engine_type::endpoint_type> endpoints;
        for (std::size_t i = 0; i < connectors.size(); ++i) {
            const capture_binding& b = opts_.bindings[i];
            const auto& c = b.config;
            typename holder::engine_type::endpoint_type ep{std::move(connectors[i]), configured_reconnect(c)};
            ep.session.source_host = c.host;
            ep.session.source_port = c.port;
            ep.session.pipeline.read_size = c.buffer_size;
            ep.session.pipeline.max_frame_bytes = c.max_frame_bytes;
            ep.session.idle_timeout = c.idle_timeout_duration();
            ep.make_framer = [framing = c.effective_framing(), max = c.max_frame_bytes] {
                return socketcap::any_framer(framing, max);
            };
            ep.healthy_after = c.reconnect_delay_duration();
            ep.initial = {b.initial.bytes, b.initial.documents};
            ep.stop_capture_on_give_up = c.fail_on_endpoint_failure;
            socketcap::error_code ec;
            socketcap::diagnostics why;
            ep.session.conversation = socketcap::conversation_plan::compile(c.conversation, ec, why);
            if (ec) return fail_at_start(why.message()); // validated by parse_endpoint_config already
            writes_ = writes_ || ep.session.conversation->writes();
            // ${last_session_id}, ${last_sequence} and ${position} on the first connection: the
            // state's, i.e. the last committed document's.
            ep.session.history.last_session_id = b.initial.session_id;
            ep.session.history.last_sequence = b.initial.sequence;
            ep.session.history.last_position = b.initial.position;
            last_position_.push_back(b.initial.position);
            if (opts_.flow_protocol) {
                ep.session.document_prefix = fmt::format(R"({{"captured":{{"binding":{},"doc":)", b.index);
                ep.session.document_suffix = flow::captured_suffix;
                ep.write_checkpoint = [this, i](socketcap::output_buffer& out, const socketcap::session_progress& p,
                                                const socketcap::capture_totals& before) {
                    const capture_binding& b = opts_.bindings[i];
                    flow::binding_state st{std::string(p.session_id), p.sequence, before.bytes + p.bytes,
                                           before.documents + p.documents};
                    // The last position: this session's, or the one it started from (none yet).
                    st.position = p.position.empty() ? last_position_[i] : std::string(p.position);
                    st.position_is_string = b.config.conversation.position.is_string;
                    last_position_[i] = st.position;
                    flow::write_checkpoint(out, b.state_key, st);
                    // Acknowledgements from Flow count checkpoints in the order they were written.
                    if (opts_.explicit_acknowledgements)
                        committing_.push_back({i, std::string(p.session_id), p.acks.bytes, p.acks.messages});
                };
            } else {
                ep.session.document_prefix = "";
                ep.session.document_suffix = "\n";
                // Without Flow nothing commits: printing is as committed as it gets, so a checkpoint's
                // acks go out with its documents (otherwise they would wait forever, and pile up).
                if (c.conversation.ack)
                    ep.write_checkpoint = [this, i](socketcap::output_buffer&, const socketcap::session_progress& p,
                                                    const socketcap::capture_totals&) {
                        if (p.acks.messages != 0 && capture_)
                            capture_->deliver(i, p.session_id, p.acks.bytes, p.acks.messages);
                    };
            }
            endpoints.push_back(std::move(ep));
        }
        if (std::size_t threads = worker_threads(); threads > 1)
            return start_pool<Connector, Codec>(std::move(endpoints), threads);
        auto h = std::make_unique<holder>(ctx_, std::move(endpoints));
        auto& engine = h->engine;
        auto& diag = h->diag;
        capture_ = std::move(h);
        auto done = [this, &engine](std::error_code ec) {
            final_ = engine.stats();
            if (ec && ec != socketcap::error::reconnects_exhausted && !stopping_)
                fatal_ = fmt::format("cannot write to stdout: {}", ec.message());
            else if (!ec && !stopping_ && fatal_.empty()) // endpoint_failure "continue", and none is left
                fatal_ = fmt::format("every endpoint gave up ({} of them; endpoint_failure is continue)", engine.size());
            shutdown();
        };
        engine.async_run(limited_, observer_, diag, done); // limit 0: a pass-through
    }

    /// Worker threads for the endpoints: `threads`, or (0) one; at most one per binding.
    /// One thread (the runner's own) without the Flow protocol and with
    /// explicit acknowledgements: Flow counts checkpoints in the order they reach stdout, which
    /// several threads would not keep.
    std::size_t worker_threads() const {
        if (!opts_.flow_protocol || opts_.explicit_acknowledgements) return 1;
        // 0 (automatic) is one thread: measured with 1,000 endpoints at 100 lines/s each, two
        // threads cost 1.7-2.2x the CPU per document (context switches) and 10x the median
        // latency (docs/performance.md, Many endpoints); more threads pay only when one core is
        // saturated, which the user sees and asks for.
        std::size_t n = opts_.config.threads == 0 ? 1 : opts_.config.threads;
        return std::min(n, opts_.bindings.size());
    }

    /// Endpoints on `threads` worker threads, each with an engine of its own (endpoint i on thread
    /// i % threads, so one endpoint's documents stay on one thread, in order); their writes meet
    /// in one ordered sink on this thread, through bridges.
    template <class Connector, class Codec>
    void start_pool(std::vector<typename engine_holder<Connector, Codec>::engine_type::endpoint_type> endpoints,
                    std::size_t threads) {
        using holder = engine_holder<Connector, Codec>;
        using endpoint_type = typename holder::engine_type::endpoint_type;
        auto pool = std::make_unique<worker_pool>();
        pool->output = std::make_unique<socketcap::ordered_sink<limited_sink>>(limited_);
        std::vector<std::vector<endpoint_type>> groups(threads);
        std::vector<std::vector<std::size_t>> bindings(threads);
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            groups[i % threads].push_back(std::move(endpoints[i]));
            bindings[i % threads].push_back(i);
        }
        for (std::size_t w = 0; w < threads; ++w) {
            auto& wk = *pool->workers.emplace_back(std::make_unique<worker>());
            wk.observer = std::make_unique<log_observer>(log_observer{*this, std::move(bindings[w]), true});
            wk.bridge = std::make_unique<socketcap::bridge_sink<socketcap::ordered_sink<limited_sink>>>(
                *pool->output, wk.ctx.get_executor());
            auto h = std::make_unique<holder>(wk.ctx, std::move(groups[w]));
            auto& engine = h->engine;
            auto& diag = h->diag;
            wk.stats = [&engine] { return engine.stats(); };
            wk.stop = [&engine] { engine.stop(); };
            wk.capture = std::move(h);
            engine.async_run(*wk.bridge, *wk.observer, diag, [this, &engine, w](std::error_code ec) {
                auto s = engine.stats(); // on the worker; the rest on the runner's thread
                asio::post(ctx_, [this, w, ec, s] { worker_done(w, ec, s); });
            });
        }
        log(log_level::info, "endpoints on worker threads", {{"threads", threads}, {"bindings", opts_.bindings.size()}});
        auto& p = *pool;
        capture_ = std::move(pool);
        for (auto& wk : p.workers)
            wk->thread = std::thread([&c = wk->ctx] {
                c.run();
#if SOCKETCAP_HAS_TLS
                socketcap::tls::release_thread_state();
#endif
            });
    }

    /// A worker's engine ended; the capture ends with the last one.
    void worker_done(std::size_t w, std::error_code ec, socketcap::capture_stats s) {
        auto& pool = static_cast<worker_pool&>(*capture_);
        pool.workers[w]->final_stats = s;
        if (ec && ec != socketcap::error::reconnects_exhausted && !stopping_ && fatal_.empty())
            fatal_ = fmt::format("cannot write to stdout: {}", ec.message());
        if (ec && !stopping_) request_stop("an endpoint ended the capture"); // the others stop too
        if (++pool.done < pool.workers.size()) return;
        final_ = pool.stats();
        if (!ec && !stopping_ && fatal_.empty())
            fatal_ = fmt::format("every endpoint gave up ({} of them; endpoint_failure is continue)", opts_.bindings.size());
        shutdown();
    }

    void fail_at_start(std::string message) {
        fatal_ = std::move(message);
        asio::post(ctx_, [this] { shutdown(); });
    }

    void shutdown() { ctx_.stop(); }

    /// With --max-docs, documents past the limit are swallowed: count what was printed.
    std::uint64_t documents(std::uint64_t engine_count) const {
        return opts_.max_documents != 0 ? initial_documents_ + limited_.passed() : engine_count;
    }

    void request_stop(std::string_view reason) {
        if (stopping_) return;
        stopping_ = true;
        stop_reason_ = std::string(reason);
        log(log_level::info, "stopping", {{"reason", reason}});
        if (!capture_) return shutdown();
        capture_->stop(); // live sessions write and checkpoint what they read, then the run ends
        backstop_.expires_after(stop_backstop);
        backstop_.async_wait([this](std::error_code ec) {
            if (!ec) shutdown();
        });
    }

    void watch_stdin() {
        int fd = ::dup(STDIN_FILENO);
        if (fd < 0) return;
        in_ = std::make_unique<asio::posix::stream_descriptor>(ctx_, fd);
        read_stdin();
    }

    void read_stdin() {
        // Without explicit acknowledgements nothing more is expected: the bytes are ignored and
        // only the end of stdin matters. With them, each line is an acknowledge.
        in_->async_read_some(asio::buffer(in_buf_), [this](std::error_code ec, std::size_t n) {
            if (ec) {
                request_stop(ec == asio::error::eof ? "stdin closed" : "stdin failed: " + ec.message());
                return;
            }
            if (opts_.explicit_acknowledgements && !take_requests(std::string_view(in_buf_.data(), n))) return;
            read_stdin();
        });
    }

    /// Complete lines of `bytes` as requests; false after a fatal protocol error.
    bool take_requests(std::string_view bytes) {
        constexpr std::size_t max_line = 1 << 20; // an acknowledge is a few dozen bytes
        line_.append(bytes);
        std::size_t start = 0;
        for (auto nl = line_.find('\n'); nl != std::string::npos; nl = line_.find('\n', start)) {
            std::string_view line(line_.data() + start, nl - start);
            start = nl + 1;
            if (line.empty()) continue;
            auto req = flow::parse_request(line);
            if (!req) return fail_protocol(req.error);
            if (req.value.kind != flow::request_kind::acknowledge)
                return fail_protocol(fmt::format("request: expected acknowledge after open, got {}",
                                                 flow::to_string(req.value.kind)));
            if (!acknowledge(req.value.checkpoints)) return false;
        }
        line_.erase(0, start);
        if (line_.size() > max_line) return fail_protocol("request: a line on stdin after open is longer than 1 MiB");
        return true;
    }

    /// The runtime committed the next `n` checkpoints: their acks go to the server, if the
    /// connection that read their frames is still up (else the server resends them).
    bool acknowledge(std::uint32_t n) {
        if (n > committing_.size())
            return fail_protocol(fmt::format("acknowledge: {} checkpoints acknowledged, but only {} are waiting", n,
                                             committing_.size()));
        for (std::uint32_t i = 0; i < n; ++i) {
            auto c = std::move(committing_.front());
            committing_.pop_front();
            ++acknowledged_;
            if (c.messages == 0) continue;
            if (capture_ && capture_->deliver(c.endpoint, c.session_id, c.bytes, c.messages)) acks_sent_ += c.messages;
            else acks_dropped_ += c.messages;
        }
        return true;
    }

    bool fail_protocol(std::string message) {
        fatal_ = std::move(message);
        shutdown();
        return false;
    }

    void arm_stats() {
        stats_timer_.expires_after(stats_interval);
        stats_timer_.async_wait([this](std::error_code ec) {
            if (ec) return;
            auto s = capture_ ? capture_->stats() : socketcap::capture_stats{};
            if (auto* pool = dynamic_cast<worker_pool*>(capture_.get())) pool->refresh(ctx_);
            std::uint64_t bytes = s.totals.bytes, docs = documents(s.totals.documents);
            double secs = std::chrono::duration<double>(stats_interval).count();
            log(log_level::info, "stats",
                {{"documents", docs}, {"bytes", bytes}, {"documents_per_second", double(docs - last_docs_) / secs},
                 {"bytes_per_second", double(bytes - last_bytes_) / secs}, {"connected", s.connected != 0}});
            last_docs_ = docs;
            last_bytes_ = bytes;
            arm_stats();
        });
    }

    const capture_options& opts_;
    asio::io_context ctx_{1};
    socketcap::fd_sink out_;
    limited_sink limited_;
    asio::signal_set signals_;
    asio::steady_timer stats_timer_;
    asio::steady_timer backstop_;
    std::unique_ptr<asio::posix::stream_descriptor> in_;
    std::array<char, 4096> in_buf_{};
    std::string line_;                 // stdin bytes of an unfinished line
    struct committing {
        std::size_t endpoint = 0;      // the engine's endpoint (opts_.bindings index)
        std::string session_id;        // whose connection the acks belong to
        std::string bytes;             // the acks to send once committed
        std::size_t messages = 0;
    };
    std::deque<committing> committing_; // checkpoints written, not yet acknowledged, in order
    std::vector<std::string> last_position_; // per binding, for its checkpoints
    std::uint64_t initial_documents_ = 0;    // the bindings' states' totals
    std::uint64_t acknowledged_ = 0;
    std::uint64_t acks_sent_ = 0;
    std::uint64_t acks_dropped_ = 0;
    log_observer observer_{*this};
    std::unique_ptr<running_capture> capture_;
    socketcap::capture_stats final_;
    std::uint64_t last_bytes_;
    std::uint64_t last_docs_;
    std::uint64_t printed_at_session_start_ = 0;
    bool writes_ = false; // the endpoint talks to the server: its disconnected line says what it sent
    bool stopping_ = false;
    std::string stop_reason_;
    std::string fatal_;
};

void log_observer::on_event(const capture_event& e) {
    // The endpoint's own config (its host, port and tunnel); with several bindings, lines name it.
    const auto& b = runner.opts_.bindings[binding_of.empty() ? e.endpoint : binding_of[e.endpoint]];
    const auto& c = b.config;
    const bool many = runner.opts_.bindings.size() > 1;
    auto log = [&](log_level level, std::string_view msg, std::initializer_list<log_field> fields) {
        if (!many) return source_socket::log(level, msg, fields);
        std::vector<log_field> named{{"binding", b.index}, {"stream", b.stream}};
        named.insert(named.end(), fields.begin(), fields.end());
        source_socket::log(level, msg, named);
    };
    auto warn_insecure = [&] {
        if (e.connection && !e.connection->warning.empty())
            log(log_level::warn, e.connection->warning, {{"host", c.host}, {"port", c.port}});
    };
    switch (e.kind) {
    case capture_event_kind::connecting: log(log_level::debug, "connecting", {{"host", c.host}, {"port", c.port}}); break;
    case capture_event_kind::connected: {
        warn_insecure();
        const auto& info = *e.connection;
        const bool tls = !info.tls_version.empty(); // set by a TLS connector's handshake only
        if (tls)
            log(log_level::debug, "TLS established", {{"version", info.tls_version}, {"cipher", info.tls_cipher}});
        std::string address = fmt::format("{}:{}", info.endpoint.address().to_string(), info.endpoint.port());
        if (c.ssh_forwarding) // address: the tunnel's local end
            log(log_level::info, "connected",
                {{"host", c.host}, {"port", c.port}, {"address", address}, {"tls", tls},
                 {"tunnel", c.ssh_forwarding->ssh_endpoint}});
        else
            log(log_level::info, "connected", {{"host", c.host}, {"port", c.port}, {"address", address}, {"tls", tls}});
        break;
    }
    case capture_event_kind::connect_failed:
        warn_insecure();
        log(log_level::warn, "connection failed",
            {{"host", c.host}, {"port", c.port}, {"error", e.reason}, {"failures", e.decision->failures}});
        break;
    case capture_event_kind::gave_up: {
        warn_insecure();
        auto failures = e.decision->failures;
        auto why = fmt::format("cannot connect to {}:{}: {} (gave up after {} failed attempt{}, "
                               "max_reconnect_attempts is {})",
                               c.host, c.port, e.reason, failures, failures == 1 ? "" : "s", c.max_reconnect_attempts);
        if (!c.fail_on_endpoint_failure) {
            log(log_level::error, "endpoint gave up; the others go on", {{"error", why}});
        } else {
            auto fatal = many ? fmt::format("bindings[{}] ({}): {}", b.index, b.stream, why) : why;
            if (!on_worker) runner.fatal_ = std::move(fatal);
            else asio::post(runner.ctx_, [&r = runner, f = std::move(fatal)]() mutable { r.fatal_ = std::move(f); });
        }
        break;
    }
    case capture_event_kind::session_started:
        runner.printed_at_session_start_ = runner.limited_.passed();
        log(log_level::info, "session started", {{"session_id", e.session_id}});
        break;
    case capture_event_kind::disconnected: {
        const auto& r = *e.result;
        // Past --max-docs the sink swallows documents: count only those printed.
        std::uint64_t docs = runner.opts_.max_documents != 0
            ? runner.limited_.passed() - runner.printed_at_session_start_
            : r.documents;
        if (!runner.writes_)
            log(log_level::info, "disconnected",
                {{"session_id", e.session_id}, {"reason", e.reason}, {"bytes", r.bytes}, {"documents", docs},
                 {"checkpoints", r.checkpoints}, {"error_documents", r.stats.error_documents},
                 {"invalid_frames", r.stats.invalid_frames}, {"skipped_bytes", r.stats.skipped_bytes},
                 {"partial_frames", r.stats.partial_frames}});
        else // a conversation: what was sent, and the frames replies kept out of the documents
            log(log_level::info, "disconnected",
                {{"session_id", e.session_id}, {"reason", e.reason}, {"bytes", r.bytes}, {"documents", docs},
                 {"checkpoints", r.checkpoints}, {"error_documents", r.stats.error_documents},
                 {"invalid_frames", r.stats.invalid_frames}, {"skipped_bytes", r.stats.skipped_bytes},
                 {"partial_frames", r.stats.partial_frames}, {"sent_messages", r.messages_sent},
                 {"sent_bytes", r.bytes_sent}, {"replies", r.replies}, {"uncaptured_frames", r.stats.filtered_frames}});
        break;
    }
    case capture_event_kind::waiting: {
        const double seconds = std::chrono::duration<double>(e.decision->delay).count();
        if (c.reconnect_max_delay)
            log(log_level::info, "waiting to reconnect",
                {{"delay_seconds", seconds},
                 {"max_delay_seconds", std::chrono::duration<double>(e.decision->bound).count()}});
        else
            log(log_level::info, "waiting to reconnect", {{"delay_seconds", seconds}});
        break;
    }
    }
}

/// One connection attempt as the capture would make it; the error text, or empty.
/// `ctx` outlives `connector` (its tunnel's process handling is bound to it).
template <class Connector>
std::string check_with(asio::io_context& ctx, const Connector& connector, std::string* address) {
    socketcap::connection_info info;
    socketcap::diagnostics diag;
    std::error_code result;
    socketcap::async_check_connection(connector, ctx.get_executor(), info, diag,
                                      [&](std::error_code ec) {
                                          result = ec;
                                          ctx.stop(); // an SSH tunnel's watch would keep it running
                                      });
    ctx.run();
    if (result)
        return fmt::format("cannot connect to {}:{}: {}", connector.host(), connector.port(),
                           diag.empty() ? result.message() : diag.message());
    if (!info.warning.empty()) log(log_level::warn, info.warning, {{"host", connector.host()}, {"port", connector.port()}});
    if (address) *address = fmt::format("{}:{}", info.endpoint.address().to_string(), info.endpoint.port());
    return {};
}

} // namespace

int run_capture(const capture_options& given) {
    // One socket per endpoint: thousands of endpoints need more than the usual soft limit of
    // 1024 descriptors. Raise it to the hard limit (best effort).
    if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    capture_options opts = given;
    if (!opts.flow_protocol && opts.bindings.empty()) // the command line: the config's endpoint
        opts.bindings.push_back({0, "", "", opts.config, {}});
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
    if (!config.tls.enabled)
        return check_with(
            ctx, with_tunnel(socketcap::tcp_connector(config.host, config.port, config.connection_timeout_duration()), config),
            address);
#if SOCKETCAP_HAS_TLS
    auto made = socketcap::tls::make_context(config.tls);
    if (made.ec) return made.message;
    return check_with(ctx,
                      with_tunnel(socketcap::tls::tls_connector(config.host, config.port,
                                                                config.connection_timeout_duration(),
                                                                std::move(made.context), config.tls),
                                  config),
                      address);
#else
    return std::string(flow::no_tls_support_message);
#endif
}

} // namespace source_socket
