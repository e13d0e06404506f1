// stats.cpp - FastqStats: byte histograms over whole batch arenas, then one pass per record
// for lengths and per-position quality. Every derived number comes from the histograms.
#include "fqpipe/stats.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>

namespace fqpipe {
namespace {

// Lengths below this are counted in a vector, longer ones in a map: a vector up to the longest
// read would make each partial result of a long-read chunk (pipeline reduce) as big to clear
// and to merge as the chunk itself.
constexpr uint64_t kShortLengthLimit = 4096;
// 16-bit per-position lanes hold 256 reads of any byte value (255 * 256 < 65536).
constexpr unsigned kReadsPerFlush = 256;

// The byte kernels below are built twice, for AVX2 and for the portable baseline
// (x86-64-v2), and the loader picks one per machine (GCC ifunc). 32-byte vectors are one AVX2
// register, or two SSE registers in the baseline copy. The ASan build keeps only the baseline,
// so the test suite runs both.
#if defined(FQPIPE_CPU_DISPATCH) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FQPIPE_BYTE_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define FQPIPE_BYTE_KERNEL
#endif

using Bytes32 = uint8_t __attribute__((vector_size(32)));
using SignedBytes32 = int8_t __attribute__((vector_size(32)));
using Words16 = uint16_t __attribute__((vector_size(32)));

// Counts A, C, G, T and N (either case) in `bytes` into counts[0..4]: five compares and five
// subtracts per 32 bytes into byte lanes, widened every 255 rounds before a lane can overflow.
// ~5x faster than a histogram.
FQPIPE_BYTE_KERNEL
void count_bases(std::string_view bytes, uint64_t counts[5]) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  std::size_t n = bytes.size();
  static constexpr uint8_t kBases[5] = {'a', 'c', 'g', 't', 'n'};
  while (n >= 32) {
    Bytes32 acc[5] = {};
    const std::size_t rounds = std::min<std::size_t>(n / 32, 255);
    for (std::size_t r = 0; r < rounds; ++r, p += 32) {
      Bytes32 v;
      std::memcpy(&v, p, 32);
      v |= 0x20;
      for (int b = 0; b < 5; ++b) acc[b] -= reinterpret_cast<Bytes32>(v == kBases[b]);
    }
    n -= rounds * 32;
    for (int b = 0; b < 5; ++b)
      for (int lane = 0; lane < 32; ++lane) counts[b] += acc[b][lane];
  }
  for (; n > 0; --n, ++p) {
    const uint8_t c = *p | 0x20;
    for (int b = 0; b < 5; ++b) counts[b] += c == kBases[b];
  }
}

constexpr uint8_t kQualityThresholds[4] = {33 + 20, 33 + 30, 64 + 20, 64 + 30};

// One pass over a quality arena: sum of bytes, bytes at or above each threshold, min and max.
// Per 32 bytes: 4 compares into byte counters (widened every 255 rounds) and two 16-bit adds
// for the sum (even and odd bytes), which hold 255 rounds of 255 without overflow. x86 has no
// unsigned byte compare: `v >= t` became three instructions (subtract with saturation, two
// compares); with both sides moved by 0x80 it is one signed compare (pcmpgtb) against t - 1.
// long.fastq, stats -t 2: count_qualities 15.6 % of the samples before.
FQPIPE_BYTE_KERNEL
void count_qualities(std::string_view bytes, uint64_t at_least[4], uint64_t& sum, uint8_t& lo, uint8_t& hi) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  std::size_t n = bytes.size();
  Bytes32 vlo, vhi;
  for (int i = 0; i < 32; ++i) {
    vlo[i] = lo;
    vhi[i] = hi;
  }
  while (n >= 32) {
    Bytes32 count[4] = {};
    Words16 even = {}, odd = {};
    const std::size_t rounds = std::min<std::size_t>(n / 32, 255);
    for (std::size_t r = 0; r < rounds; ++r, p += 32) {
      Bytes32 v;
      std::memcpy(&v, p, 32);
      vlo = v < vlo ? v : vlo;
      vhi = v > vhi ? v : vhi;
      const SignedBytes32 biased = reinterpret_cast<SignedBytes32>(v ^ 0x80);
      for (int t = 0; t < 4; ++t)
        count[t] -= reinterpret_cast<Bytes32>(biased > static_cast<int8_t>((kQualityThresholds[t] - 1) ^ 0x80));
      const Words16 w = reinterpret_cast<Words16>(v);
      even += w & 0xff;
      odd += w >> 8;
    }
    n -= rounds * 32;
    for (int lane = 0; lane < 32; ++lane)
      for (int t = 0; t < 4; ++t) at_least[t] += count[t][lane];
    for (int lane = 0; lane < 16; ++lane) sum += uint64_t{even[lane]} + odd[lane];
  }
  for (int i = 0; i < 32; ++i) {
    lo = std::min(lo, vlo[i]);
    hi = std::max(hi, vhi[i]);
  }
  for (; n > 0; --n, ++p) {
    for (int t = 0; t < 4; ++t) at_least[t] += *p >= kQualityThresholds[t];
    sum += *p;
    lo = std::min(lo, *p);
    hi = std::max(hi, *p);
  }
}

