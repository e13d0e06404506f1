// buffer_source.hpp - BufferSource: decoded text in large buffers, optionally filled ahead of
// the parser by a thread of its own, so decoding (or read(2)) overlaps parsing.
#pragma once

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

namespace fqpipe::io {

/// One buffer of decoded text: bytes [0, size) at decoded offset `decoded_offset`.
struct TextBuffer {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  uint64_t decoded_offset = 0;
};

/// Hands out the text of a ByteSource buffer by buffer, in order. With `read_ahead`, a thread
/// fills up to `depth` buffers ahead; errors it meets are rethrown by next(). Not thread-safe
/// on the consumer side: one parser calls next().
class BufferSource {
 public:
  BufferSource(ByteSource& source, bool read_ahead, std::size_t buffer_bytes = std::size_t{1} << 20,
               std::size_t depth = 4);
  ~BufferSource();
  BufferSource(const BufferSource&) = delete;
  BufferSource& operator=(const BufferSource&) = delete;

  /// The next non-empty buffer, valid until the following call; nullptr at end of input.
  /// Throws what the underlying source threw.
  const TextBuffer* next();

 private:
  bool fill(TextBuffer& buffer);  // true when it got bytes
  void run_ahead();

  ByteSource& source_;
  const std::size_t buffer_bytes_;
  uint64_t filled_offset_ = 0;      // decoded offset after the last byte read
  std::unique_ptr<TextBuffer> current_;

  // Read-ahead state, guarded by mutex_.
  bool read_ahead_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<TextBuffer>> free_;
  std::deque<std::unique_ptr<TextBuffer>> ready_;
  bool done_ = false;     // the thread has read everything (or failed)
  bool stopping_ = false; // the consumer is gone
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace fqpipe::io
