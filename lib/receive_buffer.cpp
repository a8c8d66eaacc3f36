// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/receive_buffer.hpp>

#include <algorithm>
#include <cstring>

namespace socketcap {

std::span<char> receive_buffer::prepare(std::size_t n) {
    if (capacity_ - end_ < n && begin_ != 0) {
        // Compact: unconsumed bytes move to the front (one memmove per partial frame).
        std::memmove(storage_.get(), storage_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (capacity_ - end_ < n && capacity_ < max_size_) {
        std::size_t want = std::min(max_size_, std::max(end_ + n, capacity_ * 2));
        // Value-initialised: the padding is read by simdjson and must not be uninitialised.
        auto bigger = std::make_unique<char[]>(want + padding);
        if (end_ != 0) std::memcpy(bigger.get(), storage_.get(), end_);
        storage_ = std::move(bigger);
        capacity_ = want;
    }
    return {storage_.get() + end_, std::min(n, capacity_ - end_)};
}

} // namespace socketcap
