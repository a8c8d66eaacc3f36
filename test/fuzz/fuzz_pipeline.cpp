// SPDX-License-Identifier: MIT OR Apache-2.0
// The whole sans-I/O pipeline: codec, max_frame_bytes, read_size and the cuts between reads are
// taken from the first bytes, the rest is the stream. Invariants: every document is a strict
// JSON object, valid UTF-8, without lone surrogate escapes, with the envelope's fields in order
// and consecutive sequence numbers; the receive buffer never exceeds max_frame_bytes + 1 +
// read_size; line and json output does not depend on how the stream was cut (compared with
// feed()); plain documents' values concatenate to the (U+FFFD-replaced) stream.
#include "fuzz_common.hpp"

#include <socketcap/json_codec.hpp>
#include <socketcap/pipeline.hpp>
#include <socketcap/text_codec.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

using namespace socketcap;
using socketcap::fuzz::fuzz_data;

namespace {

constexpr std::string_view session = "00000000-0000-4000-8000-000000000000";

document_envelope make_envelope() {
    document_envelope env("host.test", 5000);
    env.start_session(std::string(session));
    env.stamp(std::chrono::system_clock::time_point{std::chrono::seconds{1700000000}});
    return env;
}

// Reads cut by `splits` through prepare()/commit(), then finish().
template <class Codec>
std::string run_split(Codec codec, pipeline_options opts, fuzz::split_plan& splits, std::string_view in) {
    // The framer's limit, which may be larger than asked (chunk_framer: at least 4 bytes).
    const std::size_t max_frame = default_framer_t<Codec>(opts.max_frame_bytes).max_frame_bytes();
    const std::size_t bound = max_frame + 1 + opts.read_size;
    pipeline<Codec> p(std::move(codec), opts);
    auto env = make_envelope();
    output_buffer out;
    while (!in.empty()) {
        auto area = p.prepare();
        // An empty area with bytes still to read would stall a session forever.
        FUZZ_CHECK(!area.empty() && area.size() <= opts.read_size);
        std::size_t n = std::min({area.size(), splits.next(), in.size()});
        std::memcpy(area.data(), in.data(), n);
        in.remove_prefix(n);
        p.commit(n, env, out);
        FUZZ_CHECK(p.buffer_capacity() <= bound);
        FUZZ_CHECK(p.pending_bytes() <= max_frame + 1);
    }
    p.finish(env, out);
    FUZZ_CHECK(p.pending_bytes() == 0);
    const auto& st = p.stats();
    FUZZ_CHECK(st.documents == env.sequence());
    FUZZ_CHECK(st.error_documents <= st.documents && st.partial_frames <= 1);
    return std::string(view(out));
}

template <class Codec>
std::string run_feed(Codec codec, pipeline_options opts, std::string_view in) {
    pipeline<Codec> p(std::move(codec), opts);
    auto env = make_envelope();
    output_buffer out;
    p.feed(in, env, out);
    p.finish(env, out);
    return std::string(view(out));
}

// Checks every document of one output; returns the concatenated data.value strings.
std::string check_output(std::string_view out, bool text) {
    static simdjson::dom::parser checker;
    std::string values;
    std::uint64_t expected_sequence = 1;
    bool saw_partial = false;
    while (!out.empty()) {
        auto nl = out.find('\n');
        FUZZ_CHECK(nl != std::string_view::npos); // every document ends with the suffix
        std::string_view doc = out.substr(0, nl);
        out.remove_prefix(nl + 1);
        simdjson::dom::object obj;
        FUZZ_CHECK(!fuzz::check_document(checker, doc).get_object().get(obj));
        // The envelope's fields, in the spec's order, around the codec's body.
        FUZZ_CHECK(doc.starts_with(R"({"timestamp":"2023-11-14T22:13:20.000000Z","source_host":"host.test",)"
                                   R"("source_port":5000,"data":)"));
        FUZZ_CHECK(doc.ends_with(",\"sequence\":" + std::to_string(expected_sequence) +
                                 ",\"session_id\":\"" + std::string(session) + "\"}"));
        ++expected_sequence;
        FUZZ_CHECK(!saw_partial); // a partial document can only be the last one
        bool partial = false;
        if (!obj["partial"].get_bool().get(partial)) {
            FUZZ_CHECK(partial);
            saw_partial = true;
        }
        if (text) {
            std::string_view v;
            if (!obj.at_pointer("/data/value").get_string().get(v)) values.append(v);
        }
    }
    return values;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz_data d(data, size);
    std::uint8_t which = d.byte() % 3;
    pipeline_options opts;
    opts.max_frame_bytes = d.byte();
    if (opts.max_frame_bytes > 250) opts.max_frame_bytes = std::size_t{1} << 16;
    opts.read_size = std::size_t{d.byte()} + 1;
    if (opts.read_size > 250) opts.read_size = 65536;
    fuzz::split_plan splits(d);
    const std::string_view input = d.rest();

    if (which == 0) {
        std::string a = run_split(json_codec(), opts, splits, input);
        check_output(a, false);
        FUZZ_CHECK(a == run_feed(json_codec(), opts, input));
    } else if (which == 1) {
        std::string a = run_split(line_codec(), opts, splits, input);
        check_output(a, true);
        FUZZ_CHECK(a == run_feed(line_codec(), opts, input));
    } else {
        std::string a = run_split(plain_codec(), opts, splits, input);
        std::string values = check_output(a, true);
        // No frame is oversized (chunks are cut, not dropped), and no character is broken.
        FUZZ_CHECK(values == fuzz::replace_invalid_utf8(input));
    }
    return 0;
}
