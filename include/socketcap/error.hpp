// SPDX-License-Identifier: MIT OR Apache-2.0
// socketcap's own error codes. The core reports failures through std::error_code and never
// throws; asio's and the system's codes pass through unchanged.
#ifndef SOCKETCAP_ERROR_HPP
#define SOCKETCAP_ERROR_HPP

#include <string>
#include <system_error>

namespace socketcap {

using error_code = std::error_code;

/// Every value is produced somewhere in the library; bad *input* is never an error code (it
/// becomes an error document), so framing and JSON problems have none.
enum class error {
    idle_timeout = 5,         ///< no bytes arrived for idle_timeout (session)
    connect_timeout = 6,      ///< resolve + connect (+ handshake) took longer than the timeout (connectors)
    reconnects_exhausted = 10, ///< an endpoint failed max_attempts connects in a row (capture_engine)
    not_a_regular_file = 11,  ///< a file option names a directory, FIFO, device or socket (read_regular_file)
    file_too_large = 12,      ///< a file option names a file larger than its limit (read_regular_file)
    send_backlog = 13,        ///< the server left more than max_unsent_bytes unread (session)
    invalid_template = 14,    ///< a message's text does not parse (message_template)
    invalid_pattern = 15,     ///< a reply's pattern does not compile (frame_pattern)
    invalid_conversation = 16, ///< a conversation_config is inconsistent (conversation_plan)
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
