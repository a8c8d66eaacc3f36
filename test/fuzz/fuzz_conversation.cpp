// SPDX-License-Identifier: MIT OR Apache-2.0
// A conversation on fuzzer bytes: the reply rule's pattern and template, and a frame, all from
// the input. Invariants: compiling never crashes and either succeeds or says why; a reply of
// ${0} sends exactly the matched part of the frame (a substring of it); a template without
// '\' or '$' renders as itself; a frame no rule matches sends nothing and is captured. With the
// pattern as a position pattern: the document's position field is valid JSON, an integer one
// is digits, and the frame's ack (${position}) is the same position.
#include "fuzz_common.hpp"

#include <socketcap/conversation.hpp>

#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

frame complete(std::string_view payload) {
    frame f;
    f.kind = frame_kind::complete;
    f.payload = payload;
    f.consumed = payload.size();
    return f;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data in(data, size);
    // <flags byte> <pattern> NUL <template> NUL <frame>
    const std::uint8_t flags = in.byte();
    std::string_view rest = in.rest();
    auto cut = [&rest]() {
        auto at = rest.find('\0');
        std::string_view part = rest.substr(0, at);
        rest = at == std::string_view::npos ? std::string_view{} : rest.substr(at + 1);
        return part;
    };
    std::string pattern(cut()), text(cut());
    std::string_view payload = rest;

    // The template alone, as a message and as a reply.
    {
        error_code ec;
        diagnostics diag;
        conversation_config c;
        c.on_connect = {text};
        auto plan = conversation_plan::compile(c, ec, diag);
        FUZZ_CHECK(bool(plan) == !ec);
        FUZZ_CHECK(ec ? !diag.empty() : diag.empty());
        if (plan) {
            conversation conv(plan, "sid", {});
            conv.start(std::chrono::system_clock::time_point{});
            std::string sent;
            FUZZ_CHECK(conv.take(sent) == 1);
            if (text.find_first_of("\\$") == std::string::npos) FUZZ_CHECK(sent == text);
        }
    }

    // The pattern as a position pattern, acked per frame.
    {
        error_code ec;
        diagnostics diag;
        conversation_config c;
        c.position = {position_source::pattern, pattern, "", (flags & 1) != 0};
        c.ack = ack_config{"${position}", true};
        auto plan = conversation_plan::compile(c, ec, diag);
        FUZZ_CHECK(bool(plan) == !ec);
        if (plan) {
            conversation conv(plan, "sid", {});
            frame f = complete(payload);
            FUZZ_CHECK(conv.pass(f));
            output_buffer fields;
            conv.annotate(f, 1, fields);
            std::string doc = "{\"a\":0" + std::string(view(fields)) + "}";
            static simdjson::dom::parser checker;
            simdjson::dom::element root;
            FUZZ_CHECK(!checker.parse(doc).get(root));
            auto acks = conv.take_acks();
            FUZZ_CHECK(acks.messages <= 1);
            if (acks.messages == 1) {
                FUZZ_CHECK(acks.bytes == conv.last_position());
                if (!c.position.is_string) {
                    std::uint64_t n = 0;
                    FUZZ_CHECK(!root["position"].get_uint64().get(n) && std::to_string(n) == acks.bytes);
                }
            } else {
                std::string_view fallback;
                FUZZ_CHECK(!root["position"].get_string().get(fallback) && fallback == "sid/1");
            }
        }
    }

    // The pattern, answering with the whole match.
    error_code ec;
    diagnostics diag;
    conversation_config c;
    c.replies = {{pattern, "${0}", false}};
    auto plan = conversation_plan::compile(c, ec, diag);
    FUZZ_CHECK(bool(plan) == !ec);
    if (!plan) return 0;
    conversation conv(plan, "sid", {});
    bool captured = conv.pass(complete(payload));
    std::string sent;
    std::size_t messages = conv.take(sent);
    FUZZ_CHECK(captured == (messages == 0));
    FUZZ_CHECK(messages <= 1);
    if (messages == 1) FUZZ_CHECK(payload.find(sent) != std::string_view::npos);
    return 0;
}
