// Reads and validates the header of a dynamic-Huffman block (RFC 1951 §3.2.7): the decoder builds
// its tables from it, and the block finder uses the same function so both accept the same blocks.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "gzip/bit_reader.hpp"
#include "gzip/deflate_status.hpp"

namespace fqpipe::gzip {

struct DynamicHeader {
  unsigned literal_count = 0;   // HLIT + 257, at most 286
  unsigned distance_count = 0;  // HDIST + 1, at most 30
  // Literal/length code lengths, then distance code lengths (repeats may cross between them).
  std::array<uint8_t, 286 + 30> lengths{};

  std::span<const uint8_t> literal_lengths() const { return {lengths.data(), literal_count}; }
  std::span<const uint8_t> distance_lengths() const { return {lengths.data() + literal_count, distance_count}; }
};

// Reads from just after BFINAL and BTYPE. Checks everything the header can get wrong: counts, the
// code-length code, repeats, end-of-block present, and that both codes are complete or one of the
// incomplete forms zlib accepts. On ok, `in` stands at the block's first symbol.
DeflateStatus read_dynamic_header(BitReader& in, DynamicHeader& out);

}  // namespace fqpipe::gzip