// acc[i] += q[i] for one read: the per-position quality sums, widened byte to 16 bits.
FQPIPE_BYTE_KERNEL
void add_widened(uint16_t* acc, const uint8_t* q, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] = static_cast<uint16_t>(acc[i] + q[i]);
}

}  // namespace

void FastqStats::add_position_sums(const char* qual, std::size_t len) {
  len = std::min(len, kMaxTrackedPositions);
  if (pos_acc16_.size() < len) pos_acc16_.resize(len, 0);
  add_widened(pos_acc16_.data(), reinterpret_cast<const uint8_t*>(qual), len);
  if (++acc16_reads_ == kReadsPerFlush) flush_position_sums();
}

void FastqStats::flush_position_sums() {
  if (pos_raw_sum_.size() < pos_acc16_.size()) pos_raw_sum_.resize(pos_acc16_.size(), 0);
  for (std::size_t i = 0; i < pos_acc16_.size(); ++i) {
    pos_raw_sum_[i] += pos_acc16_[i];
    pos_acc16_[i] = 0;
  }
  acc16_reads_ = 0;
}

void FastqStats::consume(const FastqBatch& batch) {
  count_bases(batch.sequences(), base_counts_);
  count_qualities(batch.qualities(), qual_at_least_, qual_byte_sum_, qual_lo_, qual_hi_);
  const std::vector<uint32_t>& ends = batch.sequence_ends();
  const char* quals = batch.qualities().data();
  uint32_t start = 0;
  for (const uint32_t end : ends) {
    const uint64_t len = end - start;
    if (len < kShortLengthLimit) {
      if (short_lengths_.size() <= len) short_lengths_.resize(len + 1, 0);
      ++short_lengths_[len];
    } else {
      ++long_lengths_[len];
    }
    min_length_ = std::min(min_length_, len);
    max_length_ = std::max(max_length_, len);
    add_position_sums(quals + start, len);
    start = end;
  }
  reads_ += ends.size();
  bases_ += batch.sequence_bytes();
}

void FastqStats::clear() noexcept {
  reads_ = bases_ = max_length_ = 0;
  min_length_ = UINT64_MAX;
  std::fill(std::begin(base_counts_), std::end(base_counts_), 0);
  std::fill(std::begin(qual_at_least_), std::end(qual_at_least_), 0);
  qual_byte_sum_ = 0;
  qual_lo_ = 255;
  qual_hi_ = 0;
  short_lengths_.clear();  // vectors keep their memory, and resize() zeroes what is used again
  long_lengths_.clear();
  pos_raw_sum_.clear();
  pos_acc16_.clear();
  acc16_reads_ = 0;
}

void FastqStats::merge(const FastqStats& other) {
  reads_ += other.reads_;
  bases_ += other.bases_;
  min_length_ = std::min(min_length_, other.min_length_);
  max_length_ = std::max(max_length_, other.max_length_);
  for (int t = 0; t < 4; ++t) qual_at_least_[t] += other.qual_at_least_[t];
  qual_byte_sum_ += other.qual_byte_sum_;
  qual_lo_ = std::min(qual_lo_, other.qual_lo_);
  qual_hi_ = std::max(qual_hi_, other.qual_hi_);
  for (int b = 0; b < 5; ++b) base_counts_[b] += other.base_counts_[b];
  if (short_lengths_.size() < other.short_lengths_.size())
    short_lengths_.resize(other.short_lengths_.size(), 0);
  for (std::size_t i = 0; i < other.short_lengths_.size(); ++i) short_lengths_[i] += other.short_lengths_[i];
  for (const auto& [len, count] : other.long_lengths_) long_lengths_[len] += count;
  // Into the 64-bit sums: other's pending lanes could overflow ours.
  const std::size_t positions = other.pos_acc16_.size();
  if (pos_acc16_.size() < positions) pos_acc16_.resize(positions, 0);
  if (pos_raw_sum_.size() < positions) pos_raw_sum_.resize(positions, 0);
  uint64_t* sum = pos_raw_sum_.data();
  for (std::size_t i = 0; i < other.pos_raw_sum_.size(); ++i) sum[i] += other.pos_raw_sum_[i];
  const uint16_t* lane = other.pos_acc16_.data();
  for (std::size_t i = 0; i < positions; ++i) sum[i] += lane[i];
}

