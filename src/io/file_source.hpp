// file_source.hpp - FileSource, a file or standard input read sequentially with read(2).
// It can hand back a peeked prefix, so formats are detected from magic bytes even on pipes.
#pragma once

#include <string>
#include <vector>

#include "io/byte_source.hpp"

namespace fqpipe::io {

/// The raw bytes of a file, or of standard input when the path is "-".
class FileSource final : public ByteSource {
 public:
  /// Opens `path`. Throws fqpipe::Error (kind io) if it is missing, unreadable or a directory.
  explicit FileSource(std::string path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::size_t read(uint8_t* dst, std::size_t capacity) override;
  uint64_t input_bytes_read() const noexcept override { return consumed_; }

  /// Up to `n` first bytes of the input, without consuming them: the next read() returns them
  /// again. Call before the first read().
  const std::vector<uint8_t>& peek(std::size_t n);

  const std::string& path() const noexcept { return path_; }
  /// Size of a regular file in bytes; 0 for pipes and terminals.
  uint64_t size() const noexcept { return size_; }

 private:
  std::size_t read_raw(uint8_t* dst, std::size_t capacity);

  std::string path_;
  int fd_ = -1;
  bool owns_fd_ = false;
  uint64_t size_ = 0;
  uint64_t consumed_ = 0;
  std::vector<uint8_t> peeked_;
  std::size_t peeked_pos_ = 0;
};

}  // namespace fqpipe::io
