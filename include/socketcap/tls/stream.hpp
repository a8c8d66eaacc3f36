// SPDX-License-Identifier: MIT OR Apache-2.0
// tls::stream: a TLS client stream over a TCP socket in which wolfSSL reads and writes the
// socket itself, through its I/O callbacks. Not asio::ssl::stream, for three reasons measured in
// docs/performance.md: Asio's stream keeps two 17 KiB record buffers and a BIO pair of two more
// per connection (about 68 KB an idle endpoint would hold); it returns one record (16 KiB) per
// read, where this stream fills the caller's buffer from as many records as are there; and it
// copies ciphertext twice on its way in. Without bytes kept above the socket, the socket's
// readability says whether a read would block, so a session can wait on an idle connection
// holding no read area (waitable_transport).
#ifndef SOCKETCAP_TLS_STREAM_HPP
#define SOCKETCAP_TLS_STREAM_HPP

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/execution_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>
#include <asio/ssl/context.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <system_error>

struct WOLFSSL; // <wolfssl/ssl.h> needs its options.h first: only the name is needed here

namespace socketcap::tls {

/// A TLS client connection. Reads and writes complete like a socket's: end of stream is
/// asio::error::eof after the server's close_notify, asio::ssl::error::stream_truncated when the
/// TCP connection ended without one; a TLS failure is asio::ssl::error::unexpected_result, and
/// wolfSSL_get_error(native_handle(), 0) and the alert history say which (describe_read_error in
/// tls.hpp turns that into a sentence); a socket error is the socket's error code. One read and
/// one write may be outstanding at once; all operations must run on one thread at a time (the
/// stream's executor, or a strand), as with Asio's own streams.
class stream {
public:
    using executor_type = asio::any_io_executor;
    using next_layer_type = asio::ip::tcp::socket;
    using lowest_layer_type = next_layer_type::lowest_layer_type;
    using native_handle_type = WOLFSSL*;

    /// A stream for one connection made with `context` (tls::make_context's, or any client
    /// context over wolfSSL), which must outlive it. If wolfSSL cannot allocate its connection
    /// state, native_handle() is null and every operation fails with
    /// std::errc::not_enough_memory.
    stream(const executor_type& ex, asio::ssl::context& context);
    template <class ExecutionContext>
        requires std::convertible_to<ExecutionContext&, asio::execution_context&>
    stream(ExecutionContext& io, asio::ssl::context& context) : stream(io.get_executor(), context) {}
    ~stream();
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    next_layer_type& next_layer() noexcept { return socket_; }
    lowest_layer_type& lowest_layer() noexcept { return socket_.lowest_layer(); }
    native_handle_type native_handle() noexcept { return ssl_; }

    /// The client handshake over the connected socket: handler(error_code). Set the server name
    /// and verification on native_handle() first (tls::handshake does, and explains failures).
    template <class Token>
    auto async_handshake(Token&& token);

    /// Decrypts into the first non-empty buffer as many bytes as are there, from as many records:
    /// handler(error_code, bytes), bytes > 0 on success. Waits for the socket while there are
    /// none. Bytes read before an error are delivered first; the error comes with the next read.
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token);

    /// Encrypts and sends all of the first non-empty buffer: handler(error_code, bytes).
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token);

    /// Waits until a read would not block (wait_read), or the socket is writable (wait_write):
    /// handler(error_code). A wait for reading completes at once when decrypted or read-ahead
    /// bytes are there. The read-ahead buffer exists only while it holds bytes, so an idle
    /// connection holds only wolfSSL's own state.
    template <class Token>
    auto async_wait(asio::socket_base::wait_type what, Token&& token);

    /// About how many bytes a read would return at once: decrypted and read-ahead bytes, plus
    /// what the socket holds (ciphertext: a little more than its plaintext).
    std::size_t available(std::error_code& ec);

private:
    enum class want { nothing, read, write };
    struct step {
        want next = want::nothing;
        std::error_code ec;
        std::size_t bytes = 0;
    };
    template <bool WithBytes, class Attempt>
    struct io_op;
    struct wait_op;
    /// A read or a write of the first non-empty buffer of `buffers` through `how` (read_step or write_step).
    template <class Buffer, class Sequence, class Step, class Token>
    auto async_transfer(const Sequence& buffers, Step how, Token&& token);

    step handshake_step() noexcept;
    step read_step(void* data, std::size_t size) noexcept;
    step write_step(const void* data, std::size_t size) noexcept;
    bool has_buffered() noexcept;
    void drop_read_ahead() noexcept;
    std::error_code failure() const noexcept;
    static int on_receive(WOLFSSL* ssl, char* buf, int size, void* self) noexcept;
    static int on_send(WOLFSSL* ssl, char* buf, int size, void* self) noexcept;

    next_layer_type socket_;
    WOLFSSL* ssl_ = nullptr;
    // Ciphertext read ahead of what wolfSSL asked for (it asks for a record header, then its
    // body): one recvmsg brings a body and the records after it. Allocated only while it holds
    // bytes.
    std::unique_ptr<unsigned char[]> ahead_;
    std::size_t ahead_begin_ = 0;
    std::size_t ahead_end_ = 0;
    std::error_code socket_error_; // what recv or send failed with
    bool peer_closed_ = false;     // recv returned 0
    std::error_code deferred_;     // a read error held back behind bytes already delivered
};

} // namespace socketcap::tls

#include <socketcap/tls/impl/stream.hpp>

#endif
