// chunk_text.cpp - ChunkText: workers claim under the lock, load outside it; next() waits for
// the chunk in order. The last claimed index and the exhausted flag tell next() where the end is.
#include "io/chunk_text.hpp"

#include <algorithm>

namespace fqpipe::io {

ChunkText::ChunkText(std::unique_ptr<ChunkSource> source, unsigned threads)
    : source_(std::move(source)), window_(2 * std::size_t{std::max(threads, 1u)}),
      threads_(std::max(threads, 1u)) {
  workers_.reserve(threads_);
  for (unsigned i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
}

ChunkText::~ChunkText() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ChunkText::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || exhausted_ || claimed_ < next_ + window_; });
    if (stopping_ || exhausted_) return;
    std::unique_ptr<TextChunk> chunk;
    if (!spare_.empty()) {
      chunk = std::move(spare_.back());
      spare_.pop_back();
    } else {
      chunk = std::make_unique<TextChunk>();
    }
    std::exception_ptr error;
    try {
      if (!source_->claim(*chunk, 0)) {
        exhausted_ = true;
        changed_.notify_all();
        return;
      }
    } catch (...) {
      error = std::current_exception();
      chunk->index = claimed_;
      exhausted_ = true;  // nothing is claimed after damage
    }
    const uint64_t index = claimed_++;
    Slot& slot = slots_[index];
    if (error) {
      slot.error = error;
      slot.ready = true;
      changed_.notify_all();
      return;
    }
    lock.unlock();
    try {
      source_->load(*chunk);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    Slot& done = slots_[index];
    done.chunk = std::move(chunk);
    done.error = error;
    done.ready = true;
    changed_.notify_all();
  }
}

const TextBuffer* ChunkText::next() {
  std::unique_lock lock(mutex_);
  if (current_) spare_.push_back(std::move(current_));
  for (;;) {
    changed_.wait(lock, [&] {
      const auto it = slots_.find(next_);
      return (it != slots_.end() && it->second.ready) || (exhausted_ && next_ >= claimed_);
    });
    const auto it = slots_.find(next_);
    if (it == slots_.end()) return nullptr;  // exhausted, everything handed out
    Slot slot = std::move(it->second);
    slots_.erase(it);
    ++next_;
    changed_.notify_all();  // a worker may claim one more
    if (slot.error) {
      stopping_ = true;
      changed_.notify_all();
      std::rethrow_exception(slot.error);
    }
    if (slot.chunk->size == 0) {
      spare_.push_back(std::move(slot.chunk));
      continue;  // an empty chunk: the next one
    }
    current_ = std::move(slot.chunk);
    view_ = {current_->data(), current_->size, current_->decoded_offset};
    return &view_;
  }
}

std::string ChunkText::describe() const {
  return source_->describe() + ", " + std::to_string(threads_) + " thread" + (threads_ == 1 ? "" : "s");
}

}  // namespace fqpipe::io
