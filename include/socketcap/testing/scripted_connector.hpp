// SPDX-License-Identifier: MIT OR Apache-2.0
// A connector that plays a list of attempts on scripted transports, in manual time: connects
// that fail, hang until the timeout, or succeed with the bytes the server will send. With it a
// capture_engine's reconnects, backoff, attempt limits and timeouts are tested exactly.
//
//   scripted_connector c("feed", 9000, 5s);
//   c.refuse().hang().accept([](auto& t) { t.data("a\n").eof(); });
//
// Every attempt records the manual time it started at (attempt_times()). With the list played
// out, further attempts are refused.
#ifndef SOCKETCAP_TESTING_SCRIPTED_CONNECTOR_HPP
#define SOCKETCAP_TESTING_SCRIPTED_CONNECTOR_HPP

#include <socketcap/io/connector.hpp>
#include <socketcap/io/deadline.hpp>
#include <socketcap/testing/manual_clock.hpp>
#include <socketcap/testing/scripted_transport.hpp>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/use_awaitable.hpp>

#include <array>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace socketcap::testing {

class scripted_connector {
public:
    using transport_type = scripted_transport<manual_timer>;

    scripted_connector(std::string host, std::uint16_t port, manual_clock::duration timeout)
        : host_(std::move(host)), port_(port), timeout_(timeout), shared_(std::make_shared<shared>()) {}

    /// The next attempt is refused (connection_refused) at once.
    scripted_connector& refuse() { return add({attempt::refused, {}}); }
    /// The next attempt never answers: it fails with error::connect_timeout at the timeout.
    scripted_connector& hang() { return add({attempt::hangs, {}}); }
    /// The next attempt connects; `script` fills the transport (what the server sends).
    scripted_connector& accept(std::function<void(transport_type&)> script) {
        return add({attempt::accepted, std::move(script)});
    }

    std::unique_ptr<transport_type> make_transport(const asio::any_io_executor& ex) const {
        return std::make_unique<transport_type>(ex);
    }
    template <class Token>
    auto async_connect(transport_type& t, connection_info& info, diagnostics& diag, Token&& token) const {
        return detail::async_spawn(t.get_executor(), connect(t, info, diag), std::forward<Token>(token));
    }
    template <class Token>
    auto async_probe(transport_type& t, diagnostics& diag, Token&& token) const {
        diag.clear();
        return detail::async_spawn(t.get_executor(), done(), std::forward<Token>(token));
    }
    std::string describe_end(transport_type&, std::error_code ec) const {
        return ec == asio::error::eof ? "the server closed the connection" : ec.message();
    }
    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }

    /// Manual-clock times at which attempts started, shared by copies of this connector.
    const std::vector<manual_clock::duration>& attempt_times() const noexcept { return shared_->times; }

private:
    struct attempt {
        enum kind_t { refused, hangs, accepted } kind;
        std::function<void(transport_type&)> script;
    };
    struct shared {
        std::deque<attempt> attempts;
        std::vector<manual_clock::duration> times;
    };

    scripted_connector& add(attempt a) {
        shared_->attempts.push_back(std::move(a));
        return *this;
    }

    static asio::awaitable<std::error_code> done() { co_return std::error_code{}; }

    asio::awaitable<std::error_code> connect(transport_type& t, connection_info& info, diagnostics& diag) const {
        diag.clear();
        shared_->times.push_back(manual_clock::now().time_since_epoch());
        attempt a{attempt::refused, {}};
        if (!shared_->attempts.empty()) {
            a = std::move(shared_->attempts.front());
            shared_->attempts.pop_front();
        }
        switch (a.kind) {
        case attempt::refused:
            diag.assign("Connection refused");
            co_return make_error_code(asio::error::connection_refused);
        case attempt::hangs: {
            // The server never answers: wait on the transport (nothing scripted) until the deadline.
            deadline<manual_timer> limit(t.get_executor(), manual_clock::now() + timeout_, [&t] { t.cancel(); });
            std::array<char, 1> byte;
            co_await t.async_read_some(asio::buffer(byte), asio::experimental::as_tuple(asio::use_awaitable));
            if (limit.expired()) {
                diag.assign("no connection within the connection timeout");
                co_return make_error_code(error::connect_timeout);
            }
            co_return make_error_code(asio::error::operation_aborted);
        }
        case attempt::accepted:
            if (a.script) a.script(t);
            info.endpoint = {asio::ip::make_address("127.0.0.1"), port_};
            co_return std::error_code{};
        }
        co_return std::error_code{};
    }

    std::string host_;
    std::uint16_t port_;
    manual_clock::duration timeout_;
    std::shared_ptr<shared> shared_;
};

static_assert(connector<scripted_connector>);

} // namespace socketcap::testing

#endif
