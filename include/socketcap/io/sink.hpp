// SPDX-License-Identifier: MIT OR Apache-2.0
// The sink concept: where a session writes its protocol lines. Any Asio AsyncWriteStream
// models it, so stdout is simply an asio::posix::stream_descriptor (fd_sink); memory_sink
// keeps everything in a string for tests and embedders.
#ifndef SOCKETCAP_IO_SINK_HPP
#define SOCKETCAP_IO_SINK_HPP

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <concepts>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace socketcap {

namespace detail {
struct write_handler_archetype {
    void operator()(std::error_code, std::size_t) {}
};
} // namespace detail

/// Sink requirements: an Asio AsyncWriteStream (t.async_write_some(const_buffer, handler),
/// t.get_executor()). A session waits for each write to finish before it reads again, so a slow
/// sink slows reading and TCP flow control pushes back on the server: memory stays bounded.
template <class S>
concept sink = requires(S& s, asio::const_buffer b) {
    typename S::executor_type;
    s.async_write_some(b, detail::write_handler_archetype{});
};

/// A sink that also takes several buffers in one call (asio's ConstBufferSequence: a gather
/// write, writev for a descriptor). It may write any prefix of them, like any write_some.
template <class S>
concept gather_sink = sink<S> && requires(S& s, const std::vector<asio::const_buffer>& b) {
    s.async_write_some(b, detail::write_handler_archetype{});
};

/// asio::async_write's completion condition for a whole buffer in each write_some call.
/// transfer_all hands a stream at most 64 KiB per call; a sink that keeps each call whole (an
/// ordered_sink, shared by several writers) would then let another writer's bytes in between
/// the pieces of one buffer. Asking for everything every time keeps one write one piece.
struct write_whole_t {
    std::size_t operator()(const std::error_code& ec, std::size_t) const noexcept {
        return ec ? 0 : std::numeric_limits<std::size_t>::max();
    }
};
inline constexpr write_whole_t write_whole{};

/// A file descriptor (stdout in the connector). Non-blocking, so a blocked reader never blocks
/// the io_context: signals and stdin still get through.
using fd_sink = asio::posix::stream_descriptor;

/// Appends everything written to a string; each write (one buffer or several: a gather sink)
/// completes through the executor.
class memory_sink {
public:
    using executor_type = asio::any_io_executor;

    explicit memory_sink(executor_type ex) : ex_(std::move(ex)) {}

    executor_type get_executor() const noexcept { return ex_; }
    const std::string& str() const noexcept { return data_; }
    std::string take() { return std::exchange(data_, {}); }
    std::size_t writes() const noexcept { return writes_; }

    template <class ConstBufferSequence, class Token>
        requires asio::is_const_buffer_sequence<ConstBufferSequence>::value
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& bufs) {
                std::size_t n = 0;
                for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
                    asio::const_buffer b(*it);
                    data_.append(static_cast<const char*>(b.data()), b.size());
                    n += b.size();
                }
                ++writes_;
                auto ex = asio::get_associated_executor(handler, ex_);
                asio::post(ex, [h = std::move(handler), n]() mutable { h(std::error_code{}, n); });
            },
            token, buffers);
    }

private:
    executor_type ex_;
    std::string data_;
    std::size_t writes_ = 0;
};

static_assert(gather_sink<fd_sink>);
static_assert(gather_sink<memory_sink>);

} // namespace socketcap

#endif
