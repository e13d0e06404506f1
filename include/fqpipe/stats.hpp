// fqpipe/stats.hpp - FastqStats, the statistics consumer behind `fqpipe stats`.
// Only integers are accumulated, so any split of the input into batches merges to the same result.
#pragma once

#include <array>
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

  /// Adds every record of `batch`.
  void consume(const FastqBatch& batch);
  /// Adds the counts of `other`.
  void merge(const FastqStats& other);

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
  uint8_t quality_lo() const noexcept {
    for (int v = 0; v < 256; ++v)
      if (qual_hist_[v]) return static_cast<uint8_t>(v);
    return 255;
  }
  uint8_t quality_hi() const noexcept {
    for (int v = 255; v >= 0; --v)
      if (qual_hist_[v]) return static_cast<uint8_t>(v);
    return 0;
  }
  /// Sum of the quality scores (byte - offset of `schema`) over all bases.
  uint64_t quality_sum(QualitySchema schema) const noexcept;
  /// Bases whose score (byte - offset of `schema`) is >= `min_score`; Q20 is min_score 20.
  uint64_t bases_with_quality_at_least(QualitySchema schema, int min_score) const noexcept;

  /// length -> number of reads with that length, ascending.
  std::map<uint64_t, uint64_t> length_histogram() const;
  /// Per position i (0-based): sum of the scores at position i of every read long enough.
  std::vector<uint64_t> position_quality_sums(QualitySchema schema) const;
  /// Per position i: the number of reads longer than i.
  std::vector<uint64_t> position_counts() const;

  /// Quality byte value -> number of bases with it: the raw accumulator behind every quality
  /// number, for exact serialisation and merging of partial results.
  const std::array<uint64_t, 256>& quality_histogram() const noexcept { return qual_hist_; }

 private:
  void add_position_sums(const char* qual, std::size_t len);
  void flush_position_sums();

  uint64_t reads_ = 0, bases_ = 0, min_length_ = UINT64_MAX, max_length_ = 0;
  uint64_t base_counts_[5] = {};           // A, C, G, T, N, either case
  std::array<uint64_t, 256> qual_hist_{};  // quality byte value -> count
  std::vector<uint64_t> short_lengths_;    // length -> reads, for lengths < 65536
  std::map<uint64_t, uint64_t> long_lengths_;
  std::vector<uint64_t> pos_raw_sum_;      // per position: sum of quality *bytes*
  // Quality bytes are first added into 16-bit lanes (vectorises well) and flushed to
  // pos_raw_sum_ before they could overflow: 126 * 520 < 65536.
  std::vector<uint16_t> pos_acc16_;
  unsigned acc16_reads_ = 0;
};

}  // namespace fqpipe
