// ordered.cpp - Ordered: a mutex, a map of early arrivals keyed by first record number, and a
// "delivering" flag that makes the thread holding the next batch the only one running serial
// code. The lock is released around every call into user code, so a consumer that only buffers
// never waits for a write; the flag, not the lock, keeps the calls one at a time.
#include "fqpipe/ordered.hpp"

#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace fqpipe {
namespace {

std::string range(uint64_t first_record_no, uint64_t records) {
  return std::to_string(first_record_no) + ".." + std::to_string(first_record_no + records - 1);
}

}  // namespace

Ordered::Ordered(std::function<void(const FastqBatch&)> in_order, uint64_t first_record_no)
    : in_order_(std::move(in_order)),
      next_record_no_(first_record_no),
      claimed_record_no_(first_record_no) {}

void Ordered::consume(const FastqBatch& batch) {
  if (batch.empty()) return;
  if (!in_order_) throw std::logic_error("ordered: consume() needs an in_order function");
  const uint64_t first = batch.first_record_no();
  const uint64_t records = batch.size();
  std::unique_lock lock(mutex_);
  if (stopped_) return;
  check_new(first, records);
  if (!delivering_ && first == claimed_record_no_) {
    deliver(lock, [this, &batch] { in_order_(batch); }, records);
    return;
  }
  // Copy without the lock: the batch may be megabytes, and other consumers must not wait.
  lock.unlock();
  std::function<void()> step = [this, copy = batch] { in_order_(copy); };
  lock.lock();
  if (stopped_) return;
  buffer(lock, first, records, std::move(step));
}

void Ordered::submit(uint64_t first_record_no, uint64_t records, std::function<void()> step) {
  if (records == 0) return;
  if (!step) throw std::logic_error("ordered: submit() needs a step");
  std::unique_lock lock(mutex_);
  if (stopped_) return;
  if (!delivering_ && first_record_no == claimed_record_no_) {
    check_new(first_record_no, records);
    deliver(lock, step, records);
    return;
  }
  buffer(lock, first_record_no, records, std::move(step));
}

void Ordered::buffer(std::unique_lock<std::mutex>& lock, uint64_t first_record_no, uint64_t records,
                     std::function<void()> step) {
  check_new(first_record_no, records);
  buffer_.emplace(first_record_no, Pending{records, std::move(step)});
  // The delivering thread may have finished while this one copied: then nobody would run it.
  if (delivering_ || buffer_.begin()->first != claimed_record_no_) return;
  auto node = buffer_.extract(buffer_.begin());
  deliver(lock, node.mapped().step, node.mapped().records);
  lock.unlock();  // free the batch copy without the lock
}

void Ordered::deliver(std::unique_lock<std::mutex>& lock, const std::function<void()>& first,
                      uint64_t records) {
  delivering_ = true;
  claimed_record_no_ += records;
  lock.unlock();
  try {
    first();
    lock.lock();
    next_record_no_ = claimed_record_no_;
    // Drain: every buffered entry that has become next, each run without the lock.
    while (!buffer_.empty() && buffer_.begin()->first == claimed_record_no_) {
      {
        auto node = buffer_.extract(buffer_.begin());
        claimed_record_no_ += node.mapped().records;
        lock.unlock();
        node.mapped().step();
      }
      lock.lock();
      next_record_no_ = claimed_record_no_;
    }
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    stopped_ = true;
    delivering_ = false;
    buffer_.clear();
    throw;
  }
  delivering_ = false;
}

void Ordered::check_new(uint64_t first_record_no, uint64_t records) const {
  if (first_record_no < claimed_record_no_)
    throw std::logic_error("ordered: records " + range(first_record_no, records) +
                           " arrived after record " + std::to_string(claimed_record_no_ - 1) +
                           " was handed on");
  auto next = buffer_.lower_bound(first_record_no);
  const bool overlaps_next = next != buffer_.end() && next->first < first_record_no + records;
  const bool overlaps_prev = next != buffer_.begin() &&
                             std::prev(next)->first + std::prev(next)->second.records > first_record_no;
  if (overlaps_next || overlaps_prev)
    throw std::logic_error("ordered: records " + range(first_record_no, records) +
                           " overlap records already buffered");
}

void Ordered::finish() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  if (delivering_) throw std::logic_error("ordered: finish() called while a batch is delivered");
  if (!buffer_.empty())
    throw std::logic_error("ordered: records " +
                           range(claimed_record_no_, buffer_.begin()->first - claimed_record_no_) +
                           " never arrived; " + std::to_string(buffer_.size()) +
                           " batches after them are still buffered");
}

uint64_t Ordered::next_record_no() const {
  std::lock_guard lock(mutex_);
  return next_record_no_;
}

bool Ordered::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

}  // namespace fqpipe
