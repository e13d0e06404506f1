// FastqStats (issue 2, item 8) against counts computed independently from the reference split,
// and its invariance under threads, batch sizes and merge order. What would break: lowercase
// bases not counted, Phred+64 handled as +33, Q20/Q30 off by one at the threshold, the 16-bit
// per-position accumulators overflowing, long reads missing from the length histogram, or a
// merge that is not exact (results depending on the thread count), or a partial result of
// the producers (run<> reduces on them) that is cleared or merged wrong. The suite name "Stats"
// is in scripts/test's TSan regex.
#include <gtest/gtest.h>

#include <map>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/ref_stats.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

void expect_equal(const FastqStats& got, const RefStats& want, QualitySchema schema) {
  EXPECT_EQ(got.reads(), want.reads);
  EXPECT_EQ(got.bases(), want.bases);
  EXPECT_EQ(got.min_length(), want.min_len);
  EXPECT_EQ(got.max_length(), want.max_len);
  EXPECT_EQ(got.a(), want.a);
  EXPECT_EQ(got.c(), want.c);
  EXPECT_EQ(got.g(), want.g);
  EXPECT_EQ(got.t(), want.t);
  EXPECT_EQ(got.n(), want.n);
  EXPECT_EQ(got.other(), want.bases - want.a - want.c - want.g - want.t - want.n);
  if (want.bases) {
    EXPECT_EQ(got.quality_lo(), want.qual_lo);
    EXPECT_EQ(got.quality_hi(), want.qual_hi);
  } else {
    EXPECT_GT(got.quality_lo(), got.quality_hi());
  }
  EXPECT_EQ(got.quality_sum(schema), want.qual_sum);
  EXPECT_EQ(got.q20_bases(schema), want.q20);
  EXPECT_EQ(got.q30_bases(schema), want.q30);
  EXPECT_EQ(got.length_histogram(), want.hist);
  // Per-position arrays: at least max_length entries, nothing counted beyond it.
  const std::vector<uint64_t> sums = got.position_quality_sums(schema);
  const std::vector<uint64_t> counts = got.position_counts();
  ASSERT_GE(sums.size(), want.pos_sum.size());
  ASSERT_GE(counts.size(), want.pos_count.size());
  for (std::size_t i = 0; i < want.pos_sum.size(); ++i) {
    ASSERT_EQ(sums[i], want.pos_sum[i]) << "position " << i;
    ASSERT_EQ(counts[i], want.pos_count[i]) << "position " << i;
  }
  for (std::size_t i = want.pos_count.size(); i < counts.size(); ++i) ASSERT_EQ(counts[i], 0u);
  for (std::size_t i = want.pos_sum.size(); i < sums.size(); ++i) ASSERT_EQ(sums[i], 0u);
}

FastqStats stats_of(const std::string& path, const ReadOptions& options = {}) {
  Reader reader(path, options);
  FastqStats s;
  FastqBatch b;
  while (reader.next_batch(b)) s.consume(b);
  return s;
}

// Every accumulator, for "identical" comparisons between runs.
void expect_identical(const FastqStats& x, const FastqStats& y, QualitySchema schema) {
  EXPECT_EQ(x.reads(), y.reads());
  EXPECT_EQ(x.bases(), y.bases());
  EXPECT_EQ(x.min_length(), y.min_length());
  EXPECT_EQ(x.max_length(), y.max_length());
  EXPECT_EQ(x.a(), y.a());
  EXPECT_EQ(x.c(), y.c());
  EXPECT_EQ(x.g(), y.g());
  EXPECT_EQ(x.t(), y.t());
  EXPECT_EQ(x.n(), y.n());
  for (const QualitySchema q : {QualitySchema::sanger, QualitySchema::illumina_1_3}) {
    EXPECT_EQ(x.q20_bases(q), y.q20_bases(q));
    EXPECT_EQ(x.q30_bases(q), y.q30_bases(q));
    EXPECT_EQ(x.quality_sum(q), y.quality_sum(q));
  }
  EXPECT_EQ(x.quality_lo(), y.quality_lo());
  EXPECT_EQ(x.quality_hi(), y.quality_hi());
  EXPECT_EQ(x.length_histogram(), y.length_histogram());
  EXPECT_EQ(x.position_quality_sums(schema), y.position_quality_sums(schema));
  EXPECT_EQ(x.position_counts(), y.position_counts());
  EXPECT_EQ(x.quality_sum(schema), y.quality_sum(schema));
}

