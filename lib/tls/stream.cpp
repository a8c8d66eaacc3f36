// SPDX-License-Identifier: MIT OR Apache-2.0
// tls::stream's wolfSSL calls and its I/O callbacks (socketcap/tls/stream.hpp).
#include <wolfssl/options.h> // always first: the same configuration as libwolfssl
#include <wolfssl/ssl.h>

#include <socketcap/tls/stream.hpp>

#include <asio/ssl/error.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>

namespace socketcap::tls {

namespace {
// Read-ahead per recvmsg, beside the bytes wolfSSL asked for: four full records, the most a
// session's default 64 KiB read area takes at once, so a busy connection needs about one recvmsg
// per read.
constexpr std::size_t read_ahead_bytes = 64 * 1024;

std::error_code errno_code(int e) { return {e, asio::error::get_system_category()}; }
} // namespace

stream::stream(const executor_type& ex, asio::ssl::context& context) : socket_(ex) {
    ssl_ = wolfSSL_new(context.native_handle());
    if (ssl_ == nullptr) return;
    wolfSSL_SSLSetIORecv(ssl_, &stream::on_receive);
    wolfSSL_SSLSetIOSend(ssl_, &stream::on_send);
    wolfSSL_SetIOReadCtx(ssl_, this);
    wolfSSL_SetIOWriteCtx(ssl_, this);
}

stream::~stream() {
    if (ssl_ != nullptr) wolfSSL_free(ssl_);
}

std::size_t stream::available(std::error_code& ec) {
    std::size_t n = socket_.available(ec);
    if (ssl_ != nullptr) n += static_cast<std::size_t>(std::max(wolfSSL_pending(ssl_), 0));
    return n + (ahead_end_ - ahead_begin_);
}

bool stream::has_buffered() noexcept {
    return ahead_end_ != ahead_begin_ || (ssl_ != nullptr && wolfSSL_pending(ssl_) > 0) || deferred_;
}

// The read-ahead buffer lives only while it holds bytes: a connection between reads, or one
// whose documents wait for a shared sink, holds none. A flood reads ahead on nearly every
// recvmsg, and an allocation per 64 KiB is noise beside decrypting them.
void stream::drop_read_ahead() noexcept {
    ahead_.reset();
    ahead_begin_ = ahead_end_ = 0;
}

std::error_code stream::failure() const noexcept {
    if (socket_error_) return socket_error_;
    if (peer_closed_) return asio::ssl::error::stream_truncated; // TCP ended without close_notify
    return asio::ssl::error::unexpected_result; // wolfSSL_get_error says what
}

stream::step stream::handshake_step() noexcept {
    int r = wolfSSL_connect(ssl_);
    if (r == WOLFSSL_SUCCESS) return {};
    switch (wolfSSL_get_error(ssl_, r)) {
    case WOLFSSL_ERROR_WANT_READ: return {want::read, {}, 0};
    case WOLFSSL_ERROR_WANT_WRITE: return {want::write, {}, 0};
    case WOLFSSL_ERROR_ZERO_RETURN: return {want::nothing, asio::error::eof, 0};
    default: return {want::nothing, failure(), 0};
    }
}

stream::step stream::read_step(void* data, std::size_t size) noexcept {
    if (size == 0) return {};
    if (deferred_) return {want::nothing, std::exchange(deferred_, {}), 0};
    auto* out = static_cast<char*>(data);
    std::size_t got = 0;
    // Record after record while they are already here: a flood then costs one completion per
    // full buffer, not one per 16 KiB record.
    while (got < size && (got == 0 || has_buffered())) {
        int r = wolfSSL_read(ssl_, out + got, static_cast<int>(std::min<std::size_t>(size - got, INT_MAX)));
        if (r > 0) {
            got += static_cast<std::size_t>(r);
            continue;
        }
        std::error_code ec;
        switch (wolfSSL_get_error(ssl_, r)) {
        case WOLFSSL_ERROR_WANT_READ:
            if (got != 0) return {want::nothing, {}, got};
            return {want::read, {}, 0};
        case WOLFSSL_ERROR_WANT_WRITE: // a reply wolfSSL owes the server (a key update) is stuck
            if (got != 0) return {want::nothing, {}, got};
            return {want::write, {}, 0};
        case WOLFSSL_ERROR_ZERO_RETURN: ec = asio::error::eof; break;
        default: ec = failure(); break;
        }
        if (got == 0) return {want::nothing, ec, 0};
        deferred_ = ec;
        break;
    }
    return {want::nothing, {}, got};
}

stream::step stream::write_step(const void* data, std::size_t size) noexcept {
    if (size == 0) return {};
    // wolfSSL sends all of it (it splits records itself); after WANT_WRITE the same call is
    // repeated with the same buffer, which the io_op does.
    int r = wolfSSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX / 2)));
    if (r > 0) return {want::nothing, {}, static_cast<std::size_t>(r)};
    switch (wolfSSL_get_error(ssl_, r)) {
    case WOLFSSL_ERROR_WANT_WRITE: return {want::write, {}, 0};
    case WOLFSSL_ERROR_WANT_READ: return {want::read, {}, 0};
    case WOLFSSL_ERROR_ZERO_RETURN: return {want::nothing, asio::error::eof, 0};
    default: return {want::nothing, failure(), 0};
    }
}

