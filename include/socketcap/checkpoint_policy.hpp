// SPDX-License-Identifier: MIT OR Apache-2.0
// When a session checkpoints. A checkpoint commits every document written before it; a
// session also checkpoints pending documents whenever it ends, whatever the policy.
#ifndef SOCKETCAP_CHECKPOINT_POLICY_HPP
#define SOCKETCAP_CHECKPOINT_POLICY_HPP

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace socketcap {

/// CheckpointPolicy requirements (docs/design.md has the table):
///  - p.after_read(documents, bytes): called after each read with the documents it produced
///    (and the bytes of output they took); true means "checkpoint now".
///  - p.on_checkpoint(): a checkpoint was written.
/// Optional (timed_checkpoint_policy): p.max_latency(), the longest a document may wait for its
/// checkpoint; the session then checkpoints that long after the oldest pending document even
/// if no read arrives. Zero means no bound.
template <class P>
concept checkpoint_policy = std::copyable<P> && requires(P& p, std::size_t docs, std::size_t bytes) {
    { p.after_read(docs, bytes) } -> std::same_as<bool>;
    p.on_checkpoint();
};

template <class P>
concept timed_checkpoint_policy = checkpoint_policy<P> && requires(const P& cp) {
    { cp.max_latency() } noexcept -> std::convertible_to<std::chrono::nanoseconds>;
};

/// The latency bound of `p`: its max_latency(), or zero (none) for a policy without one.
template <checkpoint_policy P>
constexpr std::chrono::nanoseconds checkpoint_max_latency(const P& p) noexcept {
    if constexpr (timed_checkpoint_policy<P>)
        return std::chrono::nanoseconds(p.max_latency());
    else
        return std::chrono::nanoseconds::zero();
}

/// The default: one checkpoint after each read whose frames produced documents. Latency stays
/// at one read, transactions stay small, and Flow coalesces checkpoints anyway. Nothing is
/// ever pending between reads, so it needs no timer.
struct checkpoint_per_read {
    bool after_read(std::size_t documents, std::size_t) noexcept { return documents != 0; }
    void on_checkpoint() noexcept {}
};

/// A checkpoint once at least `documents` documents or `bytes` output bytes are pending, or,
/// with a non-zero `latency`, once the oldest pending document has waited that long (on a
/// slow stream the counts may never be reached).
struct checkpoint_every {
    std::uint64_t documents = 1000;
    std::uint64_t bytes = std::uint64_t{1} << 20;
    std::chrono::nanoseconds latency{}; ///< zero: no time bound
    std::uint64_t pending_documents = 0;
    std::uint64_t pending_bytes = 0;

    bool after_read(std::size_t docs, std::size_t out) noexcept {
        pending_documents += docs;
        pending_bytes += out;
        return pending_documents >= documents || pending_bytes >= bytes;
    }
    void on_checkpoint() noexcept { pending_documents = pending_bytes = 0; }
    std::chrono::nanoseconds max_latency() const noexcept { return latency; }
};

static_assert(checkpoint_policy<checkpoint_per_read>);
static_assert(!timed_checkpoint_policy<checkpoint_per_read>);
static_assert(timed_checkpoint_policy<checkpoint_every>);

} // namespace socketcap

#endif
