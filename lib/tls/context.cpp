// SPDX-License-Identifier: MIT OR Apache-2.0
// make_context: every tls.* option is loaded and checked here, before any connection, so that a
// bad configuration fails at validate time with a sentence that names the field.
#include <wolfssl/options.h> // always first: the same configuration as libwolfssl
#include <wolfssl/ssl.h>

#include <socketcap/tls/tls.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace socketcap::tls {

namespace {

// Client cipher preference. TLS 1.3 suites first; ChaCha20-Poly1305 leads because Debian's
// wolfSSL has no AES-NI, where ChaCha20 is about 1.6x faster than AES-GCM. TLS 1.2: forward
// secret AEAD suites only.
constexpr const char* cipher_list = "TLS13-CHACHA20-POLY1305-SHA256:"
                                    "TLS13-AES128-GCM-SHA256:"
                                    "TLS13-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                    "ECDHE-RSA-CHACHA20-POLY1305:"
                                    "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                    "ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-RSA-AES256-GCM-SHA384:"
                                    "DHE-RSA-CHACHA20-POLY1305:"
                                    "DHE-RSA-AES128-GCM-SHA256:"
                                    "DHE-RSA-AES256-GCM-SHA384";

struct pem_source {
    std::string pem;      // the PEM text (inline, or read from the file)
    std::string file;     // the path when it came from a file
    std::string failure;  // non-empty: why there is no PEM
    std::string where() const { return file.empty() ? std::string("inline PEM") : "file " + file; }
};

bool is_inline_pem(const std::string& value) { return value.find("-----BEGIN") != std::string::npos; }

// `field` names the option; `what` says what it should contain ("certificate", "private key");
// `secret`: never echo the value (a mistyped key could otherwise end up in a log).
pem_source load_pem(std::string_view field, std::string_view what, const std::string& value, bool secret) {
    pem_source src;
    if (is_inline_pem(value)) {
        src.pem = value;
        return src;
    }
    std::error_code ec;
    bool exists = std::filesystem::exists(value, ec);
    if (!exists) {
        if (secret) {
            src.failure = fmt::format("{}: not a PEM {} and no such file (the value is not shown: it may be secret)",
                                      field, what);
        } else {
            constexpr std::size_t max_shown = 200;
            std::string shown = value.size() > max_shown ? value.substr(0, max_shown) + "..." : value;
            src.failure = fmt::format("{}: not a PEM {} and no such file: {}", field, what, shown);
        }
        return src;
    }
    src.file = value;
    if (std::filesystem::is_directory(value, ec)) {
        src.failure = fmt::format("{}: {} is a directory, expected a PEM file", field, value);
        return src;
    }
    std::ifstream in(value, std::ios::binary);
    if (!in) {
        src.failure = fmt::format("{}: cannot read {}: {}", field, value, std::strerror(errno));
        return src;
    }
    std::ostringstream text;
    text << in.rdbuf();
    src.pem = std::move(text).str();
    if (!is_inline_pem(src.pem)) {
        src.failure = fmt::format("{}: file {} contains no PEM {} (no \"-----BEGIN\" line)", field, value, what);
    }
    return src;
}

bool is_encrypted_key(const std::string& pem) {
    return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
           pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
}

context_result fail(error e, std::string message) {
    return context_result{nullptr, make_error_code(e), std::move(message)};
}

} // namespace

