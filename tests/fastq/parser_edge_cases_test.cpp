// Parser edge cases (issue 2, item 4): each test is a shape of valid FASTQ that a fast parser
// tends to get wrong. What would break: a '\r' leaking into sequence/quality, empty reads being
// dropped or merged, the last record lost when the file lacks a final newline, quality lines
// that begin with '@' or '+' taken for headers/separators, records torn at buffer refills or
// batch boundaries, wrong record numbers or byte offsets.
#include <gtest/gtest.h>

#include <numeric>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

// Reads `text` from a temp file and checks the records against the naive reference split.
ReadResult read_text(const std::string& text, const ReadOptions& options = {}) {
  TempDir dir;
  const std::string path = dir.write("in.fastq", text);
  return read_all(path, options);
}

void expect_matches_reference(const std::string& text, const ReadOptions& options = {}) {
  const ReadResult got = read_text(text, options);
  const std::vector<RefRecord> want = split_fastq(text);
  ASSERT_EQ(got.records.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got.records[i], want[i]) << "record " << i + 1;
    ASSERT_EQ(got.record_nos[i], i + 1);
  }
}

}  // namespace

TEST(ParserEdgeCases, crlf_never_reaches_sequence_quality_or_header) {
  // Breaks when the parser splits at '\n' only: "ACGT\r" would be a sequence of length 5 and
  // the quality check or the stats would see a '\r'.
  GenOptions o;
  o.records = 3000;
  o.crlf = true;
  o.header_comments = 0.5;
  o.plus_repeats_name = 0.3;
  const Generated g = generate_fastq(o);
  const ReadResult got = read_text(g.text, {.batch_records = 97});
  ASSERT_EQ(got.records, g.records);
  for (const RefRecord& r : got.records) {
    ASSERT_EQ(r.header.find('\r'), std::string::npos);
    ASSERT_EQ(r.sequence.find('\r'), std::string::npos);
    ASSERT_EQ(r.quality.find('\r'), std::string::npos);
  }
}

TEST(ParserEdgeCases, crlf_plus_line_repeating_name) {
  // Breaks when "+r1\r" is compared with the header "r1" without dropping the '\r'.
  const std::string text = "@r1 c\r\nACGT\r\n+r1 c\r\nIIII\r\n@r2\r\nA\r\n+\r\nI\r\n";
  expect_matches_reference(text);
}

TEST(ParserEdgeCases, empty_sequence_records) {
  // Breaks when an empty sequence line is skipped as a blank line, which shifts every later
  // record by one line.
  const std::string text = "@e1\n\n+\n\n@r2\nACG\n+\nIII\n@e3\n\n+e3\n\n@r4\nA\n+\nI\n";
  const ReadResult got = read_text(text);
  ASSERT_EQ(got.records.size(), 4u);
  EXPECT_EQ(got.records[0].sequence, "");
  EXPECT_EQ(got.records[0].quality, "");
  EXPECT_EQ(got.records[2].header, "e3");
  EXPECT_EQ(got.records[2].sequence, "");
  expect_matches_reference(text);
}

TEST(ParserEdgeCases, empty_sequences_crlf_random) {
  // Breaks when "\r\n\r\n" (empty sequence, CRLF) is taken for a blank line.
  GenOptions o;
  o.records = 2000;
  o.min_length = 0;
  o.max_length = 3;
  o.crlf = true;
  const Generated g = generate_fastq(o);
  EXPECT_EQ(read_text(g.text, {.batch_records = 13}).records, g.records);
}

TEST(ParserEdgeCases, last_record_without_newline) {
  // Breaks when the parser only emits a record once it sees the quality line's '\n'.
  for (bool crlf : {false, true}) {
    GenOptions o;
    o.records = 500;
    o.crlf = crlf;
    o.no_final_newline = true;
    const Generated g = generate_fastq(o);
    ASSERT_NE(g.text.back(), '\n');
    const ReadResult got = read_text(g.text, {.batch_records = 64});
    ASSERT_EQ(got.records, g.records) << "crlf=" << crlf;
  }
}

