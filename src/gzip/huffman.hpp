// Canonical Huffman decoding tables built from code lengths (RFC 1951 §3.2.2). One lookup in a
// primary table decodes most codes, with the length/distance extra-bit counts folded into the entry.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace fqpipe::gzip {

enum class [[nodiscard]] HuffmanStatus : uint8_t {
  ok,
  over_subscribed,  // Kraft sum above 1: some bit string would have two meanings
  incomplete,       // Kraft sum below 1, and not one of the cases RFC 1951/zlib accept
};

// What an incomplete code may be, beyond complete (zlib's inflate accepts the same):
// a single code of length 1 (RFC 1951 §3.2.7 for distances; zlib accepts it for literal/lengths
// too), and no code at all for distances (a block without matches).
struct CodeRules {
  bool allow_single_length_one = false;
  bool allow_empty = false;
};

// Kraft check alone, without building a table: the block finder's cheap full validation.
HuffmanStatus check_code_lengths(std::span<const uint8_t> lengths, CodeRules rules);

// Table entry layout (uint32_t). Every decode is `e = primary[bits & mask]`, one more lookup when
// e is a subtable pointer, then the flags below.
namespace huffman_entry {
// Bits to consume: code length + extra bits (<= 28, so bit 5 is always zero). Six bits wide on
// purpose: a 64-bit shift by the whole entry then shifts by exactly this, so x86's shrx (which
// takes its count modulo 64) needs no AND on the decoder's critical path.
inline constexpr uint32_t total_bits_mask = 0x3F;
inline constexpr uint32_t literal = 1u << 15;       // payload byte 0 (bits 16..23) is a literal
inline constexpr uint32_t two_literals = 1u << 6;   // with literal: bits 24..31 are a second literal
// Without literal (and never with exceptional): a whole match, its length code with the extra bits
// and the distance code after it (LiteralLengthTable::add_distances). Payload bits 0..8 are the
// length, 9..13 the distance symbol; code_length is the bits before the distance's extra bits.
inline constexpr uint32_t whole_match = 1u << 6;
inline constexpr uint32_t exceptional = 1u << 7;    // end of block, invalid code or subtable pointer
inline constexpr unsigned code_length_shift = 8;    // bits 8..11: code length without extra bits
inline constexpr uint32_t end_of_block = 1u << 12;  // with exceptional
inline constexpr uint32_t invalid = 1u << 13;       // with exceptional: bit string names no symbol
inline constexpr uint32_t subtable = 1u << 14;      // with exceptional: bits 8..11 = subtable index
                                                    // bits, bits 16..31 = subtable start
inline constexpr unsigned payload_shift = 16;       // literal(s), length/distance base, or symbol

inline unsigned total_bits(uint32_t e) { return e & total_bits_mask; }
inline unsigned code_length(uint32_t e) { return (e >> code_length_shift) & 0xF; }
inline uint32_t payload(uint32_t e) { return e >> payload_shift; }
// Base plus extra bits, for a length or distance entry; `bits` are the stream bits at the code.
inline uint32_t base_plus_extra(uint32_t e, uint64_t bits) {
  const uint64_t code_and_extra = bits & ((uint64_t{1} << total_bits(e)) - 1);
  return payload(e) + static_cast<uint32_t>(code_and_extra >> code_length(e));
}
inline uint32_t match_length(uint32_t e) { return payload(e) & 0x1FF; }         // whole_match entry
inline unsigned match_distance_symbol(uint32_t e) { return payload(e) >> 9; }  // whole_match entry
}  // namespace huffman_entry

// Distance symbols 0..29 (RFC 1951 §3.2.5): base distance and number of extra bits.
struct DistanceCode {
  uint16_t base;
  uint16_t extra;
};
inline constexpr DistanceCode distance_code(unsigned symbol) {
  if (symbol < 4) return {static_cast<uint16_t>(symbol + 1), 0};
  const unsigned extra = symbol / 2 - 1;
  return {static_cast<uint16_t>(((2 + symbol % 2) << extra) + 1), static_cast<uint16_t>(extra)};
}

// A decoding table with a 2^PrimaryBits primary table and room for subtables. MaxEntries bounds
// primary + subtables for any accepted code (each subtable holds >= 2 codes of a complete code).
template <unsigned PrimaryBits, unsigned MaxEntries>
class HuffmanTable {
 public:
  static constexpr unsigned primary_bits = PrimaryBits;
  static constexpr uint64_t primary_mask = (uint64_t{1} << PrimaryBits) - 1;

  // Full decode of the entry at the stream bits `bits` (at least 15 valid bits).
  uint32_t lookup(uint64_t bits) const {
    uint32_t e = entries_[bits & primary_mask];
    if (e & huffman_entry::subtable) e = subtable_entry(e, bits);
    return e;
  }
  uint32_t subtable_entry(uint32_t pointer, uint64_t bits) const {
    const unsigned index_bits = huffman_entry::code_length(pointer);
    const uint64_t index = (bits >> PrimaryBits) & ((uint64_t{1} << index_bits) - 1);
    return entries_[huffman_entry::payload(pointer) + index];
  }
  const uint32_t* primary() const { return entries_.data(); }

 protected:
  // Builds entries from code lengths; symbol_entry(symbol, code_length) gives each symbol's entry.
  template <typename SymbolEntry>
  HuffmanStatus build_entries(std::span<const uint8_t> lengths, CodeRules rules, SymbolEntry symbol_entry);

  std::array<uint32_t, MaxEntries> entries_{};
};

// Literal/length code: 11 primary bits keep 8 KiB of entries in L1 and cover the codes of typical
// text blocks; literal pairs that fit 11 bits decode in one lookup.
class DistanceTable;
class LiteralLengthTable : public HuffmanTable<11, 2048 + 144 * 16> {
 public:
  HuffmanStatus build(std::span<const uint8_t> lengths);  // 257..288 lengths
  // Turns each primary entry of a length code into a whole_match entry where the length code, its
  // extra bits and the distance code after them all lie within the primary bits: the decoder then
  // needs one dependent lookup per match instead of two. On FASTQ, where matches outnumber
  // literals about 3 to 1, ~89 % of matches qualify (reads_1.fastq.gz). `dist` is the distance
  // table of the same block; build() starts over without it.
  void add_distances(const DistanceTable& dist);

 private:
  void pair_literals();
};

// Distance code: 8 primary bits (30 symbols; longer codes are rare and go to subtables).
class DistanceTable : public HuffmanTable<8, 256 + 16 * 128> {
 public:
  HuffmanStatus build(std::span<const uint8_t> lengths);  // 1..32 lengths
};

// Code-length code (RFC 1951 §3.2.7): at most 7 bits, so one direct table; payload = symbol 0..18.
class CodeLengthTable : public HuffmanTable<7, 128> {
 public:
  HuffmanStatus build(std::span<const uint8_t> lengths);  // 19 lengths in symbol order
};

// The fixed codes of RFC 1951 §3.2.6, built once (the literal/length table with add_distances).
const LiteralLengthTable& fixed_literal_length_table();
const DistanceTable& fixed_distance_table();

}  // namespace fqpipe::gzip
