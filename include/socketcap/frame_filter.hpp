// SPDX-License-Identifier: MIT OR Apache-2.0
// frame_filter: sees every complete frame before the codec does, and may keep it out of the
// documents. A conversation uses it to answer a server's PING and leave the PING uncaptured.
// A pipeline without one pays a null-pointer test per frame.
#ifndef SOCKETCAP_FRAME_FILTER_HPP
#define SOCKETCAP_FRAME_FILTER_HPP

#include <socketcap/frame.hpp>
#include <socketcap/output_buffer.hpp>

#include <cstdint>

namespace socketcap {

class frame_filter {
public:
    /// A complete frame (offset filled in); false keeps it out of the documents. Never throws
    /// (std::bad_alloc aside).
    virtual bool pass(const frame& f) = 0;
    /// Every document (of any frame kind), after the codec's body and before the envelope's
    /// closing fields: may append fields (`,"position":7`). `sequence` is the document's.
    virtual void annotate(const frame& f, std::uint64_t sequence, output_buffer& out) {
        (void)f, (void)sequence, (void)out;
    }

protected:
    frame_filter() = default;
    frame_filter(const frame_filter&) = default;
    frame_filter& operator=(const frame_filter&) = default;
    ~frame_filter() = default;
};

} // namespace socketcap

#endif
