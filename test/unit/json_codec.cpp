// SPDX-License-Identifier: MIT OR Apache-2.0
// The json codec through a pipeline: every edge case of toolchain-notes §2.3 with its exact
// error document, valid objects copied byte for byte, padded and unpadded frames alike.
#include <socketcap/json_codec.hpp>
#include <socketcap/json_writer.hpp>

#include "pipeline_harness.hpp"

#include <catch2/catch.hpp>
#include <simdjson.h>

#include <random>
#include <string>

using namespace socketcap;
using socketcap::test::doc;
using namespace std::string_literals;

namespace {

std::string ok_doc(std::string_view object, std::uint64_t seq, bool partial = false) {
    return doc(R"("data":)" + std::string(object), seq, partial);
}

std::string err_doc(std::string_view message, std::string_view raw, std::uint64_t seq, bool partial = false) {
    output_buffer b;
    append(b, R"("data":{"_error":true,"_error_message":)");
    json::write_string(b, message);
    append(b, R"(,"_raw":)");
    json::write_string(b, raw);
    b.push_back('}');
    return doc(view(b), seq, partial);
}

std::string run(std::string_view in, pipeline_stats* st = nullptr, pipeline_options o = {}) {
    return test::run_all<json_codec>(in, o, json_codec{}, st);
}

/// Each object on its own line gives exactly that object back as a document, in order.
template <class Objects>
pipeline_stats check_all_pass(const Objects& objs) {
    std::string in, want;
    std::uint64_t seq = 0;
    for (auto& o : objs) {
        in += std::string(o) + "\n";
        want += ok_doc(o, ++seq);
    }
    pipeline_stats st;
    CHECK(run(in, &st) == want);
    return st;
}

// One line, then a valid line that must come out intact after it.
void check_line(const std::string& line, const std::string& message) {
    INFO("line: " << line);
    CHECK(run(line + "\n{\"next\":true}\n") == err_doc(message, line, 1) + ok_doc(R"({"next":true})", 2));
}

// Encodes one frame directly, with or without readable padding after it.
std::string encode_one(std::string_view line, bool padded) {
    json_codec c;
    output_buffer out;
    frame f{frame_kind::complete, {}, line.size(), 0};
    std::string storage;
    std::unique_ptr<char[]> exact;
    if (padded) {
        storage = std::string(line) + std::string(receive_buffer::padding, ' ');
        f.payload = std::string_view(storage).substr(0, line.size());
        f.padding = receive_buffer::padding;
    } else {
        // Exactly sized heap block: parsing in place would read past it.
        exact = std::make_unique<char[]>(line.size() ? line.size() : 1);
        std::copy(line.begin(), line.end(), exact.get());
        f.payload = std::string_view(exact.get(), line.size());
    }
    auto r = c.encode(f, out);
    return std::to_string(static_cast<int>(r)) + ":" + std::string(view(out));
}

// Flow's runtime parses at most 127 levels (serde_json's limit) and the envelope is one of them.
const std::string depth_126 = R"({"a":)" + std::string(125, '[') + std::string(125, ']') + "}";
const std::string depth_127 = R"({"a":)" + std::string(126, '[') + std::string(126, ']') + "}";

} // namespace

TEST_CASE("json codec copies valid objects byte for byte") {
    const std::string objs[] = {
        R"({})",
        R"({ "b" : [1, 2.50, "\u00e9", -0.0e+00], "a":{}, "t":true,"f":false,"n":null })",
        R"({"s":"\ud83d\ude00","e":"caf)" "\xC3\xA9" R"(\"\\\/\b\f\n\r\t"})",
        R"({"u":18446744073709551615,"i":-9223372036854775808,"d":1e308,"tiny":1e-400})",
        R"({"a":1,"a":2})",
        depth_126,
    };
    auto st = check_all_pass(objs);
    CHECK(st.documents == std::size(objs));
    CHECK(st.error_documents == 0);
    // Whitespace around the object is trimmed, CRLF too.
    CHECK(run(" \t{\"a\":1}  \r\n") == ok_doc(R"({"a":1})", 1));
}

