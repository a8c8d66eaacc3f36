// SPDX-License-Identifier: MIT OR Apache-2.0
// bridge_sink: a sink for writers that run on another executor (thread) than the sink they write
// to. Each write is started on the sink's executor and completes on the writer's, so a capture
// engine per thread can share one output: put an ordered_sink (io/capture_engine.hpp) behind the
// bridges, and every write goes out whole, in the order it reached the output's thread, while
// each writer keeps its own back-pressure. One writer's writes keep their order: they are posted
// to the output's executor one after the other (Asio posts run in order).
#ifndef SOCKETCAP_IO_BRIDGE_SINK_HPP
#define SOCKETCAP_IO_BRIDGE_SINK_HPP

#include <socketcap/io/sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include <system_error>
#include <utility>

namespace socketcap {

template <sink Sink>
class bridge_sink {
public:
    using executor_type = asio::any_io_executor;

    /// `next` lives on its own executor (next.get_executor()); `writer` is where the writes'
    /// completions run (the writer's thread). `next` must outlive the bridge's writes.
    bridge_sink(Sink& next, executor_type writer) : next_(next), writer_(std::move(writer)) {}

    executor_type get_executor() const noexcept { return writer_; }

    /// Completes, on the handler's executor (else the writer's), when `next` completed the write.
    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer buf) {
                auto ex = asio::get_associated_executor(handler, writer_);
                auto bound = asio::bind_executor(ex, std::move(handler));
                // A plain function object: it runs on next's executor, whatever the handler's.
                asio::post(next_.get_executor(), [&next = next_, buf, h = std::move(bound)]() mutable {
                    next.async_write_some(buf, std::move(h));
                });
            },
            token, b);
    }

private:
    Sink& next_;
    executor_type writer_;
};

} // namespace socketcap

#endif
