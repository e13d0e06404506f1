// Block finder: a bit-parallel test of the 13 header bits rejects ~89 % of bit offsets (64 at a
// time), a Kraft sum over the code-length code (5 table lookups) most of the rest, and
// read_dynamic_header judges the few that remain.
#include "gzip/block_finder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace fqpipe::gzip {
namespace {

// Bit k of the result is set when the 13 bits at offset k of `w` could start a non-final
// dynamic block: BFINAL = 0, BTYPE = 2 (bit 1 = 0, bit 2 = 1), HLIT <= 29 and HDIST <= 29 (30
// and 31 are invalid, RFC 1951 §3.2.7: the four high bits of the 5-bit field not all ones).
// Valid for the offsets whose 13 bits lie inside w. One table lookup per offset cost twice as much.
constexpr uint64_t plausible_headers(uint64_t w) {
  const uint64_t btype_dynamic = ~w & ~(w >> 1) & (w >> 2);
  const uint64_t hlit_too_big = (w >> 4) & (w >> 5) & (w >> 6) & (w >> 7);
  const uint64_t hdist_too_big = (w >> 9) & (w >> 10) & (w >> 11) & (w >> 12);
  return btype_dynamic & ~hlit_too_big & ~hdist_too_big;
}

// Offsets plausible_headers() judges per load: load_bits() gives >= 57 valid bits, and the
// last offset needs its 13.
constexpr unsigned offsets_per_load = 57 - 12;

// Kraft sum (scaled by 2^7) of four 3-bit code-length-code lengths.
constexpr std::array<uint16_t, 4096> kraft_of_four = [] {
  std::array<uint16_t, 4096> t{};
  for (unsigned i = 0; i < t.size(); ++i) {
    for (unsigned k = 0; k < 4; ++k) {
      const unsigned len = (i >> (3 * k)) & 7;
      if (len != 0) t[i] = static_cast<uint16_t>(t[i] + (1u << (7 - len)));
    }
  }
  return t;
}();

}  // namespace

uint64_t BlockFinder::load_bits(uint64_t comp_bit) const {
  const uint64_t byte = comp_bit / 8;
  uint64_t word = 0;
  if (byte + 8 <= comp_.size()) {
    std::memcpy(&word, comp_.data() + byte, 8);
  } else if (byte < comp_.size()) {
    std::memcpy(&word, comp_.data() + byte, comp_.size() - byte);  // little-endian: zero padded
  }
  return word >> (comp_bit % 8);
}

bool BlockFinder::code_length_code_complete(uint64_t comp_bit) const {
  const unsigned count = static_cast<unsigned>(load_bits(comp_bit + 13) & 15) + 4;  // HCLEN + 4
  const uint64_t lengths = load_bits(comp_bit + 17) & ((uint64_t{1} << (3 * count)) - 1);
  const unsigned kraft = kraft_of_four[lengths & 4095] + kraft_of_four[(lengths >> 12) & 4095] +
                         kraft_of_four[(lengths >> 24) & 4095] + kraft_of_four[(lengths >> 36) & 4095] +
                         kraft_of_four[(lengths >> 48) & 4095];
  return kraft == 128;
}

bool BlockFinder::dynamic_header_valid(uint64_t comp_bit) {
  BitReader in(comp_, comp_bit + 3);
  return read_dynamic_header(in, header_) == DeflateStatus::ok;
}

bool BlockFinder::confirmed(uint64_t comp_bit) {
  if (comp_bit != confirmed_bit_) {
    confirmed_verdict_ = confirm_by_decoding(comp_bit);
    confirmed_bit_ = comp_bit;
  }
  return confirmed_verdict_;
}

// Decodes the candidate block and the one after it, and checks the header after that: a false
// start rarely survives two block decodes. Input that ends inside them cannot refute the
// candidate, so it is accepted.
bool BlockFinder::confirm_by_decoding(uint64_t comp_bit) {
  constexpr uint64_t max_block_output = uint64_t{8} << 20;  // 2^14 symbols x 258, doubled
  uint64_t block = comp_bit;
  for (int decoded = 0; decoded < 2; ++decoded) {
    const DeflateStatus s =
        decoder_.decode_unknown_window(comp_, block, {.stop_bit = block + 1, .max_output = max_block_output}, chunk_);
    if (s == DeflateStatus::truncated_input) return true;
    if (s != DeflateStatus::ok) return false;
    if (chunk_.final_block_seen) return true;
    block = chunk_.end_bit;
  }
  BitReader in(comp_, block);
  const unsigned btype = in.read(3) >> 1;
  if (in.overran()) return true;
  switch (btype) {
    case 0: {
      in.align_to_byte();
      const uint32_t len = in.read(16);
      const uint32_t nlen = in.read(16);
      return in.overran() || len == (~nlen & 0xFFFF);
    }
    case 1: return true;
    case 2: {
      const DeflateStatus h = read_dynamic_header(in, header_);
      return h == DeflateStatus::ok || h == DeflateStatus::truncated_input;
    }
    default: return false;
  }
}

