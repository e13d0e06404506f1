// memory_source.hpp - MemorySource, a fuzz input as a ByteSource, handed out `step` bytes at a
// time: the decoders and the parser meet every split of their input without a file.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "io/byte_source.hpp"

namespace fqpipe::fuzz {

class MemorySource final : public io::ByteSource {
 public:
  MemorySource(const uint8_t* data, std::size_t size, std::size_t step = SIZE_MAX)
      : data_(data), size_(size), step_(step) {}
  std::size_t read(uint8_t* dst, std::size_t capacity) override {
    const std::size_t n = std::min({capacity, size_ - pos_, step_});
    if (n != 0) std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  uint64_t input_bytes_read() const noexcept override { return pos_; }

 private:
  const uint8_t* data_;
  std::size_t size_, pos_ = 0, step_;
};

}  // namespace fqpipe::fuzz
