// SPDX-License-Identifier: MIT OR Apache-2.0
// TLS client settings, the `tls.*` configuration block. Kept free of Asio and wolfSSL so that
// configuration code can include it cheaply; socketcap/tls/tls.hpp consumes it.
#ifndef SOCKETCAP_TLS_OPTIONS_HPP
#define SOCKETCAP_TLS_OPTIONS_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace socketcap::tls {

/// The largest PEM file ca_cert, client_cert or client_key may name: a CA bundle of a few
/// hundred certificates fits many times over. Only regular files are read (never a FIFO or a
/// device), so a wrong path fails at once instead of hanging or filling memory.
inline constexpr std::size_t max_pem_file_bytes = std::size_t(4) << 20; // 4 MiB

/// The sentence for a tls.client_key value that is not PEM and names no readable file; shared by
/// make_context and the connector's file check so both say the same. The value itself is never
/// shown: it may be a key pasted without its BEGIN line. `reason`: empty when no such file
/// exists, else why it cannot be read ("Permission denied").
inline std::string unreadable_client_key_message(std::string_view reason) {
    if (reason.empty())
        return "tls.client_key: not a PEM private key and no such file (the value is not shown: it may be secret)";
    return "tls.client_key: not a PEM private key, and the file it names cannot be read: " + std::string(reason) +
           " (the value is not shown: it may be secret)";
}

/// True when a ca_cert, client_cert or client_key value is inline PEM rather than a file path:
/// it contains "-----BEGIN" (docs/tls.md). The one rule for both make_context and the
/// connector's config checks. No space is required after BEGIN: a damaged paste is then
/// reported as PEM that does not parse (never quoted), not as a file that cannot be read.
constexpr bool is_pem(std::string_view value) noexcept { return value.find("-----BEGIN") != std::string_view::npos; }

/// ca_cert, client_cert and client_key each hold either a file path or inline PEM (is_pem).
struct client_options {
    /// Chain and hostname verification. Off: any certificate is accepted (a warning is returned).
    bool verify_cert = true;
    /// CA certificate(s) to trust instead of the system store; empty: the system store.
    std::string ca_cert;
    /// Client certificate (chain) for mutual TLS; needs client_key.
    std::string client_cert;
    /// Private key of client_cert. Secret: never echoed in messages.
    std::string client_key;
    /// Passphrase of an encrypted client_key (PKCS#8 or legacy PEM encryption). Secret.
    std::string client_key_password;
    /// Name to verify and to send as SNI; empty: the connection's host.
    std::string server_hostname;
};

} // namespace socketcap::tls

#endif
