// grow_buffer.hpp - GrowBuffer, uninitialised growable storage for decoders' and readers' output.
// A decoder writes every element it later reads; zero-filling megabytes per chunk would cost
// as much as decoding them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>

namespace fqpipe::io {

template <typename T>
class GrowBuffer {
 public:
  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }
  /// Makes room for at least `min_capacity` elements (at least doubling), keeping the first `keep`.
  void grow(std::size_t min_capacity, std::size_t keep = 0) {
    if (min_capacity <= capacity_) return;
    const std::size_t new_capacity = std::max(min_capacity, capacity_ * 2);
    std::unique_ptr<T[]> bigger(new T[new_capacity]);
    if (keep != 0) std::copy_n(data_.get(), keep, bigger.get());
    data_ = std::move(bigger);
    capacity_ = new_capacity;
  }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t capacity_ = 0;
};

}  // namespace fqpipe::io
