// block_finder.cpp - fuzz target: BlockFinder over arbitrary bytes from an arbitrary bit.
// Every candidate it reports must lie in the asked range; it must never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "gzip/block_finder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> comp(data + 1, size - 1);
  // One finder per mode for the whole process, as a decoding thread keeps one: a fresh one per
  // input spent most of a run allocating and faulting in its decoder's buffers.
  static fqpipe::gzip::BlockFinder finders[2] = {fqpipe::gzip::BlockFinder({}, false),
                                                 fqpipe::gzip::BlockFinder({}, true)};
  fqpipe::gzip::BlockFinder& finder = finders[data[0] & 1];
  finder.reset(comp);
  const uint64_t from = data[0] >> 1;
  const uint64_t until = comp.size() * 8;
  for (uint64_t bit = from; bit < until;) {
    const auto found = finder.find(bit, until);
    if (!found) break;
    if (found->comp_bit < bit || found->comp_bit >= until) std::abort();
    bit = found->comp_bit + 1;
  }
  return 0;
}
