// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/error.hpp>

namespace socketcap {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "socketcap"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::idle_timeout: return "no data received within idle_timeout";
        case error::connect_timeout: return "connection not established within connection_timeout";
        case error::reconnects_exhausted: return "reconnect attempts exhausted";
        case error::not_a_regular_file: return "not a regular file";
        case error::file_too_large: return "file larger than its limit";
        case error::send_backlog: return "the server is not reading what the connector sends";
        case error::invalid_template: return "invalid message template";
        case error::invalid_pattern: return "invalid pattern";
        case error::invalid_conversation: return "invalid conversation";
        }
        return "unknown socketcap error";
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace socketcap
