// SPDX-License-Identifier: MIT OR Apache-2.0
// Drives a pipeline with a fixed timestamp and session id, so whole documents can be compared
// byte for byte whatever the split points of the input.
#ifndef SOCKETCAP_TEST_PIPELINE_HARNESS_HPP
#define SOCKETCAP_TEST_PIPELINE_HARNESS_HPP

#include <socketcap/document.hpp>
#include <socketcap/pipeline.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace socketcap::test {

inline constexpr std::string_view fixed_session = "00000000-0000-4000-8000-000000000000";

/// The envelope text every harness document has around its codec body.
inline std::string doc(std::string_view body, std::uint64_t seq, bool partial = false) {
    std::string s = R"({"timestamp":"1970-01-01T00:00:00.000000Z","source_host":"h","source_port":7,)";
    s += body;
    if (partial) s += R"(,"partial":true)";
    s += R"(,"sequence":)" + std::to_string(seq) + R"(,"session_id":")" + std::string(fixed_session) + "\"}\n";
    return s;
}

/// A `line`/`plain` codec document: `escaped` (already JSON-escaped) in `data.value` and `raw`.
inline std::string text_doc(std::string_view escaped, std::uint64_t seq, bool partial = false) {
    std::string s(escaped);
    return doc(R"("data":{"value":")" + s + R"("},"raw":")" + s + "\"", seq, partial);
}

inline document_envelope fixed_envelope() {
    document_envelope env("h", 7);
    env.start_session(std::string(fixed_session));
    env.stamp(std::chrono::system_clock::time_point{});
    return env;
}

/// Feeds `reads` one after another (each is one read), then finishes the stream.
template <class Codec>
std::string run_reads(const std::vector<std::string_view>& reads, pipeline_options opts = {},
                      Codec codec = Codec{}, pipeline_stats* stats = nullptr) {
    pipeline<Codec> p(std::move(codec), opts);
    auto env = fixed_envelope();
    output_buffer out;
    for (auto r : reads) p.feed(r, env, out);
    p.finish(env, out);
    if (stats) *stats = p.stats();
    return {out.data(), out.size()};
}

template <class Codec>
std::string run_all(std::string_view input, pipeline_options opts = {}, Codec codec = Codec{},
                    pipeline_stats* stats = nullptr) {
    return run_reads<Codec>({input}, opts, std::move(codec), stats);
}

/// Splits `input` into reads of `n` bytes.
inline std::vector<std::string_view> reads_of(std::string_view input, std::size_t n) {
    std::vector<std::string_view> v;
    for (std::size_t i = 0; i < input.size(); i += n) v.push_back(input.substr(i, n));
    return v;
}

} // namespace socketcap::test

#endif
