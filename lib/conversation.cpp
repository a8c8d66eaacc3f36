// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/conversation.hpp>
#include <socketcap/document.hpp>
#include <socketcap/json_writer.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace socketcap {

namespace {

constexpr std::size_t base_names = conversation_plan::placeholder_names.size();
enum : std::size_t {
    p_session_id,
    p_time,
    p_unix_time,
    p_unix_time_ms,
    p_last_session_id,
    p_last_sequence,
    p_documents,
    p_position,
    p_next_position
};

/// An unsigned decimal integer, as positions are: digits only, at most 2^64 - 1.
std::optional<std::uint64_t> parse_position(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty() || s.size() > 20) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

bool is_placeholder(std::string_view name) {
    return std::find(conversation_plan::placeholder_names.begin(), conversation_plan::placeholder_names.end(), name) !=
           conversation_plan::placeholder_names.end();
}

} // namespace

std::shared_ptr<const conversation_plan> conversation_plan::compile(const conversation_config& config,
                                                                    error_code& ec, diagnostics& diag) {
    ec = {};
    auto plan = std::make_shared<conversation_plan>();
    auto fail = [&](error e, std::string message) {
        ec = make_error_code(e);
        diag.assign(std::move(message));
        return nullptr;
    };

    std::vector<std::string_view> names(placeholder_names.begin(), placeholder_names.end());
    for (const auto& [name, value] : config.variables) {
        if (is_placeholder(name) || std::find(names.begin() + base_names, names.end(), name) != names.end())
            return fail(error::invalid_conversation,
                        fmt::format("variables: ${{{}}} is defined twice (it is a placeholder already)", name));
        names.push_back(name);
        plan->variable_values_.push_back(value);
    }

    diagnostics why;
    for (std::size_t i = 0; i < config.on_connect.size(); ++i) {
        auto t = message_template::parse(config.on_connect[i], names, ec, why);
        if (ec) return fail(error::invalid_template, fmt::format("on_connect[{}]: {}", i, why.message()));
        if (t.empty()) return fail(error::invalid_template, fmt::format("on_connect[{}]: is empty", i));
        plan->on_connect_.push_back(std::move(t));
    }

    if (config.heartbeat_interval.count() > 0) {
        auto t = message_template::parse(config.heartbeat, names, ec, why);
        if (ec) return fail(error::invalid_template, fmt::format("heartbeat.message: {}", why.message()));
        if (t.empty()) return fail(error::invalid_template, "heartbeat.message: is empty");
        plan->heartbeat_ = std::move(t);
        plan->heartbeat_interval_ = config.heartbeat_interval;
    } else if (!config.heartbeat.empty()) {
        return fail(error::invalid_conversation, "heartbeat.interval: is required with a heartbeat message");
    }

    for (std::size_t i = 0; i < config.replies.size(); ++i) {
        const auto& r = config.replies[i];
        reply_rule rule;
        rule.capture = r.capture;
        rule.match = frame_pattern::compile(r.match, ec, why);
        if (ec) return fail(error::invalid_pattern, fmt::format("replies[{}].match: {}", i, why.message()));
        std::vector<std::string_view> with_groups = names;
        for (std::size_t g = 0; g < rule.match.group_names().size(); ++g) {
            const auto& n = rule.match.group_names()[g];
            if (std::find(names.begin(), names.end(), n) != names.end())
                return fail(error::invalid_pattern,
                            fmt::format("replies[{}].match: the group name (?P<{}>…) is also a placeholder; rename "
                                        "the group",
                                        i, n));
            with_groups.push_back(n);
        }
        rule.reply = message_template::parse(r.reply, with_groups, ec, why);
        if (ec) return fail(error::invalid_template, fmt::format("replies[{}].reply: {}", i, why.message()));
        if (rule.reply.empty()) return fail(error::invalid_template, fmt::format("replies[{}].reply: is empty", i));
        plan->max_groups_ = std::max(plan->max_groups_, rule.match.groups());
        plan->replies_.push_back(std::move(rule));
    }
    const auto& pos = config.position;
    plan->position_ = pos;
    std::vector<std::string_view> ack_names = names;
    switch (pos.source) {
    case position_source::none:
    case position_source::counted: break;
    case position_source::pattern:
        plan->position_pattern_ = frame_pattern::compile(pos.pattern, ec, why);
        if (ec) return fail(error::invalid_pattern, fmt::format("position.pattern: {}", why.message()));
        if (plan->position_pattern_.groups() < 2)
            return fail(error::invalid_pattern,
                        "position.pattern: has no group; the position is its first group, as in ^(\\d+)");
        for (const auto& n : plan->position_pattern_.group_names()) {
            if (std::find(names.begin(), names.end(), n) != names.end())
                return fail(error::invalid_pattern,
                            fmt::format("position.pattern: the group name (?P<{}>…) is also a placeholder; rename "
                                        "the group",
                                        n));
            ack_names.push_back(n);
        }
        break;
    case position_source::pointer:
        if (!pos.pointer.empty() && pos.pointer[0] != '/')
            return fail(error::invalid_conversation,
                        fmt::format("position.pointer: must be a JSON pointer such as /seq, got \"{}\"", pos.pointer));
        break;
    }
    if (config.ack) {
        if (pos.source == position_source::none)
            return fail(error::invalid_conversation,
                        "ack: needs positions (position.pattern, position.pointer or position.counted)");
        if (!config.ack->per_frame) ack_names.resize(names.size()); // no frame, so no groups
        auto t = message_template::parse(config.ack->message, ack_names, ec, why);
        if (ec) return fail(error::invalid_template, fmt::format("ack.message: {}", why.message()));
        if (t.empty()) return fail(error::invalid_template, "ack.message: is empty");
        plan->ack_message_ = std::move(t);
        plan->ack_ = true;
        plan->ack_per_frame_ = config.ack->per_frame;
    }
    if (pos.is_string) { // there is no next string
        auto named = [&](const message_template& m, std::string_view where) -> std::string {
            return m.uses(p_next_position) ? fmt::format("{}: ${{next_position}} needs integer positions", where)
                                           : std::string();
        };
        std::string problem;
        for (std::size_t i = 0; i < plan->on_connect_.size() && problem.empty(); ++i)
            problem = named(plan->on_connect_[i], fmt::format("on_connect[{}]", i));
        if (problem.empty()) problem = named(plan->heartbeat_, "heartbeat.message");
        for (std::size_t i = 0; i < plan->replies_.size() && problem.empty(); ++i)
            problem = named(plan->replies_[i].reply, fmt::format("replies[{}].reply", i));
        if (problem.empty()) problem = named(plan->ack_message_, "ack.message");
        if (!problem.empty()) return fail(error::invalid_template, std::move(problem));
    }
    plan->max_unsent_bytes_ = config.max_unsent_bytes;
    return plan;
}

