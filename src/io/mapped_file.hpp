// mapped_file.hpp - MappedFile, a whole regular file mapped read-only into memory.
// Parallel decoders read any range of the compressed input at any time, without a copy. A file
// that shrinks meanwhile reads as zeros past its new end instead of killing the process with
// SIGBUS (sigbus_guard.hpp); check_intact() tells the readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "io/sigbus_guard.hpp"

namespace fqpipe::io {

class MappedFile {
 public:
  /// Maps `path`. Throws fqpipe::Error (io) when it cannot be opened or is not a regular file.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }

  /// Drops the mapped pages of [0, end) from this process (the page cache keeps them), so a
  /// forward pass over a large file holds only the part still being read. Thread-safe.
  void release_before(std::size_t end) noexcept { release(0, end); }
  /// The same for the whole pages inside [begin, end): a reader that moves forward from
  /// anywhere drops what it has passed. Pages are read in again if touched later. Thread-safe.
  void release(std::size_t begin, std::size_t end) noexcept;

  /// Throws Error (io, "file shrank while being read") naming the file when it is shorter now
  /// than when it was mapped, or a page of it vanished under a read (which then saw zeros).
  /// Readers call it before handing on what they decoded from the mapping, and before they
  /// report damage they found in it (the zeros are not the data's fault). Thread-safe; one
  /// fstat.
  void check_intact() const;

 private:
  std::string path_;
  int fd_ = -1;  // kept open for check_intact's fstat (the path may name another file by now)
  const uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::optional<SigbusGuard> guard_;
};

/// True when `path` names a regular file (not "-", a pipe or a terminal).
bool is_regular_file(const std::string& path);

}  // namespace fqpipe::io
