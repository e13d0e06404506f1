// Finds plausible DEFLATE block starts at unknown bit offsets (DESIGN.md §3 step 2), so a thread
// can start decoding in the middle of a gzip member. Cheap bit and table tests reject most offsets.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "gzip/deflate_decoder.hpp"

namespace fqpipe::gzip {

struct BlockCandidate {
  enum class Kind : uint8_t { dynamic, stored };
  uint64_t comp_bit = 0;  // bit offset of the block header (BFINAL)
  Kind kind = Kind::dynamic;
};

// How many bit offsets passed each filter; for measuring false positives.
struct BlockFinderCounts {
  uint64_t offsets_scanned = 0;
  uint64_t passed_header_table = 0;      // BFINAL=0, BTYPE=2, HLIT <= 29, HDIST <= 29
  uint64_t passed_code_length_code = 0;  // code-length code complete
  uint64_t passed_dynamic_header = 0;    // read_dynamic_header ok
  uint64_t stored_candidates = 0;        // zero bits + LEN == ~NLEN
  uint64_t rejected_by_decoding = 0;     // stored candidates confirm_by_decoding said no to
};

// Thread-compatible: one finder per thread (it owns a decoder for confirmation).
class BlockFinder {
 public:
  // confirm_by_decoding: for a stored candidate, decode it and the block after it (unknown
  // window) and check the header after that. LEN == ~NLEN behind zero bits happens by chance
  // about once per 0.5 MB of compressed data; the trial removes nearly all of those. Dynamic
  // candidates are never trial-decoded: the full header check leaves next to no false ones.
  explicit BlockFinder(std::span<const uint8_t> comp, bool confirm_by_decoding = true)
      : comp_(comp), confirm_(confirm_by_decoding) {}

  // Aims the finder at other input, keeping its decoder's tables and buffers (and the counts), so
  // one finder per thread can serve many inputs without allocating.
  void reset(std::span<const uint8_t> comp) {
    comp_ = comp;
    confirmed_bit_ = std::numeric_limits<uint64_t>::max();
  }

  // First candidate with from_bit <= comp_bit < until_bit, dynamic or stored.
  //
  // A stored block's header can sit anywhere in the zero bits before its LEN field (its padding
  // is zero by definition), and every such position decodes the same block. The finder reports
  // the earliest one that is >= from_bit, at most 10 bits before LEN; the true header may be
  // later, so compare stored starts by the byte offset of LEN, not by the bit. Empty stored
  // blocks (flush markers) are never reported: the block after one is.
  std::optional<BlockCandidate> find(uint64_t from_bit, uint64_t until_bit = std::numeric_limits<uint64_t>::max());
  std::optional<uint64_t> find_dynamic(uint64_t from_bit, uint64_t until_bit);
  std::optional<uint64_t> find_stored(uint64_t from_bit, uint64_t until_bit);

  const BlockFinderCounts& counts() const { return counts_; }

 private:
  bool code_length_code_complete(uint64_t comp_bit) const;
  bool dynamic_header_valid(uint64_t comp_bit);
  bool confirmed(uint64_t comp_bit);
  bool confirm_by_decoding(uint64_t comp_bit);
  uint64_t load_bits(uint64_t comp_bit) const;  // >= 57 bits from comp_bit, zero past the end

  std::span<const uint8_t> comp_;
  bool confirm_;
  BlockFinderCounts counts_;
  DeflateDecoder decoder_;
  DeflateChunk chunk_;
  DynamicHeader header_;
  // The last verdict of confirm_by_decoding. find() restarts both scans at its from_bit, so a
  // stored candidate behind several rejected or reported dynamic ones is met on every call.
  uint64_t confirmed_bit_ = std::numeric_limits<uint64_t>::max();
  bool confirmed_verdict_ = false;
};

}  // namespace fqpipe::gzip
