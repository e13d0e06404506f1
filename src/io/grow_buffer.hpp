// grow_buffer.hpp - GrowBuffer, uninitialised growable storage for decoders' and readers' output.
// A decoder writes every element it later reads; zero-filling megabytes per chunk would cost
// as much as decoding them.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace fqpipe::io {

template <typename T>
class GrowBuffer {
  static_assert(std::is_trivial_v<T>, "storage is malloc()ed and never constructed");

 public:
  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }
  /// From the next growth on, sizes of 2 MiB and more are backed by huge pages where the
  /// kernel gives them (THP "madvise" or "always"), in whole 2 MiB pages. For a buffer that is
  /// refilled by the kernel again and again (pread of plain-file chunks): a 3.6 MiB chunk took
  /// ~900 page faults on first use and as many TLB entries for each copy into it (long.fastq
  /// `count -t 2`: 2553 -> 697 faults in `perf stat`, 0.026 -> 0.024 s in bench/compare.sh).
  /// FileChunks asks for them on large inputs only (file_chunks.cpp: fresh huge pages can be
  /// slow to fault in under a hypervisor). Not for the decoders' many buffers, where rounding
  /// each up to whole pages cost 13 MiB of peak RSS for nothing.
  void prefer_huge_pages() noexcept { huge_ = true; }
  /// Makes room for at least `min_capacity` elements (at least doubling), keeping the first `keep`.
  void grow(std::size_t min_capacity, std::size_t keep = 0) {
    if (min_capacity <= capacity_) return;
    std::size_t new_capacity = std::max(min_capacity, capacity_ * 2);
    std::size_t bytes = new_capacity * sizeof(T);
    void* raw;
    if (huge_ && bytes >= kHuge) {
      bytes = (bytes + kHuge - 1) / kHuge * kHuge;
      new_capacity = bytes / sizeof(T);
      raw = std::aligned_alloc(kHuge, bytes);
      if (raw) ::madvise(raw, bytes, MADV_HUGEPAGE);
    } else {
      raw = std::malloc(bytes);
    }
    if (!raw) throw std::bad_alloc();
    std::unique_ptr<T[], Free> bigger(static_cast<T*>(raw));
    if (keep != 0) std::copy_n(data_.get(), keep, bigger.get());
    data_ = std::move(bigger);
    capacity_ = new_capacity;
  }

 private:
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T[], Free> data_;
  std::size_t capacity_ = 0;
  bool huge_ = false;
};

}  // namespace fqpipe::io
