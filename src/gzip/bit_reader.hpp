// DEFLATE bit reader (RFC 1951 §3.1.1: bits are packed LSB first) over a byte span, starting at
// any bit offset. A 64-bit buffer is refilled with one unaligned load, so hot loops pay no per-bit cost.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace fqpipe::gzip {

// Invariant of `bits_`: bit i (i < count_) is the stream bit at position() + i; every bit at or
// above count_ is either zero or the true stream bit at that place. So a refill may OR in bytes it
// already holds, which lets the fast refill load 8 bytes and advance by a computed amount without
// masking. Past the end of the input, refills pad with zero bytes and count them in overrun_bytes_:
// reading never touches memory outside the span, and overran() tells whether a padding bit was used.
class BitReader {
 public:
  // Fewest bits a refill guarantees in the buffer: a length code with its extra bits (20) plus a
  // distance code with its extra bits (28) fit, so a match needs one refill.
  static constexpr unsigned min_bits_after_refill = 56;

  BitReader() = default;
  BitReader(std::span<const uint8_t> data, uint64_t start_bit) : data_(data) { seek(start_bit); }

  // Repositions at an absolute bit offset; past the end reads zero padding and reports overran().
  void seek(uint64_t comp_bit) {
    const uint64_t byte = comp_bit / 8 < data_.size() ? comp_bit / 8 : data_.size();
    next_ = data_.data() + byte;
    bits_ = 0;
    count_ = 0;
    overrun_bytes_ = (comp_bit / 8) - byte;
    refill();
    consume(static_cast<unsigned>(comp_bit % 8));
  }

  // Tops the buffer up to at least min_bits_after_refill bits (zero padding past the end).
  void refill() {
    if (can_refill_fast()) [[likely]] {
      refill_fast();
    } else {
      refill_near_end();
    }
  }
  // The branch-free refill of hot loops, valid while can_refill_fast(): never pads, never overruns.
  bool can_refill_fast() const { return static_cast<size_t>(end() - next_) >= 8; }
  // True while `refills` fast refills in a row are valid (each advances at most 7 bytes).
  bool can_refill_fast(unsigned refills) const { return static_cast<size_t>(end() - next_) >= 8 + 7 * (refills - 1); }
  void refill_fast() {
    uint64_t word;
    std::memcpy(&word, next_, 8);  // little-endian hosts only (x86-64, aarch64)
    bits_ |= word << count_;
    next_ += (63 - count_) >> 3;
    count_ |= 56;
  }

  uint64_t bits() const { return bits_; }                 // buffered bits, next stream bit at bit 0
  unsigned count() const { return count_; }               // number of valid buffered bits
  uint64_t peek(unsigned n) const { return bits_ & low_mask(n); }  // n < 64 and n <= count()
  void consume(unsigned n) {                               // n <= count()
    bits_ >>= n;
    count_ -= n;
  }
  // Reads n <= 32 bits (refills as needed).
  uint32_t read(unsigned n) {
    if (count_ < n) refill();
    const auto value = static_cast<uint32_t>(peek(n));
    consume(n);
    return value;
  }

  // Absolute bit offset of the next unread bit; may exceed size_bits() after an overrun.
  uint64_t position() const {
    return (static_cast<uint64_t>(next_ - data_.data()) + overrun_bytes_) * 8 - count_;
  }
  uint64_t size_bits() const { return static_cast<uint64_t>(data_.size()) * 8; }
  // True once a bit past the end of the input has been consumed: the input is truncated.
  bool overran() const { return position() > size_bits(); }

  // Skips to the next byte boundary (stored blocks, RFC 1951 §3.2.4).
  void align_to_byte() { consume(static_cast<unsigned>((8 - position() % 8) % 8)); }

  std::span<const uint8_t> data() const { return data_; }

  static constexpr uint64_t low_mask(unsigned n) { return (uint64_t{1} << n) - 1; }

 private:
  const uint8_t* end() const { return data_.data() + data_.size(); }

  void refill_near_end() {
    while (count_ <= 56) {
      if (next_ != end()) {
        bits_ |= static_cast<uint64_t>(*next_++) << count_;
      } else {
        ++overrun_bytes_;  // a zero byte: OR-ing nothing keeps the invariant
      }
      count_ += 8;
    }
  }

  std::span<const uint8_t> data_;
  const uint8_t* next_ = nullptr;  // next byte not yet counted in count_
  uint64_t bits_ = 0;
  unsigned count_ = 0;
  uint64_t overrun_bytes_ = 0;     // zero bytes appended past the end of data_
};

}  // namespace fqpipe::gzip
