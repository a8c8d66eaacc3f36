// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/io/read_file.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace socketcap {

namespace {

const char* kind_of(mode_t mode) noexcept {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "something else";
}

std::string size_text(std::size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
    if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return fmt::format("{} KiB", bytes >> 10);
    return fmt::format("{} bytes", bytes);
}

struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

error_code read_regular_file(const std::string& path, std::size_t max_bytes, std::string& out,
                             std::string& diagnostics) {
    out.clear();
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. Cleared again below
    // for the regular file, where it means nothing anyway.
    fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
    if (f.fd < 0) {
        error_code ec(errno, std::generic_category());
        diagnostics = fmt::format("cannot read {}: {}", path, ec.message());
        return ec;
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        error_code ec(errno, std::generic_category());
        diagnostics = fmt::format("cannot read {}: {}", path, ec.message());
        return ec;
    }
    if (!S_ISREG(st.st_mode)) {
        diagnostics = fmt::format("{} is {}, not a regular file", path, kind_of(st.st_mode));
        return make_error_code(error::not_a_regular_file);
    }
    auto too_large = [&] {
        out.clear();
        diagnostics = fmt::format("{} is larger than the limit of {}", path, size_text(max_bytes));
        return make_error_code(error::file_too_large);
    };
    // The size is checked before reading (a sparse 1 GiB file costs nothing) and again while
    // reading, for a file that grows meanwhile.
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) return too_large();
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t have = 0;
    for (;;) {
        if (have == out.size()) {
            if (out.size() > max_bytes) return too_large();
            out.resize(out.size() + 4096);
        }
        ssize_t n = ::read(f.fd, out.data() + have, out.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error_code ec(errno, std::generic_category());
            out.clear();
            diagnostics = fmt::format("cannot read {}: {}", path, ec.message());
            return ec;
        }
        if (n == 0) break;
        have += static_cast<std::size_t>(n);
    }
    out.resize(have);
    if (have > max_bytes) return too_large();
    return {};
}

} // namespace socketcap
