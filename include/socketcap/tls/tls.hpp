// SPDX-License-Identifier: MIT OR Apache-2.0
// The TLS transport: tls::stream (wolfSSL on the socket through its I/O callbacks; the context is
// an asio::ssl::context over wolfSSL's OpenSSL-compatibility layer), plus what a connection needs
// around it: a validated client context, a handshake that verifies the host name and is bounded
// by a deadline, and failures explained in sentences (wolfSSL reports almost everything as
// "unexpected result"). docs/tls.md lists the messages.
#ifndef SOCKETCAP_TLS_TLS_HPP
#define SOCKETCAP_TLS_TLS_HPP

#include <socketcap/tls/error.hpp>
#include <socketcap/tls/options.hpp>
#include <socketcap/io/transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <socketcap/tls/stream.hpp>

#include <asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace socketcap::tls {

/// The TLS transport a session reads like a plain socket (and, having no bytes above the socket
/// it does not report, waits on like one: waitable_transport).
using tls_transport = stream;

struct context_result {
    /// The client context, shared by every connection made with the same options; null on error.
    std::shared_ptr<asio::ssl::context> context;
    std::error_code ec;
    /// On error: a sentence that names the field ("tls.client_key: does not match
    /// tls.client_cert"). Never contains key material or the password.
    std::string message;
};

/// Loads and checks everything in `opts`: CA (file, inline PEM, or the system store), client
/// certificate and key (file or inline PEM, encrypted keys with client_key_password, key/cert
/// match). TLS 1.2 minimum, TLS 1.3 preferred; AES-GCM first when prefers_aes_gcm(), else
/// ChaCha20-Poly1305 first (the faster cipher without AES-NI).
context_result make_context(const client_options& opts);

/// Frees what wolfSSL keeps per thread (the ECC fixed-point cache of an FP_ECC build, as
/// Debian's is): a thread other than main that made TLS contexts or connections calls it before
/// it ends, or that memory (about 600 KB) is lost with the thread.
void release_thread_state() noexcept;

/// True when the linked wolfSSL has its AES-NI code (scripts/build-fast-wolfssl; Debian's
/// package does not) and this CPU has AES-NI and PCLMULQDQ: AES-GCM then costs about half the
/// CPU of ChaCha20-Poly1305, so make_context offers it first (docs/tls.md).
bool prefers_aes_gcm() noexcept;

struct handshake_result {
    std::error_code ec; ///< socketcap::error::connect_timeout, a socketcap::tls::error, or Asio's
    std::string message; ///< on error: why, as a sentence
    /// Non-empty when the connection is insecure: "certificate verification is disabled"
    /// (tls.verify_cert: false). Log it once per connection.
    std::string warning;
    std::string version; ///< negotiated, e.g. "TLSv1.3" (on success)
    std::string cipher;  ///< negotiated, e.g. "TLS13-CHACHA20-POLY1305-SHA256" (on success)
};

/// Runs the client handshake on `stream`, whose TCP socket is already connected to `host`.
/// The name to verify and send as SNI is opts.server_hostname, else `host`; an IP address is
/// matched against the certificate's IP SANs and never sent as SNI. `opts` must be the options
/// the stream's context was made from. The handshake is abandoned at `deadline` (a server that
/// accepts TCP but never answers fails with socketcap::error::connect_timeout). `host` and `opts`
/// are taken by value: the coroutine may outlive the caller's temporaries.
asio::awaitable<handshake_result> handshake(tls_transport& stream, std::string host, client_options opts,
                                            std::chrono::steady_clock::time_point deadline);

/// Explains an error that ended reading after a successful handshake: a clean close
/// (close_notify), a close without close_notify (stream_truncated: data may be missing), or an
/// alert, in particular certificate_required, which TLS 1.3 sends on the first read when the
/// server wants a client certificate, and a TLS 1.2 server's request to renegotiate, which is
/// declined (error::renegotiation_unsupported). Other errors are described by their own message.
std::string describe_read_error(tls_transport& stream, std::error_code ec);

/// The error code to report for `ec` from a read (maps the certificate_required alert to
/// error::client_certificate_required, a declined renegotiation to
/// error::renegotiation_unsupported; anything else is returned unchanged).
std::error_code classify_read_error(tls_transport& stream, std::error_code ec);

} // namespace socketcap::tls

static_assert(socketcap::duplex_transport<socketcap::tls::tls_transport>);
static_assert(socketcap::waitable_transport<socketcap::tls::tls_transport>);

#endif
