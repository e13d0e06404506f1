// file_chunks.hpp - FileChunks, a plain (uncompressed) regular file as fixed-size byte ranges.
// Each producer preads its own range: no shared file position, no mapping to fault in.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "io/chunk_source.hpp"

namespace fqpipe::io {

/// Chunks of `chunk_bytes` bytes of a regular file (the last one shorter), read with pread(2).
/// With `lanes` > 1 the file is cut into that many equal ranges (whole chunks each), one per lane.
/// Only bytes [begin, end) of the file are read (end clipped to the file size) when given.
class FileChunks final : public ChunkSource {
 public:
  /// Opens `path`. Throws Error (io) when it cannot be opened or is not a regular file.
  FileChunks(const std::string& path, std::size_t chunk_bytes, unsigned lanes = 1,
             uint64_t begin = 0, uint64_t end = UINT64_MAX);
  ~FileChunks() override;
  FileChunks(const FileChunks&) = delete;
  FileChunks& operator=(const FileChunks&) = delete;

  bool claim(TextChunk& chunk, unsigned lane) override;
  /// Throws Error (io) on a read error, or when the file shrank since it was opened.
  void load(TextChunk& chunk) override;
  bool loads_ranges() const noexcept override { return true; }
  void load_range(const TextChunk& chunk, uint64_t from, std::size_t n, char* dst) override;
  uint64_t input_bytes_read() const noexcept override { return claimed_.load(std::memory_order_relaxed); }
  uint64_t input_size() const noexcept override { return end_ - begin_; }
  std::string describe() const override;
  unsigned lanes() const noexcept override { return static_cast<unsigned>(next_.size()); }

 private:
  void read(uint64_t offset, std::size_t n, char* dst) const;

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;      // of the file
  uint64_t begin_ = 0, end_ = 0;  // the range read
  std::size_t chunk_bytes_;
  uint64_t chunks_per_lane_ = 0;
  std::vector<uint64_t> next_;  // per lane: the index of its next chunk
  std::atomic<uint64_t> claimed_{0};
};

}  // namespace fqpipe::io
