// batch_queue.cpp - BatchQueue: a mutex, two condition variables and a fixed pool of batches.
// Every wait re-checks stopped_, so fail() and cancel() release every blocked thread.
#include "pipeline/batch_queue.hpp"

namespace fqpipe {

BatchQueue::BatchQueue(std::size_t capacity) {
  if (capacity == 0) capacity = 1;
  pool_.reserve(capacity);
  for (std::size_t i = 0; i < capacity; ++i) {
    pool_.push_back(std::make_unique<FastqBatch>());
    free_.push_back(pool_.back().get());
  }
}

void BatchQueue::add_producers(unsigned n) {
  std::lock_guard lock(mutex_);
  producers_ += n;
}

void BatchQueue::producer_done() {
  std::lock_guard lock(mutex_);
  if (producers_ > 0 && --producers_ == 0) has_ready_.notify_all();
}

FastqBatch* BatchQueue::acquire() {
  std::unique_lock lock(mutex_);
  has_free_.wait(lock, [&] { return stopped_ || !free_.empty(); });
  if (stopped_) return nullptr;
  FastqBatch* batch = free_.back();
  free_.pop_back();
  return batch;
}

bool BatchQueue::push(FastqBatch* batch) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      free_.push_back(batch);
      return false;
    }
    ready_.push_back(batch);
  }
  has_ready_.notify_one();
  return true;
}

FastqBatch* BatchQueue::pop() {
  std::unique_lock lock(mutex_);
  has_ready_.wait(lock, [&] { return stopped_ || !ready_.empty() || producers_ == 0; });
  if (stopped_ || ready_.empty()) return nullptr;
  FastqBatch* batch = ready_.front();
  ready_.pop_front();
  return batch;
}

void BatchQueue::recycle(FastqBatch* batch) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(batch);
  }
  has_free_.notify_one();
}

void BatchQueue::fail(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    stopped_ = true;
  }
  has_free_.notify_all();
  has_ready_.notify_all();
}

void BatchQueue::cancel() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  has_free_.notify_all();
  has_ready_.notify_all();
}

bool BatchQueue::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

void BatchQueue::rethrow_error() const {
  std::exception_ptr error;
  {
    std::lock_guard lock(mutex_);
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace fqpipe
