// SPDX-License-Identifier: MIT OR Apache-2.0
// The client handshake and the explanation of TLS failures. wolfSSL hands Asio a generic
// "unexpected result" for nearly every failure; the real cause is in wolfSSL_get_error, the
// alert history and the certificate the verify callback saw (docs/toolchain-notes.md §1.5).
#include <wolfssl/options.h> // always first: the same configuration as libwolfssl
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/openssl/x509v3.h>

#include <socketcap/error.hpp>
#include <socketcap/io/deadline.hpp>
#include <socketcap/tls/tls.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <array>
#include <ctime>
#include <optional>
#include <vector>

namespace socketcap::tls {

namespace {

constexpr int alert_protocol_version = 70;
constexpr int alert_no_renegotiation = 100;
constexpr int alert_certificate_required = 116;

// TLS alert descriptions (RFC 8446 §6 and RFC 5246 §7.2), by code.
const char* alert_name(int code) {
    switch (code) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return nullptr;
    }
}

std::string alert_text(int code) {
    const char* name = alert_name(code);
    return name != nullptr ? std::string(name) : fmt::format("alert {}", code);
}

// What the verify callback saw of the server's certificate (depth 0), kept as text because the
// certificate itself is gone by the time the handshake reports failure.
struct peer_certificate {
    bool seen = false;
    std::string subject;     // "CN=localhost"
    std::string issuer;      // "CN=socketcap Test CA"
    std::string names;       // "DNS:localhost, IP:127.0.0.1", or "CN=localhost" without SANs
    std::string not_before;  // "2020-01-01 00:00:00 UTC"
    std::string not_after;
};

std::string name_text(WOLFSSL_X509_NAME* name) {
    if (name == nullptr) return {};
    std::array<char, 512> buf{};
    if (wolfSSL_X509_NAME_oneline(name, buf.data(), static_cast<int>(buf.size())) == nullptr) return {};
    // "/CN=a/O=b" -> "CN=a, O=b"
    std::string s = buf.data();
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '/') {
            if (i != 0) out += ", ";
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string time_text(const WOLFSSL_ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS) return "(unknown date)";
    std::array<char, 32> buf{};
    std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf.data();
}

std::string san_text(WOLFSSL_X509* cert) {
    auto* names = static_cast<WOLFSSL_GENERAL_NAMES*>(
        wolfSSL_X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (names == nullptr) return {};
    std::string out;
    for (int i = 0; i < wolfSSL_sk_GENERAL_NAME_num(names); ++i) {
        WOLFSSL_GENERAL_NAME* n = wolfSSL_sk_GENERAL_NAME_value(names, i);
        if (n == nullptr) continue;
        std::string entry;
        if (n->type == GEN_DNS && n->d.dNSName != nullptr) {
            entry = "DNS:" + std::string(reinterpret_cast<const char*>(wolfSSL_ASN1_STRING_data(n->d.dNSName)),
                                         static_cast<std::size_t>(wolfSSL_ASN1_STRING_length(n->d.dNSName)));
        } else if (n->type == GEN_IPADD && n->d.iPAddress != nullptr) {
            const auto* p = wolfSSL_ASN1_STRING_data(n->d.iPAddress);
            int len = wolfSSL_ASN1_STRING_length(n->d.iPAddress);
            if (len == 4) {
                asio::ip::address_v4::bytes_type b;
                std::copy(p, p + 4, b.begin());
                entry = "IP:" + asio::ip::address_v4(b).to_string();
            } else if (len == 16) {
                asio::ip::address_v6::bytes_type b;
                std::copy(p, p + 16, b.begin());
                entry = "IP:" + asio::ip::address_v6(b).to_string();
            }
        }
        if (entry.empty()) continue;
        if (!out.empty()) out += ", ";
        out += entry;
    }
    wolfSSL_GENERAL_NAMES_free(names);
    return out;
}

peer_certificate describe_certificate(WOLFSSL_X509* cert) {
    peer_certificate pc;
    if (cert == nullptr) return pc;
    pc.seen = true;
    pc.subject = name_text(wolfSSL_X509_get_subject_name(cert));
    pc.issuer = name_text(wolfSSL_X509_get_issuer_name(cert));
    pc.names = san_text(cert);
    if (pc.names.empty()) pc.names = pc.subject.empty() ? "no names" : pc.subject;
    pc.not_before = time_text(wolfSSL_X509_get_notBefore(cert));
    pc.not_after = time_text(wolfSSL_X509_get_notAfter(cert));
    return pc;
}

struct verify_state {
    peer_certificate leaf;
};

// wolfSSL's verify callback: keeps what the server's certificate says, for the error message.
int record_certificate(int preverified, WOLFSSL_X509_STORE_CTX* store) {
    auto* vs = static_cast<verify_state*>(store->userCtx);
    if (vs != nullptr && (wolfSSL_X509_STORE_CTX_get_error_depth(store) == 0 || !vs->leaf.seen)) {
        vs->leaf = describe_certificate(wolfSSL_X509_STORE_CTX_get_current_cert(store));
    }
    return preverified;
}

struct failure {
    std::error_code ec;
    std::string message;
};

// The alert the server sent last, or -1.
int received_alert(WOLFSSL* ssl) {
    WOLFSSL_ALERT_HISTORY h{};
    if (wolfSSL_get_alert_history(ssl, &h) != WOLFSSL_SUCCESS) return -1;
    return h.last_rx.code > 0 ? h.last_rx.code : -1; // 0 is close_notify, never a failure cause
}

// Whether this client answered a renegotiation request (a TLS 1.2 HelloRequest) with its
// no_renegotiation warning: wolfSSL does not renegotiate, and a server that insists then ends
// the connection, typically with handshake_failure, which would otherwise read like a
// complaint about the client certificate.
bool declined_renegotiation(WOLFSSL* ssl) {
    WOLFSSL_ALERT_HISTORY h{};
    return wolfSSL_get_alert_history(ssl, &h) == WOLFSSL_SUCCESS && h.last_tx.code == alert_no_renegotiation;
}

std::string wolfssl_error_text(int err) {
    std::array<char, WOLFSSL_MAX_ERROR_SZ> buf{};
    wolfSSL_ERR_error_string(static_cast<unsigned long>(err), buf.data());
    return buf.data();
}

failure from_alert(int alert, bool have_client_cert, bool after_handshake) {
    if (alert == alert_certificate_required || (!have_client_cert && (alert == 40 || alert == 41 || alert == 42))) {
        if (alert == alert_certificate_required) {
            return {make_error_code(error::client_certificate_required),
                    fmt::format("the server requires a client certificate (it sent TLS alert certificate_required{}); "
                                "set tls.client_cert and tls.client_key",
                                after_handshake ? " after the handshake, as TLS 1.3 servers do" : "")};
        }
        return {make_error_code(error::client_certificate_required),
                fmt::format("the server {} TLS alert {} and no client certificate was sent: it probably requires "
                            "one (set tls.client_cert and tls.client_key)",
                            after_handshake ? "sent, after the handshake," : "ended the handshake with",
                            alert_text(alert))};
    }
    if (have_client_cert && (alert == 42 || alert == 43 || alert == 44 || alert == 45 || alert == 46 || alert == 48 ||
                             alert == 49 || alert == 51)) {
        return {make_error_code(error::client_certificate_rejected),
                fmt::format("the server rejected the client certificate (tls.client_cert): it sent TLS alert {}{}",
                            alert_text(alert), after_handshake ? " after the handshake" : "")};
    }
    if (alert == alert_protocol_version) {
        return {make_error_code(error::protocol_version),
                "no common TLS protocol version: the server sent TLS alert protocol_version; TLS 1.2 is the "
                "oldest version socketcap accepts"};
    }
    return {make_error_code(error::alert_received),
            fmt::format("the server sent TLS alert {}{}", alert_text(alert),
                        after_handshake ? "" : " during the handshake")};
}

failure describe_handshake_failure(WOLFSSL* ssl, std::error_code ec, const verify_state& vs,
                                   const client_options& opts, const std::string& name, bool name_from_option) {
    const peer_certificate& pc = vs.leaf;
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset) {
        int alert = received_alert(ssl);
        if (alert > 0) return from_alert(alert, !opts.client_cert.empty(), false);
        return {make_error_code(error::closed_during_handshake),
                fmt::format("the server closed the connection during the TLS handshake ({}); is it a TLS port?",
                            ec == asio::error::connection_reset ? "connection reset" : "no TLS reply")};
    }
    if (ec != asio::ssl::error::unexpected_result && ec.category() != asio::error::get_ssl_category()) {
        return {ec, fmt::format("TLS handshake failed: {}", ec.message())};
    }
    int err = wolfSSL_get_error(ssl, 0);
    long verify = wolfSSL_get_verify_result(ssl);
    switch (err) {
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
        return {make_error_code(error::hostname_mismatch),
                fmt::format("server certificate does not match the host name: expected \"{}\" ({}), "
                            "the certificate is for {}",
                            name, name_from_option ? "tls.server_hostname" : "host",
                            pc.seen ? pc.names : std::string("other names"))};
    case ASN_AFTER_DATE_E:
        return {make_error_code(error::certificate_expired),
                pc.seen ? fmt::format("server certificate expired on {} (valid from {}); check the clock if "
                                      "that seems wrong",
                                      pc.not_after, pc.not_before)
                        : std::string("server certificate expired")};
    case ASN_BEFORE_DATE_E:
        return {make_error_code(error::certificate_not_yet_valid),
                pc.seen ? fmt::format("server certificate is not valid yet: valid from {} to {}; check the clock",
                                      pc.not_before, pc.not_after)
                        : std::string("server certificate is not valid yet")};
    case ASN_SELF_SIGNED_E:
        return {make_error_code(error::untrusted_certificate),
                fmt::format("server certificate is self-signed{} and not trusted: add it to tls.ca_cert, or set "
                            "tls.verify_cert: false (insecure)",
                            pc.seen ? " (" + pc.subject + ")" : std::string())};
    case ASN_NO_SIGNER_E:
        return {make_error_code(error::untrusted_certificate),
                fmt::format("server certificate not trusted: its issuer{} is not in {}", 
                            pc.seen ? " \"" + pc.issuer + "\"" : std::string(),
                            opts.ca_cert.empty() ? "the system CA store (set tls.ca_cert to the CA that signed it)"
                                                 : "tls.ca_cert")};
    case FATAL_ERROR: {
        int alert = received_alert(ssl);
        if (alert > 0) return from_alert(alert, !opts.client_cert.empty(), false);
        break;
    }
    case UNKNOWN_RECORD_TYPE:
        return {make_error_code(error::not_tls),
                "the server does not speak TLS: its reply is not a TLS record (is it a plain TCP port? then "
                "disable tls)"};
    case VERSION_ERROR:
        return {make_error_code(error::protocol_version),
                "no common TLS protocol version: the server does not speak TLS 1.2 or 1.3"};
    default: break;
    }
    int alert = received_alert(ssl);
    if (alert > 0) return from_alert(alert, !opts.client_cert.empty(), false);
    return {make_error_code(error::handshake_failed),
            fmt::format("TLS handshake failed: {} (wolfSSL error {}, verify result {})", wolfssl_error_text(err), err,
                        verify)};
}

} // namespace

