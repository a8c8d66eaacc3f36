// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/conversation.hpp>
#include <socketcap/document.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace socketcap {

namespace {

constexpr std::size_t base_names = conversation_plan::placeholder_names.size();
enum : std::size_t { p_session_id, p_time, p_unix_time, p_unix_time_ms, p_last_session_id, p_last_sequence, p_documents };

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
    plan->max_unsent_bytes_ = config.max_unsent_bytes;
    return plan;
}

conversation::conversation(std::shared_ptr<const conversation_plan> plan, std::string session_id,
                           conversation_history history)
    : plan_(std::move(plan)),
      session_id_(std::move(session_id)),
      history_(std::move(history)),
      last_sequence_(std::to_string(history_.last_sequence)),
      documents_(std::to_string(history_.documents)),
      groups_(plan_->max_groups_) {
    values_.resize(base_names);
    values_[p_session_id] = session_id_;
    values_[p_last_session_id] = history_.last_session_id;
    values_[p_last_sequence] = last_sequence_;
    values_[p_documents] = documents_;
    for (const auto& v : plan_->variable_values_) values_.push_back(v);
}

void conversation::queue(const message_template& m, std::chrono::system_clock::time_point now,
                         std::span<const std::string_view> values) {
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
    m.render(values, queued_);
    ++queued_messages_;
    values_[p_time] = values_[p_unix_time] = values_[p_unix_time_ms] = {};
}

void conversation::start(std::chrono::system_clock::time_point now) {
    for (const auto& m : plan_->on_connect_) queue(m, now, values_);
}

void conversation::heartbeat(std::chrono::system_clock::time_point now) {
    if (!plan_->heartbeat_.empty()) queue(plan_->heartbeat_, now, values_);
}

bool conversation::pass(const frame& f) {
    for (const auto& rule : plan_->replies_) {
        if (!rule.match.search(f.payload, groups_)) continue;
        std::size_t common = values_.size();
        for (int number : rule.match.group_numbers()) values_.push_back(groups_[static_cast<std::size_t>(number)]);
        queue(rule.reply, std::chrono::system_clock::now(), values_);
        values_.resize(common);
        ++replies_;
        return rule.capture;
    }
    return true;
}

std::size_t conversation::take(std::string& batch) {
    batch.clear();
    batch.swap(queued_);
    return std::exchange(queued_messages_, 0);
}

} // namespace socketcap
