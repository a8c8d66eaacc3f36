// SPDX-License-Identifier: MIT OR Apache-2.0
// read_regular_file: regular files only, never blocking, never past the limit.
#include <socketcap/io/read_file.hpp>

#include <catch2/catch.hpp>

#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char tmpl[] = "/tmp/socketcap-read-file-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name, const std::string& content) const {
        auto p = (path / name).string();
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }
};

} // namespace

TEST_CASE("read_regular_file: a regular file is read whole, up to and at the limit") {
    temp_dir d;
    std::string content(10000, 'x');
    content[0] = 'a';
    content[9999] = 'z';
    auto p = d.file("ten-thousand", content);
    std::string out = "old", why;
    CHECK(!socketcap::read_regular_file(p, 10000, out, why));
    CHECK(out == content);
    CHECK(why.empty());

    auto empty = d.file("empty", "");
    out = "old";
    CHECK(!socketcap::read_regular_file(empty, 10, out, why));
    CHECK(out.empty());
}

TEST_CASE("read_regular_file: one byte over the limit is refused, the limit named") {
    temp_dir d;
    auto p = d.file("big", std::string(1025, 'x'));
    std::string out, why;
    auto ec = socketcap::read_regular_file(p, 1024, out, why);
    CHECK(ec == socketcap::error::file_too_large);
    CHECK(why == p + " is larger than the limit of 1 KiB");
    CHECK(out.empty());
}

TEST_CASE("read_regular_file: a sparse 1 GiB file is refused before a byte is read") {
    temp_dir d;
    auto p = (d.path / "sparse").string();
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t{1} << 30) == 0);
    ::close(fd);
    std::string out, why;
    auto ec = socketcap::read_regular_file(p, 4u << 20, out, why);
    CHECK(ec == socketcap::error::file_too_large);
    CHECK(why == p + " is larger than the limit of 4 MiB");
    CHECK(out.capacity() < (1u << 20)); // nothing was allocated for it
}

TEST_CASE("read_regular_file: a FIFO is refused at once, without waiting for a writer") {
    temp_dir d;
    auto p = (d.path / "fifo").string();
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
    std::string out, why;
    auto ec = socketcap::read_regular_file(p, 1024, out, why);
    CHECK(ec == socketcap::error::not_a_regular_file);
    CHECK(why == p + " is a FIFO (named pipe), not a regular file");
}

TEST_CASE("read_regular_file: devices, directories and sockets are refused") {
    std::string out, why;
    CHECK(socketcap::read_regular_file("/dev/zero", 1024, out, why) == socketcap::error::not_a_regular_file);
    CHECK(why == "/dev/zero is a character device, not a regular file");
    CHECK(out.empty());
    CHECK(socketcap::read_regular_file("/dev/urandom", 1024, out, why) == socketcap::error::not_a_regular_file);
    CHECK(why == "/dev/urandom is a character device, not a regular file");

    temp_dir d;
    CHECK(socketcap::read_regular_file(d.path.string(), 1024, out, why) == socketcap::error::not_a_regular_file);
    CHECK(why == d.path.string() + " is a directory, not a regular file");

    auto sp = (d.path / "sock").string();
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sp.c_str());
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    // A socket cannot be opened at all (ENXIO): the system's reason is kept.
    auto ec = socketcap::read_regular_file(sp, 1024, out, why);
    ::close(s);
    CHECK(ec == std::errc::no_such_device_or_address);
    CHECK(why == "cannot read " + sp + ": No such device or address");
}

TEST_CASE("read_regular_file: a missing file or an unreadable one gives the system's reason") {
    std::string out, why;
    auto ec = socketcap::read_regular_file("/nonexistent/socketcap.pem", 1024, out, why);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(why == "cannot read /nonexistent/socketcap.pem: No such file or directory");
}
