// SPDX-License-Identifier: MIT OR Apache-2.0
// The transport concept: a byte stream a session reads from. Asio's own streams model it as
// they are (aliases, not wrappers): a plain socket, and the TLS stream of socketcap/tls.hpp.
#ifndef SOCKETCAP_IO_TRANSPORT_HPP
#define SOCKETCAP_IO_TRANSPORT_HPP

#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <concepts>
#include <cstddef>
#include <limits>
#include <system_error>

namespace asio::ssl {
template <typename Stream>
class stream; // <asio/ssl/stream.hpp> needs the TLS library's headers: only its name is needed here
} // namespace asio::ssl

namespace socketcap {

namespace detail {
struct read_handler_archetype {
    void operator()(std::error_code, std::size_t) {}
};
} // namespace detail

/// Transport requirements (docs/design.md has the table):
///  - an Asio AsyncReadStream: t.async_read_some(mutable_buffer, handler(error_code, size_t))
///    and t.get_executor(); end of stream is an error code (asio::error::eof, or
///    asio::ssl::error::stream_truncated for TLS without close_notify);
///  - t.lowest_layer(): the socket underneath, which the session cancels on idle timeout and
///    closes when stopped.
template <class T>
concept transport = requires(T& t, asio::mutable_buffer b, std::error_code& ec) {
    typename T::executor_type;
    { t.get_executor() } -> std::convertible_to<typename T::executor_type>;
    t.async_read_some(b, detail::read_handler_archetype{});
    t.lowest_layer().cancel(ec); // the session's non-throwing calls
    t.lowest_layer().close(ec);
};

/// A transport a session can also write to (a conversation: io/session.hpp): an Asio
/// AsyncWriteStream as well. One read and one write may be outstanding at once, as Asio's
/// sockets and ssl::stream allow.
template <class T>
concept duplex_transport = transport<T> && requires(T& t, asio::const_buffer b) {
    t.async_write_some(b, detail::read_handler_archetype{});
};

namespace detail {
struct wait_handler_archetype {
    void operator()(std::error_code) {}
};
} // namespace detail

/// A transport that can wait until a read would not block, without reading:
/// t.async_wait(asio::socket_base::wait_read, handler(error_code)), and say how many bytes a
/// read would return at once: t.available(ec), as Asio's sockets do. While its receive buffer
/// is empty a session waits that way and holds no read area, so an idle connection costs no
/// buffer (it skips the wait when its last read filled its area and available() says more is
/// there). A transport that keeps bytes above its socket must say so itself: tls::stream
/// completes a wait for reading at once while it holds decrypted or read-ahead bytes.
/// asio::ssl::stream, which may hold them without saying so, has no async_wait and reads as
/// before.
template <class T>
concept waitable_transport = transport<T> && requires(T& t, std::error_code& ec) {
    t.async_wait(asio::socket_base::wait_read, detail::wait_handler_archetype{});
    { t.available(ec) } -> std::convertible_to<std::size_t>;
};

/// The most bytes one read of a T can return, whatever the buffer: a session asks no more of
/// each read (session_options::pipeline.read_size is capped to it), so its read area is no larger
/// than a read can fill. Unbounded, except for Asio's TLS stream: its read returns at most one
/// record's plaintext, 16 KiB (RFC 8446 5.1; Asio makes one SSL_read per read). tls::stream
/// reads as many records as the buffer takes.
template <class T>
inline constexpr std::size_t max_read_bytes = std::numeric_limits<std::size_t>::max();

template <class Stream>
inline constexpr std::size_t max_read_bytes<asio::ssl::stream<Stream>> = 16384;

using tcp_transport = asio::ip::tcp::socket;

static_assert(duplex_transport<tcp_transport>);
static_assert(waitable_transport<tcp_transport>);

} // namespace socketcap

#endif
