// Damaged gzip input (issue 2, items 3 and 5): truncation anywhere, a flipped CRC32, a wrong
// ISIZE, garbage or zero padding after the last member. What would break: a truncated download
// counted as a shorter but valid file (the worst outcome: wrong numbers reported as success), a
// corrupt member accepted because only the last CRC is checked, or trailing garbage ignored.
#include <gtest/gtest.h>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

Generated sample(std::size_t records = 4000, uint64_t seed = 21) {
  return generate_fastq({.seed = seed, .records = records, .min_length = 50, .max_length = 150});
}

// Reading `bytes` must fail with a data Error, never return a result.
void expect_data_error(const std::string& bytes, const std::string& what) {
  TempDir dir;
  const std::string path = dir.write("d.fq.gz", bytes);
  SCOPED_TRACE(what);
  std::size_t records = 0;
  try {
    Reader reader(path, {.batch_records = 256});
    FastqBatch batch;
    while (reader.next_batch(batch)) records += batch.size();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
    EXPECT_EQ(e.position().file, path) << e.what();
    return;
  }
  ADD_FAILURE() << "accepted damaged input with " << records << " records";
}

}  // namespace

TEST(GzipDamage, truncated_at_many_points) {
  // Breaks when the end of the compressed bytes is taken for the end of the data anywhere:
  // inside the header, the DEFLATE stream (also at a record boundary of the text) or trailer.
  const Generated g = sample();
  const std::string gz = gzip_member(g.text);
  // Confirm the reference rejects every cut too, so the test data is what we think it is.
  std::vector<std::size_t> cuts = {1, 2, 3, 5, 9, 10, 11, 12, 20};
  for (std::size_t i = 1; i < 60; ++i) cuts.push_back(gz.size() * i / 60);
  for (std::size_t k = 1; k <= 8; ++k) cuts.push_back(gz.size() - k);
  for (std::size_t cut : cuts) {
    const std::string bytes = gz.substr(0, cut);
    EXPECT_THROW(gunzip(bytes), ReferenceError) << cut;
    expect_data_error(bytes, "cut at " + std::to_string(cut) + " of " + std::to_string(gz.size()));
  }
}

TEST(GzipDamage, truncated_inside_second_member) {
  // Breaks when truncation is detected in the first member only.
  const Generated g = sample();
  const std::string m1 = gzip_member(g.text.substr(0, g.records[2000].decoded_byte));
  const std::string m2 = gzip_member(g.text.substr(g.records[2000].decoded_byte));
  for (std::size_t cut : {std::size_t{5}, m2.size() / 2, m2.size() - 8, m2.size() - 1})
    expect_data_error(m1 + m2.substr(0, cut), "second member cut at " + std::to_string(cut));
}

TEST(GzipDamage, truncated_bgzf) {
  // Breaks when a BGZF file missing its tail (and its EOF marker) is accepted: the cut falls
  // inside a block, so the data is incomplete.
  const Generated g = sample(20000);
  TempDir dir;
  const std::string in = dir.write("in.fq", g.text);
  compress_with("bgzip", in, dir.file("in.bgz"));
  const std::string bgz = read_file(dir.file("in.bgz"));
  for (std::size_t cut : {bgz.size() / 3, bgz.size() / 2 + 7, bgz.size() - 40})
    expect_data_error(bgz.substr(0, cut), "bgzf cut at " + std::to_string(cut));
}

TEST(GzipDamage, crc_mismatch_single_member) {
  // Breaks when the CRC32 in the trailer is not compared with the decoded data.
  const std::string gz = gzip_member(sample().text);
  for (std::size_t k : {8u, 7u, 6u, 5u}) {  // each of the four CRC bytes
    std::string bad = gz;
    bad[bad.size() - k] ^= 0x01;
    expect_data_error(bad, "crc byte " + std::to_string(k));
  }
}

TEST(GzipDamage, crc_mismatch_in_second_member) {
  // Breaks when only the first (or last) member's CRC is checked.
  const Generated g = sample();
  const std::size_t half = g.records[2000].decoded_byte;
  const std::string m1 = gzip_member(g.text.substr(0, half));
  std::string m2 = gzip_member(g.text.substr(half, 1000));
  const std::string m3 = gzip_member(g.text.substr(half + 1000));
  m2[m2.size() - 8] ^= 0x80;
  expect_data_error(m1 + m2 + m3, "crc of the second of three members");
}

