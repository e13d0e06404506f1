// buffer_source.hpp - BufferSource: decoded text in large buffers, optionally filled ahead of
// the parser by a thread of its own, so decoding (or read(2)) overlaps parsing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "io/byte_source.hpp"
#include "io/text_source.hpp"

namespace fqpipe::io {

/// The TextSource of a sequential ByteSource. With `read_ahead`, a thread fills up to `depth`
/// buffers ahead; errors it meets are rethrown by next(), after the buffers read before them.
class BufferSource final : public TextSource {
 public:
  BufferSource(ByteSource& source, bool read_ahead, std::size_t buffer_bytes = std::size_t{1} << 20,
               std::size_t depth = 4);
  ~BufferSource();
  BufferSource(const BufferSource&) = delete;
  BufferSource& operator=(const BufferSource&) = delete;

  const TextBuffer* next() override;
  uint64_t input_bytes_read() const noexcept override {
    return input_bytes_read_.load(std::memory_order_relaxed);
  }

 private:
  struct OwnedBuffer {
    std::unique_ptr<char[]> storage;
    TextBuffer view;
  };
  bool fill(OwnedBuffer& buffer);  // true when it got bytes
  void run_ahead();

  ByteSource& source_;
  const std::size_t buffer_bytes_;
  uint64_t filled_offset_ = 0;      // decoded offset after the last byte read
  std::atomic<uint64_t> input_bytes_read_{0};  // copied after each fill: the source isn't thread-safe
  std::unique_ptr<OwnedBuffer> current_;

  // Read-ahead state, guarded by mutex_.
  bool read_ahead_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<OwnedBuffer>> free_;
  std::deque<std::unique_ptr<OwnedBuffer>> ready_;
  bool done_ = false;     // the thread has read everything (or failed)
  bool stopping_ = false; // the consumer is gone
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace fqpipe::io
