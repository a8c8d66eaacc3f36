// SPDX-License-Identifier: MIT OR Apache-2.0
// One of each in the Flow/TLS config area (issue 13): one PEM-or-path rule, the TLS library's
// options as the config's tls block, one "built without TLS" message.
#include <socketcap/flow/config.hpp>
#include <socketcap/tls/options.hpp>
#if SOCKETCAP_HAS_TLS
#include <socketcap/tls/tls.hpp>
#endif

#include <catch2/catch.hpp>

#include <type_traits>

using namespace socketcap;
using namespace socketcap::flow;

TEST_CASE("PEM or path: one rule, \"-----BEGIN\" with or without a space after it", "[flow][tls][pem]") {
    CHECK(tls::is_pem("-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"));
    CHECK(tls::is_pem("-----BEGINCERTIFICATE-----"));
    CHECK(tls::is_pem("junk before -----BEGIN"));
    CHECK_FALSE(tls::is_pem("-----BEGI"));
    CHECK_FALSE(tls::is_pem("/etc/ssl/certs/ca.pem"));
    CHECK_FALSE(tls::is_pem(""));

    // The edge: BEGIN without its space. The config check calls it PEM, as make_context does: no
    // file named after the paste is looked for.
    constexpr std::string_view damaged = "-----BEGINCERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n";
    tls::client_options opts;
    opts.ca_cert = damaged;
    CHECK(check_tls_files(opts) == "");
    CHECK(parse_endpoint_config(R"({"host":"h","port":1,"tls":{"ca_cert":"-----BEGINCERTIFICATE-----"}})").error ==
          "tls.ca_cert: PEM text has a -----BEGIN line but no -----END line");
#if SOCKETCAP_HAS_TLS
    auto made = tls::make_context(opts);
    CHECK(made.ec == tls::error::invalid_ca_cert);
    CHECK(made.message == "tls.ca_cert: inline PEM is not a valid PEM certificate");
#endif
}

TEST_CASE("tls config: the TLS library's options plus enabled, no mirror", "[flow][tls]") {
    static_assert(std::is_base_of_v<tls::client_options, tls_config>);
    auto c = parse_endpoint_config(
        R"({"host":"h","port":1,"tls":{"enabled":true,"verify_cert":false,"ca_cert":"/ca.pem","server_hostname":"n.test"}})");
    REQUIRE(c);
    const tls::client_options& opts = c.value.tls; // what make_context and handshake take
    CHECK_FALSE(opts.verify_cert);
    CHECK(opts.ca_cert == "/ca.pem");
    CHECK(opts.server_hostname == "n.test");
    CHECK(c.value.tls.enabled);
}

TEST_CASE("built without TLS: one message", "[flow][tls]") {
    CHECK(no_tls_support_message == "tls.enabled: this build of source-socket has no TLS support (built without wolfSSL)");
}
