// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/tls/error.hpp>

#include <string>

namespace socketcap::tls {

namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "socketcap.tls"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::invalid_ca_cert: return "invalid tls.ca_cert";
        case error::invalid_client_cert: return "invalid tls.client_cert";
        case error::invalid_client_key: return "invalid tls.client_key";
        case error::client_key_password_missing: return "encrypted tls.client_key without a password";
        case error::client_key_mismatch: return "tls.client_key does not match tls.client_cert";
        case error::incomplete_client_identity: return "tls.client_cert and tls.client_key go together";
        case error::system_ca_unavailable: return "no system CA certificates";
        case error::untrusted_certificate: return "server certificate not trusted";
        case error::hostname_mismatch: return "server certificate does not match the host name";
        case error::certificate_expired: return "server certificate expired";
        case error::certificate_not_yet_valid: return "server certificate not yet valid";
        case error::protocol_version: return "no common TLS protocol version";
        case error::client_certificate_required: return "the server requires a client certificate";
        case error::client_certificate_rejected: return "the server rejected the client certificate";
        case error::alert_received: return "the server sent a fatal TLS alert";
        case error::handshake_failed: return "TLS handshake failed";
        case error::closed_during_handshake: return "the server closed the connection during the TLS handshake";
        case error::not_tls: return "the server does not speak TLS";
        case error::renegotiation_unsupported: return "the server asked to renegotiate the TLS session";
        }
        return "unknown socketcap.tls error";
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace socketcap::tls
