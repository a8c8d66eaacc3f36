// SPDX-License-Identifier: MIT OR Apache-2.0
// Test harness for the connector tests: a child process driven through pipes, and scripted
// TCP servers on 127.0.0.1. Every wait has a generous deadline so a busy machine cannot flake.
#ifndef SOCKETCAP_TEST_CONNECTOR_HARNESS_HPP
#define SOCKETCAP_TEST_CONNECTOR_HARNESS_HPP

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace harness {

using namespace std::chrono_literals;
inline constexpr auto deadline = std::chrono::seconds(20);

/// The path of a built binary, from the environment meson passes (SOURCE_SOCKET, SOCKET_FEED).
std::string binary(const char* env_name);

class child {
public:
    /// Starts argv[0] with argv; `env` entries are added to (or override) the environment.
    child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
    ~child();
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    void write(std::string_view s);
    void close_stdin();
    /// Closes our end of its stdout: its next write fails with EPIPE.
    void close_stdout();
    void signal(int sig);
    pid_t pid() const { return pid_; }

    /// The next stdout line (without '\n'), or nothing at EOF or after `timeout`.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = deadline);
    /// Reads stdout and stderr to EOF and reaps the child; its exit status (-1 on timeout or
    /// a signal). Unread stdout lines stay available through rest_lines().
    int wait(std::chrono::milliseconds timeout = deadline);

    /// Waits for the child to exit without reading its output (a reader that stopped); its
    /// exit status (-1 on timeout or a signal).
    int wait_exit(std::chrono::milliseconds timeout = deadline);

    /// stdout lines not consumed by read_line (after wait()).
    std::vector<std::string> rest_lines();
    /// All stdout lines seen (read or not), and all of stderr.
    const std::vector<std::string>& all_lines() const { return lines_; }
    const std::string& err() const { return err_; }
    std::vector<std::string> err_lines() const;

private:
    bool pump(std::chrono::milliseconds timeout); // one poll round; false on timeout
    void split_lines();

    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, err_fd_ = -1;
    std::string out_buf_;
    std::string err_;
    std::vector<std::string> lines_;
    std::size_t next_line_ = 0;
    int status_ = -1;
    bool reaped_ = false;
};

/// Serves scripted connections on 127.0.0.1 from a thread, one after the other.
class server {
public:
    struct script {
        std::string payload;
        bool hold = false; ///< keep the connection open after the payload until the client closes
    };
    explicit server(std::vector<script> scripts);
    ~server();
    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_.load(); }

private:
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

/// A listening socket on 127.0.0.1 that the test drives by hand (accept, send, close or reset),
/// for faults the scripted server cannot express.
class listener {
public:
    /// port 0: any free port. backlog 0 with one unaccepted connection makes further SYNs wait.
    explicit listener(std::uint16_t port = 0, int backlog = 8);
    ~listener();
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    std::uint16_t port() const { return port_; }
    /// The next connection (-1 after `timeout`).
    int accept(std::chrono::milliseconds timeout = deadline);

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// Sends all of `data` (blocking); false if the peer went away.
bool send_all(int fd, std::string_view data);
/// Closes with SO_LINGER 0: the peer sees a reset (RST) instead of an orderly FIN.
void reset(int fd);

/// A loopback port that refuses connections (bound, then closed).
std::uint16_t closed_port();

/// A protocol response line: one JSON object, exactly one top-level key, only the protocol's
/// field names. Returns the key (Catch2 assertions inside).
std::string check_protocol_line(const std::string& line);

} // namespace harness

#endif