/// Reads the value at a JSON pointer in a frame; one parser reused for every frame.
struct json_pointer_reader {
    simdjson::dom::parser parser;
};

conversation::~conversation() = default;

conversation::conversation(std::shared_ptr<const conversation_plan> plan, std::string session_id,
                           conversation_history history)
    : plan_(std::move(plan)),
      session_id_(std::move(session_id)),
      history_(std::move(history)),
      last_sequence_(std::to_string(history_.last_sequence)),
      documents_(std::to_string(history_.documents)),
      groups_(plan_->max_groups_) {
    last_position_ = history_.last_position;
    acked_position_ = last_position_; // per checkpoint: nothing new to acknowledge yet
    if (!plan_->position_.is_string) {
        auto last = parse_position(last_position_);
        counter_ = last ? *last + 1 : 1;
        next_position_ = std::to_string(counter_);
    }
    position_groups_.resize(plan_->position_pattern_.groups());
    if (plan_->position_.source == position_source::pointer) json_ = std::make_unique<json_pointer_reader>();
    values_.resize(base_names);
    values_[p_session_id] = session_id_;
    values_[p_last_session_id] = history_.last_session_id;
    values_[p_last_sequence] = last_sequence_;
    values_[p_documents] = documents_;
    for (const auto& v : plan_->variable_values_) values_.push_back(v);
}

void conversation::render(const message_template& m, std::chrono::system_clock::time_point now, std::string& into) {
    values_[p_position] = last_position_; // they change as frames arrive
    values_[p_next_position] = next_position_;
    std::string time, unix_time, unix_time_ms;
    // Only what the message uses: a reply to every frame must stay cheap.
    if (m.uses(p_time)) {
        output_buffer b;
        write_timestamp(b, now);
        time.assign(b.data(), b.size());
        values_[p_time] = time;
    }
    if (m.uses(p_unix_time) || m.uses(p_unix_time_ms)) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
        unix_time = std::to_string(ms / 1000);
        unix_time_ms = std::to_string(ms);
        values_[p_unix_time] = unix_time;
        values_[p_unix_time_ms] = unix_time_ms;
    }
    m.render(values_, into);
    values_[p_time] = values_[p_unix_time] = values_[p_unix_time_ms] = {};
}

