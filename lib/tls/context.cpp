// SPDX-License-Identifier: MIT OR Apache-2.0
// make_context: every tls.* option is loaded and checked here, before any connection, so that a
// bad configuration fails at validate time with a sentence that names the field.
#include <wolfssl/options.h> // always first: the same configuration as libwolfssl
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/ed448.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <socketcap/io/read_file.hpp>
#include <socketcap/tls/tls.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <vector>

namespace socketcap::tls {

namespace {

// Client cipher preference: TLS 1.3 suites first; TLS 1.2: forward secret AEAD suites only.
// The faster AEAD leads: ChaCha20-Poly1305 on Debian's wolfSSL (no AES-NI code, where it is
// about 1.6x faster than AES-GCM), AES-GCM when prefers_aes_gcm() (about 2x cheaper than
// ChaCha20 with AVX2, docs/performance.md). Servers that honour the client's order follow it.
constexpr const char* chacha_first = "TLS13-CHACHA20-POLY1305-SHA256:"
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
constexpr const char* aes_gcm_first = "TLS13-AES128-GCM-SHA256:"
                                      "TLS13-AES256-GCM-SHA384:"
                                      "TLS13-CHACHA20-POLY1305-SHA256:"
                                      "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                      "ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                      "ECDHE-RSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                      "ECDHE-RSA-CHACHA20-POLY1305:"
                                      "DHE-RSA-AES128-GCM-SHA256:"
                                      "DHE-RSA-AES256-GCM-SHA384:"
                                      "DHE-RSA-CHACHA20-POLY1305";

struct pem_source {
    std::string pem;      // the PEM text (inline, or read from the file)
    std::string file;     // the path when it came from a file
    std::string failure;  // non-empty: why there is no PEM
    std::string where() const { return file.empty() ? std::string("inline PEM") : "file " + file; }
};

// `field` names the option; `what` says what it should contain ("certificate", "private key");
// `secret`: the value is tls.client_key, never echoed unless it names an existing file (a key
// pasted without its BEGIN line would otherwise end up in a log).
pem_source load_pem(std::string_view field, std::string_view what, const std::string& value, bool secret) {
    pem_source src;
    if (is_pem(value)) {
        src.pem = value;
        return src;
    }
    std::error_code ec;
    bool exists = std::filesystem::exists(value, ec);
    if (!exists) {
        if (secret) {
            src.failure = unreadable_client_key_message({});
        } else {
            constexpr std::size_t max_shown = 200;
            std::string shown = value.size() > max_shown ? value.substr(0, max_shown) + "..." : value;
            src.failure = fmt::format("{}: not a PEM {} and no such file: {}", field, what, shown);
        }
        return src;
    }
    src.file = value;
    // Regular files only, opened without blocking and read up to a limit: a FIFO, /dev/zero or
    // a sparse 1 GiB file fails at once.
    std::string why;
    if (auto rec = read_regular_file(value, max_pem_file_bytes, src.pem, why)) {
        // A system error's sentence starts with the value; for the key it is not shown.
        src.failure = secret && rec.category() == std::generic_category() ? unreadable_client_key_message(rec.message())
                                                                          : fmt::format("{}: {}", field, why);
        return src;
    }
    if (!is_pem(src.pem)) {
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

// Whether a private key belongs to a certificate, decided by comparing the certificate's public
// key with the public key computed from the private key. wolfSSL_CTX_check_private_key is not
// enough: in wolfSSL 5.5.4 it accepts any ECDSA key of the same curve (docs/tls.md).
enum class pairing { match, mismatch, unknown };

struct rsa_holder {
    RsaKey key{};
    bool ok = wc_InitRsaKey(&key, nullptr) == 0;
    ~rsa_holder() { if (ok) wc_FreeRsaKey(&key); }
};
struct ecc_holder {
    ecc_key key{};
    bool ok = wc_ecc_init(&key) == 0;
    ~ecc_holder() { if (ok) wc_ecc_free(&key); }
};
struct ed25519_holder {
    ed25519_key key{};
    bool ok = wc_ed25519_init(&key) == 0;
    ~ed25519_holder() { if (ok) wc_ed25519_free(&key); }
};
struct ed448_holder {
    ed448_key key{};
    bool ok = wc_ed448_init(&key) == 0;
    ~ed448_holder() { if (ok) wc_ed448_free(&key); }
};

using bytes = std::vector<unsigned char>;

// n and e, concatenated with their lengths.
std::optional<bytes> rsa_public(RsaKey& key) {
    std::array<unsigned char, 1024> n{}, e{};
    word32 n_len = n.size(), e_len = e.size();
    if (wc_RsaFlattenPublicKey(&key, e.data(), &e_len, n.data(), &n_len) != 0) return std::nullopt;
    bytes out{static_cast<unsigned char>(e_len)};
    out.insert(out.end(), e.begin(), e.begin() + e_len);
    out.insert(out.end(), n.begin(), n.begin() + n_len);
    return out;
}

// The curve, then the uncompressed point.
std::optional<bytes> ecc_public(ecc_key& key) {
    std::array<unsigned char, 1 + 2 * MAX_ECC_BYTES> point{};
    word32 len = point.size();
    if (key.dp == nullptr || wc_ecc_export_x963(&key, point.data(), &len) != 0) return std::nullopt;
    bytes out{static_cast<unsigned char>(key.dp->id & 0xff), static_cast<unsigned char>((key.dp->id >> 8) & 0xff)};
    out.insert(out.end(), point.begin(), point.begin() + len);
    return out;
}

// The certificate's public key against the one computed from the private key (DER: PKCS#8 or the
// traditional form), in one comparable form per key type. `key_oid` and `pub` are wolfCrypt's
// view of the certificate: RSAPublicKey for RSA, a SubjectPublicKeyInfo for ECDSA, the raw key
// for EdDSA.
pairing compare_keys(word32 key_oid, const unsigned char* pub, word32 pub_size, const bytes& key_der) {
    auto key_size = static_cast<word32>(key_der.size());
    word32 at = 0;
    switch (key_oid) {
    case RSAk: {
        rsa_holder cert, key;
        if (!cert.ok || !key.ok || wc_RsaPublicKeyDecode(pub, &at, &cert.key, pub_size) != 0) return pairing::unknown;
        at = 0;
        if (wc_RsaPrivateKeyDecode(key_der.data(), &at, &key.key, key_size) != 0) return pairing::mismatch;
        auto a = rsa_public(cert.key), b = rsa_public(key.key);
        if (!a || !b) return pairing::unknown;
        return *a == *b ? pairing::match : pairing::mismatch;
    }
    case ECDSAk: {
        ecc_holder cert, key;
        if (!cert.ok || !key.ok || wc_EccPublicKeyDecode(pub, &at, &cert.key, pub_size) != 0) return pairing::unknown;
        at = 0;
        if (wc_EccPrivateKeyDecode(key_der.data(), &at, &key.key, key_size) != 0) return pairing::mismatch;
        // Computed from the private scalar: a public point stored next to it proves nothing.
        if (wc_ecc_make_pub(&key.key, nullptr) != 0) return pairing::unknown;
        auto a = ecc_public(cert.key), b = ecc_public(key.key);
        if (!a || !b) return pairing::unknown;
        return *a == *b ? pairing::match : pairing::mismatch;
    }
    case ED25519k: {
        ed25519_holder key;
        std::array<unsigned char, ED25519_PUB_KEY_SIZE> computed{};
        if (!key.ok || pub_size != computed.size()) return pairing::unknown;
        if (wc_Ed25519PrivateKeyDecode(key_der.data(), &at, &key.key, key_size) != 0) return pairing::mismatch;
        if (wc_ed25519_make_public(&key.key, computed.data(), computed.size()) != 0) return pairing::unknown;
        return std::equal(computed.begin(), computed.end(), pub) ? pairing::match : pairing::mismatch;
    }
    case ED448k: {
        ed448_holder key;
        std::array<unsigned char, ED448_PUB_KEY_SIZE> computed{};
        if (!key.ok || pub_size != computed.size()) return pairing::unknown;
        if (wc_Ed448PrivateKeyDecode(key_der.data(), &at, &key.key, key_size) != 0) return pairing::mismatch;
        if (wc_ed448_make_public(&key.key, computed.data(), computed.size()) != 0) return pairing::unknown;
        return std::equal(computed.begin(), computed.end(), pub) ? pairing::match : pairing::mismatch;
    }
    default: return pairing::unknown;
    }
}

struct decoded_cert_holder {
    DecodedCert cert{};
    explicit decoded_cert_holder(const bytes& der) {
        wc_InitDecodedCert(&cert, der.data(), static_cast<word32>(der.size()), nullptr);
    }
    ~decoded_cert_holder() { wc_FreeDecodedCert(&cert); }
};

// The first certificate of `cert_pem` (the one presented) against the key in `key_pem`.
pairing check_pairing(const std::string& cert_pem, const std::string& key_pem, const std::string& password) {
    bytes cert_der(cert_pem.size());
    int cert_len = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(cert_pem.data()),
                                   static_cast<int>(cert_pem.size()), cert_der.data(),
                                   static_cast<int>(cert_der.size()), CERT_TYPE);
    if (cert_len <= 0) return pairing::unknown;
    cert_der.resize(static_cast<std::size_t>(cert_len));
    bytes key_der(key_pem.size());
    int key_len = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(key_pem.data()),
                                 static_cast<int>(key_pem.size()), key_der.data(), static_cast<int>(key_der.size()),
                                 password.empty() ? nullptr : password.c_str());
    if (key_len <= 0) return pairing::unknown;
    key_der.resize(static_cast<std::size_t>(key_len));
    decoded_cert_holder dc(cert_der);
    if (wc_ParseCert(&dc.cert, CERT_TYPE, NO_VERIFY, nullptr) != 0) return pairing::unknown;
    return compare_keys(dc.cert.keyOID, dc.cert.publicKey, dc.cert.pubKeySize, key_der);
}

} // namespace

bool prefers_aes_gcm() noexcept {
#if defined(WOLFSSL_AESNI) && (defined(__x86_64__) || defined(__i386__))
    // The same test wolfSSL makes before it uses its AES-NI code (it falls back to C without).
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
    }();
    return yes;
#else
    return false;
#endif
}

