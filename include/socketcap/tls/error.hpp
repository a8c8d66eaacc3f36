// SPDX-License-Identifier: MIT OR Apache-2.0
// Error codes of the TLS layer. wolfSSL reports nearly every failure to Asio as
// asio::ssl::error::unexpected_result; socketcap::tls maps the real cause to one of these codes
// and to a sentence (the message strings returned next to them).
#ifndef SOCKETCAP_TLS_ERROR_HPP
#define SOCKETCAP_TLS_ERROR_HPP

#include <system_error>

namespace socketcap::tls {

enum class error {
    // Configuration (make_context)
    invalid_ca_cert = 1,         ///< tls.ca_cert: missing file or no usable certificate
    invalid_client_cert,         ///< tls.client_cert: missing file or no usable certificate
    invalid_client_key,          ///< tls.client_key: missing file, not a key, or cannot be decrypted
    client_key_password_missing, ///< tls.client_key is encrypted and no password is set
    client_key_mismatch,         ///< tls.client_key does not belong to tls.client_cert
    incomplete_client_identity,  ///< only one of tls.client_cert and tls.client_key is set
    system_ca_unavailable,       ///< no system CA store could be loaded
    // Handshake and reads
    untrusted_certificate,       ///< unknown issuer or self-signed
    hostname_mismatch,           ///< the certificate is not valid for the expected name
    certificate_expired,
    certificate_not_yet_valid,
    protocol_version,            ///< no common TLS version (TLS 1.2 is the minimum)
    client_certificate_required, ///< the server demands a client certificate
    client_certificate_rejected, ///< the server refused the client certificate it got
    alert_received,              ///< the server sent another fatal alert
    handshake_failed,            ///< any other handshake failure
    closed_during_handshake,     ///< the server closed the connection mid-handshake
    not_tls,                     ///< the server answered with something that is not TLS
    renegotiation_unsupported,   ///< a TLS 1.2 server asked to renegotiate (declined)
};

/// The category of socketcap::tls::error ("socketcap.tls").
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace socketcap::tls

template <>
struct std::is_error_code_enum<socketcap::tls::error> : std::true_type {};

#endif