int stream::on_receive(WOLFSSL*, char* buf, int size, void* self) noexcept {
    auto& s = *static_cast<stream*>(self);
    if (size <= 0) return 0;
    auto want_bytes = static_cast<std::size_t>(size);
    if (s.ahead_end_ != s.ahead_begin_) {
        std::size_t n = std::min(want_bytes, s.ahead_end_ - s.ahead_begin_);
        std::memcpy(buf, s.ahead_.get() + s.ahead_begin_, n);
        s.ahead_begin_ += n;
        if (s.ahead_begin_ == s.ahead_end_) s.drop_read_ahead();
        return static_cast<int>(n);
    }
    // What wolfSSL asked for goes straight into its buffer; what follows it, into ours.
    // Without memory for it (nothrow: this runs inside wolfSSL), read only what was asked for.
    if (!s.ahead_) s.ahead_.reset(new (std::nothrow) unsigned char[read_ahead_bytes]);
    iovec parts[2] = {{buf, want_bytes}, {s.ahead_.get(), read_ahead_bytes}};
    msghdr msg{};
    msg.msg_iov = parts;
    msg.msg_iovlen = s.ahead_ ? 2 : 1;
    for (;;) {
        ssize_t r = ::recvmsg(s.socket_.native_handle(), &msg, MSG_DONTWAIT);
        if (r > 0) {
            auto got = static_cast<std::size_t>(r);
            if (got <= want_bytes) {
                s.drop_read_ahead();
                return static_cast<int>(got);
            }
            s.ahead_end_ = got - want_bytes;
            return size;
        }
        if (r == 0) {
            s.peer_closed_ = true;
            return WOLFSSL_CBIO_ERR_CONN_CLOSE;
        }
        const int e = errno; // before free() may change it
        if (e == EINTR) continue;
        s.drop_read_ahead();
        if (e == EAGAIN || e == EWOULDBLOCK) return WOLFSSL_CBIO_ERR_WANT_READ;
        s.socket_error_ = errno_code(e);
        return e == ECONNRESET ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
    }
}

int stream::on_send(WOLFSSL*, char* buf, int size, void* self) noexcept {
    auto& s = *static_cast<stream*>(self);
    for (;;) {
        ssize_t r = ::send(s.socket_.native_handle(), buf, static_cast<std::size_t>(size), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r >= 0) return static_cast<int>(r);
        const int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK) return WOLFSSL_CBIO_ERR_WANT_WRITE;
        s.socket_error_ = errno_code(e);
        return e == ECONNRESET || e == EPIPE ? WOLFSSL_CBIO_ERR_CONN_RST : WOLFSSL_CBIO_ERR_GENERAL;
    }
}

} // namespace socketcap::tls