TEST(ParserEdgeCases, single_record_without_newline) {
  // Breaks when a file smaller than any buffer and without '\n' at its end is mishandled.
  expect_matches_reference("@only\nACGTN\n+\nIIII#");
}

TEST(ParserEdgeCases, plus_repeating_name_is_accepted) {
  // Breaks when the parser only accepts a bare '+' separator.
  GenOptions o;
  o.records = 1000;
  o.plus_repeats_name = 1.0;
  o.header_comments = 0.5;
  const Generated g = generate_fastq(o);
  EXPECT_EQ(read_text(g.text).records, g.records);
}

TEST(ParserEdgeCases, quality_line_starts_with_at) {
  // Breaks when a quality line beginning with '@' (Q31) is taken for the next header.
  const std::string text = "@r1\nACGT\n+\n@III\n@r2\nAC\n+\n@@\n@r3\nA\n+\n@\n";
  expect_matches_reference(text, {.batch_records = 1});
  expect_matches_reference(text);
}

TEST(ParserEdgeCases, quality_line_starts_with_plus) {
  // Breaks when a quality line beginning with '+' (Q10) is taken for a separator.
  const std::string text = "@r1\nACGT\n+\n+III\n@r2\nAC\n+r2\n++\n@r3\nA\n+\n+\n";
  expect_matches_reference(text, {.batch_records = 1});
  expect_matches_reference(text);
}

TEST(ParserEdgeCases, quality_lines_starting_with_at_or_plus_random) {
  // Same hazard at scale, across batch and buffer boundaries.
  GenOptions o;
  o.records = 20000;
  o.qual_starts_special = 0.4;
  o.min_length = 1;
  const Generated g = generate_fastq(o);
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{8192}})
    ASSERT_EQ(read_text(g.text, {.batch_records = batch}).records, g.records) << batch;
}

TEST(ParserEdgeCases, records_straddle_buffer_refills) {
  // Breaks when a record that is cut by the end of the parser's read buffer is lost,
  // duplicated or glued wrongly. Long reads (up to 200 kb) cross any buffer size; short reads
  // put boundaries at every position within a record.
  GenOptions o;
  o.records = 40;
  o.min_length = 0;
  o.max_length = 200000;
  o.seed = 7;
  Generated longs = generate_fastq(o);
  GenOptions s;
  s.records = 40000;
  s.min_length = 0;
  s.max_length = 200;
  s.seed = 8;
  s.name_prefix = "short";
  s.crlf = false;
  Generated shorts = generate_fastq(s);
  // Interleave: all long reads, then short ones.
  std::string text = longs.text + shorts.text;
  const std::vector<RefRecord> want = split_fastq(text);
  ASSERT_EQ(want.size(), 40040u);
  for (ReadOptions ro : {ReadOptions{.batch_records = 1}, ReadOptions{.batch_records = 3},
                         ReadOptions{.batch_bytes = 1},
                         ReadOptions{.batch_records = 1000, .batch_bytes = 4096},
                         ReadOptions{}}) {
    const ReadResult got = read_text(text, ro);
    ASSERT_EQ(got.records.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got.records[i], want[i]) << "record " << i + 1 << " batch_records "
                                         << ro.batch_records << " batch_bytes " << ro.batch_bytes;
  }
}

