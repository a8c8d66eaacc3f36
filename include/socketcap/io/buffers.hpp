// SPDX-License-Identifier: MIT OR Apache-2.0
// Buffer-sequence helpers shared by transports and sinks.
#ifndef SOCKETCAP_IO_BUFFERS_HPP
#define SOCKETCAP_IO_BUFFERS_HPP

#include <asio/buffer.hpp>

namespace socketcap {

/// The first non-empty buffer of a sequence, or an empty one: what a stream that reads or writes
/// one buffer per call takes from a sequence (Asio's own streams do the same). `Buffer` is
/// asio::mutable_buffer or asio::const_buffer.
template <class Buffer, class Sequence>
Buffer first_buffer(const Sequence& buffers) noexcept {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        Buffer b(*it);
        if (b.size() != 0) return b;
    }
    return Buffer();
}

} // namespace socketcap

#endif
