// deflate_decoder.cpp - fuzz target: DeflateDecoder from an arbitrary bit offset, both modes.
// The first two input bytes choose the start bit and the stop bit; the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gzip/deflate_decoder.hpp"
#include "gzip/marker_window.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::span<const uint8_t> comp(data + 2, size - 2);
  const uint64_t start_bit = data[0] % 64;
  fqpipe::gzip::DecodeLimits limits;
  limits.stop_bit = start_bit + 8 * static_cast<uint64_t>(data[1]) * 16;
  limits.max_output = 1 << 22;
  static fqpipe::gzip::DeflateDecoder decoder;
  static fqpipe::gzip::DeflateChunk chunk;
  if (decoder.decode_unknown_window(comp, start_bit, limits, chunk) == fqpipe::gzip::DeflateStatus::ok) {
    // Markers must resolve against any window, and the next window must be derivable.
    static const std::vector<uint8_t> window(32768, 'A');
    std::vector<uint8_t> out(chunk.symbols().size()), next;
    (void)fqpipe::gzip::replace_markers(chunk.symbols(), window, out);
    (void)fqpipe::gzip::next_window(chunk, window, next);
  }
  static const std::vector<uint8_t> known(1000, 'C');
  (void)decoder.decode_known_window(comp, start_bit, known, limits, chunk);
  return 0;
}
