// MPMC, several producers parsing chunks of one plain file (issue 4, item 8): every run must
// equal the single-producer parse (SPMC, one thread) of the same file, record for record,
// number for number, byte offset for byte offset, and error for error. What would break: a
// guessed first record that is a quality line beginning with '@' (or a frame shifted by a
// sequence that begins with '+'); a seam at a quality line, a '+' line, the '\n' before a
// header or inside "\r\n"; a record spanning several chunks; an empty read or a last record
// without newline at a chunk end; blank lines (allowed at the end only); a later chunk's error
// winning over an earlier one, or an error renumbered wrongly; equal ranges counting a record
// twice; a consumer's exception deadlocking producers that wait for a window or a free batch.
// Suite names are "PipelineMpmc", which scripts/test's TSan regex selects.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fastq/record_boundary.hpp"
#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

constexpr int kDeadline = 120;  // seconds; a hang ends the program (no timing assertion)

const std::vector<unsigned> kProducers = {1, 2, 3, 7};
const std::vector<unsigned> kConsumers = {1, 2, 5};
const std::vector<std::size_t> kChunks = {1, 7, 64, 1000, 1024, 4096, 65536};
const std::vector<std::size_t> kBatchRecords = {1, 3, 1000};

// One record as a consumer saw it, with its number and offset.
struct Rec {
  uint64_t no = 0;
  uint64_t byte = 0;
  std::string header, sequence, quality;
  auto operator<=>(const Rec&) const = default;
};

std::string show(const Rec& r) {
  return "#" + std::to_string(r.no) + " @" + std::to_string(r.byte) + " [" + r.header + "] [" +
         r.sequence + "] [" + r.quality + "]";
}

// What one for_each_batch run delivered.
struct Got {
  std::vector<Rec> sorted;   // every record consumed, sorted by number
  std::vector<Rec> ordered;  // as fqpipe::Ordered handed them on
  std::optional<Error> error;
  RunInfo info;
  std::string problems;  // inconsistencies seen inside the run (first few)
};

// What one count_records run said.
struct Counted {
  RecordCount count;
  std::optional<Error> error;
  RunInfo info;
};

PipelineOptions spmc(std::size_t batch_records) {
  PipelineOptions po;
  po.mode = PipelineMode::spmc;
  po.threads = 1;
  po.read.batch_records = batch_records;
  return po;
}

PipelineOptions mpmc(unsigned producers, unsigned consumers, std::size_t chunk,
                     std::size_t batch_records, std::size_t queue_depth = 0) {
  PipelineOptions po;
  po.mode = PipelineMode::mpmc;
  po.chunking = Chunking::record;
  po.threads = producers;
  po.producers = producers;
  po.consumers = consumers;
  po.queue_depth = queue_depth;
  po.read.chunk_bytes = chunk;
  po.read.batch_records = batch_records;
  return po;
}

std::string describe(const PipelineOptions& po) {
  return "producers " + std::to_string(po.producers) + " consumers " + std::to_string(po.consumers) +
         " chunk " + std::to_string(po.read.chunk_bytes) + " batch " +
         std::to_string(po.read.batch_records) + " depth " + std::to_string(po.queue_depth) +
         (po.chunking == Chunking::equal ? " equal" : "");
}

// Runs for_each_batch; records go to per-worker lists and through an Ordered. Checks on the
// way: worker indexes in range, record numbers consecutive within a batch, batches no larger
// than asked, and (through Ordered) each batch starting where the one before ended.
Got run_batches(const std::string& path, const PipelineOptions& po) {
  Got got;
  const unsigned workers = consumer_count(po);
  std::vector<std::vector<Rec>> seen(workers);
  std::mutex problems_mutex;
  auto problem = [&](const std::string& what) {
    std::lock_guard lock(problems_mutex);
    if (got.problems.size() < 2000) got.problems += what + "\n";
  };
  uint64_t next_in_order = 1;
  Ordered ordered([&](const FastqBatch& b) {
    if (b.first_record_no() != next_in_order)
      problem("ordered: batch starts at " + std::to_string(b.first_record_no()) + ", expected " +
              std::to_string(next_in_order));
    next_in_order = b.first_record_no() + b.size();
    for (const FastqRecord& r : b)
      got.ordered.push_back({r.record_no, r.decoded_byte, std::string(r.header),
                             std::string(r.sequence), std::string(r.quality)});
  });
  try {
    with_deadline(kDeadline, [&] {
      got.info = for_each_batch(path, po, [&](unsigned w, const FastqBatch& b) {
        if (w >= workers) {
          problem("worker index " + std::to_string(w) + " >= " + std::to_string(workers));
          return;
        }
        if (b.size() > po.read.batch_records)
          problem("batch of " + std::to_string(b.size()) + " records");
        if (b.empty()) problem("empty batch");
        uint64_t expect_no = b.first_record_no();
        for (const FastqRecord& r : b) {
          if (r.record_no != expect_no++) problem("record " + std::to_string(r.record_no) + " out of sequence in its batch");
          seen[w].push_back({r.record_no, r.decoded_byte, std::string(r.header),
                             std::string(r.sequence), std::string(r.quality)});
        }
        ordered.consume(b);
      });
    });
    ordered.finish();
  } catch (const Error& e) {
    got.error = e;
  }
  for (auto& v : seen) got.sorted.insert(got.sorted.end(), v.begin(), v.end());
  std::sort(got.sorted.begin(), got.sorted.end());
  return got;
}

Counted run_count(const std::string& path, const PipelineOptions& po) {
  Counted c;
  try {
    with_deadline(kDeadline, [&] { c.count = count_records(path, po, &c.info); });
  } catch (const Error& e) {
    c.error = e;
  }
  return c;
}

// Compares record lists; reports the first difference only.
void expect_same_records(const std::vector<Rec>& want, const std::vector<Rec>& got, const char* what) {
  const std::size_t n = std::min(want.size(), got.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (want[i] != got[i]) {
      ADD_FAILURE() << what << ": record " << i << " differs\n  spmc: " << show(want[i]) << "\n  mpmc: " << show(got[i]);
      return;
    }
  }
  EXPECT_EQ(got.size(), want.size()) << what << ": record count differs";
}

