// indexed_text.hpp - IndexedText, the decompressed text of an IndexedGzipReader from where it
// was positioned, as a TextSource for the parser (head --skip reads records from record N on).
#pragma once

#include <vector>

#include "fqpipe/index.hpp"
#include "io/text_source.hpp"

namespace fqpipe::index {

/// Reads `reader` from its current position on, 1 MiB per buffer.
class IndexedText final : public io::TextSource {
 public:
  explicit IndexedText(IndexedGzipReader& reader) : reader_(reader), buffer_(std::size_t{1} << 20) {}
  const io::TextBuffer* next() override {
    view_.decoded_offset = reader_.tell();
    view_.size = reader_.read(buffer_.data(), buffer_.size());
    view_.data = buffer_.data();
    return view_.size ? &view_ : nullptr;
  }
  uint64_t input_bytes_read() const noexcept override { return 0; }

 private:
  IndexedGzipReader& reader_;
  std::vector<char> buffer_;
  io::TextBuffer view_;
};

}  // namespace fqpipe::index
