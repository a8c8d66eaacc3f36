// SPDX-License-Identifier: MIT OR Apache-2.0
// Reading a small file named by a user (a PEM bundle, a config file) safely: only a regular
// file, opened without blocking, and never more than a stated limit. A FIFO, /dev/zero or a
// sparse 1 GiB file named by mistake is refused at once instead of hanging or eating memory.
#ifndef SOCKETCAP_IO_READ_FILE_HPP
#define SOCKETCAP_IO_READ_FILE_HPP

#include <socketcap/error.hpp>

#include <cstddef>
#include <string>

namespace socketcap {

/// Reads the whole of `path` into `out` (replacing it). Fails, with `out` left empty, when the
/// path cannot be opened (the system's code), names something other than a regular file
/// (error::not_a_regular_file) or holds more than `max_bytes` (error::file_too_large). On
/// failure `diagnostics` receives a sentence that starts with the path, e.g.
/// "/dev/zero is a character device, not a regular file"; callers prefix the field's name.
/// Never throws (std::bad_alloc aside) and never blocks on a FIFO or device.
error_code read_regular_file(const std::string& path, std::size_t max_bytes, std::string& out,
                             std::string& diagnostics);

} // namespace socketcap

#endif
