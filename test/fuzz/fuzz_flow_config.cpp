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
        namespace lim = flow::limits;
        const auto& v = c.value;
        FUZZ_CHECK(!v.host.empty() && v.port >= 1);
        FUZZ_CHECK(v.buffer_size >= std::size_t(lim::min_buffer_size) && v.buffer_size <= std::size_t(lim::max_buffer_size));
        FUZZ_CHECK(v.max_frame_bytes >= std::size_t(lim::min_frame_bytes) &&
                   v.max_frame_bytes <= std::size_t(lim::max_frame_bytes));
        FUZZ_CHECK(std::isfinite(v.reconnect_delay) && v.reconnect_delay >= 0 && v.reconnect_delay <= lim::max_reconnect_delay);
        FUZZ_CHECK(std::isfinite(v.connection_timeout) && v.connection_timeout > 0 &&
                   v.connection_timeout <= lim::max_connection_timeout);
        FUZZ_CHECK(v.max_reconnect_attempts >= -1 && v.max_reconnect_attempts <= lim::max_reconnect_attempts);
        FUZZ_CHECK(!v.idle_timeout || (*v.idle_timeout >= 0 && *v.idle_timeout <= lim::max_idle_timeout));
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
