// Marker replacement: one table lookup per symbol, branch-free (see resolve for why).
#include "gzip/marker_window.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace fqpipe::gzip {
namespace {

// byte_of[v] for every 16-bit symbol v: v itself below 256, the window byte for markers. Values in
// [256, marker_base) never occur in decoder output; they map to 0.
struct SymbolToByte {
  std::array<uint8_t, 65536> byte_of;

  explicit SymbolToByte(std::span<const uint8_t> window) {
    for (unsigned v = 0; v < 256; ++v) byte_of[v] = static_cast<uint8_t>(v);
    std::memset(byte_of.data() + 256, 0, marker_base - 256);
    const size_t missing = deflate_window_size - window.size();
    std::memset(byte_of.data() + marker_base, 0, missing);
    if (!window.empty()) std::memcpy(byte_of.data() + marker_base + missing, window.data(), window.size());
  }
};

// One table load per symbol, with no test at all. A test per group of 16 that narrowed marker-free
// groups with a vector copy mispredicted on real FASTQ, where markers are spread thin but
// everywhere: reads_1.fastq.gz (21 % markers), 16 x 1 MiB chunks, 2.5 -> 4.5 GB/s
// (marker_window_bench BM_replace_markers_real_file), about the memory bandwidth of this loop.
// Groups of 16 let GCC load the symbols as vectors and unroll the lookups (3.7 -> 4.5 GB/s).
void resolve(std::span<const uint16_t> symbols, const SymbolToByte& table, uint8_t* out) {
  constexpr size_t group = 16;
  const uint16_t* sym = symbols.data();
  const size_t n = symbols.size();
  size_t i = 0;
  for (; i + group <= n; i += group) {
    for (size_t j = 0; j < group; ++j) out[i + j] = table.byte_of[sym[i + j]];
  }
  for (; i < n; ++i) out[i] = table.byte_of[sym[i]];
}

}  // namespace

DeflateStatus replace_markers(std::span<const uint16_t> symbols, std::span<const uint8_t> window,
                              std::span<uint8_t> out) {
  if (window.size() > deflate_window_size) window = window.last(deflate_window_size);
  if (window.size() < deflate_window_size && !symbols.empty()) {
    // Near the stream start: no marker may name a byte before the first one.
    const uint32_t first_valid = marker_base + (deflate_window_size - window.size());  // 65536 if empty
    uint32_t lowest_marker = 0x10000;
    for (const uint16_t v : symbols) lowest_marker = std::min<uint32_t>(lowest_marker, v >= 256 ? v : 0x10000);
    if (lowest_marker < first_valid) return DeflateStatus::distance_beyond_history;
  }
  const auto table = std::make_unique<SymbolToByte>(window);
  resolve(symbols, *table, out.data());
  return DeflateStatus::ok;
}

DeflateStatus next_window(const DeflateChunk& chunk, std::span<const uint8_t> window, std::vector<uint8_t>& next) {
  if (window.size() > deflate_window_size) window = window.last(deflate_window_size);
  const std::span<const uint16_t> symbols = chunk.symbols();
  const std::span<const uint8_t> bytes = chunk.bytes();
  const size_t size = static_cast<size_t>(std::min<uint64_t>(deflate_window_size, window.size() + chunk.decoded_size()));
  next.resize(size);
  // Fill from the back: the chunk's bytes, then its symbols, then the old window's tail.
  size_t fill = size;
  const size_t from_bytes = std::min(fill, bytes.size());
  if (from_bytes != 0) std::memcpy(next.data() + fill - from_bytes, bytes.data() + bytes.size() - from_bytes, from_bytes);
  fill -= from_bytes;
  const size_t from_symbols = std::min(fill, symbols.size());
  if (from_symbols != 0) {
    const DeflateStatus s = replace_markers(symbols.last(from_symbols), window,
                                            std::span<uint8_t>(next.data() + fill - from_symbols, from_symbols));
    if (s != DeflateStatus::ok) return s;
  }
  fill -= from_symbols;
  if (fill != 0) std::memcpy(next.data(), window.data() + window.size() - fill, fill);
  return DeflateStatus::ok;
}

}  // namespace fqpipe::gzip
