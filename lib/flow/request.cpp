// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/flow/request.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include <iterator>

#include "quote.hpp"

namespace socketcap::flow {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

using detail::got;

struct request_reader {
    std::string error;

    bool fail(std::string message) {
        if (error.empty()) error = std::move(message);
        return false;
    }

    /// The member `key` of `obj`, if present and not null.
    static std::optional<element> member(object obj, std::string_view key) {
        element e;
        if (obj.at_key(key).get(e) || e.is_null()) return std::nullopt;
        return e;
    }

    bool as_object(element e, std::string_view path, object& out) {
        if (e.get_object().get(out)) return fail(fmt::format("{}: must be an object, got {}", path, got(e)));
        return true;
    }

    bool raw(object obj, std::string_view key, std::string_view path, std::string& out) {
        if (auto e = member(obj, key)) out = simdjson::minify(*e);
        (void)path;
        return true;
    }

    bool string(object obj, std::string_view key, std::string_view path, std::string& out) {
        auto e = member(obj, key);
        if (!e) return true;
        std::string_view s;
        if (e->get_string().get(s)) return fail(fmt::format("{}.{}: must be a string, got {}", path, key, got(*e)));
        out.assign(s);
        return true;
    }

    bool uint32(object obj, std::string_view key, std::string_view path, std::uint32_t& out) {
        auto e = member(obj, key);
        if (!e) return true;
        std::uint64_t v = 0;
        if (e->get_uint64().get(v) || v > 0xFFFFFFFFu)
            return fail(fmt::format("{}.{}: must be an integer from 0 to 4294967295, got {}", path, key, got(*e)));
        out = static_cast<std::uint32_t>(v);
        return true;
    }

    bool bindings(object obj, std::string_view path, bool with_open_fields, std::vector<binding_request>& out) {
        auto e = member(obj, "bindings");
        if (!e) return true;
        simdjson::dom::array arr;
        if (e->get_array().get(arr))
            return fail(fmt::format("{}.bindings: must be an array, got {}", path, got(*e)));
        std::size_t index = 0;
        for (element b : arr) {
            std::string bpath = fmt::format("{}.bindings[{}]", path, index++);
            object bobj;
            if (!as_object(b, bpath, bobj)) return false;
            binding_request& br = out.emplace_back();
            br.resource_config = "{}";
            raw(bobj, "resourceConfig", bpath, br.resource_config);
            if (!with_open_fields) continue;
            if (!string(bobj, "stateKey", bpath, br.state_key)) return false;
            if (auto p = member(bobj, "resourcePath")) {
                simdjson::dom::array parr;
                if (p->get_array().get(parr))
                    return fail(fmt::format("{}.resourcePath: must be an array of strings, got {}", bpath, got(*p)));
                for (element part : parr) {
                    std::string_view s;
                    if (part.get_string().get(s))
                        return fail(fmt::format("{}.resourcePath: must be an array of strings, got {}", bpath, got(*p)));
                    br.resource_path.emplace_back(s);
                }
            }
        }
        return true;
    }
};

} // namespace

std::string_view to_string(request_kind k) noexcept {
    switch (k) {
    case request_kind::spec: return "spec";
    case request_kind::discover: return "discover";
    case request_kind::validate: return "validate";
    case request_kind::apply: return "apply";
    case request_kind::open: return "open";
    case request_kind::acknowledge: return "acknowledge";
    }
    return "spec";
}

