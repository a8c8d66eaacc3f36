// SPDX-License-Identifier: MIT OR Apache-2.0
// Test sinks that take at most `limit` bytes per call (as a nearly full pipe does) and nothing
// once `fail_after` bytes are in: that call fails with broken_pipe, as a closed stdout does.
// one_buffer_sink takes one buffer per call (not a gather_sink); partial_gather_sink takes a
// buffer sequence (a gather_sink). Completions are posted; `calls` records the buffers handed
// over in each call.
#ifndef SOCKETCAP_TEST_UNIT_TEST_SINKS_HPP
#define SOCKETCAP_TEST_UNIT_TEST_SINKS_HPP

#include <socketcap/io/sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <concepts>
#include <string>
#include <system_error>
#include <vector>

template <bool Gather>
class test_sink {
public:
    using executor_type = asio::any_io_executor;
    explicit test_sink(executor_type ex, std::size_t limit = std::size_t(-1)) : ex_(std::move(ex)), limit_(limit) {}
    executor_type get_executor() const noexcept { return ex_; }
    const std::string& str() const noexcept { return data_; }
    std::vector<std::size_t> calls; ///< buffers handed over in each call
    std::size_t fail_after = std::size_t(-1);

    template <class ConstBufferSequence, class Token>
        requires(Gather ? asio::is_const_buffer_sequence<ConstBufferSequence>::value
                        : std::convertible_to<ConstBufferSequence, asio::const_buffer>)
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& bufs) {
                std::size_t n = 0, count = 0, asked = 0;
                for (auto it = asio::buffer_sequence_begin(bufs); it != asio::buffer_sequence_end(bufs); ++it) {
                    asio::const_buffer b(*it);
                    ++count;
                    asked += b.size();
                    std::size_t take = std::min({b.size(), limit_ - n, fail_after - data_.size()});
                    data_.append(static_cast<const char*>(b.data()), take);
                    n += take;
                }
                calls.push_back(count);
                std::error_code ec;
                if (n == 0 && asked != 0) ec = make_error_code(std::errc::broken_pipe);
                auto ex = asio::get_associated_executor(handler, ex_);
                asio::post(ex, [h = std::move(handler), ec, n]() mutable { h(ec, n); });
            },
            token, buffers);
    }

private:
    executor_type ex_;
    std::size_t limit_;
    std::string data_;
};

using one_buffer_sink = test_sink<false>;
using partial_gather_sink = test_sink<true>;
static_assert(socketcap::sink<one_buffer_sink> && !socketcap::gather_sink<one_buffer_sink>);
static_assert(socketcap::gather_sink<partial_gather_sink>);

#endif
