// SPDX-License-Identifier: MIT OR Apache-2.0
// The endpoint and resource config parsers on untrusted JSON (a user's configuration).
// Invariants: never crash; an error names the field ("<field>: <what>"); an accepted config
// holds only values inside the documented ranges.
#include "fuzz_common.hpp"

#include <socketcap/flow/config.hpp>

#include <cmath>

using namespace socketcap;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view json(reinterpret_cast<const char*>(data), size);
    auto c = flow::parse_endpoint_config(json);
    if (!c) {
        FUZZ_CHECK(c.error.find(": ") != std::string::npos);
    } else {
        // The ranges are the field table's (flow/fields.hpp), the ones the schema states.
        constexpr auto& buffer = flow::config_field_named("buffer_size");
        constexpr auto& frame = flow::config_field_named("max_frame_bytes");
        constexpr auto& delay = flow::config_field_named("reconnect_delay");
        constexpr auto& timeout = flow::config_field_named("connection_timeout");
        constexpr auto& attempts = flow::config_field_named("max_reconnect_attempts");
        constexpr auto& idle = flow::config_field_named("idle_timeout");
        const auto& v = c.value;
        FUZZ_CHECK(!v.host.empty() && v.port >= 1);
        FUZZ_CHECK(v.buffer_size >= std::size_t(buffer.minimum) && v.buffer_size <= std::size_t(buffer.maximum));
        FUZZ_CHECK(v.max_frame_bytes >= std::size_t(frame.minimum) && v.max_frame_bytes <= std::size_t(frame.maximum));
        FUZZ_CHECK(std::isfinite(v.reconnect_delay) && v.reconnect_delay >= 0 && v.reconnect_delay <= delay.maximum);
        FUZZ_CHECK(std::isfinite(v.connection_timeout) && v.connection_timeout > 0 &&
                   v.connection_timeout <= timeout.maximum);
        FUZZ_CHECK(v.max_reconnect_attempts >= -1 && v.max_reconnect_attempts <= std::int64_t(attempts.maximum));
        FUZZ_CHECK(!v.idle_timeout || (*v.idle_timeout >= 0 && *v.idle_timeout <= idle.maximum));
        FUZZ_CHECK(v.tls.client_cert.empty() == v.tls.client_key.empty());
        // The durations the session uses never overflow or go negative.
        FUZZ_CHECK(v.connection_timeout_duration().count() > 0);
        FUZZ_CHECK(v.reconnect_delay_duration().count() >= 0);
        FUZZ_CHECK(v.idle_timeout_duration().count() >= 0);
    }
    auto r = flow::parse_resource_config(json);
    FUZZ_CHECK(r ? !r.value.stream.empty() : r.error.find(": ") != std::string::npos);
    return 0;
}