TEST(ParserEdgeCases, batch_limits_respected) {
  // Breaks when a batch holds more records than batch_records, keeps growing past
  // batch_bytes, or ends early without reaching either limit (wasting the batch).
  GenOptions o;
  o.records = 5000;
  o.min_length = 0;
  o.max_length = 300;
  const Generated g = generate_fastq(o);
  struct Case { std::size_t records, bytes; };
  for (Case c : {Case{1, 1 << 20}, Case{10, 1 << 20}, Case{100000, 1}, Case{100000, 1000},
                 Case{64, 5000}, Case{8192, std::size_t{2} << 20}}) {
    const ReadResult got = read_text(g.text, {.batch_records = c.records, .batch_bytes = c.bytes});
    ASSERT_EQ(got.records, g.records);
    ASSERT_FALSE(got.batch_sizes.empty());
    std::size_t k = 0;  // index of the first record of batch b
    for (std::size_t b = 0; b < got.batch_sizes.size(); ++b) {
      const std::size_t n = got.batch_sizes[b];
      SCOPED_TRACE("limits " + std::to_string(c.records) + "/" + std::to_string(c.bytes) +
                   " batch " + std::to_string(b));
      ASSERT_GT(n, 0u);
      ASSERT_LE(n, c.records);
      std::size_t bytes = 0, bytes_before_last = 0;
      for (std::size_t i = k; i < k + n; ++i) {
        bytes_before_last = bytes;
        const RefRecord& r = g.records[i];
        bytes += r.header.size() + r.sequence.size() + r.quality.size();
      }
      ASSERT_EQ(got.batch_bytes[b], bytes);
      // The batch did not need its last record to reach batch_bytes...
      ASSERT_LT(bytes_before_last, c.bytes);
      // ...and a batch that is not the last one ended at a limit.
      if (b + 1 < got.batch_sizes.size()) {
        ASSERT_TRUE(n == c.records || bytes >= c.bytes);
      }
      k += n;
    }
    ASSERT_EQ(k, g.records.size());
  }
}

TEST(ParserEdgeCases, first_record_no_and_decoded_bytes) {
  // Breaks when record numbers restart per batch or byte offsets drift (e.g. CRLF counted as
  // one byte, or the batch's first record offset reset).
  for (bool crlf : {false, true}) {
    GenOptions o;
    o.records = 3000;
    o.crlf = crlf;
    o.plus_repeats_name = 0.5;
    o.min_length = 0;
    const Generated g = generate_fastq(o);
    const ReadResult got = read_text(g.text, {.batch_records = 37});
    ASSERT_EQ(got.records.size(), g.records.size());
    uint64_t expected_first = 1;
    for (std::size_t b = 0; b < got.batch_sizes.size(); ++b) {
      ASSERT_EQ(got.batch_first_nos[b], expected_first);
      expected_first += got.batch_sizes[b];
    }
    for (std::size_t i = 0; i < g.records.size(); ++i) {
      ASSERT_EQ(got.record_nos[i], i + 1);
      ASSERT_EQ(got.records[i].decoded_byte, g.records[i].decoded_byte) << "record " << i + 1;
      ASSERT_EQ(g.text[g.records[i].decoded_byte], '@');
    }
    EXPECT_EQ(got.records_read, g.records.size());
  }
}

TEST(ParserEdgeCases, trailing_blank_lines_accepted) {
  // Breaks when blank lines after the last record are reported as a truncated record.
  const std::string base = "@r1\nACGT\n+\nIIII\n@r2\nAC\n+\nII\n";
  for (const std::string tail : {"\n", "\n\n\n", "\r\n", "\r\n\r\n"}) {
    const ReadResult got = read_text(base + tail);
    ASSERT_EQ(got.records.size(), 2u) << "tail of " << tail.size() << " bytes";
    EXPECT_EQ(got.records[1].quality, "II");
  }
}

TEST(ParserEdgeCases, empty_file_has_no_records) {
  // Breaks when an empty input is an error or yields a phantom empty record.
  const ReadResult got = read_text("");
  EXPECT_TRUE(got.records.empty());
  EXPECT_TRUE(got.batch_sizes.empty());
  EXPECT_EQ(got.records_read, 0u);
  EXPECT_EQ(got.format, InputFormat::plain);
}

