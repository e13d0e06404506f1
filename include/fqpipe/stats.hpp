// fqpipe/stats.hpp - FastqStats, the statistics consumer behind `fqpipe stats`.
// Only integers are accumulated, so any split of the input into batches merges to the same result.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "fqpipe/batch.hpp"
#include "fqpipe/schema.hpp"

namespace fqpipe {

/// Counts over a set of records: reads, bases, lengths, base composition and quality.
/// consume() is called by one thread per object; merge() combines objects exactly.
class FastqStats {
 public:
  /// Positions past this one are not kept in the per-position quality arrays (a record of
  /// 100 Mbp would otherwise cost 800 MB of counters); every other number counts all bases.
  static constexpr std::size_t kMaxTrackedPositions = std::size_t{1} << 20;
  /// Record numbers play no part in statistics, so pipelines may consume chunks speculatively
  /// (see fqpipe::reduce()).
  static constexpr bool needs_record_numbers = false;
  /// Nor do names: batches come without headers (one copy less per record).
  static constexpr bool needs_headers = false;

  /// Adds every record of `batch`.
  void consume(const FastqBatch& batch);
  /// Adds the counts of `other`.
  void merge(const FastqStats& other);
  /// Back to no records, keeping the memory (a pipeline reuses partial results this way).
  void clear() noexcept;

  uint64_t reads() const noexcept { return reads_; }
  uint64_t bases() const noexcept { return bases_; }
  /// Shortest and longest sequence; both 0 when there are no reads.
  uint64_t min_length() const noexcept { return reads_ ? min_length_ : 0; }
  uint64_t max_length() const noexcept { return max_length_; }
  /// Base counts, case-insensitive; `other` is every byte that is not A, C, G, T or N.
  uint64_t a() const noexcept { return base_counts_[0]; }
  uint64_t c() const noexcept { return base_counts_[1]; }
  uint64_t g() const noexcept { return base_counts_[2]; }
  uint64_t t() const noexcept { return base_counts_[3]; }
  uint64_t n() const noexcept { return base_counts_[4]; }
  uint64_t other() const noexcept { return bases_ - a() - c() - g() - t() - n(); }

  /// Smallest and largest quality byte seen (lo > hi when none).
  uint8_t quality_lo() const noexcept { return qual_lo_; }
  uint8_t quality_hi() const noexcept { return qual_hi_; }
  /// Sum of the quality scores (byte - offset of `schema`) over all bases.
  uint64_t quality_sum(QualitySchema schema) const noexcept;
  /// Bases whose score (byte - offset of `schema`) is at least 20, and at least 30.
  uint64_t q20_bases(QualitySchema schema) const noexcept;
  uint64_t q30_bases(QualitySchema schema) const noexcept;

  /// length -> number of reads with that length, ascending.
  std::map<uint64_t, uint64_t> length_histogram() const;
  /// Per position i (0-based): sum of the scores at position i of every read long enough.
  std::vector<uint64_t> position_quality_sums(QualitySchema schema) const;
  /// Per position i: the number of reads longer than i.
  std::vector<uint64_t> position_counts() const;

  /// Every counter, schema-free: enough to save a partial result (`fqpipe stats --part`) and
  /// merge it exactly with others later (`fqpipe merge`), whatever schema each part detected.
  struct Counters {
    uint64_t reads = 0, bases = 0, min_length = 0, max_length = 0;
    uint64_t base_counts[5] = {};       ///< A, C, G, T, N
    uint64_t quality_byte_sum = 0;      ///< sum of quality bytes (not scores)
    uint64_t bytes_at_least[4] = {};    ///< quality bytes >= 53, 63, 84, 94 (Q20/Q30 at 33, 64)
    uint8_t quality_lo = 255, quality_hi = 0;
    std::map<uint64_t, uint64_t> length_histogram;
    std::vector<uint64_t> position_byte_sums;  ///< per position: sum of quality bytes
  };
  Counters counters() const;
  /// The statistics whose counters() are `c`. Throws std::invalid_argument when they cannot
  /// belong together (reads != histogram total, bases != length sum, bases != base counts...).
  static FastqStats from_counters(const Counters& c);

 private:
  void add_position_sums(const char* qual, std::size_t len);
  void flush_position_sums();
  // Position i's sum of quality bytes: the flushed part and the pending 16-bit lane.
  uint64_t position_byte_sum(std::size_t i) const {
    return (i < pos_raw_sum_.size() ? pos_raw_sum_[i] : 0) + pos_acc16_[i];
  }

  uint64_t reads_ = 0, bases_ = 0, min_length_ = UINT64_MAX, max_length_ = 0;
  uint64_t base_counts_[5] = {};           // A, C, G, T, N, either case
  // Quality counters for both offsets a schema can have (33 and 64): bytes >= 53, 63, 84, 94
  // are Q20/Q30 at offset 33 and Q20/Q30 at offset 64. Counting four thresholds with vector
  // compares costs a third of a 256-bin histogram per byte.
  uint64_t qual_at_least_[4] = {};
  uint64_t qual_byte_sum_ = 0;
  uint8_t qual_lo_ = 255, qual_hi_ = 0;
  std::vector<uint64_t> short_lengths_;    // length -> reads, for short lengths (stats.cpp)
  std::map<uint64_t, uint64_t> long_lengths_;
  // Per position: sum of quality *bytes*; grown at a flush or merge only, so it may be shorter
  // than pos_acc16_ (whose size is the positions seen): a partial result of a few reads merges
  // its lanes alone.
  std::vector<uint64_t> pos_raw_sum_;
  // Quality bytes are first added into 16-bit lanes (vectorises well) and flushed to
  // pos_raw_sum_ every 256 reads, before they could overflow (255 * 256 < 65536); readers add
  // the pending lanes (position_byte_sum). Flushing after every batch cost a fifth as much as
  // the adding itself on long reads (batches of ~80 reads, 50,000 positions).
  std::vector<uint16_t> pos_acc16_;
  unsigned acc16_reads_ = 0;
};

}  // namespace fqpipe
