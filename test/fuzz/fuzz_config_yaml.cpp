// SPDX-License-Identifier: MIT OR Apache-2.0
// The CLI's config files: YAML (yaml-cpp) turned into JSON by tools/source-socket/config_file,
// then the endpoint config parser. Invariants: yaml-cpp's own exception is the only one that
// escapes (the CLI turns it into "config file …: line L, column C: …"); what the converter
// writes is strict JSON and valid UTF-8, whatever bytes the scalars held; and the config
// parser either accepts it or names a field.
#include "fuzz_common.hpp"

#include "config_file.hpp"

#include <socketcap/flow/config.hpp>

#include <yaml-cpp/yaml.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::string json;
    try {
        json = source_socket::yaml_to_json(text);
    } catch (const YAML::Exception&) {
        return 0;
    }
    simdjson::dom::parser parser;
    FUZZ_CHECK(simdjson::validate_utf8(json));
    FUZZ_CHECK(parser.parse(json.data(), json.size(), true).error() == simdjson::SUCCESS);
    auto c = socketcap::flow::parse_endpoint_config(json);
    FUZZ_CHECK(c || c.error.find(": ") != std::string::npos);
    return 0;
}