Generated phred33_sample(std::size_t records = 6000, uint64_t seed = 31) {
  GenOptions o;
  o.records = records;
  o.seed = seed;
  o.min_length = 0;
  o.max_length = 300;
  o.qual_lo = '!';
  o.qual_hi = 'J';
  o.n_fraction = 0.05;
  o.lowercase_fraction = 0.2;
  return generate_fastq(o);
}

}  // namespace

TEST(Stats, phred33_matches_reference_counts) {
  // Breaks on any miscount of reads, bases, composition (incl. lowercase), Phred+33 scores,
  // Q20/Q30 thresholds or per-position arrays.
  const Generated g = phred33_sample();
  TempDir dir;
  const std::string path = dir.write("s.fq", g.text);
  const RefStats want = reference_stats(split_fastq(g.text), 33);
  for (QualitySchema s : {QualitySchema::sanger, QualitySchema::illumina_1_8, QualitySchema::generic})
    expect_equal(stats_of(path, {.batch_records = 333}), want, s);
}

TEST(Stats, phred64_matches_reference_counts) {
  // Breaks when the Phred+64 schemas subtract 33 (every score 31 too high).
  GenOptions o;
  o.records = 5000;
  o.min_length = 1;
  o.max_length = 120;
  o.qual_lo = '@';  // 64: Q0 in Phred+64
  o.qual_hi = 'h';  // 104: Q40
  o.seed = 32;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("s64.fq", g.text);
  const RefStats want = reference_stats(split_fastq(g.text), 64);
  for (QualitySchema s : {QualitySchema::illumina_1_3, QualitySchema::solexa})
    expect_equal(stats_of(path, {.schema = QualitySchema::illumina_1_3}), want, s);
}

TEST(Stats, q20_q30_thresholds_exact) {
  // Breaks on '>' instead of '>=' at Q20/Q30: qualities 4 (Q19), 5 (Q20), = (Q28), ? (Q30).
  TempDir dir;
  const std::string path = dir.write("q.fq", "@r\nACGTA\n+\n45=?~\n");
  const FastqStats s = stats_of(path);
  EXPECT_EQ(s.q20_bases(QualitySchema::sanger), 4u);
  EXPECT_EQ(s.q30_bases(QualitySchema::sanger), 2u);
  EXPECT_EQ(s.quality_sum(QualitySchema::sanger), 19u + 20 + 28 + 30 + 93);
}

TEST(Stats, quality_counters_exact_for_every_byte_value) {
  // Breaks when the vector compares of the quality kernel treat bytes as signed (128..255 below
  // every threshold) or miss one end of a threshold, in the 32-byte loop or its scalar tail.
  // The parser never lets such bytes through; a batch built through the library API can.
  FastqBatch batch;
  batch.clear(1);
  std::string all;
  for (int round = 0; round < 3; ++round)
    for (int b = 0; b < 256; ++b) all += static_cast<char>((b * 7 + round) & 255);
  uint64_t want_at_least[4] = {}, want_sum = 0;
  for (std::size_t len : {all.size(), std::size_t{31}, std::size_t{45}}) {
    const std::string qual = all.substr(0, len);
    batch.append("r", std::string(len, 'A'), qual, 0);
    for (const char c : qual) {
      const auto b = static_cast<uint8_t>(c);
      want_sum += b;
      const uint8_t thresholds[4] = {53, 63, 84, 94};
      for (int t = 0; t < 4; ++t) want_at_least[t] += b >= thresholds[t];
    }
  }
  FastqStats s;
  s.consume(batch);
  const FastqStats::Counters c = s.counters();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(c.bytes_at_least[t], want_at_least[t]) << "threshold " << t;
  EXPECT_EQ(c.quality_byte_sum, want_sum);
  EXPECT_EQ(c.quality_lo, 0);
  EXPECT_EQ(c.quality_hi, 255);
}

TEST(Stats, lowercase_and_other_bases) {
  // Breaks when lowercase (soft-masked) bases go to "other", or IUPAC codes to N.
  TempDir dir;
  const std::string path = dir.write("b.fq", "@r\nacgtnACGTNRYK.-\n+\nIIIIIIIIIIIIIII\n");
  const FastqStats s = stats_of(path);
  EXPECT_EQ(s.a(), 2u);
  EXPECT_EQ(s.c(), 2u);
  EXPECT_EQ(s.g(), 2u);
  EXPECT_EQ(s.t(), 2u);
  EXPECT_EQ(s.n(), 2u);
  EXPECT_EQ(s.other(), 5u);
  EXPECT_EQ(s.bases(), 15u);
}

