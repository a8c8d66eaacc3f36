// SPDX-License-Identifier: MIT OR Apache-2.0
// Drives a pipeline with a fixed timestamp and session id, so whole documents can be compared
// byte for byte whatever the split points of the input.
#ifndef SOCKETCAP_TEST_PIPELINE_HARNESS_HPP
#define SOCKETCAP_TEST_PIPELINE_HARNESS_HPP

#include <socketcap/document.hpp>
#include <socketcap/pipeline.hpp>

#include <catch2/catch.hpp>

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

/// A text codec error document (`message` and `raw` already JSON-escaped), as
/// detail::write_framing_error_body writes it.
inline std::string text_error_doc(std::string_view message, std::string_view raw, std::uint64_t seq,
                                  bool partial = false) {
    std::string r(raw);
    return doc(R"("data":{"_error":true,"_error_message":")" + std::string(message) + R"(","_raw":")" + r +
                   R"("},"raw":")" + r + "\"",
               seq, partial);
}

/// A base64 codec document, and its error document (`_raw` in base64).
inline std::string base64_doc(std::string_view b64, std::uint64_t seq, bool partial = false) {
    return doc(R"("data":{"base64":")" + std::string(b64) + "\"}", seq, partial);
}
inline std::string base64_error_doc(std::string_view message, std::string_view raw64, std::uint64_t seq) {
    return doc(R"("data":{"_error":true,"_error_message":")" + std::string(message) + R"(","_raw":")" +
                   std::string(raw64) + "\"}",
               seq);
}

/// Feeds `reads` through pipeline<Codec, Framer> with `framer`, then finishes the stream.
template <class Codec, class Framer>
std::string run_framed(const std::vector<std::string_view>& reads, Framer framer, pipeline_options opts = {},
                       pipeline_stats* stats = nullptr) {
    pipeline<Codec, Framer> p(Codec{}, std::move(framer), opts);
    auto env = fixed_envelope();
    output_buffer out;
    for (auto r : reads) p.feed(r, env, out);
    p.finish(env, out);
    if (stats) *stats = p.stats();
    return {out.data(), out.size()};
}

/// The documents are `want` whatever the reads: the input whole, cut in two at every offset, and
/// with one-byte reads (which also give the pipeline its smallest buffer: max + slack + 1).
template <class Codec, class Framer>
void check_every_split(std::string_view in, const Framer& framer, const std::string& want, pipeline_options opts = {}) {
    CHECK(run_framed<Codec>({in}, framer, opts) == want);
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(run_framed<Codec>({in.substr(0, cut), in.substr(cut)}, framer, opts) == want);
    }
    auto one = opts;
    one.read_size = 1;
    CHECK(run_framed<Codec>({in}, framer, one) == want);
}

} // namespace socketcap::test

#endif
