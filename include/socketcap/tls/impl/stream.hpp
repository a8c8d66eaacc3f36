// SPDX-License-Identifier: MIT OR Apache-2.0
// Template bodies of tls::stream (socketcap/tls/stream.hpp): each operation is a composed
// operation that tries the wolfSSL call and, while wolfSSL wants the socket, waits for it to be
// readable or writable and tries again. The wolfSSL calls themselves are in lib/tls/stream.cpp.
#ifndef SOCKETCAP_TLS_IMPL_STREAM_HPP
#define SOCKETCAP_TLS_IMPL_STREAM_HPP

#include <socketcap/io/buffers.hpp>

#include <asio/compose.hpp>
#include <asio/post.hpp>

#include <utility>

namespace socketcap::tls {

template <bool WithBytes, class Attempt>
struct stream::io_op {
    io_op(stream* st, Attempt a) : s(st), attempt(std::move(a)) {}
    stream* s;
    Attempt attempt;
    bool initiating = true;
    bool finished = false;
    step result;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}) {
        if (!finished) {
            if (ec) {
                result = step{want::nothing, ec, 0}; // the wait failed: cancelled, or the socket closed
            } else if (s->ssl_ == nullptr) {
                result = step{want::nothing, std::make_error_code(std::errc::not_enough_memory), 0};
            } else {
                result = attempt(*s);
            }
            if (result.next != want::nothing) {
                initiating = false;
                auto what = result.next == want::read ? asio::socket_base::wait_read : asio::socket_base::wait_write;
                s->socket_.async_wait(what, std::move(self));
                return;
            }
            finished = true;
            if (initiating) {
                // Done without waiting: complete through the executor, never inside the initiating
                // call (Asio's rule, which keeps a loop of reads from growing the stack).
                initiating = false;
                asio::post(std::move(self));
                return;
            }
        }
        step r = result;
        if constexpr (WithBytes) {
            self.complete(r.ec, r.bytes);
        } else {
            self.complete(r.ec);
        }
    }
};

struct stream::wait_op {
    wait_op(stream* st, asio::socket_base::wait_type w) : s(st), what(w) {}
    stream* s;
    asio::socket_base::wait_type what;
    bool started = false;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}) {
        if (!started) {
            started = true;
            if (what == asio::socket_base::wait_read && s->has_buffered()) {
                asio::post(std::move(self));
                return;
            }
            s->socket_.async_wait(what, std::move(self));
            return;
        }
        self.complete(ec);
    }
};

template <class Token>
auto stream::async_handshake(Token&& token) {
    auto attempt = [](stream& s) { return s.handshake_step(); };
    return asio::async_compose<Token, void(std::error_code)>(io_op<false, decltype(attempt)>(this, attempt), token, socket_);
}

template <class Buffer, class Sequence, class Step, class Token>
auto stream::async_transfer(const Sequence& buffers, Step how, Token&& token) {
    auto b = first_buffer<Buffer>(buffers);
    auto attempt = [b, how](stream& s) { return (s.*how)(b.data(), b.size()); };
    return asio::async_compose<Token, void(std::error_code, std::size_t)>(io_op<true, decltype(attempt)>(this, attempt),
                                                                          token, socket_);
}

template <class MutableBufferSequence, class Token>
auto stream::async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return async_transfer<asio::mutable_buffer>(buffers, &stream::read_step, std::forward<Token>(token));
}

template <class ConstBufferSequence, class Token>
auto stream::async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return async_transfer<asio::const_buffer>(buffers, &stream::write_step, std::forward<Token>(token));
}

template <class Token>
auto stream::async_wait(asio::socket_base::wait_type what, Token&& token) {
    return asio::async_compose<Token, void(std::error_code)>(wait_op(this, what), token, socket_);
}

} // namespace socketcap::tls

#endif