TEST(Stats, empty_input) {
  // Breaks when min_length of no reads shows UINT64_MAX, or empty reads are not counted.
  TempDir dir;
  const FastqStats none = stats_of(dir.write("e.fq", ""));
  EXPECT_EQ(none.reads(), 0u);
  EXPECT_EQ(none.min_length(), 0u);
  EXPECT_EQ(none.max_length(), 0u);
  EXPECT_EQ(none.quality_sum(QualitySchema::sanger), 0u);
  const FastqStats empties = stats_of(dir.write("z.fq", "@a\n\n+\n\n@b\nAC\n+\nII\n"));
  EXPECT_EQ(empties.reads(), 2u);
  EXPECT_EQ(empties.min_length(), 0u);
  EXPECT_EQ(empties.max_length(), 2u);
  EXPECT_EQ(empties.length_histogram(), (std::map<uint64_t, uint64_t>{{0, 1}, {2, 1}}));
}

TEST(Stats, position_sums_do_not_overflow_16bit_lanes) {
  // Breaks when the 16-bit per-position accumulators are flushed too late: 3000 reads of '~'
  // (93 each) sum to 279000 at every position, far past 65535.
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "@r\n" + std::string(100, 'A') + "\n+\n" + std::string(100, '~') + "\n";
  TempDir dir;
  const std::string path = dir.write("o.fq", text);
  for (std::size_t batch : {std::size_t{1}, std::size_t{519}, std::size_t{521}, std::size_t{8192}}) {
    const FastqStats s = stats_of(path, {.batch_records = batch});
    const std::vector<uint64_t> sums = s.position_quality_sums(QualitySchema::sanger);
    ASSERT_GE(sums.size(), 100u);
    for (std::size_t i = 0; i < 100; ++i) ASSERT_EQ(sums[i], 3000u * 93) << "pos " << i;
    EXPECT_EQ(s.quality_sum(QualitySchema::sanger), 3000u * 100 * 93);
  }
}

TEST(Stats, long_reads_in_length_histogram_and_positions) {
  // Breaks when long lengths (kept in a map, apart from short ones) are lost from the
  // histogram or min/max, or per-position arrays stop at 65536.
  GenOptions o;
  o.records = 12;
  o.min_length = 60000;
  o.max_length = 140000;
  o.seed = 33;
  Generated g = generate_fastq(o);
  GenOptions s = o;
  s.records = 500;
  s.min_length = 0;
  s.max_length = 100;
  s.seed = 34;
  s.name_prefix = "s";
  g.text += generate_fastq(s).text;
  TempDir dir;
  const std::string path = dir.write("long.fq", g.text);
  const RefStats want = reference_stats(split_fastq(g.text), 33);
  expect_equal(stats_of(path, {.batch_records = 5}), want, QualitySchema::sanger);
}

TEST(Stats, identical_for_threads_1_to_8) {
  // Breaks when the result depends on how batches are spread over consumer threads.
  const Generated g = phred33_sample(20000, 35);
  TempDir dir;
  for (const std::string& path : {dir.write("t.fq", g.text), dir.write("t.fq.gz", gzip_member(g.text))}) {
    const RefStats want = reference_stats(split_fastq(g.text), 33);
    const FastqStats one = stats_of(path);
    expect_equal(one, want, QualitySchema::sanger);
    for (unsigned threads = 1; threads <= 8; ++threads) {
      SCOPED_TRACE("threads " + std::to_string(threads));
      PipelineOptions po;
      po.threads = threads;
      po.read.batch_records = 97;
      po.read.batch_bytes = 8000;
      RunInfo info;
      const FastqStats s = run<FastqStats>(path, po, [] { return FastqStats(); }, &info);
      expect_identical(s, one, QualitySchema::sanger);
      expect_equal(s, want, QualitySchema::sanger);
      EXPECT_EQ(info.records, g.records.size());
    }
  }
}

