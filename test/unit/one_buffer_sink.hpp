// SPDX-License-Identifier: MIT OR Apache-2.0
// A test sink that takes one buffer per call (so not a gather_sink), at most `limit` bytes of
// it (as a nearly full pipe does), and nothing once `fail_after` bytes are in: that call fails
// with broken_pipe, as a closed stdout does. Completions are posted; calls are counted.
#ifndef SOCKETCAP_TEST_UNIT_ONE_BUFFER_SINK_HPP
#define SOCKETCAP_TEST_UNIT_ONE_BUFFER_SINK_HPP

#include <socketcap/io/sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <string>
#include <system_error>

class one_buffer_sink {
public:
    using executor_type = asio::any_io_executor;
    explicit one_buffer_sink(executor_type ex, std::size_t limit = std::size_t(-1)) : ex_(std::move(ex)), limit_(limit) {}
    executor_type get_executor() const noexcept { return ex_; }
    const std::string& str() const noexcept { return data_; }
    std::size_t calls = 0;
    std::size_t fail_after = std::size_t(-1);

    template <class Token>
    auto async_write_some(asio::const_buffer b, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, asio::const_buffer buf) {
                std::size_t n = std::min({buf.size(), limit_, fail_after - data_.size()});
                data_.append(static_cast<const char*>(buf.data()), n);
                ++calls;
                std::error_code ec;
                if (n == 0 && buf.size() != 0) ec = make_error_code(std::errc::broken_pipe);
                auto ex = asio::get_associated_executor(handler, ex_);
                asio::post(ex, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
            },
            token, b);
    }

private:
    executor_type ex_;
    std::size_t limit_;
    std::string data_;
};
static_assert(socketcap::sink<one_buffer_sink> && !socketcap::gather_sink<one_buffer_sink>);

#endif
