// index_build_test.cpp - build_index() and IndexBuilder (issue #5, item 1). What would break: a
// checkpoint that is not a real DEFLATE block boundary, a window that is not the output before
// it, a record number off by one, member starts given windows from the previous member, a
// damaged gzip file indexed without complaint, non-FASTQ text given record numbers.
// Every checkpoint is checked by decoding from it with zlib (not ISA-L, which built it).
#include <gtest/gtest.h>

#include <algorithm>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "index/index_builder.hpp"
#include "index/index_test_support.hpp"
#include "testlib/read_all.hpp"

namespace fqpipe::testing {
namespace {

using testlib::TempDir;

// Every checkpoint decodes, with zlib and its window, to the reference bytes up to the next
// checkpoint; its window equals the reference bytes before it, within its member.
void check_checkpoints(const std::string& gz, const std::string& text, const GzipIndex& index) {
  ASSERT_EQ(index.decoded_size, text.size());
  ASSERT_EQ(index.comp_size, gz.size());
  ASSERT_FALSE(index.checkpoints.empty());
  for (std::size_t i = 0; i < index.checkpoints.size(); ++i) {
    SCOPED_TRACE("checkpoint " + std::to_string(i));
    const IndexCheckpoint& c = index.checkpoints[i];
    const std::vector<uint8_t> window = c.window.bytes();
    ASSERT_LE(window.size(), c.decoded_byte);
    const auto before = text.begin() + static_cast<std::ptrdiff_t>(c.decoded_byte - window.size());
    EXPECT_TRUE(std::equal(window.begin(), window.end(), before));
    const uint64_t end = i + 1 < index.checkpoints.size() ? index.checkpoints[i + 1].decoded_byte : text.size();
    // Within one member, zlib from here reproduces the text (a member may end sooner). Ask for
    // at least one byte before the end, so a checkpoint after a member's final block (at its
    // trailer) fails here even when the next checkpoint has the same offset.
    const uint64_t want = std::max<uint64_t>(end - c.decoded_byte, c.decoded_byte < text.size() ? 1 : 0);
    const std::string got = zlib_from_checkpoint(gz, c.comp_bit, window, static_cast<std::size_t>(want));
    ASSERT_FALSE(got.empty() && end > c.decoded_byte) << "zlib produced nothing";
    ASSERT_EQ(got, text.substr(c.decoded_byte, got.size()));
  }
}

// The record fields: the first record starting at or after each checkpoint.
void check_records(const std::string& text, const GzipIndex& index) {
  const std::vector<uint64_t> starts = record_starts(text);
  ASSERT_TRUE(index.has_records);
  ASSERT_EQ(index.record_count, starts.size());
  for (const IndexCheckpoint& c : index.checkpoints) {
    const auto it = std::lower_bound(starts.begin(), starts.end(), c.decoded_byte);
    const uint64_t no = static_cast<uint64_t>(it - starts.begin()) + 1;
    EXPECT_EQ(c.record_no, no) << "checkpoint at byte " << c.decoded_byte;
    EXPECT_EQ(c.record_byte, it == starts.end() ? text.size() : *it);
  }
}

GzipIndex build(const TempDir& dir, const std::string& gz, uint64_t spacing, bool records = true) {
  IndexBuildOptions o;
  o.spacing = spacing;
  o.records = records;
  return build_index(dir.write("in.gz", gz), o);
}

TEST(IndexBuild, checkpoints_are_block_boundaries_at_every_zlib_level) {
  TempDir dir;
  const std::string text = fastq_text(12000, 3);
  for (int level : {1, 6, 9}) {
    SCOPED_TRACE("level " + std::to_string(level));
    const std::string gz = testlib::gzip_member(text, level);
    const GzipIndex index = build(dir, gz, 64 << 10);
    EXPECT_GE(index.checkpoints.size(), text.size() / (64 << 10) / 2) << "too few checkpoints";
    EXPECT_EQ(index.checkpoints.front().comp_bit, 10u * 8) << "first checkpoint: start of the deflate data";
    check_checkpoints(gz, text, index);
    check_records(text, index);
  }
}

TEST(IndexBuild, spacing_is_respected) {
  TempDir dir;
  const std::string text = fastq_text(12000, 4);
  const GzipIndex index = build(dir, testlib::gzip_member(text, 6), 100000);
  for (std::size_t i = 1; i < index.checkpoints.size(); ++i)
    EXPECT_GE(index.checkpoints[i].decoded_byte - index.checkpoints[i - 1].decoded_byte, 100000u);
  EXPECT_EQ(index.spacing, 100000u);
}

TEST(IndexBuild, member_starts_need_no_window_and_windows_stay_in_their_member) {
  TempDir dir;
  const std::string text = fastq_text(12000, 5);
  const std::string gz = multi_member(text, 40, 6);
  const GzipIndex index = build(dir, gz, 32 << 10);
  std::size_t windowless = 0;
  for (const IndexCheckpoint& c : index.checkpoints) windowless += c.window.empty();
  EXPECT_GT(windowless, 5u) << "member starts should be used as checkpoints";
  check_checkpoints(gz, text, index);
  check_records(text, index);
}

TEST(IndexBuild, record_numbers_without_final_newline) {
  TempDir dir;
  const std::string text = fastq_text(5000, 6, false);
  ASSERT_NE(text.back(), '\n');
  const GzipIndex index = build(dir, testlib::gzip_member(text, 6), 32 << 10);
  check_records(text, index);
}

TEST(IndexBuild, text_that_is_not_fastq_gets_no_record_numbers) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40000; ++i) text += "line " + std::to_string(i) + (i % 3 ? " x\n" : "\n");
  const GzipIndex index = build(dir, testlib::gzip_member(text, 6), 32 << 10);
  EXPECT_FALSE(index.has_records);
  for (const IndexCheckpoint& c : index.checkpoints) EXPECT_EQ(c.record_no, 0u);
  check_checkpoints(testlib::gzip_member(text, 6), text, index);
}