TEST(GzipDamage, wrong_isize) {
  // Breaks when ISIZE (uncompressed length mod 2^32) is not checked.
  const std::string gz = gzip_member(sample().text);
  for (std::size_t k : {4u, 1u}) {
    std::string bad = gz;
    bad[bad.size() - k] ^= 0x01;
    expect_data_error(bad, "isize byte " + std::to_string(k));
  }
}

TEST(GzipDamage, wrong_isize_in_first_member) {
  // Breaks when ISIZE is checked for the last member only.
  const Generated g = sample();
  const std::size_t half = g.records[2000].decoded_byte;
  std::string m1 = gzip_member(g.text.substr(0, half));
  m1[m1.size() - 4] ^= 0x02;
  expect_data_error(m1 + gzip_member(g.text.substr(half)), "isize of the first member");
}

TEST(GzipDamage, corrupt_deflate_data) {
  // Breaks when a flipped bit inside the compressed stream is decoded into silently wrong text
  // (CRC must catch what the DEFLATE decoder does not).
  const std::string gz = gzip_member(sample().text);
  for (std::size_t pos : {gz.size() / 4, gz.size() / 2, gz.size() * 3 / 4}) {
    std::string bad = gz;
    bad[pos] ^= 0x10;
    expect_data_error(bad, "bit flip at " + std::to_string(pos));
  }
}

TEST(GzipDamage, garbage_after_last_member) {
  // Breaks when bytes after the last member (a concatenated non-gzip file) are ignored.
  const std::string gz = gzip_member(sample().text);
  expect_data_error(gz + "@r\nACGT\n+\nIIII\n", "fastq text after the member");
  expect_data_error(gz + std::string("\x1f", 1), "one magic byte after the member");
  expect_data_error(gz + std::string("\x1f\x8b", 2), "a bare magic after the member");
  expect_data_error(gz + std::string("\0\0\0x", 4), "zeros then garbage");
}

TEST(GzipDamage, zero_padding_after_last_member_is_accepted) {
  // Breaks when tape/block padding with zero bytes after the last member is an error
  // (gzip itself accepts it).
  const Generated g = sample();
  TempDir dir;
  for (std::size_t pad : {1u, 7u, 512u, 70000u}) {
    const std::string path = dir.write("pad.fq.gz", gzip_member(g.text) + std::string(pad, '\0'));
    ASSERT_EQ(reference_records(path), g.records);
    const ReadResult got = read_all(path);
    EXPECT_EQ(got.records, g.records) << "pad " << pad;
  }
}

TEST(GzipDamage, bad_header_fields) {
  // Breaks when an unknown compression method or reserved flag bits are accepted.
  const std::string gz = gzip_member(sample(100).text);
  std::string method = gz;
  method[2] = 7;  // CM must be 8 (deflate)
  expect_data_error(method, "compression method 7");
  std::string reserved = gz;
  reserved[3] = static_cast<char>(reserved[3] | 0xe0);  // FLG bits 5-7 reserved
  expect_data_error(reserved, "reserved flag bits");
}

TEST(GzipDamage, damage_error_reports_compressed_offset) {
  // Breaks when a container error carries no compressed offset, or one outside the file: the
  // user needs it to find the damage (DESIGN.md §5, "compressed offset where known").
  const Generated g = sample();
  const std::string m1 = gzip_member(g.text.substr(0, g.records[2000].decoded_byte));
  std::string m2 = gzip_member(g.text.substr(g.records[2000].decoded_byte));
  m2[m2.size() - 8] ^= 0x01;  // CRC of the second member
  const std::string bytes = m1 + m2;
  TempDir dir;
  const std::string path = dir.write("off.fq.gz", bytes);
  const Error e = expect_error([&] { read_all(path); });
  EXPECT_EQ(e.kind(), ErrorKind::data);
  EXPECT_GE(e.position().comp_byte, static_cast<int64_t>(m1.size())) << e.what();
  EXPECT_LE(e.position().comp_byte, static_cast<int64_t>(bytes.size())) << e.what();
  EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
}