FastqStats::Counters FastqStats::counters() const {
  Counters c;
  c.reads = reads_;
  c.bases = bases_;
  c.min_length = min_length();
  c.max_length = max_length_;
  std::copy(std::begin(base_counts_), std::end(base_counts_), c.base_counts);
  c.quality_byte_sum = qual_byte_sum_;
  std::copy(std::begin(qual_at_least_), std::end(qual_at_least_), c.bytes_at_least);
  c.quality_lo = qual_lo_;
  c.quality_hi = qual_hi_;
  c.length_histogram = length_histogram();
  c.position_byte_sums.resize(pos_acc16_.size());
  for (std::size_t i = 0; i < pos_acc16_.size(); ++i) c.position_byte_sums[i] = position_byte_sum(i);
  // Positions no read reaches carry nothing: drop trailing zeros so equal data compare equal.
  while (!c.position_byte_sums.empty() && c.position_byte_sums.back() == 0) c.position_byte_sums.pop_back();
  return c;
}

FastqStats FastqStats::from_counters(const Counters& c) {
  uint64_t reads = 0, bases = 0, min_len = UINT64_MAX, max_len = 0;
  for (const auto& [len, count] : c.length_histogram) {
    if (count == 0) continue;
    reads += count;
    bases += len * count;
    min_len = std::min(min_len, len);
    max_len = std::max(max_len, len);
  }
  uint64_t acgtn = 0;
  for (const uint64_t b : c.base_counts) acgtn += b;
  if (reads != c.reads || bases != c.bases || acgtn > c.bases ||
      (reads && (min_len != c.min_length || max_len != c.max_length)) ||
      c.bytes_at_least[1] > c.bytes_at_least[0] || c.bytes_at_least[0] > c.bases ||
      c.position_byte_sums.size() > std::min<uint64_t>(max_len, kMaxTrackedPositions))
    throw std::invalid_argument("inconsistent statistics counters");
  FastqStats s;
  s.reads_ = c.reads;
  s.bases_ = c.bases;
  s.min_length_ = reads ? c.min_length : UINT64_MAX;
  s.max_length_ = c.max_length;
  std::copy(std::begin(c.base_counts), std::end(c.base_counts), s.base_counts_);
  s.qual_byte_sum_ = c.quality_byte_sum;
  std::copy(std::begin(c.bytes_at_least), std::end(c.bytes_at_least), s.qual_at_least_);
  s.qual_lo_ = c.quality_lo;
  s.qual_hi_ = c.quality_hi;
  for (const auto& [len, count] : c.length_histogram) {
    if (count == 0) continue;
    if (len < kShortLengthLimit) {
      if (s.short_lengths_.size() <= len) s.short_lengths_.resize(len + 1, 0);
      s.short_lengths_[len] += count;
    } else {
      s.long_lengths_[len] += count;
    }
  }
  s.pos_raw_sum_ = c.position_byte_sums;
  s.pos_acc16_.assign(s.pos_raw_sum_.size(), 0);
  return s;
}

uint64_t FastqStats::quality_sum(QualitySchema schema) const noexcept {
  const uint64_t floor = static_cast<uint64_t>(quality_offset(schema)) * bases_;
  return qual_byte_sum_ > floor ? qual_byte_sum_ - floor : 0;
}

uint64_t FastqStats::q20_bases(QualitySchema schema) const noexcept {
  return qual_at_least_[quality_offset(schema) == 33 ? 0 : 2];
}

uint64_t FastqStats::q30_bases(QualitySchema schema) const noexcept {
  return qual_at_least_[quality_offset(schema) == 33 ? 1 : 3];
}

std::map<uint64_t, uint64_t> FastqStats::length_histogram() const {
  std::map<uint64_t, uint64_t> out(long_lengths_);
  for (std::size_t len = 0; len < short_lengths_.size(); ++len)
    if (short_lengths_[len]) out[len] = short_lengths_[len];
  return out;
}

std::vector<uint64_t> FastqStats::position_counts() const {
  // Reads longer than i, from the length counts: reads of length L reach positions 0..L-1, so
  // count them at L - 1 (the last position kept, if L is longer) and sum from the back. No copy
  // of the histogram: long reads can have tens of thousands of distinct lengths.
  const std::size_t n = std::min<uint64_t>(max_length_, kMaxTrackedPositions);
  std::vector<uint64_t> longer(n, 0);
  const auto add = [&](uint64_t len, uint64_t reads) {
    if (len > 0) longer[std::min<uint64_t>(len, n) - 1] += reads;
  };
  for (std::size_t len = 0; len < short_lengths_.size(); ++len) add(len, short_lengths_[len]);
  for (const auto& [len, reads] : long_lengths_) add(len, reads);
  for (std::size_t i = n; i-- > 1;) longer[i - 1] += longer[i];
  return longer;
}

std::vector<uint64_t> FastqStats::position_quality_sums(QualitySchema schema) const {
  const std::vector<uint64_t> counts = position_counts();
  const uint64_t offset = static_cast<uint64_t>(quality_offset(schema));
  std::vector<uint64_t> sums(counts.size(), 0);
  for (std::size_t i = 0; i < sums.size() && i < pos_acc16_.size(); ++i) {
    const uint64_t floor = offset * counts[i];
    const uint64_t raw = position_byte_sum(i);
    sums[i] = raw > floor ? raw - floor : 0;
  }
  return sums;
}

}  // namespace fqpipe
