// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IO_IMPL_BRIDGE_SINK_HPP
#define SOCKETCAP_IO_IMPL_BRIDGE_SINK_HPP

#include <asio/bind_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>

#include <memory>
#include <type_traits>

namespace socketcap {

// The buffers of one gather write, on next's executor, and the writer's handler.
template <sink Sink>
template <class Handler>
struct bridge_sink<Sink>::group {
    group(Handler h, std::vector<asio::const_buffer> b) : handler(std::move(h)), buffers(std::move(b)) {}
    Handler handler;
    std::vector<asio::const_buffer> buffers;
    std::size_t left = 0;    // writes not completed yet
    std::size_t written = 0; // bytes of the buffers written whole, in order, before any failure
    std::error_code error;   // the first failure
    bool failed = false;

    // All at once, each a whole write: `next` (an ordered_sink) queues them behind the write
    // under way, writes them together, and completes them in order.
    static void write(const std::shared_ptr<group>& self, Sink& next) {
        self->left = self->buffers.size();
        if (self->left == 0) return self->complete();
        for (auto b : self->buffers) {
            next.async_write_some(b, [self, size = b.size()](std::error_code ec, std::size_t n) {
                if (!self->failed) {
                    self->written += n;
                    if (ec || n != size) {
                        self->failed = true;
                        self->error = ec;
                    }
                }
                if (--self->left == 0) self->complete();
            });
        }
    }

    // On the writer's executor (the handler is bound to it), never inline on next's.
    void complete() {
        auto ex = asio::get_associated_executor(handler);
        asio::dispatch(ex, [h = std::move(handler), ec = error, n = written]() mutable { std::move(h)(ec, n); });
    }
};

template <sink Sink>
template <class ConstBufferSequence, class Token>
    requires asio::is_const_buffer_sequence<ConstBufferSequence>::value
auto bridge_sink<Sink>::async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& bufs) {
            crossings_.fetch_add(1, std::memory_order_relaxed);
            auto ex = asio::get_associated_executor(handler, writer_);
            auto bound = asio::bind_executor(ex, std::move(handler));
            if constexpr (std::is_convertible_v<ConstBufferSequence, asio::const_buffer>) {
                // A plain function object: it runs on next's executor, whatever the handler's.
                asio::post(next_.get_executor(),
                           [&next = next_, buf = asio::const_buffer(bufs), h = std::move(bound)]() mutable {
                               next.async_write_some(buf, std::move(h));
                           });
            } else {
                std::vector<asio::const_buffer> copy(asio::buffer_sequence_begin(bufs), asio::buffer_sequence_end(bufs));
                auto g = std::make_shared<group<decltype(bound)>>(std::move(bound), std::move(copy));
                asio::post(next_.get_executor(), [&next = next_, g]() mutable { group<decltype(bound)>::write(g, next); });
            }
        },
        token, buffers);
}

} // namespace socketcap

#endif
