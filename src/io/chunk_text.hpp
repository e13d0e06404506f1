// chunk_text.hpp - ChunkText, a ChunkSource loaded on several threads and read back in order.
// What a single consumer (the SPMC parser, `decompress`) needs from a source that decodes in parallel.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/chunk_source.hpp"
#include "io/text_source.hpp"

namespace fqpipe::io {

/// `threads` worker threads claim chunks of `source` in order and load them at once; next()
/// hands them out in input order. At most 2 * threads chunks are loaded ahead of the one being
/// read. An error of a chunk is thrown by next() in its place, after every chunk before it.
class ChunkText final : public TextSource {
 public:
  ChunkText(std::unique_ptr<ChunkSource> source, unsigned threads);
  ~ChunkText() override;  ///< stops and joins the workers
  ChunkText(const ChunkText&) = delete;
  ChunkText& operator=(const ChunkText&) = delete;

  const TextBuffer* next() override;
  uint64_t input_bytes_read() const noexcept override { return source_->input_bytes_read(); }
  std::string describe() const override;

 private:
  struct Slot {
    std::unique_ptr<TextChunk> chunk;
    bool ready = false;
    std::exception_ptr error;
  };
  void work();

  std::unique_ptr<ChunkSource> source_;
  std::size_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, Slot> slots_;  // claimed chunks not yet handed out, by index
  uint64_t claimed_ = 0;            // chunks claimed so far
  uint64_t next_ = 0;               // index of the next chunk next() returns
  bool exhausted_ = false;          // claim() said no more
  bool stopping_ = false;
  std::unique_ptr<TextChunk> current_;  // the chunk handed out last
  std::vector<std::unique_ptr<TextChunk>> spare_;
  TextBuffer view_;
  unsigned threads_;
  std::vector<std::thread> workers_;
};

}  // namespace fqpipe::io
