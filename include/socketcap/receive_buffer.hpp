// SPDX-License-Identifier: MIT OR Apache-2.0
// A contiguous receive buffer that always keeps `padding` readable bytes past its data, so
// simdjson can parse frames in place (it may read up to 64 bytes past the end of its input).
// It grows on demand and gives memory back when told to (shrink_to): what a pipeline holds
// between frames is its business (pipeline.hpp), not the buffer's.
#ifndef SOCKETCAP_RECEIVE_BUFFER_HPP
#define SOCKETCAP_RECEIVE_BUFFER_HPP

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace socketcap {

class receive_buffer {
public:
    /// Readable bytes guaranteed past the end of data() (simdjson::SIMDJSON_PADDING).
    static constexpr std::size_t padding = 64;

    /// `max_size` bounds the unconsumed data the buffer will ever hold; prepare() returns less
    /// (or nothing) once it is reached, which is how memory stays bounded. Nothing is allocated
    /// before the first prepare().
    explicit receive_buffer(std::size_t max_size) noexcept : max_size_(max_size) {}

    receive_buffer(receive_buffer&&) noexcept = default;
    receive_buffer& operator=(receive_buffer&&) noexcept = default;

    /// A writable area of at most `n` bytes after the data. Compacts consumed space and grows
    /// geometrically up to max_size(); the only exception it may raise is std::bad_alloc.
    std::span<char> prepare(std::size_t n);

    /// Makes the first `n` bytes of the last prepare() area part of data().
    void commit(std::size_t n) noexcept {
        if (n == 0) return;
        end_ += n;
        // Storage is not zero-filled when allocated (a fresh read area per wake-up must cost no
        // memset of read_size bytes), so the padding after the data is initialised here: every
        // byte below end_ was written by a read, and the bytes simdjson may read past it are these.
        std::memset(storage_.get() + end_, 0, padding);
    }

    /// Unconsumed bytes. At least `padding` bytes past data().end() are readable.
    std::string_view data() const noexcept { return {storage_.get() + begin_, end_ - begin_}; }
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return end_ == begin_; }

    /// Drops `n` bytes from the front of data().
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    void clear() noexcept { begin_ = end_ = 0; }

    /// Gives memory back: moves the data to a smaller allocation of max(n, size()) bytes, or
    /// frees everything when the buffer is empty and `n` is 0 (capacity() is then 0 and the next
    /// prepare() allocates afresh). Does nothing when capacity() is not above that already, or
    /// when the smaller allocation fails (the buffer keeps what it had).
    void shrink_to(std::size_t n) noexcept;

    std::size_t max_size() const noexcept { return max_size_; }
    /// Bytes currently allocated for data (excluding padding): the buffer's memory footprint.
    std::size_t capacity() const noexcept { return capacity_; }

private:
    /// Moves the data to the front of a new allocation of `cap` bytes (+ padding); `cap` >= size().
    void reallocate(std::unique_ptr<char[]> to, std::size_t cap) noexcept;

    std::unique_ptr<char[]> storage_;
    std::size_t capacity_ = 0; // allocated bytes are capacity_ + padding
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t max_size_;
};

} // namespace socketcap

#endif
