// sigbus_guard.hpp - SigbusGuard: a mapped file's range registered with one process-wide
// SIGBUS handler, so that the file shrinking under the mapping is an error, not a crash.
//
// Touching a mapped page past the end of a file that shrank (truncated by another process)
// raises SIGBUS. The handler, installed once and chaining to the previous one for addresses
// that are not registered, maps anonymous zero pages over the rest of the range and marks it
// damaged; the faulting read then goes on and sees zeros. Readers ask damaged() (through
// MappedFile::check_intact) before they hand on what they decoded, so zeros are never taken
// for the file's content. The table is a fixed array of atomics: the handler may run on any
// thread at any moment, where it can neither lock nor allocate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fqpipe::io {

class SigbusGuard {
 public:
  /// Guards [begin, begin + size), a mapping whose start is page-aligned. Installs the handler
  /// on first use. When the table is full (256 ranges at once) the range is not guarded: a
  /// fault there kills the process as it would without the guard. Thread-safe.
  SigbusGuard(const void* begin, std::size_t size) noexcept;
  /// Unregisters the range; call before unmapping it.
  ~SigbusGuard();
  SigbusGuard(const SigbusGuard&) = delete;
  SigbusGuard& operator=(const SigbusGuard&) = delete;

  /// True once a page of the range has vanished (and reads as zeros from then on).
  bool damaged() const noexcept;
  /// Offset in the range of the lowest vanished page found; UINT64_MAX while not damaged().
  uint64_t first_fault() const noexcept;

 private:
  int slot_ = -1;  // index in the process-wide table, -1 when not guarded
};

}  // namespace fqpipe::io