asio::awaitable<handshake_result> handshake(tls_transport& stream, std::string host, client_options opts,
                                            std::chrono::steady_clock::time_point deadline) {
    using asio::experimental::as_tuple;
    handshake_result result;
    WOLFSSL* ssl = stream.native_handle();
    if (ssl == nullptr) {
        result.ec = std::make_error_code(std::errc::not_enough_memory);
        result.message = "TLS: out of memory for the connection's TLS state";
        co_return result;
    }
    bool name_from_option = !opts.server_hostname.empty();
    std::string name = name_from_option ? opts.server_hostname : std::string(host);
    std::error_code ec;
    bool is_ip = !name.empty() && (asio::ip::make_address(name, ec), !ec);

    // SNI carries a DNS name only (RFC 6066 §3).
    if (!is_ip && !name.empty() &&
        wolfSSL_set_tlsext_host_name(ssl, name.c_str()) != WOLFSSL_SUCCESS) {
        result.ec = make_error_code(error::handshake_failed);
        result.message = fmt::format("TLS: cannot send \"{}\" as server name (SNI)", name);
        co_return result;
    }

    auto vs = std::make_shared<verify_state>();
    if (opts.verify_cert) {
        if (name.empty()) {
            result.ec = make_error_code(error::hostname_mismatch);
            result.message = "TLS: no host name to verify the server certificate against (set tls.server_hostname)";
            co_return result;
        }
        // wolfSSL's own name check (DNS and IP SANs, then CN). Not SSL_set1_host: with a verify
        // callback installed, wolfSSL lets a mismatch through (toolchain notes §1.5 item 1).
        if (wolfSSL_check_domain_name(ssl, name.c_str()) != WOLFSSL_SUCCESS) {
            result.ec = make_error_code(error::handshake_failed);
            result.message = fmt::format("TLS: cannot set \"{}\" as the name to verify", name);
            co_return result;
        }
        // The callback only records the certificate for the error message; the verdict stays
        // wolfSSL's. It gets `vs` as the store's user context (wolfSSL_SetCertCbCtx).
        wolfSSL_SetCertCbCtx(ssl, vs.get());
        wolfSSL_set_verify(ssl, WOLFSSL_VERIFY_PEER, &record_certificate);
    } else {
        wolfSSL_set_verify(ssl, WOLFSSL_VERIFY_NONE, nullptr);
        result.warning = "certificate verification is disabled (tls.verify_cert: false): the server's identity "
                         "is not checked";
    }

    socketcap::deadline<> limit(stream.get_executor(), deadline, [&stream] {
        std::error_code ignored;
        stream.lowest_layer().cancel(ignored);
    });
    auto [hec] = co_await stream.async_handshake(as_tuple(asio::use_awaitable));
    limit.finish();
    if (opts.verify_cert) wolfSSL_SetCertCbCtx(ssl, nullptr); // `vs` dies with this coroutine

    if (limit.expired()) {
        result.ec = make_error_code(socketcap::error::connect_timeout);
        result.message = "TLS handshake timed out: the server accepted the TCP connection but did not complete "
                         "the handshake before the connection timeout (is it a TLS port?)";
        co_return result;
    }
    if (hec) {
        auto f = describe_handshake_failure(ssl, hec, *vs, opts, name, name_from_option);
        result.ec = f.ec;
        result.message = std::move(f.message);
        co_return result;
    }
    result.version = wolfSSL_get_version(ssl);
    result.cipher = wolfSSL_get_cipher_name(ssl);
    co_return result;
}

