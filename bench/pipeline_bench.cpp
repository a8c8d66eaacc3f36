// SPDX-License-Identifier: MIT OR Apache-2.0
// In-memory throughput of the sans-I/O pipeline (no sockets, no stdout): the ceiling the
// connector can reach. Usage: pipeline_bench [documents] [repeats]
//   [line|line-any|length-prefixed|octet-counted|json|json-bad|plain|base64]
#include "payload.hpp"

#include <socketcap/any_framer.hpp>
#include <socketcap/base64_codec.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/pipeline.hpp>
#include <socketcap/text_codec.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <type_traits>
#include <cstdlib>
#include <vector>

using namespace socketcap;

namespace {

template <class Codec, class Framer = default_framer_t<Codec>>
void run(const char* name, const std::string& input, int repeats, framing_options framing = {}) {
    std::vector<double> secs;
    std::uint64_t docs = 0, out_bytes = 0;
    for (int rep = 0; rep < repeats; ++rep) {
        auto p = [&] {
            if constexpr (std::is_same_v<Framer, any_framer>)
                return pipeline<Codec, any_framer>(Codec{}, any_framer(framing, pipeline_options{}.max_frame_bytes));
            else
                return pipeline<Codec, Framer>(Codec{}, {});
        }();
        document_envelope env("bench.example", 9000, R"({"captured":{"binding":0,"doc":)", "}}\n");
        output_buffer out;
        out_bytes = 0;
        auto t0 = std::chrono::steady_clock::now();
        std::string_view rest = input;
        while (!rest.empty()) {
            auto area = p.prepare();
            std::size_t n = std::min(area.size(), rest.size());
            std::copy_n(rest.data(), n, area.data()); // stands in for the kernel's copy
            rest.remove_prefix(n);
            env.stamp(std::chrono::system_clock::now());
            p.commit(n, env, out);
            out_bytes += out.size();
            out.clear();
        }
        p.finish(env, out);
        secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        docs = p.stats().documents;
    }
    std::sort(secs.begin(), secs.end());
    double med = secs[secs.size() / 2];
    fmt::print("{:<14} docs {:>9}  in {:>7.1f} MB  out {:>7.1f} MB  median {:.3f} s (min {:.3f}, max {:.3f})  "
               "{:>6.2f} M docs/s  {:>7.1f} MB/s in\n",
               name, docs, input.size() / 1e6, out_bytes / 1e6, med, secs.front(), secs.back(), docs / med / 1e6,
               input.size() / med / 1e6);
}

} // namespace

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
    std::string_view only = argc > 3 ? argv[3] : "";
    auto wanted = [&](std::string_view name) { return only.empty() || only == name; };
    bench::rng r; // payloads are generated in the same order as the full run, so they are equal
    auto lines = bench::syslog_lines(n, r);
    auto json = bench::ndjson_lines(n, r);
    auto json_bad = bench::ndjson_lines(n, r, 20);
    auto raw = bench::raw_bytes(200'000'000, r);
    if (wanted("line")) run<line_codec>("line", lines, repeats);
    // The connector's composition: every framing behind any_framer. The same messages as `line`.
    framing_options f;
    if (wanted("line-any")) run<text_codec, any_framer>("line any", lines, repeats, f);
    f.kind = framing_kind::length_prefixed;
    if (wanted("length-prefixed"))
        run<text_codec, any_framer>("length-prefix", bench::length_prefixed(lines), repeats, f);
    f.kind = framing_kind::octet_counting;
    if (wanted("octet-counted")) run<text_codec, any_framer>("octet-count", bench::octet_counted(lines), repeats, f);
    if (wanted("json")) run<json_codec>("json", json, repeats);
    if (wanted("json-bad")) run<json_codec>("json 2% bad", json_bad, repeats);
    if (wanted("plain")) run<plain_codec>("plain", raw, repeats);
    if (wanted("base64")) run<base64_codec>("base64", raw, repeats);
}