void expect_same_error(const std::optional<Error>& want, const std::optional<Error>& got) {
  ASSERT_EQ(got.has_value(), want.has_value())
      << (want ? std::string("spmc threw: ") + want->what() : "spmc threw nothing") << "\n"
      << (got ? std::string("mpmc threw: ") + got->what() : "mpmc threw nothing");
  if (!want) return;
  EXPECT_EQ(std::string(got->what()), std::string(want->what()));
  EXPECT_EQ(got->kind(), want->kind());
  EXPECT_EQ(got->position().file, want->position().file);
  EXPECT_EQ(got->position().record_no, want->position().record_no);
  EXPECT_EQ(got->position().line_no, want->position().line_no);
  EXPECT_EQ(got->position().decoded_byte, want->position().decoded_byte);
  EXPECT_EQ(got->position().line, want->position().line);
}

// The single-producer parse of a file, with batches and counted.
struct Baseline {
  Got batches;
  Counted count;
};

Baseline baseline(const std::string& path) {
  Baseline b;
  b.batches = run_batches(path, spmc(1));  // batches of one: every record before an error
  b.count = run_count(path, spmc(1000));
  EXPECT_EQ(b.batches.problems, "");
  EXPECT_EQ(b.batches.sorted, b.batches.ordered);
  return b;
}

// One MPMC for_each_batch run against the baseline: (a) sorted records, (b) Ordered records,
// (d) the error, (f) RunInfo. With an error only records before it may have been delivered.
void check_batches(const std::string& path, const Baseline& want, const PipelineOptions& po) {
  SCOPED_TRACE(describe(po));
  const Got got = run_batches(path, po);
  EXPECT_EQ(got.problems, "");
  expect_same_error(want.batches.error, got.error);
  if (!want.batches.error) {
    expect_same_records(want.batches.sorted, got.sorted, "sorted");
    expect_same_records(want.batches.sorted, got.ordered, "ordered");
    EXPECT_EQ(got.info.mode, PipelineMode::mpmc);
    EXPECT_EQ(got.info.records, want.batches.info.records);
    EXPECT_EQ(got.info.detected_schema, want.batches.info.detected_schema);
    EXPECT_EQ(got.info.producer_threads, po.producers);
    EXPECT_EQ(got.info.consumer_threads, po.consumers);
  } else if (got.error && got.error->position().record_no) {
    // What was delivered is a prefix of the input: records before the error, each as the
    // single producer read it where it read that far.
    for (const Rec& r : got.sorted) {
      ASSERT_LT(r.no, got.error->position().record_no) << "delivered after the error: " << show(r);
      if (r.no <= want.batches.sorted.size()) {
        ASSERT_EQ(r, want.batches.sorted[r.no - 1]);
      }
    }
  }
}

// (c), (d), (e), (f) for count_records.
void check_count(const std::string& path, const Baseline& want, const PipelineOptions& po) {
  SCOPED_TRACE(describe(po));
  const Counted got = run_count(path, po);
  expect_same_error(want.count.error, got.error);
  if (want.count.error) return;
  EXPECT_EQ(got.count.records, want.count.count.records);
  EXPECT_EQ(got.count.bases, want.count.count.bases);
  EXPECT_EQ(got.info.mode, PipelineMode::mpmc);
  EXPECT_EQ(got.info.records, want.count.info.records);
  EXPECT_EQ(got.info.detected_schema, want.count.info.detected_schema);
}

// A Worker for run<>: keeps the records it consumed. With `truth` it checks each against the
// input's true records (by offset): a record made up from a wrong guess throws here, and the
// run must drop that error with the guess; without, such records would stay in a partial
// result the run must drop. kClear: partial results are reused (clear()) or made anew.
template <bool kClear>
struct RecordList {
  static constexpr bool needs_record_numbers = false;
  const std::map<uint64_t, Rec>* truth = nullptr;
  std::vector<Rec> recs;
  void consume(const FastqBatch& b) {
    for (const FastqRecord& r : b) {
      Rec rec{0, r.decoded_byte, std::string(r.header), std::string(r.sequence), std::string(r.quality)};
      const auto it = truth ? truth->find(r.decoded_byte) : decltype(truth->end()){};
      if (truth && (it == truth->end() || it->second != rec))
        throw std::runtime_error("not a record of the input: " + show(rec));
      recs.push_back(std::move(rec));
    }
  }
  void merge(const RecordList& o) { recs.insert(recs.end(), o.recs.begin(), o.recs.end()); }
  void clear()
    requires kClear
  {
    recs.clear();
  }
};

// One run<> (reduce(): the producers consume their own chunks) against the baseline: the
// records, each once, and the error. Record numbers are not compared: a reduction sees
// speculative batches, numbered from their chunk's start.
template <bool kClear>
void check_reduce_with(const std::string& path, const Baseline& want, PipelineOptions po, bool strict) {
  po.consumers = 0;
  SCOPED_TRACE(describe(po) + (kClear ? " reduce, reused partials" : " reduce, new partials") +
               (strict ? ", strict" : ""));
  std::map<uint64_t, Rec> truth;
  for (Rec r : want.batches.sorted) {
    r.no = 0;
    truth.emplace(r.byte, std::move(r));
  }
  std::optional<Error> error;
  RecordList<kClear> got;
  RunInfo info;
  try {
    with_deadline(kDeadline, [&] {
      got = run<RecordList<kClear>>(
          path, po, [&truth, strict] { return RecordList<kClear>{strict ? &truth : nullptr, {}}; }, &info);
    });
  } catch (const Error& e) {
    error = e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the reduction's error escaped: " << e.what();
    return;
  }
  expect_same_error(want.batches.error, error);
  if (want.batches.error) return;
  std::sort(got.recs.begin(), got.recs.end(), [](const Rec& a, const Rec& b) { return a.byte < b.byte; });
  std::vector<Rec> expect;
  for (const auto& [byte, r] : truth) expect.push_back(r);
  expect_same_records(expect, got.recs, "reduced");
  EXPECT_EQ(info.mode, PipelineMode::mpmc);
  EXPECT_EQ(info.records, want.batches.info.records);
  EXPECT_EQ(info.consumer_threads, 0u);
}

// A Worker that reads record numbers (it does not say needs_record_numbers = false): run<>
// must hand it batches numbered exactly, through consumer threads.
struct NumberedList {
  std::vector<Rec> recs;
  void consume(const FastqBatch& b) {
    for (const FastqRecord& r : b)
      recs.push_back({r.record_no, r.decoded_byte, std::string(r.header), std::string(r.sequence), std::string(r.quality)});
  }
  void merge(const NumberedList& o) { recs.insert(recs.end(), o.recs.begin(), o.recs.end()); }
};