parsed<request> parse_request(std::string_view line) {
    parsed<request> result;
    request& req = result.value;
    simdjson::dom::parser parser;
    element root;
    if (auto err = parser.parse(line.data(), line.size(), true).get(root)) {
        result.error = fmt::format("request: not valid JSON: {}", simdjson::error_message(err));
        return result;
    }
    request_reader r;
    object robj;
    if (!r.as_object(root, "request", robj)) {
        result.error = std::move(r.error);
        return result;
    }

    constexpr request_kind kinds[] = {request_kind::spec, request_kind::discover, request_kind::validate,
                                      request_kind::apply, request_kind::open, request_kind::acknowledge};
    // Exactly one message per request, as the runtime's own check (Request.Validate_ in flow's
    // go/protocols/capture) wants: `{"spec":{},"validate":{}}` is malformed, not a spec.
    std::optional<element> body;
    std::vector<std::string_view> present;
    for (request_kind k : kinds) {
        if (auto e = request_reader::member(robj, to_string(k))) {
            if (present.empty()) {
                body = e;
                req.kind = k;
            }
            present.push_back(to_string(k));
        }
    }
    if (!body) {
        result.error = "request: expected one of spec, discover, validate, apply, open, acknowledge";
        return result;
    }
    if (present.size() > 1) {
        std::string got(present[0]);
        for (std::size_t i = 1; i < present.size(); ++i)
            fmt::format_to(std::back_inserter(got), "{}{}", i + 1 == present.size() ? " and " : ", ", present[i]);
        result.error = fmt::format(
            "request: expected exactly one of spec, discover, validate, apply, open, acknowledge; got {}", got);
        return result;
    }
    std::string path(to_string(req.kind));
    object bobj;
    if (!r.as_object(*body, path, bobj)) {
        result.error = std::move(r.error);
        return result;
    }

    switch (req.kind) {
    case request_kind::spec:
        break;
    case request_kind::acknowledge: {
        std::uint64_t n = 0;
        auto c = request_reader::member(bobj, "checkpoints");
        if (!c || c->get_uint64().get(n) || n == 0 || n > 0xFFFFFFFFu) {
            result.error = fmt::format("acknowledge.checkpoints: must be an integer from 1 to 4294967295, got {}",
                                       c ? detail::got(*c) : std::string("nothing"));
            return result;
        }
        req.checkpoints = static_cast<std::uint32_t>(n);
        break;
    }
    case request_kind::discover:
        r.raw(bobj, "config", path, req.config);
        break;
    case request_kind::validate:
        r.raw(bobj, "config", path, req.config);
        r.bindings(bobj, path, false, req.bindings);
        break;
    case request_kind::apply:
    case request_kind::open: {
        if (auto cap = request_reader::member(bobj, "capture")) {
            object cobj;
            std::string cpath = path + ".capture";
            if (r.as_object(*cap, cpath, cobj)) {
                r.raw(cobj, "config", cpath, req.config);
                r.bindings(cobj, cpath, true, req.bindings);
            }
        }
        if (req.kind == request_kind::open) {
            r.raw(bobj, "state", path, req.state);
            if (auto range = request_reader::member(bobj, "range")) {
                object rgobj;
                std::string rpath = path + ".range";
                if (r.as_object(*range, rpath, rgobj)) {
                    r.uint32(rgobj, "keyBegin", rpath, req.range.key_begin);
                    r.uint32(rgobj, "keyEnd", rpath, req.range.key_end);
                }
            }
        }
        break;
    }
    }
    result.error = std::move(r.error);
    return result;
}

binding_state parse_binding_state(std::string_view state_json, std::string_view state_key) {
    binding_state st;
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(state_json.data(), state_json.size(), true).get(root)) return st;
    object entry;
    if (root.at_key("bindingStateV1").at_key(state_key).get_object().get(entry)) return st;
    std::string_view sid;
    if (!entry.at_key("session_id").get_string().get(sid)) st.session_id.assign(sid);
    std::uint64_t v = 0;
    if (!entry.at_key("sequence").get_uint64().get(v)) st.sequence = v;
    if (!entry.at_key("bytes").get_uint64().get(v)) st.bytes = v;
    if (!entry.at_key("documents").get_uint64().get(v)) st.documents = v;
    std::string_view pos;
    if (!entry.at_key("position").get_uint64().get(v)) st.position = std::to_string(v);
    else if (!entry.at_key("position").get_string().get(pos)) st.position.assign(pos), st.position_is_string = true;
    return st;
}

} // namespace socketcap::flow
