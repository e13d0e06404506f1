// Every kind of malformed FASTQ (issue 2, items 4-5) must raise fqpipe::Error naming the exact
// record, line and decompressed byte offset, and show the offending line. What would break:
// an off-by-one record/line number, an offset relative to the parser's buffer instead of the
// input, an error lost when it falls across a buffer refill, or bad input accepted silently.
// Expected positions are computed from the text by hand (LineIndex), never taken from fqpipe.
#include <gtest/gtest.h>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

// `prefix_records` valid records, then `bad` (text of the broken record and what follows).
struct Case {
  std::string text;
  uint64_t bad_record;  // 1-based number of the broken record
  uint64_t first_line;  // its first line
};

Case with_prefix(std::size_t prefix_records, const std::string& bad, bool crlf = false,
                 uint64_t seed = 1) {
  GenOptions o;
  o.records = prefix_records;
  o.crlf = crlf;
  o.seed = seed;
  o.min_length = 0;
  o.max_length = 200;
  Generated g = generate_fastq(o);
  return {g.text + bad, prefix_records + 1, 4 * prefix_records + 1};
}

// Reads `text` and returns the Error it must raise.
Error read_error(const std::string& text, const ReadOptions& options, std::string* path_out) {
  static int n = 0;
  TempDir dir;
  const std::string path = dir.write("bad" + std::to_string(++n) + ".fq", text);
  if (path_out) *path_out = path;
  return expect_error([&] { read_all(path, options); });
}

// Checks that reading `c.text` fails at line `c.first_line + line_in_record` of record
// `c.bad_record`, that the reason contains `reason_part`, and the excerpt is that line.
void expect_error_at(const Case& c, int line_in_record, const std::string& reason_part,
                     const ReadOptions& options = {}) {
  std::string path;
  const Error e = read_error(c.text, options, &path);
  const LineIndex lines(c.text);
  const uint64_t line_no = c.first_line + static_cast<uint64_t>(line_in_record);
  const uint64_t start = lines.line_start(line_no);
  expect_position(e, path, c.bad_record, line_no, static_cast<int64_t>(start));
  EXPECT_NE(e.reason().find(reason_part), std::string::npos) << e.reason();
  std::size_t end = c.text.find('\n', start);
  if (end == std::string::npos) end = c.text.size();
  std::string line = c.text.substr(start, end - start);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  EXPECT_EQ(e.position().line, line.substr(0, 200));
}

}  // namespace

TEST(ParseErrors, header_without_at) {
  // Breaks when a record that does not start with '@' is skipped or resynchronised silently.
  expect_error_at(with_prefix(5, "r6\nACGT\n+\nIIII\n@r7\nA\n+\nI\n"), 0, "'@'");
}

TEST(ParseErrors, header_without_at_after_many_batches_and_refills) {
  // Breaks when record/line/byte counters are reset per batch or per buffer refill.
  expect_error_at(with_prefix(30000, ">r\nACGT\n+\nIIII\n"), 0, "'@'", {.batch_records = 7});
}

TEST(ParseErrors, header_without_at_crlf) {
  // Breaks when the byte offset counts "\r\n" as one byte.
  expect_error_at(with_prefix(100, "r\r\nACGT\r\n+\r\nIIII\r\n", true), 0, "'@'");
}

TEST(ParseErrors, header_without_at_in_first_record) {
  // Breaks when a file whose first byte is not '@' is accepted (or read as zero records).
  TempDir dir;
  const std::string path = dir.write("x.fq", "r1\nACGT\n+\nIIII\n");
  const Error e = expect_error([&] { read_all(path); });
  EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
  EXPECT_EQ(e.position().file, path);
}

TEST(ParseErrors, blank_line_between_records) {
  // Breaks when a blank line in the middle is skipped (hiding a damaged file) instead of being
  // reported at the blank line.
  expect_error_at(with_prefix(3, "\n@r5\nACGT\n+\nIIII\n"), 0, "empty line");
}

TEST(ParseErrors, missing_plus) {
  // Breaks when the third line is not checked for '+'.
  expect_error_at(with_prefix(4, "@r\nACGT\n-\nIIII\n"), 2, "'+'");
}

TEST(ParseErrors, missing_plus_empty_line) {
  // Breaks when an empty third line passes as a separator.
  expect_error_at(with_prefix(4, "@r\nACGT\n\nIIII\n@s\nA\n+\nI\n"), 2, "'+'");
}

TEST(ParseErrors, plus_line_repeats_different_name) {
  // Breaks when a '+name' line is accepted without comparing it with the header.
  expect_error_at(with_prefix(9, "@read10 x\nACGT\n+read11 x\nIIII\n"), 2, "'+'");
}