TEST(ParserEdgeCases, header_comment_kept_and_name_cut_at_space_or_tab) {
  // Breaks when the header loses its comment, or name() does not stop at a space or tab.
  TempDir dir;
  const std::string path = dir.write("c.fq", "@a b c\nA\n+\nI\n@x\ty z\nC\n+\nI\n@plain\nG\n+\nI\n");
  Reader reader(path);
  std::vector<std::string> headers, names;
  for (const FastqRecord& r : reader) {
    headers.emplace_back(r.header);
    names.emplace_back(r.name());
  }
  EXPECT_EQ(headers, (std::vector<std::string>{"a b c", "x\ty z", "plain"}));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "x", "plain"}));
}

TEST(ParserEdgeCases, record_iterator_equals_batches) {
  // Breaks when the record iterator skips the first record of a batch or ends a batch early.
  GenOptions o;
  o.records = 2500;
  o.min_length = 0;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("i.fq", g.text);
  Reader reader(path, {.batch_records = 10});
  std::vector<RefRecord> got;
  std::vector<uint64_t> nos;
  for (const FastqRecord& r : reader) {
    got.push_back(to_ref(r));
    nos.push_back(r.record_no);
  }
  EXPECT_EQ(got, g.records);
  std::vector<uint64_t> want(g.records.size());
  std::iota(want.begin(), want.end(), uint64_t{1});
  EXPECT_EQ(nos, want);
}

TEST(ParserEdgeCases, batch_arenas_are_consistent_with_records) {
  // Breaks when the structure-of-arrays offsets disagree with the record views (a GPU consumer
  // copies the arenas and offsets, not the views).
  GenOptions o;
  o.records = 777;
  o.min_length = 0;
  o.header_comments = 0.3;
  const Generated g = generate_fastq(o);
  TempDir dir;
  Reader reader(dir.write("a.fq", g.text), {.batch_records = 100});
  FastqBatch batch;
  std::size_t k = 0;
  while (reader.next_batch(batch)) {
    std::string h, s, q;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const RefRecord& r = g.records[k + i];
      h += r.header;
      s += r.sequence;
      q += r.quality;
      ASSERT_EQ(batch.header_ends()[i], h.size());
      ASSERT_EQ(batch.sequence_ends()[i], s.size());
      ASSERT_EQ(batch.decoded_bytes()[i], r.decoded_byte);
    }
    ASSERT_EQ(batch.headers(), h);
    ASSERT_EQ(batch.sequences(), s);
    ASSERT_EQ(batch.qualities(), q);
    k += batch.size();
  }
  EXPECT_EQ(k, g.records.size());
}

TEST(ParserEdgeCases, headers_left_out_are_still_checked) {
  // keep_headers = false empties the names in the batches, nothing else: sequences, qualities,
  // numbers and offsets are those of a normal parse, through the fast and the general path
  // (CRLF records take the general one), and a bad header is still an error at its record.
  GenOptions o;
  o.records = 2000;
  o.header_comments = 0.5;
  o.plus_repeats_name = 0.3;
  for (const bool crlf : {false, true}) {
    o.crlf = crlf;
    const Generated g = generate_fastq(o);
    const ReadResult full = read_text(g.text, {.batch_records = 97});
    const ReadResult bare = read_text(g.text, {.batch_records = 97, .keep_headers = false});
    ASSERT_EQ(bare.records.size(), full.records.size());
    for (std::size_t i = 0; i < full.records.size(); ++i) {
      ASSERT_EQ(bare.records[i].header, "") << i;
      ASSERT_EQ(bare.records[i].sequence, full.records[i].sequence) << i;
      ASSERT_EQ(bare.records[i].quality, full.records[i].quality) << i;
      ASSERT_EQ(bare.record_nos[i], full.record_nos[i]);
    }
  }
  const std::string bad = "@r1\nACGT\n+\nIIII\n@r\x01" "2\nA\n+\nI\n";
  try {
    read_text(bad, {.keep_headers = false});
    FAIL() << "a control byte in a header passed";
  } catch (const Error& e) {
    EXPECT_EQ(e.position().record_no, 2u);
    EXPECT_EQ(e.position().line_no, 5u);
  }
}
