// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/receive_buffer.hpp>

#include <algorithm>
#include <cstring>
#include <new>

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
        // Not zero-filled: only the padding past the data must be initialised (commit() and
        // reallocate() see to it), and the area is the read's to fill.
        reallocate(std::make_unique_for_overwrite<char[]>(want + padding), want);
    }
    return {storage_.get() + end_, std::min(n, capacity_ - end_)};
}

void receive_buffer::shrink_to(std::size_t n) noexcept {
    std::size_t want = std::max(n, size());
    if (want >= capacity_) return;
    if (want == 0) {
        storage_.reset();
        capacity_ = begin_ = end_ = 0;
        return;
    }
    std::unique_ptr<char[]> smaller(new (std::nothrow) char[want + padding]);
    if (smaller) reallocate(std::move(smaller), want);
}

void receive_buffer::reallocate(std::unique_ptr<char[]> to, std::size_t cap) noexcept {
    std::size_t n = size();
    if (n != 0) std::memcpy(to.get(), storage_.get() + begin_, n);
    std::memset(to.get() + n, 0, padding); // simdjson may read it
    storage_ = std::move(to);
    capacity_ = cap;
    begin_ = 0;
    end_ = n;
}

} // namespace socketcap
