// le_bytes.hpp - little-endian fields in index files: an appending writer and a bounds-checked
// reader. Every index format fqpipe reads is little-endian (FORMATS.md); the reader turns a
// read past the end into the index error "truncated", so a loader never touches bytes it
// does not have.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "index/index_error.hpp"

namespace fqpipe::index {

class LeWriter {
 public:
  explicit LeWriter(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(std::span<const uint8_t> b) {
    if (b.empty()) return;
    const std::size_t at = out_.size();
    out_.resize(at + b.size());
    std::memcpy(out_.data() + at, b.data(), b.size());
  }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

class LeReader {
 public:
  /// Reads `data`, the content of the index file `path` (named in errors).
  LeReader(std::span<const uint8_t> data, const std::string& path) : data_(data), path_(path) {}

  std::size_t pos() const noexcept { return pos_; }
  std::size_t left() const noexcept { return data_.size() - pos_; }
  void seek(std::size_t pos) {
    if (pos > data_.size()) truncated(pos - data_.size());
    pos_ = pos;
  }
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  std::span<const uint8_t> bytes(std::size_t n) {
    if (n > left()) truncated(n);
    const std::span<const uint8_t> b = data_.subspan(pos_, n);
    pos_ += n;
    return b;
  }

 private:
  uint64_t get(int n) {
    if (static_cast<std::size_t>(n) > left()) truncated(static_cast<std::size_t>(n));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  [[noreturn]] void truncated(std::size_t want) const {
    throw_index_error(path_, "truncated index: needs " + std::to_string(want) + " more bytes at byte " +
                                 std::to_string(pos_) + " of " + std::to_string(data_.size()));
  }

  std::span<const uint8_t> data_;
  std::size_t pos_ = 0;
  const std::string& path_;
};

}  // namespace fqpipe::index
