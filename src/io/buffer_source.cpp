// buffer_source.cpp - BufferSource: synchronous fills, or a producer thread with a free list.
// The thread stops when the consumer is destroyed, so an early exit never blocks.
#include "io/buffer_source.hpp"

namespace fqpipe::io {

BufferSource::BufferSource(ByteSource& source, bool read_ahead, std::size_t buffer_bytes,
                           std::size_t depth)
    : source_(source), buffer_bytes_(buffer_bytes), read_ahead_(read_ahead) {
  if (!read_ahead_) return;
  for (std::size_t i = 0; i < depth; ++i) free_.push_back(std::make_unique<OwnedBuffer>());
  thread_ = std::thread([this] { run_ahead(); });
}

BufferSource::~BufferSource() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool BufferSource::fill(OwnedBuffer& buffer) {
  if (!buffer.storage) buffer.storage.reset(new char[buffer_bytes_]);
  buffer.view.data = buffer.storage.get();
  buffer.view.decoded_offset = filled_offset_;
  buffer.view.size = read_full(source_, reinterpret_cast<uint8_t*>(buffer.storage.get()), buffer_bytes_);
  filled_offset_ += buffer.view.size;
  input_bytes_read_.store(source_.input_bytes_read(), std::memory_order_relaxed);
  return buffer.view.size > 0;
}

void BufferSource::run_ahead() {
  try {
    for (;;) {
      std::unique_ptr<OwnedBuffer> buffer;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || !free_.empty(); });
        if (stopping_) return;
        buffer = std::move(free_.back());
        free_.pop_back();
      }
      const bool got = fill(*buffer);  // the slow part, outside the lock
      {
        std::lock_guard lock(mutex_);
        if (got) ready_.push_back(std::move(buffer));
        if (!got || buffer_bytes_ == 0) done_ = true;
      }
      changed_.notify_all();
      if (!got) return;
    }
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      done_ = true;
    }
    changed_.notify_all();
  }
}

const TextBuffer* BufferSource::next() {
  if (!read_ahead_) {
    if (!current_) current_ = std::make_unique<OwnedBuffer>();
    return fill(*current_) ? &current_->view : nullptr;
  }
  std::unique_lock lock(mutex_);
  if (current_) free_.push_back(std::move(current_));
  changed_.notify_all();
  changed_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {  // buffers read before an error are still delivered first
    current_ = std::move(ready_.front());
    ready_.pop_front();
    return &current_->view;
  }
  if (error_) std::rethrow_exception(error_);
  return nullptr;
}

}  // namespace fqpipe::io