TEST_CASE("json codec error documents say what is wrong and where") {
    check_line(R"({"s":"\ud800"})", R"(invalid JSON: lone surrogate in a \u escape at byte 6)");
    check_line(R"({"s":"\udc00"})", R"(invalid JSON: lone surrogate in a \u escape at byte 6)");
    check_line(R"({"s":"ab\ud800\u0041"})", R"(invalid JSON: lone surrogate in a \u escape at byte 8)");
    check_line(R"({"n":1e400})", "invalid JSON: number out of range at byte 5");
    check_line(R"({"n":NaN})", "invalid JSON: invalid literal (expected true, false or null) at byte 5");
    check_line(R"({"n":Infinity})", "invalid JSON: invalid literal (expected true, false or null) at byte 5");
    check_line(R"({"n":-Infinity})", "invalid JSON: invalid number at byte 5");
    check_line(R"({"a":1} x)", "invalid JSON: unexpected content after the JSON value at byte 8");
    check_line(R"({"a":1}{"b":2})", "invalid JSON: unexpected content after the JSON value at byte 7");
    check_line(R"({"a":1}})", "invalid JSON: unexpected content after the JSON value at byte 7");
    check_line(R"({"a":1,})", "invalid JSON: expected a string key after ',' at byte 7");
    check_line(R"({"a":[1,]})", "invalid JSON: expected a value after ',' at byte 8");
    check_line(R"({"a":[1 2]})", "invalid JSON: expected ',' or ']' after an array element at byte 8");
    check_line(R"({"a":1 "b":2})", "invalid JSON: expected ',' or '}' after an object member at byte 7");
    check_line(R"({"a" 1})", "invalid JSON: expected ':' after an object key at byte 5");
    check_line(R"({"a":})", "invalid JSON: expected a value after ':' at byte 5");
    check_line(R"({1:2})", "invalid JSON: expected a string key or '}' at byte 1");
    check_line(R"({"a":01})", "invalid JSON: invalid number at byte 5");
    check_line(R"({"a":1.})", "invalid JSON: invalid number at byte 5");
    check_line(R"({"a":tru})", "invalid JSON: invalid literal (expected true, false or null) at byte 5");
    check_line(R"({"a":"\x"})", "invalid JSON: invalid escape in a string at byte 6");
    check_line(R"({"a":"\u12G4"})", R"(invalid JSON: invalid \u escape (expected 4 hex digits) at byte 6)");
    check_line(R"({"a":"abc)", "invalid JSON: unterminated string at byte 5");
    check_line(R"({"a":1)", "invalid JSON: expected ',' or '}' after an object member at byte 6");
    check_line(R"(  {"a":1} x)", "invalid JSON: unexpected content after the JSON value at byte 10");
    check_line(depth_127, "invalid JSON: nesting deeper than 126 levels at byte 130");
    check_line("{\"a\":\"x\x01y\"}", "invalid JSON: unescaped control character in a string at byte 7");
    check_line("{\"a\":\"x\ty\"}", "invalid JSON: unescaped control character in a string at byte 7");
    check_line("{\"a\":\"\xFF\"}", "invalid JSON: invalid UTF-8 at byte 6");
    check_line("{\"a\":\"\xED\xA0\x80\"}", "invalid JSON: invalid UTF-8 at byte 6");
    check_line("{\"a\":\"\xC0\xAF\"}", "invalid JSON: invalid UTF-8 at byte 6");
    check_line("{\"a\":\"\xE2\x82\"}", "invalid JSON: invalid UTF-8 at byte 6");
}