// All three ways run<> reduces (`turn` < 0), or the one `turn` picks (lighter grids).
void check_reduce(const std::string& path, const Baseline& want, const PipelineOptions& po, int turn = -1) {
  if (turn < 0 || turn % 3 == 0) check_reduce_with<true>(path, want, po, true);
  if (turn < 0 || turn % 3 == 1) check_reduce_with<false>(path, want, po, false);
  if (turn >= 0 && turn % 3 != 2) return;
  PipelineOptions numbered = po;
  numbered.consumers = 0;
  SCOPED_TRACE(describe(numbered) + " reduce with record numbers");
  std::optional<Error> error;
  NumberedList got;
  RunInfo info;
  try {
    with_deadline(kDeadline, [&] { got = run<NumberedList>(path, numbered, [] { return NumberedList(); }, &info); });
  } catch (const Error& e) {
    error = e;
  }
  expect_same_error(want.batches.error, error);
  if (want.batches.error) return;
  std::sort(got.recs.begin(), got.recs.end());
  expect_same_records(want.batches.sorted, got.recs, "reduced with numbers");
  EXPECT_EQ(info.consumer_threads, consumer_count(numbered));
}

// The full grid: every producer, consumer, chunk and batch size; counts with record and
// equal chunking for every producer count and chunk size.
void check_full_grid(const std::string& path, const std::vector<std::size_t>& chunks = kChunks) {
  const Baseline want = baseline(path);
  for (const std::size_t chunk : chunks) {
    for (const unsigned p : kProducers) {
      for (const unsigned c : kConsumers)
        for (const std::size_t batch : kBatchRecords) check_batches(path, want, mpmc(p, c, chunk, batch));
      for (const std::size_t batch : kBatchRecords) check_reduce(path, want, mpmc(p, 0, chunk, batch));
      check_count(path, want, mpmc(p, 1, chunk, 1000));
      PipelineOptions equal = mpmc(p, 1, chunk, 1000);
      equal.chunking = Chunking::equal;
      check_count(path, want, equal);
      if (::testing::Test::HasFailure()) return;  // one broken configuration says enough
    }
  }
}

