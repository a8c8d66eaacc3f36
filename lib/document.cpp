// SPDX-License-Identifier: MIT OR Apache-2.0
#include <socketcap/document.hpp>
#include <socketcap/json_writer.hpp>

#include <random>

namespace socketcap {

std::string make_session_id() {
    thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & ~0xF000ULL) | 0x4000ULL;                        // version 4
    lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);        // variant 10
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                       lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

void write_timestamp(output_buffer& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto us = time_point_cast<microseconds>(t);
    auto day = floor<days>(us);
    year_month_day ymd{day};
    hh_mm_ss<microseconds> hms{us - day};
    fmt::format_to(fmt::appender(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", int(ymd.year()),
                   unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(), hms.minutes().count(),
                   hms.seconds().count(), hms.subseconds().count());
}

document_envelope::document_envelope(std::string_view source_host, std::uint16_t source_port,
                                     std::string_view prefix, std::string_view suffix)
    : prefix_(prefix), suffix_(suffix) {
    output_buffer b;
    append(b, R"(","source_host":)");
    json::write_string(b, source_host);
    fmt::format_to(fmt::appender(b), R"(,"source_port":{},)", source_port);
    source_.assign(b.data(), b.size());
    start_session(make_session_id());
    stamp(std::chrono::system_clock::now());
}

void document_envelope::start_session(std::string session_id) {
    session_id_ = std::move(session_id);
    sequence_ = 0;
    output_buffer b;
    append(b, R"(,"session_id":)");
    json::write_string(b, session_id_);
    b.push_back('}');
    append(b, suffix_);
    tail_.assign(b.data(), b.size());
}

void document_envelope::stamp(std::chrono::system_clock::time_point t) {
    // Called once per read, not per document: documents of one read share their head.
    output_buffer b;
    append(b, prefix_);
    append(b, R"({"timestamp":")");
    write_timestamp(b, t);
    append(b, source_);
    head_.assign(b.data(), b.size());
}

void document_envelope::close(output_buffer& out, bool partial) {
    if (partial) append(out, R"(,"partial":true)");
    append(out, R"(,"sequence":)");
    json::write_uint(out, ++sequence_);
    append(out, tail_);
}

} // namespace socketcap