void conversation::queue(const message_template& m, std::chrono::system_clock::time_point now) {
    render(m, now, queued_);
    ++queued_messages_;
}

void conversation::start(std::chrono::system_clock::time_point now) {
    for (const auto& m : plan_->on_connect_) queue(m, now);
}

void conversation::heartbeat(std::chrono::system_clock::time_point now) {
    if (!plan_->heartbeat_.empty()) queue(plan_->heartbeat_, now);
}

bool conversation::take_position(const frame& f) {
    const auto& pos = plan_->position_;
    std::string text;
    switch (pos.source) {
    case position_source::none: return false;
    case position_source::counted: text = std::to_string(counter_); break;
    case position_source::pattern:
        if (!plan_->position_pattern_.search(f.payload, position_groups_) || position_groups_[1].empty()) return false;
        text.assign(position_groups_[1]);
        break;
    case position_source::pointer: {
        // Frames from a pipeline have padding enough to parse in place; others are copied.
        simdjson::dom::element root, at;
        bool in_place = f.padding >= simdjson::SIMDJSON_PADDING;
        if (json_->parser.parse(f.payload.data(), f.payload.size(), !in_place).get(root)) return false;
        if (root.at_pointer(pos.pointer).get(at)) return false;
        std::uint64_t n = 0;
        std::string_view sv;
        if (!at.get_uint64().get(n)) text = std::to_string(n);
        else if (pos.is_string && !at.get_string().get(sv)) text.assign(sv);
        else return false;
        break;
    }
    }
    frame_position_.clear();
    if (pos.is_string) {
        output_buffer b;
        json::write_string(b, text);
        frame_position_.assign(b.data(), b.size());
    } else {
        auto v = parse_position(text);
        if (!v) return false;
        frame_position_ = std::to_string(*v); // "007" is 7
        counter_ = *v + 1;
        next_position_ = std::to_string(counter_);
        text = frame_position_;
    }
    last_position_ = std::move(text);
    frame_offset_ = f.offset;
    frame_has_position_ = true;
    return true;
}

bool conversation::pass(const frame& f) {
    frame_has_position_ = false;
    if (plan_->position_.source != position_source::none && take_position(f) && plan_->ack_ && plan_->ack_per_frame_) {
        std::size_t common = values_.size();
        for (int number : plan_->position_pattern_.group_numbers())
            values_.push_back(position_groups_[static_cast<std::size_t>(number)]);
        render(plan_->ack_message_, std::chrono::system_clock::now(), pending_acks_); // held until the commit
        values_.resize(common);
        ++pending_ack_count_;
    }
    for (const auto& rule : plan_->replies_) {
        if (!rule.match.search(f.payload, groups_)) continue;
        std::size_t common = values_.size();
        for (int number : rule.match.group_numbers()) values_.push_back(groups_[static_cast<std::size_t>(number)]);
        queue(rule.reply, std::chrono::system_clock::now());
        values_.resize(common);
        ++replies_;
        return rule.capture;
    }
    return true;
}

void conversation::annotate(const frame& f, std::uint64_t sequence, output_buffer& out) {
    if (plan_->position_.source == position_source::none) return;
    append(out, R"(,"position":)");
    if (frame_has_position_ && f.kind == frame_kind::complete && f.offset == frame_offset_) append(out, frame_position_);
    else fmt::format_to(fmt::appender(out), R"("{}/{}")", session_id_, sequence);
    frame_has_position_ = false;
}

conversation::acks conversation::take_acks() {
    acks a;
    if (!plan_->ack_) return a;
    if (plan_->ack_per_frame_) {
        a.bytes.swap(pending_acks_);
        a.messages = std::exchange(pending_ack_count_, 0);
        return a;
    }
    if (last_position_.empty() || last_position_ == acked_position_) return a;
    render(plan_->ack_message_, std::chrono::system_clock::now(), a.bytes);
    a.messages = 1;
    acked_position_ = last_position_;
    return a;
}

void conversation::send(std::string_view bytes, std::size_t messages) {
    queued_ += bytes;
    queued_messages_ += messages;
}

std::size_t conversation::take(std::string& batch) {
    batch.clear();
    batch.swap(queued_);
    return std::exchange(queued_messages_, 0);
}

} // namespace socketcap
