// SPDX-License-Identifier: MIT OR Apache-2.0
// Config files for the human CLI: JSON or YAML (like the spec's examples, which may wrap the
// fields in a `config:` key, or a Flow catalog with one capture), turned into the JSON text the
// Flow runtime would send.
#ifndef SOCKETCAP_TOOLS_SOURCE_SOCKET_CONFIG_FILE_HPP
#define SOCKETCAP_TOOLS_SOURCE_SOCKET_CONFIG_FILE_HPP

#include <socketcap/flow/config.hpp>

#include <string>

namespace source_socket {

/// The file's configuration as compact JSON, or an error that names the file.
socketcap::flow::parsed<std::string> load_config_file(const std::string& path);

/// YAML (a superset of JSON) to JSON text. Plain scalars become null, booleans and numbers
/// as YAML 1.2's core schema says; quoted scalars stay strings. A catalog (`captures:`) gives
/// its one capture's endpoint config. Throws YAML::Exception.
std::string yaml_to_json(const std::string& text);

} // namespace source_socket

#endif
