// SPDX-License-Identifier: MIT OR Apache-2.0
// The sink of `capture --max-docs N`.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_LIMITED_SINK_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_LIMITED_SINK_HPP

#include <socketcap/io/buffers.hpp>
#include <socketcap/io/sink.hpp>

#include <asio/associated_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>

namespace source_socket {

/// Stdout for `capture --max-docs N`: passes documents through until N newlines (one per
/// document) went out, then calls on_limit and swallows the rest. A limit of 0 passes
/// everything straight through: the capture uses this one sink type either way, which halves
/// the engine instantiations it compiles.
class limited_sink {
public:
    using executor_type = socketcap::fd_sink::executor_type;

    limited_sink(socketcap::fd_sink& next, std::uint64_t limit, std::function<void()> on_limit)
        : next_(next), limit_(limit), remaining_(limit), on_limit_(std::move(on_limit)) {}

    executor_type get_executor() { return next_.get_executor(); }

    /// Documents written to stdout so far (the swallowed ones past the limit not counted).
    std::uint64_t passed() const { return limit_ - remaining_; }

    /// One buffer or several (a gather write of the ordered sink in front, socketcap::gather_sink).
    template <class ConstBufferSequence, class Token>
        requires asio::is_const_buffer_sequence<ConstBufferSequence>::value
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& bufs) {
                if (limit_ == 0) return next_.async_write_some(bufs, std::move(handler));
                if (remaining_ == 0) {
                    auto ex = asio::get_associated_executor(handler, next_.get_executor());
                    asio::post(ex, [h = std::move(handler), n = asio::buffer_size(bufs)]() mutable {
                        h(std::error_code{}, n);
                    });
                    return;
                }
                // With a limit, only the first buffer: a write_some may write less than it is
                // given, and the caller goes on with the rest (swallowed once the limit is hit).
                const auto buf = socketcap::first_buffer<asio::const_buffer>(bufs);
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
            token, buffers);
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

static_assert(socketcap::gather_sink<limited_sink>); // the capture's group writes reach stdout whole

} // namespace source_socket

#endif
