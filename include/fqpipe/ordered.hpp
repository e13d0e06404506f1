// fqpipe/ordered.hpp - Ordered, which puts batches (or work done on them) back into file order.
// Consumers see batches in any order; a writer needs them in order. Only the batches that arrive
// early are kept, so memory grows with how far out of order they arrive, not with the input.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "fqpipe/batch.hpp"

namespace fqpipe {

/// Hands batches, or steps that stand for them, to serial code in record order, whatever order
/// and thread they arrive from. Made for the consumers of for_each_batch():
///
///   fqpipe::Ordered ordered([&](const fqpipe::FastqBatch& b) { write(b); });  // in file order
///   fqpipe::for_each_batch("r.fq.gz", options,
///                          [&](unsigned, const fqpipe::FastqBatch& b) { ordered.consume(b); });
///   ordered.finish();  // every batch arrived
///
/// Work that can run in parallel (formatting a batch as text, compressing it) is better done in
/// the consumer first, with only its result sequenced by submit():
///
///   [&](unsigned, const fqpipe::FastqBatch& b) {
///     std::string text = format(b);                           // on this consumer thread
///     ordered.submit(b.first_record_no(), b.size(),
///                    [&out, text = std::move(text)] { out.write(text); });  // in order
///   }
///
/// The thread whose batch is next runs it, then every buffered successor, while other threads
/// only buffer theirs and return at once: a consumer never waits for another. The serial code
/// (`in_order` and the steps) runs on one thread at a time, without Ordered's lock held, and
/// sees the records strictly in order. Memory: a batch that arrives early is copied (a step is
/// moved) into the reorder buffer until its turn; nothing bounds how many are buffered, but with
/// for_each_batch they are at most about the batches parsed while the next one was consumed.
///
/// Thread-safe: consume(), submit() and next_record_no() may be called from any threads at once.
class Ordered {
 public:
  /// `in_order` receives the batches given to consume(), in record order, starting with the
  /// one whose first record is `first_record_no` (1-based, as FastqBatch::first_record_no()).
  /// The batch it receives is valid during the call only. It may be empty when only submit()
  /// is used.
  explicit Ordered(std::function<void(const FastqBatch&)> in_order, uint64_t first_record_no = 1);
  Ordered(const Ordered&) = delete;
  Ordered& operator=(const Ordered&) = delete;

  /// Hands `batch` on. If it is next, calls in_order(batch) on this thread, then runs every
  /// buffered batch or step that has become next; otherwise copies it into the reorder buffer
  /// and returns. An empty batch is ignored. `batch` is not used after the call returns.
  /// Throws std::logic_error when the batch overlaps records already handed on or buffered, or
  /// when in_order is empty; rethrows what in_order or a buffered step throws (see stopped()).
  void consume(const FastqBatch& batch);

  /// Like consume(), for a result computed from records [first_record_no, first_record_no +
  /// records): `step` runs in record order, interleaved with consume()'s batches, on whichever
  /// thread delivers it. If not next, `step` is moved into the buffer (so it should own what it
  /// needs, e.g. capture its text by value). records == 0 is ignored. Throws as consume().
  void submit(uint64_t first_record_no, uint64_t records, std::function<void()> step);

  /// Call once every batch has been handed on (after for_each_batch returns). Throws
  /// std::logic_error when something is still buffered, i.e. some records never arrived; the
  /// message names the first missing record. Does nothing once stopped().
  void finish();

  /// The first record not yet delivered: every record before it has been through in_order or a
  /// step, which returned. After a full run this is 1 + the number of records.
  uint64_t next_record_no() const;

  /// True once in_order or a step threw. The exception propagates out of the consume() or
  /// submit() that was running it (and so, for a consumer, out of for_each_batch); the buffer is
  /// then dropped, and later consume(), submit() and finish() calls return at once without
  /// delivering anything, so other consumer threads neither wait nor deliver out of order.
  bool stopped() const;

 private:
  struct Pending {
    uint64_t records;
    std::function<void()> step;  // runs in_order_ on a buffered copy, or a submitted step
  };

  // Runs `first`, which covers records [claimed_record_no_, +records) and was claimed under
  // `lock`, then every buffered entry that follows it; returns with `lock` held.
  void deliver(std::unique_lock<std::mutex>& lock, const std::function<void()>& first, uint64_t records);
  // Buffers `step` for records [first_record_no, +records) and, if it is next and nobody is
  // delivering, delivers. `lock` is held on entry.
  void buffer(std::unique_lock<std::mutex>& lock, uint64_t first_record_no, uint64_t records,
              std::function<void()> step);
  // Throws std::logic_error when [first_record_no, +records) was handed on or is buffered.
  void check_new(uint64_t first_record_no, uint64_t records) const;

  std::function<void(const FastqBatch&)> in_order_;
  mutable std::mutex mutex_;
  // All below are guarded by mutex_. Invariant: next_record_no_ <= claimed_record_no_, equal
  // unless delivering_; every key of buffer_ is >= claimed_record_no_.
  uint64_t next_record_no_;     // first record not yet delivered
  uint64_t claimed_record_no_;  // first record not yet taken by the delivering thread
  bool delivering_ = false;     // one thread is running in_order_ or a step
  bool stopped_ = false;        // in_order_ or a step threw
  std::map<uint64_t, Pending> buffer_;  // keyed by first record number
};

}  // namespace fqpipe
