// SPDX-License-Identifier: MIT OR Apache-2.0
// socketcap's own error codes. The core reports failures through std::error_code and never
// throws; asio's and the system's codes pass through unchanged.
#ifndef SOCKETCAP_ERROR_HPP
#define SOCKETCAP_ERROR_HPP

#include <string>
#include <system_error>

namespace socketcap {

using error_code = std::error_code;

enum class error {
    frame_too_large = 1,  ///< a frame grew past max_frame_bytes before its delimiter arrived
    invalid_json,         ///< a json-codec frame is not valid JSON
    not_an_object,        ///< a json-codec frame is valid JSON but not an object
    incomplete_frame,     ///< the stream ended inside a frame
    idle_timeout,         ///< no bytes arrived for idle_timeout
    connect_timeout,      ///< resolve + connect (+ handshake) took longer than connection_timeout
    sink_closed,          ///< the output sink was closed by its reader
    invalid_config,       ///< a configuration value is missing or out of range
    invalid_request,      ///< a protocol request could not be parsed
    reconnects_exhausted, ///< max_reconnect_attempts consecutive failures
    not_a_regular_file,   ///< a file option names a directory, FIFO, device or socket
    file_too_large,       ///< a file option names a file larger than its limit
};

/// The category of socketcap::error ("socketcap").
const std::error_category& error_category() noexcept;

inline error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace socketcap

template <>
struct std::is_error_code_enum<socketcap::error> : std::true_type {};

#endif
