// SPDX-License-Identifier: MIT OR Apache-2.0
// A custom codec: `key=value` pairs separated by spaces (a logfmt subset) become a JSON object.
//   temp=21.5 unit=C   ->   "data":{"temp":"21.5","unit":"C"},"raw":"temp=21.5 unit=C"
// A token without '=' makes an error document, as the built-in codecs do for bad input.
// docs/library.md shows this file; the test suite compiles and runs it (suite 'examples').
#include <socketcap/codec.hpp>
#include <socketcap/document.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/pipeline.hpp>

#include <chrono>
#include <cstdio>
#include <string_view>

class key_value_codec {
public:
    // One record per line unless the pipeline names another framer: the codec never sees how
    // frames are cut.
    using default_framer = socketcap::line_framer;

    // Never throws (bad_alloc aside) and always writes valid JSON: write_string escapes and
    // replaces ill-formed UTF-8.
    socketcap::encode_result encode(const socketcap::frame& f, socketcap::output_buffer& out) const {
        using namespace socketcap;
        std::string_view line = f.payload;
        if (line.find_first_not_of(' ') == std::string_view::npos) return encode_result::skipped;
        if (f.kind == frame_kind::oversized || !well_formed(line)) {
            append(out, R"("data":{"_error":true,"_error_message":)");
            json::write_string(out, f.kind == frame_kind::oversized ? "line too long" : "expected key=value pairs");
            append(out, R"(,"_raw":)");
            json::write_string(out, line);
            append(out, "}");
            return encode_result::error_document;
        }
        append(out, R"("data":{)");
        bool first = true;
        for_each_pair(line, [&](std::string_view key, std::string_view value) {
            if (!first) append(out, ",");
            first = false;
            json::write_string(out, key);
            append(out, ":");
            json::write_string(out, value);
        });
        append(out, R"(},"raw":)");
        json::write_string(out, line);
        return encode_result::document;
    }

    void reset() noexcept {}

private:
    template <class F>
    static void for_each_token(std::string_view line, F&& f) {
        while (!line.empty()) {
            auto end = line.find(' ');
            auto token = line.substr(0, end);
            line.remove_prefix(end == std::string_view::npos ? line.size() : end + 1);
            if (!token.empty()) f(token);
        }
    }
    template <class F>
    static void for_each_pair(std::string_view line, F&& f) {
        for_each_token(line, [&](std::string_view t) { f(t.substr(0, t.find('=')), t.substr(t.find('=') + 1)); });
    }
    static bool well_formed(std::string_view line) {
        bool ok = true;
        for_each_token(line, [&](std::string_view t) { ok = ok && t.find('=') != 0 && t.find('=') != t.npos; });
        return ok;
    }
};

static_assert(socketcap::codec<key_value_codec>);

int main() {
    using namespace socketcap;
    // The pipeline is sans-I/O: feed() stands in for socket reads, so the output is exact.
    pipeline<key_value_codec> p;
    document_envelope env("sensors.local", 7000);
    env.start_session("example-session");
    env.stamp(std::chrono::sys_days{std::chrono::year{2024} / 1 / 15} + std::chrono::hours{10});

    output_buffer out;
    p.feed("temp=21.5 unit=C\r\n\nbroken line\nquote=\"x\"", env, out);
    p.finish(env, out); // the stream ended: the last line had no newline

    std::string_view expected =
        R"({"timestamp":"2024-01-15T10:00:00.000000Z","source_host":"sensors.local","source_port":7000,)"
        R"("data":{"temp":"21.5","unit":"C"},"raw":"temp=21.5 unit=C","sequence":1,"session_id":"example-session"})" "\n"
        R"({"timestamp":"2024-01-15T10:00:00.000000Z","source_host":"sensors.local","source_port":7000,)"
        R"("data":{"_error":true,"_error_message":"expected key=value pairs","_raw":"broken line"},"sequence":2,"session_id":"example-session"})" "\n"
        R"({"timestamp":"2024-01-15T10:00:00.000000Z","source_host":"sensors.local","source_port":7000,)"
        R"("data":{"quote":"\"x\""},"raw":"quote=\"x\"","partial":true,"sequence":3,"session_id":"example-session"})" "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    const auto& s = p.stats();
    if (view(out) != expected || s.documents != 3 || s.error_documents != 1 || s.blank_frames != 1) {
        std::fputs("custom_codec: unexpected output\n", stderr);
        return 1;
    }
    return 0;
}
