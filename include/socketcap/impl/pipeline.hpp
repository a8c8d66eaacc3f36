// SPDX-License-Identifier: MIT OR Apache-2.0
#ifndef SOCKETCAP_IMPL_PIPELINE_HPP
#define SOCKETCAP_IMPL_PIPELINE_HPP

#include <algorithm>
#include <cstring>

namespace socketcap {

template <codec Codec, framer Framer>
pipeline<Codec, Framer>::pipeline(Codec codec, pipeline_options opts)
    requires std::constructible_from<Framer, std::size_t>
    : pipeline(std::move(codec), Framer(opts.max_frame_bytes), opts) {}

template <codec Codec, framer Framer>
template <std::same_as<Framer> F>
pipeline<Codec, Framer>::pipeline(Codec codec, F framer, pipeline_options opts)
    : opts_(opts),
      codec_(std::move(codec)),
      framer_(std::move(framer)),
      // An overlong frame is detected once it exceeds max_frame_bytes (+1 for a CR), so the
      // buffer never needs more than that plus one read. The framer's own limit counts: it
      // may be larger than asked (chunk_framer holds back up to 3 bytes of a character), and a
      // buffer too small for what it holds back would stall the stream. So does its slack: a
      // 16-byte delimiter or a 74-byte prefix rides along with a frame of max_frame_bytes.
      buffer_(framer_.max_frame_bytes() + detail::framer_slack(framer_) + opts.read_size) {}

template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::commit(std::size_t n, document_envelope& env, output_buffer& out) {
    buffer_.commit(n);
    stats_.bytes += n;
    drain(false, env, out);
    give_back();
}

// After every commit (docs/design.md, "Memory"): three comparisons when nothing is to be done.
template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::give_back() noexcept {
    const std::size_t cap = buffer_.capacity();
    const std::size_t read = opts_.read_size;
    if (cap > read && buffer_.empty()) {
        // The next read may be a long wait away (a TLS read holds its area while it waits):
        // keep nothing; prepare() takes read_size again when it comes.
        buffer_.shrink_to(0);
        small_reads_ = 0;
    } else if (cap / 2 > read && buffer_.size() <= read) {
        // Grown for a long frame that is done: shrink once it has stayed small for a while.
        if (++small_reads_ >= shrink_after_reads) {
            buffer_.shrink_to(2 * read);
            small_reads_ = 0;
        }
    } else {
        small_reads_ = 0;
    }
}

template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::finish(document_envelope& env, output_buffer& out) {
    drain(true, env, out);
    buffer_.clear();
}

template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::reset() noexcept {
    buffer_.clear();
    buffer_.shrink_to(0);
    small_reads_ = 0;
    position_ = 0;
    framer_.reset();
    codec_.reset();
}

template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::feed(std::string_view bytes, document_envelope& env, output_buffer& out) {
    while (!bytes.empty()) {
        auto area = prepare();
        std::size_t n = std::min(area.size(), bytes.size());
        std::memcpy(area.data(), bytes.data(), n);
        bytes.remove_prefix(n);
        commit(n, env, out);
    }
}

template <codec Codec, framer Framer>
void pipeline<Codec, Framer>::drain(bool eof, document_envelope& env, output_buffer& out) {
    for (;;) {
        frame f = framer_.next(buffer_.data(), eof);
        switch (f.kind) {
        case frame_kind::need_more:
            return;
        case frame_kind::skipped:
            stats_.skipped_bytes += f.consumed;
            break;
        case frame_kind::oversized:
            ++stats_.oversized_frames;
            stats_.skipped_bytes += f.consumed - f.payload.size();
            [[fallthrough]];
        case frame_kind::invalid:
        case frame_kind::partial:
        case frame_kind::complete: {
            // Every payload lies inside the buffer's data, which has padding after it.
            f.padding = static_cast<std::size_t>(buffer_.data().end() - f.payload.end()) + receive_buffer::padding;
            if (f.payload.data() != nullptr) // an empty payload may point nowhere
                f.offset = position_ + static_cast<std::size_t>(f.payload.data() - buffer_.data().data());
            else
                f.offset = position_;
            if (f.kind == frame_kind::invalid) {
                ++stats_.invalid_frames;
                stats_.skipped_bytes += f.consumed - f.payload.size();
            }
            if (f.kind == frame_kind::oversized && f.max_frame_bytes == 0) f.max_frame_bytes = framer_.max_frame_bytes();
            if (filter_ && f.kind == frame_kind::complete && !filter_->pass(f)) {
                ++stats_.filtered_frames;
                break;
            }
            std::size_t mark = out.size();
            env.open(out);
            encode_result r = codec_.encode(f, out);
            if (r == encode_result::skipped) {
                out.resize(mark);
                ++stats_.blank_frames;
            } else {
                bool partial = f.kind == frame_kind::partial;
                if (filter_) filter_->annotate(f, env.sequence() + 1, out);
                env.close(out, partial);
                ++stats_.documents;
                stats_.error_documents += r == encode_result::error_document;
                stats_.partial_frames += partial;
            }
            break;
        }
        }
        position_ += f.consumed;
        buffer_.consume(f.consumed);
    }
}

} // namespace socketcap

#endif