TEST(Stats, merge_of_halves_equals_whole) {
  // Breaks when merge() drops per-position tails of the longer side, pending 16-bit lanes,
  // min/max or long-read lengths.
  const Generated g = phred33_sample(5000, 36);
  TempDir dir;
  const std::string path = dir.write("m.fq", g.text);
  const FastqStats whole = stats_of(path);
  // Split 1: batches alternately into two objects.
  FastqStats even, odd;
  {
    Reader reader(path, {.batch_records = 100});
    FastqBatch b;
    bool flip = false;
    while (reader.next_batch(b)) (flip = !flip) ? odd.consume(b) : even.consume(b);
  }
  FastqStats m1 = even;
  m1.merge(odd);
  expect_identical(m1, whole, QualitySchema::sanger);
  FastqStats m2 = odd;
  m2.merge(even);
  expect_identical(m2, whole, QualitySchema::sanger);
  // Split 2: first half of the records and second half, from separate files; the second half
  // holds the longest read, so merge must grow the first's per-position arrays.
  std::string first, second;
  for (const RefRecord& r : g.records) {
    std::string rec = "@" + r.header + "\n" + r.sequence + "\n+\n" + r.quality + "\n";
    (first.size() < g.text.size() / 2 ? first : second) += rec;
  }
  second += "@longest\n" + std::string(1000, 'G') + "\n+\n" + std::string(1000, '5') + "\n";
  FastqStats a = stats_of(dir.write("a.fq", first));
  const FastqStats b = stats_of(dir.write("b.fq", second));
  a.merge(b);
  expect_identical(a, stats_of(dir.write("ab.fq", first + second)), QualitySchema::sanger);
  // Merging an empty object changes nothing, either way round.
  FastqStats e;
  e.merge(whole);
  expect_identical(e, whole, QualitySchema::sanger);
  FastqStats w = whole;
  w.merge(FastqStats());
  expect_identical(w, whole, QualitySchema::sanger);
}

TEST(Stats, clear_then_consume_equals_fresh) {
  // Breaks when clear() leaves a counter, a pending 16-bit lane, a long length or a position
  // behind: the pipeline reuses cleared partial results for chunk after chunk.
  GenOptions o;
  o.records = 300;
  o.min_length = 0;
  o.max_length = 9000;
  o.seed = 37;
  o.qual_lo = '!';
  o.qual_hi = '~';
  const Generated a = generate_fastq(o);
  const Generated b = phred33_sample(700, 38);
  TempDir dir;
  const std::string pa = dir.write("a.fq", a.text);
  const std::string pb = dir.write("b.fq", b.text);
  for (const std::size_t batch : {std::size_t{1}, std::size_t{100}, std::size_t{8192}}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    FastqStats reused = stats_of(pa, {.batch_records = batch});
    reused.clear();
    expect_identical(reused, FastqStats(), QualitySchema::sanger);
    Reader reader(pb, {.batch_records = batch});
    FastqBatch fb;
    while (reader.next_batch(fb)) reused.consume(fb);
    expect_equal(reused, reference_stats(split_fastq(b.text), 33), QualitySchema::sanger);
    expect_identical(reused, stats_of(pb), QualitySchema::sanger);
  }
}

TEST(Stats, producers_reducing_chunks_equal_the_reference) {
  // run<FastqStats> with several producers: every chunk's records go into a partial result
  // (reused after its merge). Lengths around the vector/map split of the length histogram
  // (4095..4097), reads longer than a chunk, and empty reads; every producer count and
  // chunk size must give the reference's numbers.
  std::string text;
  GenOptions o;
  o.records = 400;
  o.min_length = 0;
  o.max_length = 300;
  o.seed = 39;
  o.n_fraction = 0.05;
  o.lowercase_fraction = 0.2;
  text += generate_fastq(o).text;
  for (const std::size_t len : {4095, 4096, 4097, 4096, 20000, 0}) {
    text += "@edge\n" + std::string(len, 'C') + "\n+\n" + std::string(len, 'I') + "\n";
    o.seed += 1;
    o.records = 50;
    text += generate_fastq(o).text;
  }
  TempDir dir;
  const std::string path = dir.write("r.fq", text);
  const RefStats want = reference_stats(split_fastq(text), 33);
  for (const unsigned producers : {1u, 2u, 3u, 7u}) {
    for (const std::size_t chunk : {std::size_t{64}, std::size_t{1000}, std::size_t{4096}, std::size_t{65536}}) {
      SCOPED_TRACE("producers " + std::to_string(producers) + " chunk " + std::to_string(chunk));
      PipelineOptions po;
      po.threads = producers;
      po.mode = PipelineMode::mpmc;
      po.chunking = Chunking::record;  // exactly these chunk sizes (automatic may raise them)
      po.read.chunk_bytes = chunk;
      po.read.batch_records = 33;
      RunInfo info;
      const FastqStats s = run<FastqStats>(path, po, [] { return FastqStats(); }, &info);
      EXPECT_EQ(info.mode, PipelineMode::mpmc);
      EXPECT_EQ(info.consumer_threads, 0u);
      expect_equal(s, want, QualitySchema::sanger);
      if (HasFailure()) return;
    }
  }
}