void release_thread_state() noexcept {
#ifdef FP_ECC
    wc_ecc_fp_free();
#endif
}

context_result make_context(const client_options& opts) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    WOLFSSL_CTX* native = ctx->native_handle();
    if (wolfSSL_CTX_SetMinVersion(native, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_set_cipher_list(native, prefers_aes_gcm() ? aes_gcm_first : chacha_first) != WOLFSSL_SUCCESS) {
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
        // wolfSSL's own loaders, not asio's: asio parses through the OpenSSL-compatibility X509
        // code, which in wolfSSL 5.5.4 rejects Ed25519 and Ed448 certificates and keys.
        if (wolfSSL_CTX_use_certificate_chain_buffer(native, reinterpret_cast<const unsigned char*>(cert.pem.data()),
                                                     static_cast<long>(cert.pem.size())) != WOLFSSL_SUCCESS) {
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
        if (wolfSSL_CTX_use_PrivateKey_buffer(native, reinterpret_cast<const unsigned char*>(key.pem.data()),
                                              static_cast<long>(key.pem.size()),
                                              WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
            return fail(error::invalid_client_key,
                        encrypted ? fmt::format("tls.client_key: cannot decrypt the key in {} with "
                                                "tls.client_key_password (wrong password?)",
                                                key.where())
                                  : fmt::format("tls.client_key: {} is not a valid PEM private key", key.where()));
        }
        // wolfSSL loads a key of another certificate without complaint; the server would then
        // fail the handshake with a bare decrypt_error alert. wolfSSL's own check is only the
        // fallback, for key types compare_keys does not know.
        auto paired = check_pairing(cert.pem, key.pem, opts.client_key_password);
        if (paired == pairing::mismatch ||
            (paired == pairing::unknown && wolfSSL_CTX_check_private_key(native) != WOLFSSL_SUCCESS)) {
            return fail(error::client_key_mismatch, "tls.client_key: does not match tls.client_cert");
        }
    }
    return context_result{std::move(ctx), {}, {}};
}

} // namespace socketcap::tls