TEST(ParseErrors, plus_line_repeats_name_prefix_only) {
  // Breaks when the comparison stops at the shorter of the two names.
  expect_error_at(with_prefix(2, "@read3\nACGT\n+read\nIIII\n"), 2, "'+'");
}

TEST(ParseErrors, quality_length_149_sequence_length_150) {
  // Breaks when lengths are not compared, or the message differs from the documented form.
  const std::string seq(150, 'A'), qual(149, 'I');
  const Case c = with_prefix(1233, "@r\n" + seq + "\n+\n" + qual + "\n");
  expect_error_at(c, 3, "quality length 149 != sequence length 150");
  std::string path;
  const Error e = read_error(c.text, {}, &path);
  EXPECT_EQ(e.reason(), "quality length 149 != sequence length 150");
  EXPECT_EQ(e.position().record_no, 1234u);
  EXPECT_EQ(e.position().line_no, 4936u);
}

TEST(ParseErrors, quality_longer_than_sequence) {
  // Breaks when only a shorter quality is detected (the longer one read up to the sequence length).
  expect_error_at(with_prefix(10, "@r\nACGT\n+\nIIIII\n@s\nA\n+\nI\n"), 3,
                  "quality length 5 != sequence length 4");
}

TEST(ParseErrors, quality_length_mismatch_crlf) {
  // Breaks when the '\r' of one line is counted and the other's not.
  expect_error_at(with_prefix(10, "@r\r\nACGT\r\n+\r\nIII\r\n", true), 3,
                  "quality length 3 != sequence length 4");
}

TEST(ParseErrors, truncated_after_header) {
  // Breaks when a record cut after its header is dropped and the file counted as complete.
  // The error names the truncated record at its last line present.
  expect_error_at(with_prefix(20, "@r21\n"), 0, "truncated");
  expect_error_at(with_prefix(20, "@r21"), 0, "truncated");
}

TEST(ParseErrors, truncated_after_sequence) {
  // Breaks when a record cut after its sequence line is dropped silently.
  expect_error_at(with_prefix(20, "@r21\nACGT\n"), 1, "truncated");
  expect_error_at(with_prefix(20, "@r21\nACGT"), 1, "truncated");
}

TEST(ParseErrors, truncated_after_plus) {
  // Breaks when a record cut after its '+' line is taken for one with an empty quality.
  expect_error_at(with_prefix(20, "@r21\nACGT\n+\n"), 2, "truncated");
  expect_error_at(with_prefix(20, "@r21\nACGT\n+"), 2, "truncated");
}

TEST(ParseErrors, truncated_in_quality) {
  // A cut inside the quality line leaves a short quality: a length error on that line.
  expect_error_at(with_prefix(20, "@r21\nACGT\n+\nII"), 3, "quality length 2 != sequence length 4");
}

TEST(ParseErrors, truncated_record_after_large_input) {
  // Breaks when the final partial record is lost when it sits across a buffer refill.
  expect_error_at(with_prefix(40000, "@last\nACGTACGT\n+\n", false, 3), 2, "truncated");
}

TEST(ParseErrors, nul_byte_in_sequence) {
  // Breaks when a NUL (a zero-filled block of a damaged disk) passes check_ascii.
  expect_error_at(with_prefix(7, std::string("@r\nAC\0T\n+\nIIII\n", 15)), 1, "");
}

TEST(ParseErrors, nul_byte_in_quality) {
  // Breaks when a NUL in a quality line passes (the range check must see every byte).
  expect_error_at(with_prefix(7, std::string("@r\nACGT\n+\nII\0I\n", 15)), 3, "");
}

TEST(ParseErrors, non_ascii_byte_in_header) {
  // Breaks when UTF-8 or Latin-1 bytes in a header pass check_ascii.
  expect_error_at(with_prefix(7, "@r\xc3\xa9\nACGT\n+\nIIII\n"), 0, "");
}

TEST(ParseErrors, non_ascii_byte_in_sequence) {
  // Breaks when a byte >= 128 in a sequence passes check_ascii (signed char comparisons).
  expect_error_at(with_prefix(7, "@r\nAC\xffT\n+\nIIII\n"), 1, "");
}

TEST(ParseErrors, space_in_sequence) {
  // Breaks when a space (allowed in headers only) passes check_ascii in a sequence.
  expect_error_at(with_prefix(7, "@r\nAC T\n+\nIIII\n"), 1, "");
}

TEST(ParseErrors, control_byte_in_header) {
  // Breaks when control bytes other than tab pass check_ascii in a header.
  expect_error_at(with_prefix(7, "@r\x01x\nACGT\n+\nIIII\n"), 0, "");
}