TEST(Stats, reads_longer_than_the_tracked_positions) {
  // Breaks when a read past kMaxTrackedPositions is dropped from the position counts (it reaches
  // every tracked position) or makes the arrays longer than the limit.
  const std::size_t limit = FastqStats::kMaxTrackedPositions;
  const std::size_t long_len = limit + 10, short_len = 5;
  std::string text = "@a\n" + std::string(long_len, 'A') + "\n+\n" + std::string(long_len, '5') + "\n";
  text += "@b\n" + std::string(short_len, 'C') + "\n+\n" + std::string(short_len, '+') + "\n";
  TempDir dir;
  const FastqStats s = stats_of(dir.write("l.fq", text));
  const std::vector<uint64_t> counts = s.position_counts();
  const std::vector<uint64_t> sums = s.position_quality_sums(QualitySchema::sanger);
  ASSERT_EQ(counts.size(), limit);
  ASSERT_EQ(sums.size(), limit);
  for (std::size_t i = 0; i < limit; ++i) {
    ASSERT_EQ(counts[i], i < short_len ? 2u : 1u) << "position " << i;
    ASSERT_EQ(sums[i], i < short_len ? 20u + 10u : 20u) << "position " << i;
  }
  EXPECT_EQ(s.length_histogram(), (std::map<uint64_t, uint64_t>{{short_len, 1}, {long_len, 1}}));
}

TEST(Stats, automatic_chunks_grow_with_the_reads) {
  // Automatic chunking raises the chunk size of a plain file with long reads (about 128
  // records a chunk, at least 8 chunks per producer) where producers keep their records
  // (run<>, count); the statistics must not change, and short reads keep the given size. Breaks when the estimate is off by a record's lines
  // (a chunk per record) or ignores the cap.
  GenOptions o;
  o.records = 4000;
  o.min_length = 2000;
  o.max_length = 6000;
  o.seed = 40;
  const Generated g = generate_fastq(o);
  GenOptions s = o;
  s.min_length = 100;
  s.max_length = 150;
  s.records = 60000;
  const Generated short_reads = generate_fastq(s);
  TempDir dir;
  for (const auto& [text, raised] : {std::pair{&g.text, true}, std::pair{&short_reads.text, false}}) {
    const std::string path = dir.write("auto.fq", *text);
    const RefStats want = reference_stats(split_fastq(*text), 33);
    PipelineOptions po;
    po.threads = 2;
    po.read.chunk_bytes = 64 << 10;
    RunInfo info;
    const FastqStats got = run<FastqStats>(path, po, [] { return FastqStats(); }, &info);
    expect_equal(got, want, QualitySchema::sanger);
    ASSERT_EQ(info.mode, PipelineMode::mpmc) << info.plan;
    const std::size_t at = info.plan.find(" KiB chunks");
    ASSERT_NE(at, std::string::npos) << info.plan;
    const std::size_t kib = std::stoul(info.plan.substr(info.plan.rfind(' ', at - 1) + 1));
    if (raised) {
      // ~8 KiB records: about 128 a chunk (1 MiB), below the cap of size / 16.
      EXPECT_GT(kib, 512u) << info.plan;
      EXPECT_LE(kib * 1024, text->size() / 16) << info.plan;
    } else {
      EXPECT_EQ(kib, 64u) << info.plan;
    }
    // Batches handed to consumers (cat, for_each_batch) keep the given size: larger chunks
    // would only make them wait longer for their turn.
    const RunInfo queued = for_each_batch(path, po, [](unsigned, const FastqBatch&) {});
    EXPECT_NE(queued.plan.find(" 64 KiB chunks"), std::string::npos) << queued.plan;
  }
}