// Scan loop phases: one unaligned 64-bit load judges offsets_per_load offsets at once
// (plausible_headers); each survivor faces the Kraft test, then the full header check. No trial
// decode: no offset of 4.3 G in random bytes passed the full check, and the caller decodes from
// the candidate anyway, so decoding its first two blocks here too only doubled the cost of a
// find (reads_1.fastq.gz, a guess every MiB: 0.82 -> 0.42 ms).
std::optional<uint64_t> BlockFinder::find_dynamic(uint64_t from_bit, uint64_t until_bit) {
  until_bit = std::min(until_bit, uint64_t{comp_.size()} * 8);
  if (from_bit >= until_bit) return std::nullopt;
  counts_.offsets_scanned += until_bit - from_bit;
  for (uint64_t base = from_bit; base < until_bit; base += offsets_per_load) {
    uint64_t plausible = plausible_headers(load_bits(base)) & BitReader::low_mask(offsets_per_load);
    if (until_bit - base < offsets_per_load) plausible &= BitReader::low_mask(static_cast<unsigned>(until_bit - base));
    while (plausible != 0) {
      const uint64_t bit = base + static_cast<unsigned>(std::countr_zero(plausible));
      plausible &= plausible - 1;
      ++counts_.passed_header_table;
      if (!code_length_code_complete(bit)) continue;
      ++counts_.passed_code_length_code;
      if (!dynamic_header_valid(bit)) continue;
      ++counts_.passed_dynamic_header;
      return bit;
    }
  }
  return std::nullopt;
}

// Stored blocks (RFC 1951 §3.2.4): LEN == ~NLEN at a byte boundary, preceded by at least 3 zero
// bits (BFINAL = 0, BTYPE = 0) and at most 7 more zero padding bits.
std::optional<uint64_t> BlockFinder::find_stored(uint64_t from_bit, uint64_t until_bit) {
  until_bit = std::min(until_bit, uint64_t{comp_.size()} * 8);
  if (from_bit >= until_bit) return std::nullopt;
  const uint64_t first_len_byte = std::max<uint64_t>((from_bit + 3 + 7) / 8, 1);
  const uint64_t end_len_byte = std::min<uint64_t>((until_bit + 10) / 8 + 1, comp_.size() >= 4 ? comp_.size() - 3 : 0);
  const uint8_t* data = comp_.data();
  for (uint64_t byte = first_len_byte; byte < end_len_byte; ++byte) {
    const unsigned len = data[byte] | (data[byte + 1] << 8);
    const unsigned nlen = data[byte + 2] | (data[byte + 3] << 8);
    if ((len ^ nlen) != 0xFFFF) [[likely]] continue;
    // An empty stored block is a flush marker (pigz ends every 128 KiB block with one, zlib's
    // Z_SYNC_FLUSH and Z_FULL_FLUSH write them): its header may sit at any bit of its padding,
    // where the front rarely rests on the one reported, while the block after it starts on a
    // byte at which ISA-L does rest. So the block after it is the candidate. reads_1.pigz.gz:
    // 12-13 of ~120 speculative chunks wasted -> 2 (-v); bench/compare.sh, 7 rounds, stats -t 2
    // 0.691 -> 0.610 s, decompress -t 2 0.619 -> 0.572 s (igzip -dc 0.842 s).
    if (len == 0) continue;
    const unsigned before = (byte >= 2 ? data[byte - 2] : 0xFF) | (data[byte - 1] << 8);
    const unsigned zero_run = std::min(std::countl_zero(static_cast<uint16_t>(before)), 10);
    if (zero_run < 3) continue;
    const uint64_t bit = std::max(byte * 8 - zero_run, from_bit);
    if (bit > byte * 8 - 3 || bit >= until_bit) continue;
    ++counts_.stored_candidates;
    if (confirm_ && !confirmed(bit)) {
      ++counts_.rejected_by_decoding;
      continue;
    }
    return bit;
  }
  return std::nullopt;
}

// Scans in slices so that neither scan runs far past the first candidate of the other: per
// slice, the cheap stored scan runs first and bounds the dynamic scan.
std::optional<BlockCandidate> BlockFinder::find(uint64_t from_bit, uint64_t until_bit) {
  constexpr uint64_t slice_bits = uint64_t{1} << 16;
  until_bit = std::min(until_bit, uint64_t{comp_.size()} * 8);
  for (uint64_t slice = from_bit; slice < until_bit; slice += slice_bits) {
    const uint64_t slice_end = std::min(until_bit, slice + slice_bits);
    const std::optional<uint64_t> stored = find_stored(slice, slice_end);
    const std::optional<uint64_t> dynamic = find_dynamic(slice, stored ? *stored : slice_end);
    if (dynamic) return BlockCandidate{*dynamic, BlockCandidate::Kind::dynamic};
    if (stored) return BlockCandidate{*stored, BlockCandidate::Kind::stored};
  }
  return std::nullopt;
}

}  // namespace fqpipe::gzip
