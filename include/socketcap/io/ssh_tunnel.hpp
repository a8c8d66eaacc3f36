// SPDX-License-Identifier: MIT OR Apache-2.0
// ssh_tunnel: an OpenSSH local port forward (`ssh -N -L 127.0.0.1:<port>:<target>`) owned by the
// process, the way Estuary's connectors reach servers behind a bastion host. It writes the
// private key to a file only this process can read (0600, in a private 0700 directory, removed
// by the destructor), starts ssh, waits until its forward listens, and watches it: ssh's log on
// stderr says when the forward is ready, whether the bastion opened each forwarded connection,
// and why ssh ended. tunneled_connector (socketcap/io/tunneled_connector.hpp) puts it behind
// the connector concept. POSIX only; the process handling lives in lib/io/ssh_tunnel.cpp.
#ifndef SOCKETCAP_IO_SSH_TUNNEL_HPP
#define SOCKETCAP_IO_SSH_TUNNEL_HPP

#include <socketcap/diagnostics.hpp>
#include <socketcap/io/connector.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace socketcap {

/// Why a tunnel could not be set up or ended. The diagnostics say it in a sentence.
enum class ssh_error {
    key_file = 1,        ///< the private key could not be written to a private temporary file
    cannot_run,          ///< the ssh program could not be started (not installed?)
    key_unusable,        ///< ssh cannot read the private key (format, passphrase)
    key_rejected,        ///< the bastion refused the key for the user
    bastion_unreachable, ///< the bastion could not be resolved, reached or spoken to
    forward_refused,     ///< the bastion does not allow forwarding to the target
    target_unreachable,  ///< the bastion cannot connect to the target
    exited,              ///< ssh ended
};

/// The category of ssh_error ("socketcap.ssh").
const std::error_category& ssh_error_category() noexcept;

inline std::error_code make_error_code(ssh_error e) noexcept { return {static_cast<int>(e), ssh_error_category()}; }

struct ssh_tunnel_options {
    std::string user;        ///< on the bastion
    std::string host;        ///< the bastion; an IPv6 address without brackets
    std::uint16_t port = 22;
    /// OpenSSH or PEM private key text. Secret: written to the key file, then wiped from
    /// memory; never in a message.
    std::string private_key;
    std::string target_host; ///< as the bastion resolves and reaches it
    std::uint16_t target_port = 0;
    /// Until the forward listens (ssh's ConnectTimeout too), and for the bastion to open a
    /// forwarded connection.
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(30);
    /// ServerAliveInterval: a bastion that stops answering for 3 intervals ends ssh.
    std::chrono::seconds keepalive{30};
    std::string program = "ssh"; ///< looked up in PATH unless it holds a '/'
};

class ssh_tunnel {
public:
    explicit ssh_tunnel(ssh_tunnel_options opts);
    /// Ends ssh (SIGTERM, then SIGKILL after 1 s) and removes the key file and its directory.
    ~ssh_tunnel();
    ssh_tunnel(const ssh_tunnel&) = delete;
    ssh_tunnel& operator=(const ssh_tunnel&) = delete;

    /// Starts ssh unless it runs with its forward listening, and waits until the forward
    /// listens, within options().timeout. Completes with (error_code): an ssh_error or
    /// error::connect_timeout, with `diag` saying why (key rejected, bastion unreachable, …).
    /// `abandoned`, polled every 100 ms while waiting, ends the wait with
    /// asio::error::operation_aborted when it returns true (ssh keeps starting). A local port
    /// taken by someone else between choosing and binding it is retried with another.
    template <class Token>
    auto async_start(const asio::any_io_executor& ex, std::function<bool()> abandoned, diagnostics& diag,
                     Token&& token) {
        return detail::async_spawn(ex, start(std::move(abandoned), diag, ex), std::forward<Token>(token));
    }

    /// How many forwarded connections ssh has reported on (opened or refused) so far; take it
    /// before dialling local_port().
    std::uint64_t channel_mark() const noexcept;

    /// Waits for ssh's report on the first forwarded connection after `mark`: completes with
    /// () when the bastion opened it, else ssh_error::forward_refused or target_unreachable,
    /// error::connect_timeout at `deadline`, ssh_error::exited if ssh ended; `diag` says why.
    template <class Token>
    auto async_wait_channel(const asio::any_io_executor& ex, std::uint64_t mark,
                            std::chrono::steady_clock::time_point deadline, diagnostics& diag, Token&& token) {
        return detail::async_spawn(ex, wait_channel(mark, deadline, diag), std::forward<Token>(token));
    }

    /// ssh runs and its forward listens (as far as its log has been read).
    bool running() const noexcept;
    /// The forward's port on 127.0.0.1 (valid while running()).
    std::uint16_t local_port() const noexcept;
    /// Why the last ssh ended, as a phrase ("ssh was killed by signal 9"); empty while it runs.
    /// Asks the kernel too, so it knows of an exit its log has not shown yet.
    std::string end_reason() const;
    /// Ends ssh now (SIGTERM); a later async_start starts it again.
    void stop() noexcept;

    const ssh_tunnel_options& options() const noexcept { return opts_; }
    /// ssh's arguments (without the program) for a forward on `local_port`: the key appears
    /// only as its file's path.
    std::vector<std::string> arguments(std::uint16_t local_port) const;
    /// The key file while the tunnel exists (empty before the first start).
    const std::string& key_path() const noexcept { return key_path_; }

    struct process; // one run of ssh (lib/io/ssh_tunnel.cpp)

private:
    asio::awaitable<std::error_code> start(std::function<bool()> abandoned, diagnostics& diag,
                                           asio::any_io_executor ex);
    asio::awaitable<std::error_code> wait_channel(std::uint64_t mark, std::chrono::steady_clock::time_point deadline,
                                                  diagnostics& diag);
    std::error_code write_key(diagnostics& diag);

    ssh_tunnel_options opts_;
    std::string key_dir_;
    std::string key_path_;
    std::shared_ptr<process> proc_;
};

} // namespace socketcap

template <>
struct std::is_error_code_enum<socketcap::ssh_error> : std::true_type {};

#endif
