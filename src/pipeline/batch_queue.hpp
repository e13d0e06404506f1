// batch_queue.hpp - BatchQueue, the bounded hand-over between producers and consumers.
// A fixed pool of batches cycles free -> filled -> consumed -> free, so memory never grows.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "fqpipe/batch.hpp"

namespace fqpipe {

/// Many producers fill batches taken from a free list and push them; many consumers pop them
/// and recycle them. Blocking calls sleep on condition variables (no busy waiting). The queue
/// closes when the last registered producer calls producer_done(); fail() or cancel() stops
/// everyone at once. One mutex guards everything: it is taken twice per batch of thousands of
/// records, so it is never the bottleneck. All methods are thread-safe.
class BatchQueue {
 public:
  /// `capacity`: batches in existence (free, queued or in use), at least 1.
  explicit BatchQueue(std::size_t capacity);

  /// Registers `n` more producers; call before they start.
  void add_producers(unsigned n);
  /// A producer is finished; after the last one, consumers drain what is queued, then pop()
  /// returns nullptr.
  void producer_done();

  /// A cleared-or-not free batch to fill. Blocks while all batches are in use; nullptr once the
  /// queue is stopped (failed or cancelled): the producer should then return.
  FastqBatch* acquire();
  /// Queues a filled batch from acquire(). Returns false (and takes the batch back) if stopped.
  bool push(FastqBatch* batch);
  /// The next queued batch; blocks while none is queued and producers remain. nullptr when the
  /// queue is closed and drained, or stopped.
  FastqBatch* pop();
  /// Returns a batch from pop() (or an unused one from acquire()) to the free list.
  void recycle(FastqBatch* batch);

  /// Stops the queue because of an error; the first error wins and is kept for rethrow_error().
  void fail(std::exception_ptr error);
  /// Stops the queue without an error (a consumer needs no more batches).
  void cancel();
  /// True once fail() or cancel() was called.
  bool stopped() const;
  /// Rethrows the error passed to the first fail(), if any.
  void rethrow_error() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable has_free_;
  std::condition_variable has_ready_;
  std::vector<std::unique_ptr<FastqBatch>> pool_;
  std::vector<FastqBatch*> free_;
  std::deque<FastqBatch*> ready_;
  unsigned producers_ = 0;
  bool stopped_ = false;
  std::exception_ptr error_;
};

}  // namespace fqpipe
