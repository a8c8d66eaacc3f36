// SPDX-License-Identifier: MIT OR Apache-2.0
// The Flow request parser on untrusted lines (whatever arrives on stdin). Invariants: it never
// crashes; a failure always names what is wrong; a success hands on raw-JSON fields that are
// themselves valid JSON; the checkpoint state it reads round-trips through write_checkpoint.
#include "fuzz_common.hpp"

#include <socketcap/flow/request.hpp>
#include <socketcap/flow/response.hpp>
#include <socketcap/utf8.hpp>

using namespace socketcap;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static simdjson::dom::parser parser;
    std::string_view line(reinterpret_cast<const char*>(data), size);
    auto r = flow::parse_request(line);
    if (!r) {
        FUZZ_CHECK(!r.error.empty());
        return 0;
    }
    simdjson::dom::element e;
    FUZZ_CHECK(parser.parse(r.value.config).get(e) == simdjson::SUCCESS);
    FUZZ_CHECK(parser.parse(r.value.state).get(e) == simdjson::SUCCESS);
    for (const auto& b : r.value.bindings) {
        FUZZ_CHECK(parser.parse(b.resource_config).get(e) == simdjson::SUCCESS);
        (void)flow::parse_resource_config(b.resource_config);
    }
    (void)flow::parse_endpoint_config(r.value.config);

    // Whatever state arrived, what the connector reads from it, written back as a checkpoint,
    // is strict JSON and reads back the same.
    std::string key = r.value.bindings.empty() ? "k" : r.value.bindings[0].state_key;
    auto st = flow::parse_binding_state(r.value.state, key);
    output_buffer out;
    flow::write_checkpoint(out, key, st);
    std::string_view line_out = view(out);
    FUZZ_CHECK(!line_out.empty() && line_out.back() == '\n');
    line_out.remove_suffix(1);
    FUZZ_CHECK(utf8::is_valid(line_out));
    simdjson::dom::element cp;
    FUZZ_CHECK(parser.parse(line_out).get(cp) == simdjson::SUCCESS);
    simdjson::dom::element updated;
    FUZZ_CHECK(cp["checkpoint"]["state"]["updated"].get(updated) == simdjson::SUCCESS);
    std::string updated_json = simdjson::minify(updated);
    if (utf8::is_valid(key)) { // an ill-formed key is written with U+FFFD: another key
        auto back = flow::parse_binding_state(updated_json, key);
        FUZZ_CHECK(back.session_id == (utf8::is_valid(st.session_id) ? st.session_id : back.session_id));
        FUZZ_CHECK(back.sequence == st.sequence && back.bytes == st.bytes && back.documents == st.documents);
    }
    return 0;
}
