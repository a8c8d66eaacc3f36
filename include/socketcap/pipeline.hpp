// SPDX-License-Identifier: MIT OR Apache-2.0
// The sans-I/O heart of a session: bytes in, documents out. It owns the receive buffer, a
// framer and a codec, two independent policies (any codec over any framer); a transport fills prepare() and calls commit(); documents wrapped by a
// document_envelope are appended to an output_buffer. No I/O, no exceptions (bad_alloc aside),
// so tests and fuzzers drive it directly with feed().
#ifndef SOCKETCAP_PIPELINE_HPP
#define SOCKETCAP_PIPELINE_HPP

#include <socketcap/codec.hpp>
#include <socketcap/document.hpp>
#include <socketcap/frame_filter.hpp>
#include <socketcap/framer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/receive_buffer.hpp>

#include <concepts>
#include <cstdint>
#include <span>

namespace socketcap {

struct pipeline_options {
    std::size_t read_size = 65536;              ///< bytes asked of each read (`buffer_size`)
    std::size_t max_frame_bytes = std::size_t{1} << 20; ///< longer frames become error documents
};

/// Counters since construction (reset() does not clear them).
struct pipeline_stats {
    std::uint64_t bytes = 0;            ///< bytes committed
    std::uint64_t documents = 0;        ///< documents written, error documents included
    std::uint64_t error_documents = 0;  ///< of which error documents
    std::uint64_t oversized_frames = 0; ///< frames longer than max_frame_bytes
    std::uint64_t skipped_bytes = 0;    ///< bytes of oversized frames not kept
    std::uint64_t partial_frames = 0;   ///< frames cut by the end of a stream
    std::uint64_t invalid_frames = 0;   ///< bytes that broke the framing (each an error document)
    std::uint64_t blank_frames = 0;     ///< frames that made no document (blank NDJSON lines)
    std::uint64_t filtered_frames = 0;  ///< complete frames a frame_filter kept out of the documents
};

namespace detail {
template <class C>
struct default_framer_of {
    using type = line_framer; // a codec that names none reads lines
};
template <class C>
    requires requires { typename C::default_framer; }
struct default_framer_of<C> {
    using type = typename C::default_framer;
};
// Codecs written before framing was a policy of its own name theirs `framer_type`.
template <class C>
    requires requires { typename C::framer_type; } && (!requires { typename C::default_framer; })
struct default_framer_of<C> {
    using type = typename C::framer_type;
};
} // namespace detail

/// The framer a pipeline or session uses when none is named: `Codec::default_framer`, else
/// (older codecs) `Codec::framer_type`, else line_framer.
template <codec Codec>
using default_framer_t = typename detail::default_framer_of<Codec>::type;

template <codec Codec, framer Framer = default_framer_t<Codec>>
class pipeline {
public:
    /// The framer is Framer(opts.max_frame_bytes).
    explicit pipeline(Codec codec = Codec{}, pipeline_options opts = {})
        requires std::constructible_from<Framer, std::size_t>;
    /// A framer configured by the caller; its max_frame_bytes() is the limit (the one in
    /// `opts` is not used). A template only so that `pipeline(codec, {})` still means options.
    template <std::same_as<Framer> F>
    pipeline(Codec codec, F framer, pipeline_options opts = {});

    /// Where the next read goes (read_size bytes, or fewer while an overlong frame is pending).
    std::span<char> prepare() { return buffer_.prepare(opts_.read_size); }
    /// Frames the `n` bytes just read into prepare() and appends their documents to `out`.
    void commit(std::size_t n, document_envelope& env, output_buffer& out);
    /// End of stream: a trailing frame without its delimiter becomes a `partial` document.
    void finish(document_envelope& env, output_buffer& out);
    /// A new stream: forgets buffered bytes (call finish() first to keep them) and frees the
    /// buffer, as a new pipeline would have none.
    void reset() noexcept;

    /// Copies `bytes` in through prepare()/commit(), as reads of at most read_size would.
    void feed(std::string_view bytes, document_envelope& env, output_buffer& out);

    const pipeline_stats& stats() const noexcept { return stats_; }
    const pipeline_options& options() const noexcept { return opts_; }
    /// Bytes received but not yet part of a document (an unfinished frame).
    std::size_t pending_bytes() const noexcept { return buffer_.size(); }
    /// Memory held by the receive buffer; bounded by the framer's max_frame_bytes() (which may
    /// exceed options().max_frame_bytes, e.g. chunk_framer's minimum of 4) + 1 + read_size
    /// (+ the framer's slack_bytes() instead of 1 when it has more: see framer.hpp). It grows on
    /// demand and is given back (docs/design.md, "Memory"): a commit that leaves the buffer
    /// empty frees a buffer larger than read_size (the next prepare() takes read_size afresh),
    /// and one grown past 2 × read_size for a long frame shrinks to 2 × read_size after
    /// shrink_after_reads commits in a row that each left it holding at most read_size bytes.
    std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }
    /// Frees the receive buffer if it holds no bytes, whatever its size: a session waiting for
    /// a socket to become readable holds no read area (the next prepare() allocates again).
    void release_buffer() noexcept {
        if (buffer_.empty()) buffer_.shrink_to(0);
        small_reads_ = 0;
    }
    /// The hysteresis of the shrink after a long frame: a feed of long frames, each ending in a
    /// read that holds the start of the next, never has this many small reads in a row, so it
    /// keeps its buffer instead of reallocating for every frame.
    static constexpr unsigned shrink_after_reads = 4;
    /// Complete frames go through `filter` first (null: none); it must outlive its use here.
    void set_frame_filter(frame_filter* filter) noexcept { filter_ = filter; }
    Codec& codec() noexcept { return codec_; }
    Framer& framer() noexcept { return framer_; }

private:
    void drain(bool eof, document_envelope& env, output_buffer& out);
    void give_back() noexcept;

    pipeline_options opts_;
    Codec codec_;
    Framer framer_;
    receive_buffer buffer_;
    frame_filter* filter_ = nullptr;
    pipeline_stats stats_;
    std::uint64_t position_ = 0; // stream offset of the buffer's first byte
    unsigned small_reads_ = 0;   // commits in a row that left a grown buffer holding <= read_size
};

} // namespace socketcap

#include <socketcap/impl/pipeline.hpp>

#endif
