// isal_inflater.hpp - IsalInflater: ISA-L's inflate started at any bit offset with a known
// window, fed up to a byte limit, and able to tell when it rests exactly on a block boundary.
// The front of the parallel reader uses it: ISA-L is the fastest known-window decoder we have.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "gzip/deflate_decoder.hpp"

struct inflate_state;

namespace fqpipe::gzip {

/// Decoded bytes of one front chunk.
struct ByteChunk {
  io::GrowBuffer<uint8_t> data;
  std::size_t size = 0;
  std::span<const uint8_t> bytes() const { return {data.data(), size}; }
};

/// Not thread-safe; one per front thread.
class IsalInflater {
 public:
  IsalInflater();
  ~IsalInflater();

  /// Starts raw DEFLATE at `comp_bit`, a block boundary of `comp`, with `window` (its last
  /// <= 32 KiB are used) as the output that precedes it.
  void start(std::span<const uint8_t> comp, uint64_t comp_bit, std::span<const uint8_t> window);

  /// Decodes every symbol that lies wholly before byte `end_byte` of the input, appending the
  /// output to `out`. Stops early after the final block, and (returning ok) once `out` holds
  /// `max_size` bytes or more: a few compressed bytes can expand a thousandfold, so a caller
  /// that bounds its memory hands `out` on and calls again until `out` stays below `max_size`.
  /// Returns a status (truncated_input only when the end of the whole input is reached inside
  /// the stream).
  DeflateStatus feed_until(uint64_t end_byte, ByteChunk& out, std::size_t max_size = SIZE_MAX);

  /// Like feed_until(), into out[produced, capacity): stops once the buffer is full, after the
  /// final block, or when the input up to `end_byte` is used up; `produced` grows by what was
  /// written. For callers that know how much output they want and own the buffer.
  DeflateStatus feed_into(uint64_t end_byte, uint8_t* out, std::size_t capacity, std::size_t& produced);

  /// True once the final block has been decoded.
  bool finished() const noexcept;
  /// The bit position, when the decoder rests between two blocks (or after the final one).
  std::optional<uint64_t> boundary_bit() const noexcept;
  /// Input bits taken in so far, counted from the start of `comp` (some may still wait in the
  /// decoder's bit buffer): a measure of progress, not a position to restart at.
  uint64_t consumed_bits() const noexcept;

 private:
  std::unique_ptr<inflate_state> state_;
  std::span<const uint8_t> comp_;
};

}  // namespace fqpipe::gzip
