// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/receive_buffer.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using namespace socketcap;

namespace {

void put(receive_buffer& b, std::string_view s) {
    auto area = b.prepare(s.size());
    REQUIRE(area.size() == s.size());
    std::memcpy(area.data(), s.data(), s.size());
    b.commit(s.size());
}

// Every padding byte past data().end() is read (ASan builds catch an overrun); returns them.
std::string padding_bytes(const receive_buffer& b) {
    const char* end = b.data().data() + b.size();
    return std::string(end, receive_buffer::padding);
}

} // namespace

TEST_CASE("receive_buffer keeps its padding readable past the data") {
    receive_buffer b(1000);
    CHECK(b.empty());
    CHECK(b.capacity() == 0);
    put(b, "hello");
    CHECK(b.data() == "hello");
    // Fresh storage is zero-filled, so the padding is initialised (simdjson reads it).
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
    // At full capacity the padding is still there.
    put(b, std::string(b.capacity() - b.size(), 'x'));
    CHECK(b.size() == b.capacity());
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
    // Consuming keeps the padding (the rest of the data counts as padding then).
    b.consume(3);
    CHECK(b.data().substr(0, 2) == "lo");
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
}

TEST_CASE("receive_buffer data stays put across prepare() when it fits") {
    receive_buffer b(1000);
    put(b, "abc");
    auto cap = b.capacity();
    const char* where = b.data().data();
    auto area = b.prepare(cap - 3);
    CHECK(area.size() == cap - 3);
    CHECK(b.data().data() == where);
    CHECK(b.data() == "abc");
    CHECK(b.capacity() == cap);
}

TEST_CASE("receive_buffer compacts consumed space before growing") {
    receive_buffer b(16);
    put(b, "0123456789");         // capacity 10
    CHECK(b.capacity() == 10);
    b.consume(6);                 // "6789" left
    auto area = b.prepare(6);     // 4 + 6 fits in 10 once compacted
    CHECK(area.size() == 6);
    CHECK(b.capacity() == 10);
    CHECK(b.data() == "6789");
    CHECK(area.data() == b.data().data() + 4);
    std::memcpy(area.data(), "abcdef", 6);
    b.commit(6);
    CHECK(b.data() == "6789abcdef");
    CHECK(padding_bytes(b).size() == receive_buffer::padding);
    // Consuming everything resets to the front.
    b.consume(10);
    CHECK(b.empty());
    CHECK(b.prepare(10).data() == b.data().data());
}

TEST_CASE("receive_buffer grows geometrically and never past max_size") {
    receive_buffer b(100);
    put(b, std::string(10, 'a'));
    CHECK(b.capacity() == 10);
    put(b, std::string(5, 'b'));   // max(15, 20)
    CHECK(b.capacity() == 20);
    CHECK(b.data() == std::string(10, 'a') + std::string(5, 'b'));
    auto area = b.prepare(1000);   // capped: 100 - 15 writable
    CHECK(b.capacity() == 100);
    CHECK(area.size() == 85);
    b.commit(85);
    CHECK(b.size() == 100);
    CHECK(b.prepare(1).size() == 0); // full: nothing more until consumed
    CHECK(b.capacity() == 100);
    CHECK(padding_bytes(b).size() == receive_buffer::padding);
    b.consume(1);
    CHECK(b.prepare(5).size() == 1);  // compacted, still capped
    CHECK(b.capacity() == 100);
    CHECK(b.max_size() == 100);
    b.clear();
    CHECK(b.empty());
    CHECK(b.prepare(100).size() == 100);
}

TEST_CASE("receive_buffer: commit initialises the padding even over bytes the read left in the area") {
    receive_buffer b(100);
    auto area = b.prepare(10);
    REQUIRE(area.size() == 10);
    std::memset(area.data(), 'x', area.size()); // a read that wrote more than it reports
    b.commit(4);
    CHECK(b.data() == "xxxx");
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
    b.commit(0); // nothing read: nothing changes
    CHECK(b.data() == "xxxx");
}

TEST_CASE("receive_buffer: shrink_to gives memory back, keeps the data and its padding") {
    receive_buffer b(1000);
    put(b, std::string(300, 'a'));
    CHECK(b.capacity() == 300);
    put(b, std::string(300, 'b'));
    CHECK(b.capacity() == 600);
    b.consume(550); // 50 'b' left, not at the front
    b.shrink_to(100);
    CHECK(b.capacity() == 100);
    CHECK(b.data() == std::string(50, 'b'));
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
    b.shrink_to(10); // never below the data
    CHECK(b.capacity() == 50);
    CHECK(b.data() == std::string(50, 'b'));
    b.shrink_to(200); // not a shrink: nothing happens
    CHECK(b.capacity() == 50);
    b.shrink_to(0); // not empty: down to the data, exactly
    CHECK(b.capacity() == 50);
    CHECK(b.data() == std::string(50, 'b'));
    // It grows again as before.
    put(b, "c");
    CHECK(b.capacity() == 100);
    CHECK(b.data() == std::string(50, 'b') + "c");
    b.consume(51);
    CHECK(b.empty());
    b.shrink_to(0); // empty: everything goes
    CHECK(b.capacity() == 0);
    CHECK(b.data().empty());
    b.shrink_to(0); // twice is harmless
    CHECK(b.capacity() == 0);
    put(b, "fresh");
    CHECK(b.capacity() == 5);
    CHECK(b.data() == "fresh");
    CHECK(padding_bytes(b) == std::string(receive_buffer::padding, '\0'));
}

TEST_CASE("receive_buffer: a shrunk buffer still stops at max_size") {
    receive_buffer b(20);
    put(b, std::string(20, 'a'));
    CHECK(b.capacity() == 20);
    b.consume(15);
    b.shrink_to(8);
    CHECK(b.capacity() == 8);
    CHECK(b.prepare(100).size() == 15); // grows back to max_size, never past it
    CHECK(b.capacity() == 20);
    CHECK(b.data() == "aaaaa");
}