TEST_CASE("json codec: integers beyond 64 bits pass as Flow reads them, overflowing numbers do not") {
    // Flow's runtime reads an integer outside [-2^63, 2^64) as a double (serde_json): it is kept
    // byte for byte. A number beyond a double's range (about 1.8e308) it rejects.
    const std::string objs[] = {
        R"({"n":18446744073709551616})", // 2^64
        R"({"n":-9223372036854775809})", // -2^63 - 1
        R"({"m":1,"n":123456789012345678901234567890,"o":[-123456789012345678901234567890]})",
        R"({"n":1)" + std::string(308, '0') + "}", // 1e308 written out
        R"({"n":1)" + std::string(300, '0') + ".5e7}",
        R"({"n":0.)" + std::string(400, '0') + "1}", // underflows to 0
        R"({"n":1e-400,"m":-1E-999999999999})",
    };
    auto st = check_all_pass(objs);
    CHECK(st.error_documents == 0);

    check_line(R"({"n":1e400})", "invalid JSON: number out of range at byte 5");
    check_line(R"({"n":-1e400})", "invalid JSON: number out of range at byte 5");
    check_line(R"({"n":1.8e308})", "invalid JSON: number out of range at byte 5");
    check_line(R"({"a":"1e400","n":1)" + std::string(309, '0') + "}", "invalid JSON: number out of range at byte 17");
    check_line(R"({"n":10)" + std::string(400, '0') + ".5}", "invalid JSON: number out of range at byte 5");
    check_line(R"({"n":0.)" + std::string(400, '0') + "1e800}", "invalid JSON: number out of range at byte 5");
    // A wide integer does not hide the line's other faults.
    check_line(R"({"n":18446744073709551616,"m":1e400})", "invalid JSON: number out of range at byte 30");
    check_line(R"({"n":18446744073709551616,})", "invalid JSON: expected a string key after ',' at byte 26");
    check_line(R"({"n":18446744073709551616,"s":"\ud800"})",
               R"(invalid JSON: lone surrogate in a \u escape at byte 31)");
    check_line(R"({"n":18446744073709551616,"a":)" + std::string(126, '[') + std::string(126, ']') + "}",
               "invalid JSON: nesting deeper than 126 levels at byte 155");
    check_line("[18446744073709551616]", "expected a JSON object, got an array");
    check_line("18446744073709551616", "expected a JSON object, got a number");
    CHECK(run(R"({"n":18446744073709551616})") == ok_doc(R"({"n":18446744073709551616})", 1, true));
}

TEST_CASE("json codec: nesting up to Flow's limit passes, one level more is an error document") {
    // Exactly 126 levels inside `data` (127 with the envelope): a document.
    CHECK(run(depth_126 + "\n") == ok_doc(depth_126, 1));
    std::string objects_126;
    for (int i = 0; i < 125; ++i) objects_126 += R"({"k":)";
    objects_126 += "{}" + std::string(125, '}');
    CHECK(run(objects_126 + "\n") == ok_doc(objects_126, 1));
    // 127: an error document that says so, with every byte in _raw.
    check_line(depth_127, "invalid JSON: nesting deeper than 126 levels at byte 130");
    check_line(R"({"k":)" + objects_126 + "}", "invalid JSON: nesting deeper than 126 levels at byte 630");
    check_line("[" + depth_126 + "]", "invalid JSON: nesting deeper than 126 levels at byte 130");
    // 126 levels whose innermost container is not empty (simdjson counts those one deeper), and
    // 127 whose innermost is empty.
    const std::string full = R"({"a":[)" + std::string(124, '[') + "1" + std::string(124, ']') + ",[[[]]]]}";
    CHECK(run(full + "\n") == ok_doc(full, 1));
    const std::string empty_127 = R"({"a":)" + std::string(125, '[') + "{}" + std::string(125, ']') + "}";
    check_line(empty_127, "invalid JSON: nesting deeper than 126 levels at byte 130");
}

TEST_CASE("json codec passes duplicate keys through byte for byte, as Flow's runtime accepts them") {
    // Flow keeps every member (sorted by key, duplicates side by side); nothing is rejected.
    const std::string objs[] = {
        R"({"a":1,"a":2})",
        R"({"a":{"b":1,"b":[2],"b":null},"a":"x"})",
        R"({"a":1,"\u0061":2})",
    };
    auto st = check_all_pass(objs);
    CHECK(st.error_documents == 0);
}

