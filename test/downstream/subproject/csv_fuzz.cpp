// SPDX-License-Identifier: MIT OR Apache-2.0
// Downstream check (subproject): a custom CSV-ish codec composed into pipeline<…>, and a
// fuzz-style harness that runs arbitrary bytes through it and through socketcap's json_codec,
// asserting that every document is one valid JSON object. Without libFuzzer a replay main
// first checks exact output for a known input, then runs the harness on each file given.
#include <socketcap/document.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/pipeline.hpp>

#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

// Comma-separated fields (no quoting) as "data":{"fields":[...]}.
struct csv_codec {
    using framer_type = socketcap::line_framer;
    framer_type make_framer(std::size_t max) noexcept { return framer_type(max); }
    socketcap::encode_result encode(const socketcap::frame& f, socketcap::output_buffer& out) const {
        using namespace socketcap;
        if (f.kind == frame_kind::oversized) {
            append(out, R"("data":{"_error":true,"_error_message":"line too long","_raw":)");
            json::write_string(out, f.payload.substr(0, 64));
            append(out, "}");
            return encode_result::error_document;
        }
        append(out, R"("data":{"fields":[)");
        std::string_view rest = f.payload;
        for (bool first = true;; first = false) {
            auto comma = rest.find(',');
            if (!first) append(out, ",");
            json::write_string(out, rest.substr(0, comma));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        append(out, "]}");
        return encode_result::document;
    }
    void reset() noexcept {}
};
static_assert(socketcap::codec<csv_codec>);

namespace {

// Small frames so that the fuzzer reaches the oversized path too.
constexpr socketcap::pipeline_options small{.read_size = 64, .max_frame_bytes = 256};

template <class Codec>
std::string run(std::string_view input) {
    socketcap::pipeline<Codec> p(Codec{}, small);
    socketcap::document_envelope env("fuzz", 1);
    env.start_session("s");
    env.stamp(std::chrono::system_clock::time_point{});
    socketcap::output_buffer out;
    p.feed(input, env, out);
    p.finish(env, out);
    return std::string(socketcap::view(out));
}

void check_documents(const std::string& ndjson) {
    static simdjson::dom::parser parser;
    std::string_view rest = ndjson;
    while (!rest.empty()) {
        auto nl = rest.find('\n');
        if (nl == std::string_view::npos) std::abort(); // every document ends with a newline
        simdjson::padded_string line(rest.substr(0, nl));
        simdjson::dom::element doc;
        if (parser.parse(line).get(doc) || !doc.is_object() || doc["data"].error()) std::abort();
        rest.remove_prefix(nl + 1);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_documents(run<csv_codec>(input));
    check_documents(run<socketcap::json_codec>(input));
    return 0;
}

#ifndef CONSUMER_LIBFUZZER
int main(int argc, char** argv) {
    const std::string head = R"({"timestamp":"1970-01-01T00:00:00.000000Z","source_host":"fuzz","source_port":1,)";
    const std::string expected =
        head + R"("data":{"fields":["a","b c",""]},"sequence":1,"session_id":"s"})" "\n" +
        head + R"("data":{"fields":["","\"q\"",")" "\xef\xbf\xbd" /* U+FFFD */ R"("]},"sequence":2,"session_id":"s"})" "\n" +
        head + R"("data":{"fields":["last"]},"partial":true,"sequence":3,"session_id":"s"})" "\n";
    std::string got = run<csv_codec>("a,b c,\r\n,\"q\",\xff\nlast");
    if (got != expected) {
        std::fprintf(stderr, "csv_fuzz: unexpected output:\n%s", got.c_str());
        return 1;
    }
    check_documents(got);
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "csv_fuzz: cannot read %s\n", argv[i]);
            return 1;
        }
        std::string bytes{std::istreambuf_iterator<char>(in), {}};
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("csv_fuzz: exact output ok, %d inputs replayed\n", argc - 1);
    return 0;
}
#endif
