// testlib/ref_stats.hpp - FASTQ statistics computed the slow and obvious way from reference
// records, to check FastqStats and `fqpipe stats` against. No fqpipe code involved.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "testlib/reference.hpp"

namespace fqpipe::testlib {

struct RefStats {
  uint64_t reads = 0, bases = 0, min_len = 0, max_len = 0;  ///< min_len 0 without reads
  uint64_t a = 0, c = 0, g = 0, t = 0, n = 0;               ///< case-insensitive
  uint64_t qual_sum = 0, q20 = 0, q30 = 0;                   ///< scores = byte - offset
  int qual_lo = 255, qual_hi = 0;                            ///< lo > hi without bases
  std::map<uint64_t, uint64_t> hist;                         ///< length -> reads
  std::vector<uint64_t> pos_sum, pos_count;                  ///< per 0-based position
};

/// Statistics of `records` with quality offset `offset` (33 or 64). Scores below the offset
/// are not expected (tests keep qualities within the schema).
RefStats reference_stats(const std::vector<RefRecord>& records, int offset);

}  // namespace fqpipe::testlib