TEST(IndexBuild, records_option_off) {
  TempDir dir;
  const GzipIndex index = build(dir, testlib::gzip_member(fastq_text(500, 7), 6), 32 << 10, false);
  EXPECT_FALSE(index.has_records);
}

TEST(IndexBuild, empty_gzip_file) {
  TempDir dir;
  const GzipIndex index = build(dir, testlib::gzip_member("", 6), 32 << 10);
  EXPECT_EQ(index.decoded_size, 0u);
  ASSERT_EQ(index.checkpoints.size(), 1u);
  EXPECT_TRUE(index.has_records);
  EXPECT_EQ(index.record_count, 0u);
}

TEST(IndexBuild, crc_mismatch_fails_the_build) {
  TempDir dir;
  std::string gz = testlib::gzip_member(fastq_text(2000, 8), 6);
  gz[gz.size() - 6] ^= 1;  // the CRC32
  const Error e = testlib::expect_error([&] { build(dir, gz, 32 << 10); });
  EXPECT_EQ(e.kind(), ErrorKind::data);
  EXPECT_NE(std::string(e.what()).find("crc32 mismatch"), std::string::npos) << e.what();
}

TEST(IndexBuild, truncated_gzip_fails_the_build) {
  TempDir dir;
  const std::string gz = testlib::gzip_member(fastq_text(2000, 9), 6);
  for (std::size_t keep : {gz.size() / 2, gz.size() - 4, std::size_t{12}}) {
    const Error e = testlib::expect_error([&] { build(dir, gz.substr(0, keep), 32 << 10); });
    EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(IndexBuild, plain_file_and_bad_spacing_are_refused) {
  TempDir dir;
  const std::string plain = dir.write("plain.fq", fastq_text(10, 1));
  EXPECT_EQ(testlib::expect_error([&] { build_index(plain); }).kind(), ErrorKind::data);
  IndexBuildOptions o;
  o.spacing = 1000;
  EXPECT_EQ(testlib::expect_error([&] { build_index(plain, o); }).kind(), ErrorKind::usage);
}

TEST(IndexBuild, trailing_zero_padding_is_accepted_and_garbage_is_not) {
  TempDir dir;
  const std::string text = fastq_text(1000, 10);
  const std::string gz = testlib::gzip_member(text, 6);
  EXPECT_EQ(build(dir, gz + std::string(100, '\0'), 32 << 10).decoded_size, text.size());
  EXPECT_EQ(testlib::expect_error([&] { build(dir, gz + "xyz", 32 << 10); }).kind(), ErrorKind::data);
}

// A pass that hands the builder its text in odd pieces must get the same record numbers.
TEST(IndexBuilder, note_text_in_any_pieces_gives_the_same_records) {
  TempDir dir;
  const std::string text = fastq_text(3000, 11);
  const GzipIndex whole = build(dir, testlib::gzip_member(text, 6), 32 << 10);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    index::IndexBuilder b(32 << 10);
    const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
    std::size_t next_cp = 0, at = 0;
    while (at < text.size() || next_cp < whole.checkpoints.size()) {
      if (next_cp < whole.checkpoints.size() && whole.checkpoints[next_cp].decoded_byte <= at) {
        const IndexCheckpoint& c = whole.checkpoints[next_cp++];
        const std::vector<uint8_t> w = c.window.bytes();
        b.add_checkpoint(c.comp_bit, at, w);
        continue;
      }
      // Stop exactly at the next checkpoint so it is added before the text after it.
      std::size_t n = std::min(piece, text.size() - at);
      if (next_cp < whole.checkpoints.size())
        n = std::min<std::size_t>(n, whole.checkpoints[next_cp].decoded_byte - at);
      b.note_text(at, {bytes + at, n});
      at += n;
    }
    const GzipIndex got = b.finish(whole.comp_size, text.size(), whole.file_checksum);
    ASSERT_EQ(got.checkpoints.size(), whole.checkpoints.size());
    EXPECT_EQ(got.record_count, whole.record_count);
    for (std::size_t i = 0; i < got.checkpoints.size(); ++i) {
      EXPECT_EQ(got.checkpoints[i].record_no, whole.checkpoints[i].record_no) << "piece " << piece << " cp " << i;
      EXPECT_EQ(got.checkpoints[i].record_byte, whole.checkpoints[i].record_byte);
    }
  }
}

TEST(IndexBuilder, out_of_order_use_is_a_usage_error) {
  index::IndexBuilder b(32 << 10);
  b.note_text(0, {reinterpret_cast<const uint8_t*>("@r\nA\n+\nI\n"), 9});
  EXPECT_EQ(testlib::expect_error([&] { b.note_text(100, {}); }).kind(), ErrorKind::usage);
  EXPECT_EQ(testlib::expect_error([&] { b.add_checkpoint(0, 3, {}); }).kind(), ErrorKind::usage);
}

}  // namespace
}  // namespace fqpipe::testing