namespace {

// Loads every PEM certificate block of `pem` as a trusted CA; false when there is none or any
// block fails to load.
bool load_each_certificate(WOLFSSL_CTX* native, std::string_view pem) {
    constexpr std::string_view end_marker = "-----END CERTIFICATE-----";
    std::size_t blocks = 0;
    for (std::size_t at = pem.find("-----BEGIN"); at != std::string_view::npos; at = pem.find("-----BEGIN", at)) {
        std::size_t end = pem.find(end_marker, at);
        if (end == std::string_view::npos) return false;
        end += end_marker.size();
        auto block = pem.substr(at, end - at);
        if (wolfSSL_CTX_load_verify_buffer(native, reinterpret_cast<const unsigned char*>(block.data()),
                                           static_cast<long>(block.size()), WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
            return false;
        ++blocks;
        at = end;
    }
    return blocks != 0;
}

} // namespace

context_result make_context(const client_options& opts) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    WOLFSSL_CTX* native = ctx->native_handle();
    if (wolfSSL_CTX_SetMinVersion(native, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_cipher_list(native, cipher_list) != WOLFSSL_SUCCESS) {
        return fail(error::handshake_failed, "TLS: this wolfSSL build supports neither TLS 1.2 nor the cipher list");
    }
    std::error_code ec;

    // Without a password callback a TLS library may prompt on the terminal for an encrypted key;
    // this one answers with the configured password (possibly empty) instead.
    ctx->set_password_callback(
        [pw = opts.client_key_password](std::size_t, asio::ssl::context::password_purpose) { return pw; }, ec);

    // A configured CA is loaded (and so checked) even when verification is off: a broken field
    // should not wait until someone turns verification on to be noticed.
    if (!opts.ca_cert.empty()) {
        auto src = load_pem("tls.ca_cert", "certificate", opts.ca_cert, false);
        if (!src.failure.empty()) return fail(error::invalid_ca_cert, src.failure);
        // One or several certificates, each block loaded on its own: asio's
        // add_certificate_authority and wolfSSL's buffer loader both stop quietly at a block that
        // decodes to nothing, so a broken certificate in a bundle would go unnoticed.
        if (!load_each_certificate(native, src.pem)) {
            return fail(error::invalid_ca_cert,
                        fmt::format("tls.ca_cert: {} is not a valid PEM certificate", src.where()));
        }
    } else if (opts.verify_cert && wolfSSL_CTX_load_system_CA_certs(native) != WOLFSSL_SUCCESS) {
        return fail(error::system_ca_unavailable,
                    "tls.ca_cert: not set, and no system CA certificates could be loaded "
                    "(install ca-certificates or set tls.ca_cert)");
    }
    ctx->set_verify_mode(opts.verify_cert ? asio::ssl::verify_peer : asio::ssl::verify_none, ec);

    if (opts.client_cert.empty() != opts.client_key.empty()) {
        return fail(error::incomplete_client_identity,
                    opts.client_cert.empty() ? "tls.client_cert: required when tls.client_key is set"
                                             : "tls.client_key: required when tls.client_cert is set");
    }
    if (!opts.client_cert.empty()) {
        auto cert = load_pem("tls.client_cert", "certificate", opts.client_cert, false);
        if (!cert.failure.empty()) return fail(error::invalid_client_cert, cert.failure);
        ctx->use_certificate_chain(asio::buffer(cert.pem), ec);
        if (ec) {
            return fail(error::invalid_client_cert,
                        fmt::format("tls.client_cert: {} is not a valid PEM certificate", cert.where()));
        }

        auto key = load_pem("tls.client_key", "private key", opts.client_key, true);
        if (!key.failure.empty()) return fail(error::invalid_client_key, key.failure);
        bool encrypted = is_encrypted_key(key.pem);
        if (encrypted && opts.client_key_password.empty()) {
            return fail(error::client_key_password_missing,
                        fmt::format("tls.client_key: the key in {} is encrypted and tls.client_key_password "
                                    "is not set",
                                    key.where()));
        }
        ctx->use_private_key(asio::buffer(key.pem), asio::ssl::context::pem, ec);
        if (ec) {
            return fail(error::invalid_client_key,
                        encrypted ? fmt::format("tls.client_key: cannot decrypt the key in {} with "
                                                "tls.client_key_password (wrong password?)",
                                                key.where())
                                  : fmt::format("tls.client_key: {} is not a valid PEM private key", key.where()));
        }
        // wolfSSL loads a key of another certificate without complaint; the server would then
        // fail the handshake with a bare decrypt_error alert.
        if (wolfSSL_CTX_check_private_key(native) != WOLFSSL_SUCCESS) {
            return fail(error::client_key_mismatch, "tls.client_key: does not match tls.client_cert");
        }
    }
    return context_result{std::move(ctx), {}, {}};
}

} // namespace socketcap::tls
