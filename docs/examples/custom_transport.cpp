// SPDX-License-Identifier: MIT OR Apache-2.0
// A custom transport: replays recorded chunks as if a socket delivered them, so a capture can
// be re-run through a real session<…> (its framing, checkpoints and end-of-stream handling)
// without a network. Any Asio AsyncReadStream with lowest_layer().cancel()/close() will do.
// docs/library.md shows this file; the test suite compiles and runs it (suite 'examples').
#include <socketcap/error.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/io/sink.hpp>
#include <socketcap/text_codec.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <cstdio>
#include <deque>
#include <regex>
#include <string>
#include <system_error>

class replay_transport {
public:
    using executor_type = asio::any_io_executor;

    replay_transport(executor_type ex, std::deque<std::string> chunks)
        : ex_(std::move(ex)), chunks_(std::move(chunks)) {}

    executor_type get_executor() const noexcept { return ex_; }

    // The session cancels the lowest layer on idle timeout and stop(), with the error_code
    // overloads; a plain socket is its own lowest layer, and so is this transport.
    replay_transport& lowest_layer() noexcept { return *this; }
    void cancel() { cancelled_ = true; }
    void cancel(std::error_code& ec) { cancelled_ = true; ec.clear(); }
    void close() { chunks_.clear(); }
    void close(std::error_code& ec) { chunks_.clear(); ec.clear(); }

    // Completes through the executor, never inline, like any Asio operation. Chunks larger than
    // the buffer are handed out over several reads; after the last chunk comes asio::error::eof.
    template <class Token>
    auto async_read_some(asio::mutable_buffer buf, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::mutable_buffer b) {
                std::error_code ec;
                std::size_t n = 0;
                if (cancelled_) {
                    ec = asio::error::operation_aborted;
                } else if (chunks_.empty()) {
                    ec = asio::error::eof;
                } else {
                    std::string& front = chunks_.front();
                    n = asio::buffer_copy(b, asio::buffer(front));
                    front.erase(0, n);
                    if (front.empty()) chunks_.pop_front();
                }
                auto ex = asio::get_associated_executor(handler, ex_);
                asio::post(ex, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
            },
            token, buf);
    }

private:
    executor_type ex_;
    std::deque<std::string> chunks_;
    bool cancelled_ = false;
};

static_assert(socketcap::transport<replay_transport>);

int main() {
    using namespace socketcap;
    asio::io_context io;
    // Three reads: a line split across the first two, a CRLF line, an unterminated last line.
    replay_transport transport(io.get_executor(), {"first li", "ne\nsecond\r\nthi", "rd"});

    session_options opts;
    opts.source_host = "replay";
    opts.source_port = 1;
    opts.write_checkpoint = [](output_buffer& out, const session_progress& p) {
        fmt::format_to(fmt::appender(out), R"({{"checkpoint":{{"sequence":{},"bytes":{}}}}})" "\n",
                       p.sequence, p.bytes);
    };
    session<replay_transport, line_codec> s(transport, line_codec{}, opts);
    memory_sink sink(io.get_executor());
    session_result result;
    s.async_run(sink, [&](std::exception_ptr e, session_result r) {
        if (e) std::rethrow_exception(e);
        result = r;
    });
    io.run();

    // Timestamps and the session id differ on every run; everything else is exact.
    std::string out = std::regex_replace(sink.str(), std::regex(R"("timestamp":"[^"]+")"), R"("timestamp":"T")");
    out = std::regex_replace(out, std::regex(s.session_id()), "S");
    const std::string head = R"({"timestamp":"T","source_host":"replay","source_port":1,)";
    const std::string expected =
        // read 1 ("first li") makes no document; read 2 completes two lines: one checkpoint
        head + R"("data":{"value":"first line"},"raw":"first line","sequence":1,"session_id":"S"})" "\n" +
        head + R"("data":{"value":"second"},"raw":"second","sequence":2,"session_id":"S"})" "\n"
        R"({"checkpoint":{"sequence":2,"bytes":22}})" "\n" +
        // read 3 ("rd") and then end of stream: the unterminated line is flushed and checkpointed
        head + R"("data":{"value":"third"},"raw":"third","partial":true,"sequence":3,"session_id":"S"})" "\n"
        R"({"checkpoint":{"sequence":3,"bytes":24}})" "\n";
    std::fputs(out.c_str(), stdout);
    if (out != expected || result.ec != asio::error::eof || result.documents != 3 || result.checkpoints != 2) {
        std::fprintf(stderr, "custom_transport: unexpected output or result (%s)\n", result.ec.message().c_str());
        return 1;
    }
    return 0;
}