TEST_CASE("json codec requires a top-level object") {
    check_line("[1,2]", "expected a JSON object, got an array");
    check_line("42", "expected a JSON object, got a number");
    check_line("-1.5", "expected a JSON object, got a number");
    check_line(R"("s")", "expected a JSON object, got a string");
    check_line("true", "expected a JSON object, got a boolean");
    check_line("null", "expected a JSON object, got null");
}

TEST_CASE("json codec: a BOM is accepted at the start of the stream only") {
    const std::string bom = "\xEF\xBB\xBF";
    CHECK(run(bom + "{\"a\":1}\n") == ok_doc(R"({"a":1})", 1));
    CHECK(run(bom + "{\"a\":1}\n" + bom + "{\"b\":2}\n") ==
          ok_doc(R"({"a":1})", 1) +
              err_doc("invalid JSON: byte order mark not at the start of the stream at byte 0", bom + "{\"b\":2}", 2));
    // A stream that starts with a blank line has its BOM on that line.
    CHECK(run("\n" + bom + "{\"a\":1}\n") ==
          err_doc("invalid JSON: byte order mark not at the start of the stream at byte 0", bom + "{\"a\":1}", 1));
    // reset(): a new stream accepts a BOM again.
    pipeline<json_codec> p;
    auto env = test::fixed_envelope();
    output_buffer out;
    p.feed(bom + "{\"a\":1}\n", env, out);
    p.reset();
    p.feed(bom + "{\"b\":2}\n", env, out);
    CHECK(view(out) == ok_doc(R"({"a":1})", 1) + ok_doc(R"({"b":2})", 2));
}

TEST_CASE("json codec skips whitespace-only lines") {
    pipeline_stats st;
    CHECK(run("\n \t \r\n{\"a\":1}\n\r\n   \n{\"b\":2}\n  ", &st) == ok_doc(R"({"a":1})", 1) + ok_doc(R"({"b":2})", 2));
    CHECK(st.documents == 2);
    CHECK(st.blank_frames == 5);
}

TEST_CASE("json codec: a final CR without LF is whitespace around the object, and kept in _raw") {
    // The framer keeps the CR (no LF came); as JSON whitespace it is trimmed from `data`...
    CHECK(run("{\"a\":1}\r") == ok_doc(R"({"a":1})", 1, true));
    CHECK(run("{\"a\":1}\n{\"b\":2} \r") == ok_doc(R"({"a":1})", 1) + ok_doc(R"({"b":2})", 2, true));
    // ...a CR alone is a blank line...
    pipeline_stats st;
    CHECK(run("{\"a\":1}\n\r", &st) == ok_doc(R"({"a":1})", 1));
    CHECK(st.blank_frames == 1);
    // ...and an error document's _raw has every byte of the line, the CR included.
    CHECK(run("{\"a\":1\r") ==
          err_doc("invalid JSON: expected ',' or '}' after an object member at byte 7 "
                  "(the stream ended before the line's newline)",
                  "{\"a\":1\r", 1, true));
}

TEST_CASE("json codec: partial and oversized lines") {
    CHECK(run("{\"a\":1}") == ok_doc(R"({"a":1})", 1, true));
    CHECK(run("{\"a\":1") ==
          err_doc("invalid JSON: expected ',' or '}' after an object member at byte 6 (the stream ended before the "
                  "line's newline)",
                  "{\"a\":1", 1, true));
    pipeline_options o;
    o.max_frame_bytes = 10;
    CHECK(run("{\"a\":\"0123456789\"}\n{\"b\":2}\n", nullptr, o) ==
          doc(R"("data":{"_error":true,"_error_message":"line exceeds max_frame_bytes (10 bytes): its first 10 bytes )"
              R"(are in _raw, the rest was skipped up to the next newline","_raw":"{\"a\":\"0123"})",
              1) +
              ok_doc(R"({"b":2})", 2));
}