TEST(ParseErrors, check_ascii_off_accepts_non_ascii_header_and_sequence) {
  // Breaks when check_ascii=false still rejects bytes only that check is about.
  const std::string text = "@r\xc3\xa9 \x01\nAC\xffT\n+\nIIII\n@s\nA\n+\nI\n";
  TempDir dir;
  const std::string path = dir.write("ok.fq", text);
  const ReadResult got = read_all(path, {.check_ascii = false});
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.records[0].header, "r\xc3\xa9 \x01");
  EXPECT_EQ(got.records[0].sequence, "AC\xffT");
}

TEST(ParseErrors, tab_and_space_in_header_are_ascii) {
  // Breaks when check_ascii rejects the spaces and tabs of ordinary header comments.
  TempDir dir;
  const ReadResult got = read_all(dir.write("t.fq", "@r 1:N\tx\nACGT\n+\nIIII\n"));
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].header, "r 1:N\tx");
}

TEST(ParseErrors, offending_line_cut_at_200_bytes) {
  // Breaks when a huge broken line is copied whole into the error (a 100 MB read).
  const std::string longline(5000, 'X');
  std::string path;
  const Case c = with_prefix(2, longline + "\nACGT\n+\nIIII\n");
  const Error e = read_error(c.text, {}, &path);
  EXPECT_EQ(e.position().line, longline.substr(0, 200));
  EXPECT_EQ(e.position().record_no, 3u);
}

TEST(ParseErrors, record_longer_than_max_record_bytes) {
  // Breaks when max_record_bytes is only enforced once a record outgrows the read buffer:
  // the documented limit is on the record, whatever the buffer size.
  const std::string seq(5000, 'A'), qual(5000, 'I');
  const Case c = with_prefix(3, "@big\n" + seq + "\n+\n" + qual + "\n@s\nA\n+\nI\n");
  std::string path;
  const Error e = read_error(c.text, {.max_record_bytes = 1000}, &path);
  EXPECT_EQ(e.kind(), ErrorKind::data);
  EXPECT_EQ(e.position().record_no, 4u) << e.what();
}

TEST(ParseErrors, record_longer_than_max_record_bytes_beyond_buffer) {
  // Same limit for a record larger than any read buffer (memory must stay bounded).
  const std::string seq(3 << 20, 'A'), qual(3 << 20, 'I');
  const Case c = with_prefix(3, "@big\n" + seq + "\n+\n" + qual + "\n");
  std::string path;
  const Error e = read_error(c.text, {.max_record_bytes = 1 << 20}, &path);
  EXPECT_EQ(e.kind(), ErrorKind::data);
  EXPECT_EQ(e.position().record_no, 4u) << e.what();
}

TEST(ParseErrors, missing_file_is_io_error) {
  // Breaks when an unreadable path is reported as bad data (exit 1 instead of 2).
  TempDir dir;
  const std::string path = dir.file("does-not-exist.fq");
  const Error e = expect_error([&] { Reader r(path); });
  EXPECT_EQ(e.kind(), ErrorKind::io) << e.what();
  EXPECT_EQ(e.position().file, path);
}

TEST(ParseErrors, directory_is_io_error) {
  // Breaks when a directory is read as an empty file (0 records, exit 0) instead of an io error.
  TempDir dir;
  const Error e = expect_error([&] { read_all(dir.path()); });
  EXPECT_EQ(e.kind(), ErrorKind::io) << e.what();
}

TEST(ParseErrors, records_before_error_are_delivered_in_order) {
  // Breaks when a batch holding valid records is thrown away because a later record in the same
  // read-ahead is broken before those records were handed out (with batch_records = 1 every
  // valid record must come out before the error).
  const Case c = with_prefix(50, "@r\nACGT\n+\nIII\n");
  TempDir dir;
  const std::string path = dir.write("e.fq", c.text);
  Reader reader(path, {.batch_records = 1});
  FastqBatch batch;
  uint64_t seen = 0;
  try {
    while (reader.next_batch(batch)) seen += batch.size();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.position().record_no, 51u);
  }
  EXPECT_EQ(seen, 50u);
}

TEST(ParseErrors, batch_bytes_zero_does_not_lose_records) {
  // Breaks when batch_bytes = 0 makes next_batch() return false at once: the input would be
  // reported as empty, a silently short result. Either every record or an Error is fine.
  GenOptions o;
  o.records = 10;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string path = dir.write("z.fq", g.text);
  try {
    const ReadResult got = read_all(path, {.batch_records = 8192, .batch_bytes = 0});
    EXPECT_EQ(got.records, g.records);
  } catch (const Error& e) {
    SUCCEED() << e.what();
  }
}
