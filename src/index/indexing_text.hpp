// indexing_text.hpp - IndexingText, a gzip file decoded by build_index() on a thread of its own
// while its text goes to the parser: the index comes for free with any full pass (DESIGN §6).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "io/text_source.hpp"

namespace fqpipe::index {

/// Decodes `path` (sequential ISA-L, every CRC checked) and hands out its text; once the whole
/// input has been handed out and next() has returned nullptr, the index is written to
/// `index_path` (fqpipe format, under a temporary name renamed at the end). A run that stops
/// early or fails writes nothing. At most four pieces of text wait for the consumer.
class IndexingText final : public io::TextSource {
 public:
  IndexingText(std::string path, std::string index_path, uint64_t spacing);
  ~IndexingText() override;  ///< stops the decoding thread (no index is written)
  IndexingText(const IndexingText&) = delete;
  IndexingText& operator=(const IndexingText&) = delete;

  const io::TextBuffer* next() override;
  uint64_t input_bytes_read() const noexcept override { return 0; }
  std::string describe() const override;

 private:
  struct Piece {
    uint64_t decoded_byte = 0;
    std::vector<char> text;
  };
  void decode();

  std::string path_, index_path_;
  uint64_t spacing_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Piece> ready_;
  std::vector<std::vector<char>> spare_;
  bool done_ = false, cancelled_ = false;
  bool all_read_ = false;  // the consumer has every piece: the index may be written
  std::exception_ptr error_;
  Piece current_;
  io::TextBuffer view_;
  std::thread thread_;
};

}  // namespace fqpipe::index