// A lighter grid: every chunk size and producer count, consumers and batch sizes rotating.
void check_light_grid(const std::string& path, const std::vector<std::size_t>& chunks = kChunks) {
  const Baseline want = baseline(path);
  std::size_t turn = 0;
  for (const std::size_t chunk : chunks) {
    for (const unsigned p : kProducers) {
      ++turn;
      check_batches(path, want, mpmc(p, kConsumers[turn % 3], chunk, kBatchRecords[turn % 3], turn % 4 == 0 ? 1 : 0));
      check_reduce(path, want, mpmc(p, 0, chunk, kBatchRecords[(turn + 1) % 3]), static_cast<int>(turn));
      PipelineOptions count = mpmc(p, 1, chunk, 1000);
      count.chunking = turn % 2 ? Chunking::equal : Chunking::record;
      check_count(path, want, count);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// Offsets of the four lines of the record starting at `start`.
struct Lines {
  std::size_t header, sequence, plus, quality;
};

Lines lines_at(const std::string& text, std::size_t start) {
  Lines l;
  l.header = start;
  l.sequence = text.find('\n', l.header) + 1;
  l.plus = text.find('\n', l.sequence) + 1;
  l.quality = text.find('\n', l.plus) + 1;
  return l;
}

GenOptions adversarial(uint64_t seed, std::size_t records, std::size_t max_length) {
  GenOptions o;
  o.seed = seed;
  o.records = records;
  o.min_length = 0;
  o.max_length = max_length;
  o.qual_starts_special = 0.6;
  o.header_comments = 0.3;
  o.plus_repeats_name = 0.3;
  return o;
}

}  // namespace

// ---- valid inputs -------------------------------------------------------------------------

TEST(PipelineMpmc, special_quality_lines_and_empty_reads_full_grid) {
  // Quality lines beginning with '@' and '+', empty reads, comments, '+' lines repeating names.
  TempDir dir;
  check_full_grid(dir.write("special.fq", generate_fastq(adversarial(11, 60, 40)).text));
}

TEST(PipelineMpmc, crlf_without_final_newline_full_grid) {
  // "\r\n" everywhere, so seams fall between '\r' and '\n'; the last line unterminated.
  GenOptions o = adversarial(12, 50, 40);
  o.crlf = true;
  o.no_final_newline = true;
  TempDir dir;
  check_full_grid(dir.write("crlf.fq", generate_fastq(o).text));
}

TEST(PipelineMpmc, frame_shifted_by_sequences_beginning_with_plus_full_grid) {
  // Every record "@Y\n+\n+Y\n@\n" reads as valid FASTQ from its header and, shifted by three
  // lines, from its quality line ("@", "@Y", "+", "+Y"): find_record_start cannot tell, so
  // producers guess wrong frames and only the seam check (verify, then parse on in order)
  // keeps the records right. A few ordinary records first and last.
  std::string text = "@first\nACGT\n+\nIIII\n";
  for (int i = 0; i < 150; ++i) text += "@Y\n+\n+Y\n@\n";
  text += "@last\nAC\n+\n@@\n";
  // The premise: with 64-byte chunks some chunks do start with a wrong guess.
  std::size_t wrong = 0;
  for (std::size_t at = 64; at < text.size(); at += 64) {
    const std::size_t guess = fastq::find_record_start(std::string_view(text).substr(at), 0);
    if (guess != std::string_view::npos && text.compare(at + guess, 4, "@Y\n+") != 0) ++wrong;
  }
  ASSERT_GT(wrong, 3u);
  TempDir dir;
  check_full_grid(dir.write("shift.fq", text));
}

TEST(PipelineMpmc, hand_made_nasty_records) {
  // Quality lines "@@@@", "+", "+@+", a quality line equal to the next header, repeated so
  // that many chunk starts fall on them.
  const std::vector<std::string> units = {
      "@r1\nACGT\n+\n@@@@\n@r2\nACGT\n+\nIIII\n",
      "@r1\nA\n+\n+\n@r2\nAC\n+r2\n++\n@r3\nACG\n+\n+@+\n",
      "@r1\nACG\n+\n@r2\n@r2\nACG\n+\n@r2\n@r3\nAAA\n+r3\n@r3\n",
      "@r\r\n\r\n+\r\n\r\n@s\r\nA\r\n+s\r\n@\r\n",
  };
  TempDir dir;
  for (std::size_t u = 0; u < units.size(); ++u) {
    SCOPED_TRACE("unit " + std::to_string(u));
    std::string text;
    while (text.size() < 3000) text += units[u];
    check_light_grid(dir.write("nasty.fq", text));
    if (HasFailure()) return;
  }
}

TEST(PipelineMpmc, small_files) {
  // Files smaller than one chunk, single records, empty reads, no final newline, blank lines
  // at the end (allowed), empty input.
  const std::vector<std::string> texts = {
      "",
      "@r\nACGT\n+\n@@@@\n",
      "@r\nACGT\n+\n+III",
      "@r\n\n+\n\n",
      "@r\n\n+\n",
      "@r\r\n\r\n+r\r\n\r\n",
      "@r1\nA\n+\n@\n@r2\n\n+\n\n@r3\nC\n+\n+",
      "@r1\nACGT\n+\nIIII\n\n\n",
      "@r1\nACGT\n+\nIIII\n\r\n\r\n\n",
      "@r1\nACGT\n+\nIIII\n@r2\nA\n+\nI\n\n",
      "\n",
  };
  TempDir dir;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE("text " + std::to_string(i));
    check_light_grid(dir.write("small" + std::to_string(i) + ".fq", texts[i]));
    if (HasFailure()) return;
  }
}

TEST(PipelineMpmc, blank_lines_at_the_end_of_larger_files) {
  // Trailing blank lines spread over the last chunks, or a chunk of nothing but blank lines.
  TempDir dir;
  for (const char* trailer : {"\n", "\n\n\n\n\n\n\n\n\n\n", "\r\n\r\n\r\n"}) {
    for (const bool crlf : {false, true}) {
      GenOptions o = adversarial(13, 40, 30);
      o.crlf = crlf;
      check_light_grid(dir.write("trail.fq", generate_fastq(o).text + trailer));
      if (HasFailure()) return;
    }
  }
}

TEST(PipelineMpmc, reads_longer_than_three_chunks) {
  // 5000-byte reads against 1 KiB chunks: chunks with no record start at all, one record
  // spanning five chunks, quality lines beginning with '@' at chunk starts.
  GenOptions o = adversarial(14, 8, 5000);
  o.min_length = 4000;
  o.qual_starts_special = 0.8;
  TempDir dir;
  for (const bool crlf : {false, true}) {
    o.crlf = crlf;
    o.no_final_newline = crlf;
    const std::string path = dir.write("long.fq", generate_fastq(o).text);
    const Baseline want = baseline(path);
    for (const std::size_t chunk : {std::size_t{64}, std::size_t{1000}, std::size_t{1024}, std::size_t{4096}, std::size_t{65536}}) {
      for (const unsigned p : kProducers) {
        check_batches(path, want, mpmc(p, 2, chunk, 1));
        check_batches(path, want, mpmc(p, 5, chunk, 1000, 1));
        check_reduce(path, want, mpmc(p, 0, chunk, 2));
        check_count(path, want, mpmc(p, 1, chunk, 1000));
        PipelineOptions equal = mpmc(p, 1, chunk, 1000);
        equal.chunking = Chunking::equal;
        check_count(path, want, equal);
        if (HasFailure()) return;
      }
    }
    check_batches(path, want, mpmc(3, 2, 7, 3));  // a record over ~1400 chunks
    check_reduce(path, want, mpmc(3, 0, 7, 3));
  }
}

TEST(PipelineMpmc, chunk_boundaries_at_chosen_bytes) {
  // Chunk sizes picked so that a boundary lands exactly at (and one byte before and after)
  // the start of a quality line beginning with '@' or '+', a '+' line, a header (the byte
  // before is its '\n', inside "\r\n" with CRLF).
  TempDir dir;
  for (const bool crlf : {false, true}) {
    GenOptions o = adversarial(15, 40, 40);
    o.qual_starts_special = 0.9;
    o.crlf = crlf;
    const Generated g = generate_fastq(o);
    const std::string path = dir.write("seams.fq", g.text);
    const Baseline want = baseline(path);
    std::vector<std::size_t> targets;
    int at_quality = 0, plus_quality = 0, plus_line = 0, header = 0;
    for (std::size_t i = 2; i < g.records.size(); ++i) {
      const RefRecord& r = g.records[i];
      const Lines l = lines_at(g.text, r.decoded_byte);
      if (!r.quality.empty() && r.quality[0] == '@' && at_quality < 3) ++at_quality, targets.push_back(l.quality);
      else if (!r.quality.empty() && r.quality[0] == '+' && plus_quality < 3) ++plus_quality, targets.push_back(l.quality);
      else if (i % 3 == 0 && plus_line < 3) ++plus_line, targets.push_back(l.plus);
      else if (header < 3) ++header, targets.push_back(l.header);
    }
    ASSERT_EQ(at_quality, 3);
    ASSERT_EQ(plus_quality, 3);
    std::size_t turn = 0;
    for (const std::size_t target : targets) {
      for (const std::size_t chunk : {target - 2, target - 1, target, target + 1}) {
        ++turn;
        for (const unsigned p : {2u, 3u, 7u}) {
          check_batches(path, want, mpmc(p, kConsumers[turn % 3], chunk, kBatchRecords[(turn + p) % 3]));
          check_reduce(path, want, mpmc(p, 0, chunk, kBatchRecords[(turn + p + 1) % 3]), static_cast<int>(turn + p));
          PipelineOptions count = mpmc(p, 1, chunk, 1000);
          count.chunking = p == 3 ? Chunking::equal : Chunking::record;
          check_count(path, want, count);
        }
        if (HasFailure()) return;
      }
    }
  }
}

TEST(PipelineMpmc, two_megabyte_file_a_few_configurations) {
  // A file of many chunks of the default kind, with detected schema: qualities from '@' up
  // (Phred+64-looking), so a wrong quality range merge would show.
  GenOptions o = adversarial(16, 6000, 300);
  o.qual_lo = '@';
  o.qual_hi = 'h';
  o.qual_starts_special = 0.3;
  TempDir dir;
  const std::string path = dir.write("big.fq", generate_fastq(o).text);
  const Baseline want = baseline(path);
  ASSERT_FALSE(want.batches.error);
  check_batches(path, want, mpmc(2, 2, 4096, 1000));
  check_batches(path, want, mpmc(3, 1, 65536, 3, 1));
  check_batches(path, want, mpmc(7, 5, 1000, 1000));
  check_count(path, want, mpmc(7, 1, 1024, 1000));
  for (const unsigned p : {2u, 3u, 7u}) {
    PipelineOptions equal = mpmc(p, 1, 4096, 1000);
    equal.chunking = Chunking::equal;
    check_count(path, want, equal);
  }
}

TEST(PipelineMpmc, stats_equal_spmc) {
  // run<FastqStats> merges per-worker statistics; MPMC must see exactly SPMC's records.
  GenOptions o = adversarial(17, 3000, 200);
  o.n_fraction = 0.05;
  o.lowercase_fraction = 0.1;
  TempDir dir;
  const std::string path = dir.write("stats.fq", generate_fastq(o).text);
  RunInfo want_info;
  const FastqStats want = run<FastqStats>(path, spmc(1000), [] { return FastqStats(); }, &want_info);
  for (const auto& po : {mpmc(3, 2, 4096, 100), mpmc(7, 5, 1000, 1), mpmc(2, 1, 65536, 1000, 1)}) {
    SCOPED_TRACE(describe(po));
    RunInfo info;
    FastqStats got;
    with_deadline(kDeadline, [&] { got = run<FastqStats>(path, po, [] { return FastqStats(); }, &info); });
    EXPECT_EQ(info.mode, PipelineMode::mpmc);
    EXPECT_EQ(info.records, want_info.records);
    EXPECT_EQ(info.detected_schema, want_info.detected_schema);
    EXPECT_EQ(got.reads(), want.reads());
    EXPECT_EQ(got.bases(), want.bases());
    EXPECT_EQ(got.min_length(), want.min_length());
    EXPECT_EQ(got.max_length(), want.max_length());
    EXPECT_EQ(got.a(), want.a());
    EXPECT_EQ(got.c(), want.c());
    EXPECT_EQ(got.g(), want.g());
    EXPECT_EQ(got.t(), want.t());
    EXPECT_EQ(got.n(), want.n());
    EXPECT_EQ(got.other(), want.other());
    EXPECT_EQ(got.quality_lo(), want.quality_lo());
    EXPECT_EQ(got.quality_hi(), want.quality_hi());
    for (const QualitySchema s : {QualitySchema::sanger, QualitySchema::illumina_1_3}) {
      EXPECT_EQ(got.quality_sum(s), want.quality_sum(s));
      EXPECT_EQ(got.q20_bases(s), want.q20_bases(s));
      EXPECT_EQ(got.q30_bases(s), want.q30_bases(s));
      EXPECT_EQ(got.position_quality_sums(s), want.position_quality_sums(s));
    }
    EXPECT_EQ(got.length_histogram(), want.length_histogram());
    EXPECT_EQ(got.position_counts(), want.position_counts());
  }
}

TEST(PipelineMpmc, progress_reports_one_at_a_time_and_in_order) {
  // on_progress is called by whichever producer commits, never by two at once: plain
  // (unsynchronised) state in the callback must be safe (TSan checks), and records only grow.
  GenOptions o = adversarial(24, 4000, 100);
  TempDir dir;
  const Generated g = generate_fastq(o);
  const std::string path = dir.write("p.fq", g.text);
  for (const unsigned p : {2u, 7u}) {
    for (const bool counting : {false, true}) {
      PipelineOptions po = mpmc(p, 2, 1024, 50);
      SCOPED_TRACE(describe(po) + (counting ? " count" : " batches"));
      std::atomic<int> inside{0};
      uint64_t calls = 0, last_records = 0, last_bytes = 0, overlaps = 0, backwards = 0, wrong_size = 0;
      po.on_progress = [&](const Progress& pr) {
        if (inside.fetch_add(1) != 0) ++overlaps;
        ++calls;
        if (pr.records < last_records || pr.input_bytes_read < last_bytes) ++backwards;
        if (pr.input_size != g.text.size()) ++wrong_size;
        last_records = pr.records;
        last_bytes = pr.input_bytes_read;
        inside.fetch_sub(1);
      };
      with_deadline(kDeadline, [&] {
        if (counting) {
          EXPECT_EQ(count_records(path, po).records, g.records.size());
        } else {
          for_each_batch(path, po, [](unsigned, const FastqBatch&) {});
        }
      });
      EXPECT_GT(calls, 0u);
      EXPECT_EQ(overlaps, 0u);
      EXPECT_EQ(backwards, 0u);
      EXPECT_EQ(wrong_size, 0u);
      EXPECT_LE(last_records, g.records.size());
      EXPECT_LE(last_bytes, g.text.size());
    }
  }
}

// ---- corrupt inputs -----------------------------------------------------------------------

namespace {

// One way to break the record starting at `start`; returns the text changed.
enum class Damage {
  quality_longer,    // a byte more in the quality line
  plus_replaced,     // the '+' of the separator becomes 'X'
  plus_line_gone,    // the separator line is removed
  header_without_at, // '@' becomes '>'
  non_ascii_sequence,
  non_ascii_quality,
  control_in_header,
  plus_other_name,   // "+other" after the header
  blank_line_before, // an empty line in front of the record
  cut_inside,        // the text ends inside the record
};

const std::vector<Damage> kDamages = {
    Damage::quality_longer,     Damage::plus_replaced,     Damage::plus_line_gone,
    Damage::header_without_at,  Damage::non_ascii_sequence, Damage::non_ascii_quality,
    Damage::control_in_header,  Damage::plus_other_name,   Damage::blank_line_before,
    Damage::cut_inside,
};

std::string damage(std::string text, std::size_t start, Damage d) {
  const Lines l = lines_at(text, start);
  switch (d) {
    case Damage::quality_longer: text.insert(l.quality, "I"); break;
    case Damage::plus_replaced: text[l.plus] = 'X'; break;
    case Damage::plus_line_gone: text.erase(l.plus, l.quality - l.plus); break;
    case Damage::header_without_at: text[l.header] = '>'; break;
    case Damage::non_ascii_sequence:  // lengths kept equal: the byte is the only fault
      text.insert(l.quality, "I");
      text.insert(l.sequence, "\xc3");
      break;
    case Damage::non_ascii_quality:
      text.insert(l.quality, "\x80");
      text.insert(l.sequence, "A");
      break;
    case Damage::control_in_header: text.insert(l.header + 1, "\x01"); break;
    case Damage::plus_other_name: text.insert(l.plus + 1, "other"); break;
    case Damage::blank_line_before: text.insert(l.header, "\n"); break;
    case Damage::cut_inside: text.resize(l.sequence + (l.quality - l.sequence) / 2); break;
  }
  return text;
}

// Every run of a corrupt file: the error (and what was delivered before it) equals SPMC's.
void check_error_grid(const std::string& path, std::size_t turn) {
  const Baseline want = baseline(path);
  ASSERT_TRUE(want.batches.error) << "the damage did not make the file invalid";
  ASSERT_TRUE(want.count.error);
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{1000}, std::size_t{4096}, std::size_t{65536}}) {
    if (chunk == 1 && turn % 3 != 0) continue;  // 1-byte chunks cost most; a third of the files
    for (const unsigned p : kProducers) {
      ++turn;
      check_batches(path, want, mpmc(p, kConsumers[turn % 3], chunk, kBatchRecords[turn % 3], turn % 5 == 0 ? 1 : 0));
      check_reduce(path, want, mpmc(p, 0, chunk, kBatchRecords[(turn + 1) % 3]), static_cast<int>(turn));
      PipelineOptions count = mpmc(p, 1, chunk, 1000);
      check_count(path, want, count);
      if (p > 1) {
        count.chunking = Chunking::equal;
        check_count(path, want, count);
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace

TEST(PipelineMpmc, one_damaged_record_at_many_positions) {
  // Each kind of damage in the first, second, a middle, the last but one and the last record.
  GenOptions o = adversarial(18, 40, 40);
  const Generated g = generate_fastq(o);
  TempDir dir;
  std::size_t turn = 0;
  for (const Damage d : kDamages) {
    for (const std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{38}, std::size_t{39}}) {
      std::size_t k = i;  // the damage needs a record with a sequence
      while (k > 0 && g.records[k].sequence.empty()) --k;
      SCOPED_TRACE("damage " + std::to_string(static_cast<int>(d)) + " in record " + std::to_string(k + 1));
      check_error_grid(dir.write("bad.fq", damage(g.text, g.records[k].decoded_byte, d)), turn++);
      if (HasFailure()) return;
    }
  }
}

TEST(PipelineMpmc, damage_in_crlf_file) {
  GenOptions o = adversarial(19, 40, 40);
  o.crlf = true;
  const Generated g = generate_fastq(o);
  TempDir dir;
  std::size_t turn = 0;
  for (const Damage d : {Damage::quality_longer, Damage::plus_line_gone, Damage::blank_line_before, Damage::cut_inside}) {
    for (const std::size_t i : {std::size_t{3}, std::size_t{25}}) {
      SCOPED_TRACE("damage " + std::to_string(static_cast<int>(d)) + " in record " + std::to_string(i + 1));
      check_error_grid(dir.write("bad.fq", damage(g.text, g.records[i].decoded_byte, d)), turn++);
      if (HasFailure()) return;
    }
  }
}

TEST(PipelineMpmc, earliest_of_two_errors_wins) {
  // Two damaged records far apart, so in most runs they lie in different chunks and the later
  // chunk is parsed (and fails) first: the error in file order must still be the one reported.
  GenOptions o = adversarial(20, 60, 40);
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::vector<std::tuple<Damage, std::size_t, Damage, std::size_t>> pairs = {
      {Damage::header_without_at, 8, Damage::quality_longer, 50},
      {Damage::blank_line_before, 30, Damage::non_ascii_sequence, 5},
      {Damage::plus_line_gone, 12, Damage::plus_replaced, 13},
      {Damage::quality_longer, 55, Damage::header_without_at, 2},
      {Damage::non_ascii_quality, 20, Damage::blank_line_before, 40},
  };
  std::size_t turn = 0;
  for (const auto& [d1, i1, d2, i2] : pairs) {
    SCOPED_TRACE("damages in records " + std::to_string(i1 + 1) + " and " + std::to_string(i2 + 1));
    // The later record first, so the earlier one's offsets stay where the generator put them.
    const std::size_t first = std::min(i1, i2), second = std::max(i1, i2);
    const Damage df = first == i1 ? d1 : d2, ds = first == i1 ? d2 : d1;
    const std::string text = damage(damage(g.text, g.records[second].decoded_byte, ds),
                                    g.records[first].decoded_byte, df);
    const std::string path = dir.write("two.fq", text);
    {  // the single producer reports the earlier one: the test means what it says
      const Got spmc_run = run_batches(path, spmc(1000));
      ASSERT_TRUE(spmc_run.error);
      EXPECT_LT(spmc_run.error->position().decoded_byte, static_cast<int64_t>(g.records[second].decoded_byte));
    }
    check_error_grid(path, turn++);
    if (HasFailure()) return;
  }
}

TEST(PipelineMpmc, record_too_long_error) {
  // max_record_bytes exceeded by one complete record in the middle of a long-read file.
  GenOptions o = adversarial(21, 10, 3000);
  o.min_length = 500;
  TempDir dir;
  const std::string path = dir.write("long.fq", generate_fastq(o).text);
  std::size_t limit = 0;
  {
    const Generated g = generate_fastq(o);
    std::vector<std::size_t> sizes;
    for (std::size_t i = 0; i + 1 < g.records.size(); ++i) sizes.push_back(g.records[i + 1].decoded_byte - g.records[i].decoded_byte);
    std::sort(sizes.begin(), sizes.end());
    limit = sizes[sizes.size() - 2] - 1;  // the two longest (of the complete ones) are too long
  }
  Baseline want;
  PipelineOptions base = spmc(1);
  base.read.max_record_bytes = limit;
  want.batches = run_batches(path, base);
  want.count = run_count(path, base);
  ASSERT_TRUE(want.batches.error);
  for (const std::size_t chunk : {std::size_t{64}, std::size_t{1000}, std::size_t{4096}}) {
    for (const unsigned p : {2u, 7u}) {
      PipelineOptions po = mpmc(p, 2, chunk, 3);
      po.read.max_record_bytes = limit;
      check_batches(path, want, po);
      po.chunking = Chunking::equal;
      check_count(path, want, po);
    }
  }
}

TEST(PipelineMpmc, random_files_and_configurations) {
  // Random adversarial files (some damaged once or twice) against random configurations.
  // FQPIPE_MPMC_ITERATIONS=N runs more (the default keeps the sanitizer builds quick).
  const char* env = std::getenv("FQPIPE_MPMC_ITERATIONS");
  const uint64_t iterations = env ? std::strtoull(env, nullptr, 10) : 40;
  TempDir dir;
  std::mt19937_64 rng(4242);
  auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (uint64_t it = 0; it < iterations; ++it) {
    GenOptions o = adversarial(1000 + it, pick(1, 80), pick(0, 300));
    o.crlf = pick(0, 1);
    o.no_final_newline = pick(0, 3) == 0;
    o.qual_starts_special = static_cast<double>(pick(0, 10)) / 10;
    const Generated g = generate_fastq(o);
    std::string text = g.text;
    if (!o.no_final_newline && pick(0, 3) == 0) text += std::string(pick(1, 5), '\n');
    const uint64_t damages = pick(0, 2);
    // Damage from the back, so the generator's offsets of earlier records stay right.
    std::vector<std::size_t> at;
    for (uint64_t d = 0; d < damages; ++d) at.push_back(pick(0, g.records.size() - 1));
    std::sort(at.rbegin(), at.rend());
    at.erase(std::unique(at.begin(), at.end()), at.end());
    for (const std::size_t i : at) text = damage(text, g.records[i].decoded_byte, kDamages[pick(0, kDamages.size() - 1)]);
    const std::string path = dir.write("random.fq", text);
    SCOPED_TRACE("iteration " + std::to_string(it) + ", " + std::to_string(at.size()) + " damages");
    // Sometimes a record size limit that some records exceed.
    const std::size_t max_record = pick(0, 3) ? std::size_t{1} << 30 : pick(20, 400);
    Baseline want;
    PipelineOptions base = spmc(1);
    base.read.max_record_bytes = max_record;
    want.batches = run_batches(path, base);
    want.count = run_count(path, base);
    EXPECT_EQ(want.batches.problems, "");
    for (int run = 0; run < 3; ++run) {
      const std::size_t chunk = pick(0, 2) ? pick(1, 300) : std::vector<std::size_t>{1000, 1024, 4096}[pick(0, 2)];
      PipelineOptions po = mpmc(static_cast<unsigned>(pick(1, 8)), static_cast<unsigned>(pick(1, 5)), chunk, pick(1, 50), pick(0, 3));
      po.read.max_record_bytes = max_record;
      check_batches(path, want, po);
      check_reduce(path, want, po, static_cast<int>(it + run));
      po.chunking = pick(0, 1) ? Chunking::equal : Chunking::record;
      check_count(path, want, po);
    }
    if (HasFailure()) {
      ADD_FAILURE() << "file of iteration " << it << ":\n" << text;
      return;
    }
  }
}

TEST(PipelineMpmc, record_too_long_at_the_end_of_the_input) {
  // A last record over max_record_bytes with no final newline (whole, or cut off): the limit
  // is on the record, so every reading of the file must reject it the same way, whether the
  // record reaches the parser in one buffer (SPMC, one MPMC chunk) or several (MPMC seams).
  const std::string big = "@big\n" + std::string(3000, 'A') + "\n+\n";
  for (const std::string& last : {big + std::string(3000, 'I'), big + std::string(1000, 'I'),
                                  "@big\n" + std::string(3000, 'A')}) {
    const std::string text = "@r1\nACGT\n+\nIIII\n@r2\nAC\n+\n@@\n" + last;
    TempDir dir;
    const std::string path = dir.write("end.fq", text);
    Baseline want;
    PipelineOptions base = spmc(1);
    base.read.max_record_bytes = 1000;
    want.batches = run_batches(path, base);
    want.count = run_count(path, base);
    ASSERT_TRUE(want.batches.error);
    EXPECT_NE(std::string(want.batches.error->what()).find("record too long"), std::string::npos)
        << want.batches.error->what();
    for (const std::size_t chunk : {std::size_t{7}, std::size_t{64}, std::size_t{1000}, std::size_t{65536}}) {
      for (const unsigned p : {1u, 3u}) {
        PipelineOptions po = mpmc(p, 2, chunk, 3);
        po.read.max_record_bytes = 1000;
        check_batches(path, want, po);
        po.chunking = Chunking::equal;
        check_count(path, want, po);
      }
    }
  }
}

// ---- failing consumers --------------------------------------------------------------------

TEST(PipelineMpmc, consumer_exception_stops_the_run) {
  // A consumer that throws after N batches: the run ends promptly with that exception, no
  // producer left waiting for a free batch, a window slot or a commit.
  GenOptions o = adversarial(22, 6000, 100);
  TempDir dir;
  const std::string path = dir.write("c.fq", generate_fastq(o).text);
  for (const unsigned p : {2u, 3u, 7u}) {
    for (const unsigned c : {1u, 2u, 5u}) {
      for (const std::size_t depth : {std::size_t{1}, std::size_t{0}}) {
        for (const int after : {0, 5}) {
          const PipelineOptions po = mpmc(p, c, 2048, 10, depth);
          SCOPED_TRACE(describe(po) + " throws after " + std::to_string(after));
          std::atomic<int> calls{0};
          with_deadline(kDeadline, [&] {
            try {
              for_each_batch(path, po, [&](unsigned, const FastqBatch&) {
                if (++calls > after) throw std::runtime_error("consumer boom");
              });
              ADD_FAILURE() << "consumer exception was swallowed";
            } catch (const Error& e) {
              ADD_FAILURE() << "got fqpipe::Error instead: " << e.what();
            } catch (const std::runtime_error& e) {
              EXPECT_STREQ(e.what(), "consumer boom");
            }
          });
          // 600 batches in the file; each consumer fails on its first batch after N.
          EXPECT_LT(calls.load(), 100) << "the run went on long after the consumer failed";
        }
      }
    }
  }
}

TEST(PipelineMpmc, consumer_error_keeps_its_type_and_beats_a_later_data_error) {
  // A consumer's fqpipe::Error is the run's error, not a data error the producers find later.
  GenOptions o = adversarial(23, 3000, 100);
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("c.fq", damage(g.text, g.records[2900].decoded_byte, Damage::header_without_at));
  for (const unsigned p : {2u, 7u}) {
    const PipelineOptions po = mpmc(p, 2, 1024, 10, 1);
    SCOPED_TRACE(describe(po));
    with_deadline(kDeadline, [&] {
      const Error e = expect_error([&] {
        for_each_batch(path, po, [&](unsigned, const FastqBatch& b) {
          if (b.first_record_no() > 100) {
            ErrorPosition at;
            at.record_no = 4242;
            throw Error(ErrorKind::usage, "consumer says no", at);
          }
        });
      });
      EXPECT_EQ(e.kind(), ErrorKind::usage) << e.what();
      EXPECT_EQ(e.reason(), "consumer says no");
      EXPECT_EQ(e.position().record_no, 4242u);
    });
  }
}

// ---- failing reductions (run<>: producers consume their own chunks) -----------------------

namespace {

// Counts records; throws what `fail` says once it has seen more than `after` batches.
struct Failing {
  static constexpr bool needs_record_numbers = false;
  std::atomic<int>* batches;
  int after;
  std::function<void()> fail;
  uint64_t records = 0;
  void consume(const FastqBatch& b) {
    if (++*batches > after) fail();
    records += b.size();
  }
  void merge(const Failing& o) { records += o.records; }
};

// Throws when it meets the record at decoded offset `byte`.
struct FailsAt {
  static constexpr bool needs_record_numbers = false;
  uint64_t byte;
  void consume(const FastqBatch& b) {
    for (const FastqRecord& r : b)
      if (r.decoded_byte == byte) throw Error(ErrorKind::usage, "reduction says no", ErrorPosition{});
  }
  void merge(const FailsAt&) {}
};

}  // namespace

TEST(PipelineMpmc, reduction_exception_stops_the_run_unchanged) {
  // A partial result that throws, speculatively or at the commit: the run ends promptly with
  // that exception, its type and its record number unchanged (a parse error's number would
  // be moved by the records before its chunk; a consumer's must not be).
  GenOptions o = adversarial(24, 6000, 100);
  TempDir dir;
  const std::string path = dir.write("r.fq", generate_fastq(o).text);
  for (const unsigned p : {1u, 2u, 7u}) {
    for (const int after : {0, 5, 200}) {
      const PipelineOptions po = mpmc(p, 0, 2048, 10);
      SCOPED_TRACE(describe(po) + " throws after " + std::to_string(after));
      std::atomic<int> batches{0};
      with_deadline(kDeadline, [&] {
        const Error e = expect_error([&] {
          run<Failing>(path, po, [&] {
            return Failing{&batches, after, [] {
                             ErrorPosition at;
                             at.record_no = 4242;
                             throw Error(ErrorKind::usage, "reduction says no", at);
                           }};
          });
        });
        EXPECT_EQ(e.kind(), ErrorKind::usage) << e.what();
        EXPECT_EQ(e.reason(), "reduction says no");
        EXPECT_EQ(e.position().record_no, 4242u);
      });
      EXPECT_LT(batches.load(), after + 100) << "the run went on long after the reduction failed";
      std::atomic<int> calls{0};
      with_deadline(kDeadline, [&] {
        try {
          run<Failing>(path, po, [&] { return Failing{&calls, after, [] { throw std::runtime_error("boom"); }}; });
          ADD_FAILURE() << "the reduction's exception was swallowed";
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "boom");
        }
      });
    }
  }
}

TEST(PipelineMpmc, reduction_error_and_data_error_first_in_file_order_wins) {
  // The data is damaged at record 2900. A reduction that fails on record 100 is the run's
  // error; one that fails on record 2950 (reached by a producer that parses ahead) is not:
  // the data error comes first, with its true record number.
  GenOptions o = adversarial(25, 3000, 100);
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("r.fq", damage(g.text, g.records[2900].decoded_byte, Damage::header_without_at));
  const std::optional<Error> data_error = run_batches(path, spmc(1)).error;
  ASSERT_TRUE(data_error);
  for (const unsigned p : {2u, 7u}) {
    for (const std::size_t chunk : {std::size_t{1024}, std::size_t{4096}}) {
      const PipelineOptions po = mpmc(p, 0, chunk, 10);
      SCOPED_TRACE(describe(po));
      with_deadline(kDeadline, [&] {
        const Error early = expect_error([&] {
          run<FailsAt>(path, po, [&] { return FailsAt{g.records[100].decoded_byte}; });
        });
        EXPECT_EQ(early.reason(), "reduction says no") << early.what();
        const Error late = expect_error([&] {
          run<FailsAt>(path, po, [&] { return FailsAt{g.records[2950].decoded_byte}; });
        });
        EXPECT_EQ(std::string(late.what()), std::string(data_error->what()));
        EXPECT_EQ(late.position().record_no, data_error->position().record_no);
      });
    }
  }
}

// Counts the records it consumed and those whose header was empty. kSays: declares
// needs_headers (with kHeaders); without it run<> must keep the headers.
template <bool kSays, bool kHeaders = true>
struct HeaderCount {
  static constexpr bool needs_record_numbers = false;
  uint64_t records = 0, empty = 0;
  void consume(const FastqBatch& b) {
    for (const FastqRecord& r : b) {
      ++records;
      empty += r.header.empty();
    }
  }
  void merge(const HeaderCount& o) {
    records += o.records;
    empty += o.empty;
  }
};
template <bool kHeaders>
struct HeaderCount<true, kHeaders> : HeaderCount<false> {
  static constexpr bool needs_headers = kHeaders;
  void merge(const HeaderCount& o) { HeaderCount<false>::merge(o); }
};

// FastqStats as a Worker that does not say it needs no headers.
struct KeptStats {
  static constexpr bool needs_record_numbers = false;
  FastqStats s;
  void consume(const FastqBatch& b) { s.consume(b); }
  void merge(const KeptStats& o) { s.merge(o.s); }
};

TEST(PipelineMpmc, workers_that_need_no_headers_get_none) {
  // Breaks when run<> ignores a Worker's needs_headers = false (headers still copied), or
  // drops headers of a Worker that did not say so, on any of the three ways reduce() runs.
  GenOptions o;
  o.records = 3000;
  o.header_comments = 0.5;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("h.fq", g.text);
  for (const auto& [threads, consumers] : {std::pair{1u, 0u}, std::pair{2u, 0u}, std::pair{2u, 2u}}) {
    PipelineOptions po;
    po.threads = threads;
    po.consumers = consumers;
    po.read.chunk_bytes = 4096;
    SCOPED_TRACE(describe(po));
    RunInfo info;
    const auto none = run<HeaderCount<true, false>>(path, po, [] { return HeaderCount<true, false>(); }, &info);
    EXPECT_EQ(none.records, g.records.size());
    EXPECT_EQ(none.empty, none.records);
    EXPECT_EQ(info.mode, threads > 1 ? PipelineMode::mpmc : PipelineMode::spmc);
    const auto kept = run<HeaderCount<true, true>>(path, po, [] { return HeaderCount<true, true>(); });
    EXPECT_EQ(kept.records, g.records.size());
    EXPECT_EQ(kept.empty, 0u);
    const auto silent = run<HeaderCount<false>>(path, po, [] { return HeaderCount<false>(); });
    EXPECT_EQ(silent.records, g.records.size());
    EXPECT_EQ(silent.empty, 0u);
  }
  // FastqStats says it needs none; its numbers are those of a run that keeps the headers.
  PipelineOptions po;
  po.threads = 2;
  po.read.chunk_bytes = 4096;
  const FastqStats got = run<FastqStats>(path, po, [] { return FastqStats(); });
  const FastqStats want = run<KeptStats>(path, po, [] { return KeptStats(); }).s;
  EXPECT_EQ(got.reads(), want.reads());
  EXPECT_EQ(got.bases(), want.bases());
  EXPECT_EQ(got.length_histogram(), want.length_histogram());
  EXPECT_EQ(got.quality_sum(QualitySchema::sanger), want.quality_sum(QualitySchema::sanger));
  EXPECT_EQ(got.position_counts(), want.position_counts());
  EXPECT_EQ(got.n(), want.n());
}