TEST_CASE("json codec: the same documents whatever the split points") {
    const std::string in = "\xEF\xBB\xBF{\"a\":[1,2,{\"b\":\"\xC3\xA9\"}]}\r\n\n[3]\n{\"c\":1}x\n{\"d\":\"\\ud83d\\ude00\"}";
    const std::string want = run(in);
    CHECK(want == ok_doc(R"({"a":[1,2,{"b":")" "\xC3\xA9" R"("}]})", 1) +
                      err_doc("expected a JSON object, got an array", "[3]", 2) +
                      err_doc("invalid JSON: unexpected content after the JSON value at byte 7", "{\"c\":1}x", 3) +
                      ok_doc(R"({"d":"\ud83d\ude00"})", 4, true));
    for (std::size_t cut = 0; cut <= in.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(test::run_reads<json_codec>({std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}) ==
              want);
    }
    CHECK(test::run_reads<json_codec>(test::reads_of(in, 1)) == want);
}

TEST_CASE("json codec: unpadded frames parse the same as padded ones") {
    const std::string lines[] = {
        R"({"a":1})", R"(  {"b":[true,false,null]}  )", R"({"s":"\ud800"})", R"({"n":1e400})", R"({"a":1} x)",
        "[1,2]", "   ", depth_126, depth_127, R"({"n":18446744073709551616})",
        R"([18446744073709551616])", R"({"n":18446744073709551616,"m":1e400})", "{\"a\":\"\xFF\"}", R"({"a":"\ud83d\ude00"})",
    };
    for (auto& l : lines) {
        INFO("line: " << l);
        auto padded = encode_one(l, true);
        CHECK(encode_one(l, false) == padded);
        CHECK(padded.size() > 1);
    }
    CHECK(encode_one(R"({"a":1})", false) == "1:\"data\":{\"a\":1}");
    CHECK(encode_one("  ", false) == "0:");
}

TEST_CASE("json codec: every syntax error message of mutated objects has a byte offset") {
    // Fixed-seed mutations (insert, delete, replace a byte) of valid objects: whatever simdjson
    // rejects, the message locates it, and the error document itself is valid JSON.
    const std::string seeds[] = {
        R"({"a":[1,2.5e3,-0.25,{"b":null}],"c":"x\"y\\z\u00e9\ud83d\ude00","d":true,"e":false})",
        R"({"k":{"l":{"m":[[],{},[{"n":"o"}]]}},"p":-12,"q":"\t"})",
    };
    const std::string alphabet = "{}[],:\"\\ 0123456789.eE+-truefalsnul\x01\xC3\xA9\xFF";
    std::mt19937 rng(7);
    simdjson::dom::parser check;
    int errors = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string line = seeds[i % 2];
        int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
            std::size_t at = rng() % (line.size() + 1);
            char c = alphabet[rng() % alphabet.size()];
            switch (rng() % 3) {
            case 0: line.insert(line.begin() + static_cast<std::ptrdiff_t>(at), c); break;
            case 1: if (at < line.size()) line.erase(at, 1); break;
            default: if (at < line.size()) line[at] = c; break;
            }
        }
        auto encoded = encode_one(line, true);
        std::string body = "{" + encoded.substr(2) + "}";
        simdjson::dom::element e;
        INFO("line: " << line << "\nbody: " << body);
        REQUIRE_FALSE(check.parse(simdjson::padded_string(body)).get(e));
        std::string_view message;
        if (e["data"]["_error_message"].get_string().get(message)) continue; // valid object
        ++errors;
        if (message.substr(0, 9) == "expected ") continue;                   // not an object
        REQUIRE(message.substr(0, 14) == "invalid JSON: ");
        auto at = message.rfind(" at byte ");
        REQUIRE(at != std::string_view::npos);
        std::size_t offset = std::stoul(std::string(message.substr(at + 9)));
        CHECK(offset <= line.size());
    }
    CHECK(errors > 10000);
}
