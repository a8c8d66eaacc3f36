// SPDX-License-Identifier: MIT OR Apache-2.0
// Internal to lib/flow: how error messages quote the value the user wrote.
#ifndef SOCKETCAP_LIB_FLOW_QUOTE_HPP
#define SOCKETCAP_LIB_FLOW_QUOTE_HPP

#include <simdjson.h>

#include <string>

namespace socketcap::flow::detail {

/// The offending value as compact JSON, cut to 64 characters.
inline std::string got(simdjson::dom::element e) {
    std::string s = simdjson::minify(e);
    if (s.size() > 64) {
        s.resize(61);
        s += "...";
    }
    return s;
}

} // namespace socketcap::flow::detail

#endif
