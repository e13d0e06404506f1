// Raw DEFLATE (RFC 1951) decoder that starts at any bit offset, with or without the preceding 32 KiB
// window, and stops at a block boundary: the speculative half of parallel gzip (DESIGN.md §3).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "gzip/deflate_status.hpp"
#include "io/grow_buffer.hpp"
#include "gzip/dynamic_header.hpp"
#include "gzip/huffman.hpp"

namespace fqpipe::gzip {

inline constexpr size_t deflate_window_size = 32768;  // RFC 1951 §2: distances reach 32 KiB back

// Marker convention of unknown-window output: symbol value marker_base + k (k in [0, 32768)) stands
// for window[k], where `window` is the 32 KiB of output just before the chunk's first byte:
// window[0] is the oldest byte, window[32767] the byte right before the chunk. Values < 256 are
// plain bytes; values in [256, marker_base) never occur.
inline constexpr uint16_t marker_base = 32768;

struct BlockBoundary {
  uint64_t comp_bit = 0;      // bit offset of the block header in the compressed input
  uint64_t decoded_byte = 0;  // output produced by the chunk before this block
};

// One decoded chunk: output = symbols() then bytes(). Reuse one object across chunks to reuse its
// buffers; views stay valid until the next decode into it.
class DeflateChunk {
 public:
  // 16-bit prefix (unknown-window mode until the window stopped mattering); may hold markers.
  std::span<const uint16_t> symbols() const {
    if (symbol_count_ == 0) return {};
    return {symbols_.data() + deflate_window_size, symbol_count_};
  }
  // Plain bytes after the prefix (all output in known-window mode).
  std::span<const uint8_t> bytes() const {
    if (byte_count_ == 0) return {};
    return {bytes_.data() + byte_history_, byte_count_};
  }
  uint64_t decoded_size() const { return symbol_count_ + byte_count_; }

  uint64_t start_bit = 0;  // where decoding began
  uint64_t end_bit = 0;    // where it stopped: next block header, or just past the final block
  bool final_block_seen = false;
  std::vector<BlockBoundary> blocks;  // every block decoded, in order (blocks[0].comp_bit == start_bit)

 private:
  friend class DeflateDecoder;
  // symbols_[0, 32768) holds the markers 32768 + k themselves, so a back-reference into the unknown
  // window copies its marker like any other symbol: no special case in the hot loop.
  io::GrowBuffer<uint16_t> symbols_;
  // The marker prefix is in symbols_: copied once per chunk object, since decoding only writes at
  // or past deflate_window_size and every grow keeps the prefix. Refilling it per decode cost the
  // block finder most of its time (a 64 KiB loop per candidate it confirms; fuzz_block_finder).
  bool markers_written_ = false;
  size_t symbol_count_ = 0;
  // bytes_[0, byte_history_) is history (the known window, or the last 32 KiB of the 16-bit prefix
  // at the switch), so back-references never leave the buffer.
  io::GrowBuffer<uint8_t> bytes_;
  size_t byte_history_ = 0;
  size_t byte_count_ = 0;
};

struct DecodeLimits {
  // Stop at the first block boundary at or after this bit (a boundary at start_bit counts).
  uint64_t stop_bit = std::numeric_limits<uint64_t>::max();
  // Fail with output_limit_exceeded past this many output bytes (false block starts can expand).
  uint64_t max_output = std::numeric_limits<uint64_t>::max();
  // Checked before every block: once another thread sets it, decoding stops with `cancelled`
  // (a speculative chunk the front no longer wants).
  const std::atomic<bool>* cancel = nullptr;
};

// Not thread-safe; use one per thread (tables ~30 KiB).
class DeflateDecoder {
 public:
  // Mode A: the window before start_bit is unknown; references into it become markers.
  DeflateStatus decode_unknown_window(std::span<const uint8_t> comp, uint64_t start_bit, DecodeLimits limits,
                                      DeflateChunk& out);
  // Mode B: `window` is the output before start_bit (its last <= 32 KiB; shorter at stream start,
  // empty for a stream's first block). References before it are distance_beyond_history.
  DeflateStatus decode_known_window(std::span<const uint8_t> comp, uint64_t start_bit,
                                    std::span<const uint8_t> window, DecodeLimits limits, DeflateChunk& out);

 private:
  enum class Progress : uint8_t { end_of_block, checkpoint, error };
  struct State;

  DeflateStatus decode_blocks(State& st);
  DeflateStatus decode_stored(State& st);
  DeflateStatus decode_compressed(State& st, const LiteralLengthTable& litlen, const DistanceTable& dist);
  DeflateStatus make_room(State& st, size_t count);
  bool maybe_leave_wide_mode(State& st);
  template <typename T, bool NearEnd>
  Progress decode_symbols(State& st, T* out, size_t& pos, size_t pos_limit, const LiteralLengthTable& litlen,
                          const DistanceTable& dist);
  // decode_symbols<T, false> built for BMI2 + AVX2 where the build allows it (deflate_decoder.cpp),
  // else the same code.
  template <typename T>
  Progress decode_symbols_bmi2(State& st, T* out, size_t& pos, size_t pos_limit, const LiteralLengthTable& litlen,
                               const DistanceTable& dist);

  LiteralLengthTable litlen_;
  DistanceTable dist_;
  DynamicHeader header_;
  DeflateStatus symbol_error_ = DeflateStatus::ok;
};

}  // namespace fqpipe::gzip