// Whether the stream presented a client certificate (its context has one).
bool has_client_certificate(WOLFSSL* ssl) { return wolfSSL_get_certificate(ssl) != nullptr; }

// A read that failed after the server asked to renegotiate: why, or nothing if it did not ask.
std::optional<failure> renegotiation_failure(WOLFSSL* ssl, std::error_code ec) {
    if (!declined_renegotiation(ssl)) return std::nullopt;
    std::string then;
    if (int alert = received_alert(ssl); alert > 0 && ec == asio::ssl::error::unexpected_result)
        then = fmt::format("it then sent TLS alert {}", alert_text(alert));
    else if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
             ec == asio::error::connection_reset)
        then = "it then closed the connection";
    else
        return std::nullopt; // e.g. our own cancellation: not the server's doing
    return failure{make_error_code(error::renegotiation_unsupported),
                   fmt::format("the server asked to renegotiate the TLS session, which socketcap does not support "
                               "({})",
                               then)};
}

std::error_code classify_read_error(tls_transport& stream, std::error_code ec) {
    if (!ec) return ec;
    if (auto f = renegotiation_failure(stream.native_handle(), ec)) return f->ec;
    if (ec != asio::ssl::error::unexpected_result) return ec;
    WOLFSSL* ssl = stream.native_handle();
    int alert = received_alert(ssl);
    if (alert <= 0) return ec;
    return from_alert(alert, has_client_certificate(ssl), true).ec;
}

std::string describe_read_error(tls_transport& stream, std::error_code ec) {
    if (ec) {
        if (auto f = renegotiation_failure(stream.native_handle(), ec)) return f->message;
    }
    if (ec == asio::error::eof) return "the server closed the TLS connection";
    if (ec == asio::ssl::error::stream_truncated) {
        return "the server closed the connection without a TLS close_notify (the data may be truncated)";
    }
    if (ec == asio::ssl::error::unexpected_result) {
        WOLFSSL* ssl = stream.native_handle();
        int alert = received_alert(ssl);
        if (alert > 0) return from_alert(alert, has_client_certificate(ssl), true).message;
        int err = wolfSSL_get_error(ssl, 0);
        return fmt::format("TLS read failed: {} (wolfSSL error {})", wolfssl_error_text(err), err);
    }
    return fmt::format("TLS read failed: {}", ec.message());
}

} // namespace socketcap::tls
