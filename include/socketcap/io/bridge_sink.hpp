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
#include <asio/buffer.hpp>

#include <atomic>
#include <system_error>
#include <utility>
#include <vector>

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
    /// Several buffers (a gather write: the writer's ordered_sink sends what queued behind its
    /// last write) cross together and each goes to `next` as a whole write of its own, one after
    /// the other, so a shared `next` keeps each whole. A writer's queue then crosses once per
    /// round trip instead of once per buffer; it completes when all are written, or with the
    /// bytes of those written before the first failure.
    template <class ConstBufferSequence, class Token>
        requires asio::is_const_buffer_sequence<ConstBufferSequence>::value
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token);

    /// Times a write crossed to `next`'s executor (one per call, whatever its buffers).
    std::size_t crossings() const noexcept { return crossings_.load(std::memory_order_relaxed); }

private:
    template <class Handler>
    struct group;

    Sink& next_;
    executor_type writer_;
    std::atomic<std::size_t> crossings_{0};
};

} // namespace socketcap

#include <socketcap/io/impl/bridge_sink.hpp>

#endif
