// Indexed decoding in the pipeline (issue #5 item 4): a gzip file with an index is cut at its
// checkpoints and decoded on every thread, MPMC (producers) and SPMC (ChunkText), and --part
// ranges start at known records. What would break: a chunk decoded from the wrong checkpoint
// or window (wrong bytes), records lost or doubled at chunk seams, record numbers of a part
// that do not match the whole file, damage that decodes to a silent success because the CRC is
// no longer checked, a stale index used anyway. The reference is the same file read without
// the index (sequential ISA-L, whose CRC checks are tested elsewhere) and the generator's text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "fqpipe/ordered.hpp"
#include "fqpipe/pipeline.hpp"
#include "fqpipe/stats.hpp"
#include "index_test_support.hpp"
#include "testlib/tmpfile.hpp"

namespace {

using fqpipe::testing::fastq_text;
using fqpipe::testing::multi_member;

struct Record {
  uint64_t number, offset;
  std::string header, sequence, quality;
  bool operator==(const Record&) const = default;
};

// Every record of `path`, in file order (starting at record `first`, as a part may), and the
// run's info.
std::vector<Record> read_all(const std::string& path, fqpipe::PipelineOptions options,
                             fqpipe::RunInfo* info = nullptr, uint64_t first = 1) {
  std::vector<Record> out;
  fqpipe::Ordered ordered(
      [&](const fqpipe::FastqBatch& b) {
        for (const fqpipe::FastqRecord& r : b)
          out.push_back({r.record_no, r.decoded_byte, std::string(r.header), std::string(r.sequence),
                         std::string(r.quality)});
      },
      first);
  const fqpipe::RunInfo seen =
      fqpipe::for_each_batch(path, options, [&](unsigned, const fqpipe::FastqBatch& b) { ordered.consume(b); });
  ordered.finish();
  if (info) *info = seen;
  return out;
}

fqpipe::PipelineOptions options(unsigned threads, fqpipe::PipelineMode mode, bool use_index) {
  fqpipe::PipelineOptions o;
  o.threads = threads;
  o.mode = mode;
  o.read.use_index = use_index;
  o.read.batch_records = 500;
  o.read.chunk_bytes = 1;  // every checkpoint interval its own chunk
  return o;
}

class IndexedPipeline : public ::testing::Test {
 protected:
  // Writes `gz` and its fqpipe index with checkpoints every 32 KiB; returns the path.
  std::string indexed(const std::string& name, const std::string& gz) {
    const std::string path = dir_.write(name, gz);
    fqpipe::IndexBuildOptions b;
    b.spacing = 32 << 10;
    fqpipe::save_index(fqpipe::build_index(path, b), fqpipe::default_index_path(path), fqpipe::IndexFormat::fqpipe);
    return path;
  }
  fqpipe::testlib::TempDir dir_;
};

TEST_F(IndexedPipeline, records_equal_the_sequential_read_for_every_mode_and_thread_count) {
  const std::string text = fastq_text(6000, 11);
  for (const auto& [name, gz] : std::map<std::string, std::string>{
           {"one.fq.gz", fqpipe::testlib::gzip_member(text, 6)},
           {"members.fq.gz", multi_member(text, 5, 1)}}) {
    SCOPED_TRACE(name);
    const std::string path = indexed(name, gz);
    const std::vector<Record> want = read_all(path, options(1, fqpipe::PipelineMode::spmc, false));
    ASSERT_GT(want.size(), 5000u);
    for (const unsigned threads : {2u, 3u, 5u}) {
      fqpipe::RunInfo info;
      EXPECT_EQ(read_all(path, options(threads, fqpipe::PipelineMode::mpmc, true), &info), want) << threads;
      EXPECT_EQ(info.mode, fqpipe::PipelineMode::mpmc);
      EXPECT_NE(info.decoder.find("indexed"), std::string::npos) << info.decoder;
      EXPECT_EQ(read_all(path, options(threads, fqpipe::PipelineMode::spmc, true), &info), want) << threads;
      EXPECT_NE(info.decoder.find("indexed"), std::string::npos) << info.decoder;
      const fqpipe::RecordCount c = fqpipe::count_records(path, options(threads, fqpipe::PipelineMode::mpmc, true));
      EXPECT_EQ(c.records, want.size());
    }
  }
}

TEST_F(IndexedPipeline, parts_start_at_known_records_and_tile_the_file) {
  const std::string text = fastq_text(5000, 12);
  const std::string path = indexed("r.fq.gz", fqpipe::testlib::gzip_member(text, 6));
  const std::vector<Record> whole = read_all(path, options(1, fqpipe::PipelineMode::spmc, false));
  for (const unsigned parts : {2u, 3u, 7u}) {
    std::vector<Record> joined;
    for (unsigned i = 1; i <= parts; ++i) {
      fqpipe::PipelineOptions o = options(2, fqpipe::PipelineMode::automatic, true);
      o.part = i;
      o.parts = parts;
      // Each part must start exactly where the one before ended, with the next number.
      const std::vector<Record> got = read_all(path, o, nullptr, joined.size() + 1);
      joined.insert(joined.end(), got.begin(), got.end());
    }
    EXPECT_EQ(joined, whole) << parts << " parts: record numbers must be the whole file's";
  }
}

TEST_F(IndexedPipeline, damage_after_indexing_is_an_error_never_a_silent_success) {
  const std::string text = fastq_text(3000, 13);
  const std::string gz = fqpipe::testlib::gzip_member(text, 6);
  const std::string path = indexed("r.fq.gz", gz);
  const std::string index_path = fqpipe::default_index_path(path);
  const std::vector<Record> want = read_all(path, options(1, fqpipe::PipelineMode::spmc, false));
  int caught = 0, unchanged = 0;
  for (std::size_t at = 2048; at + 2048 < gz.size(); at += gz.size() / 23) {
    std::string bad = gz;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    { std::ofstream(path, std::ios::binary) << bad; }
    for (const fqpipe::PipelineMode mode : {fqpipe::PipelineMode::mpmc, fqpipe::PipelineMode::spmc}) {
      try {
        const std::vector<Record> got = read_all(path, options(2, mode, true));
        // A flip that decodes to the same text (it happens in Huffman code choices) is fine.
        EXPECT_EQ(got, want) << "flip at " << at << " read as success with other records";
        ++unchanged;
      } catch (const fqpipe::Error& e) {
        ++caught;
        EXPECT_NE(e.kind(), fqpipe::ErrorKind::usage) << e.what();
      }
    }
  }
  EXPECT_GT(caught, 0);
  // A stale index: the file changed size.
  { std::ofstream(path, std::ios::binary) << gz << gz; }
  try {
    read_all(path, options(2, fqpipe::PipelineMode::mpmc, true));
    ADD_FAILURE() << "a stale index was used";
  } catch (const fqpipe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("stale"), std::string::npos) << e.what();
  }
  (void)unchanged;
  (void)index_path;
}

TEST_F(IndexedPipeline, crc_mismatch_is_found_in_parallel_mode) {
  // Damage only the stored CRC32 of the middle one of three members: every chunk decodes, and
  // the index's checksum of the file's first and last KiB does not cover it; only the CRC of
  // the member's chunks can tell (combined over the chunks of several threads, or computed by
  // one reader that happened to decode the whole member).
  const std::string first = fqpipe::testlib::gzip_member(fastq_text(3000, 14), 6);
  const std::string second = fqpipe::testlib::gzip_member(fastq_text(3000, 15), 6);
  const std::string third = fqpipe::testlib::gzip_member(fastq_text(3000, 16), 6);
  ASSERT_GT(first.size(), 4096u);
  const std::string path = indexed("r.fq.gz", first + second + third);
  std::string bad = first + second + third;
  const std::size_t crc_at = first.size() + second.size() - 8;
  bad[crc_at] = static_cast<char>(bad[crc_at] ^ 1);
  { std::ofstream(path, std::ios::binary) << bad; }
  for (const fqpipe::PipelineMode mode : {fqpipe::PipelineMode::mpmc, fqpipe::PipelineMode::spmc}) {
    try {
      read_all(path, options(2, mode, true));
      ADD_FAILURE() << "a wrong CRC32 went unnoticed";
    } catch (const fqpipe::Error& e) {
      EXPECT_NE(std::string(e.what()).find("crc32 mismatch"), std::string::npos) << e.what();
    }
  }
}

TEST_F(IndexedPipeline, a_gzidx_index_works_too) {
  const std::string text = fastq_text(3000, 15);
  const std::string path = dir_.write("r.fq.gz", fqpipe::testlib::gzip_member(text, 9));
  fqpipe::IndexBuildOptions b;
  b.spacing = 32 << 10;
  const std::string idx = dir_.file("r.gzidx");
  fqpipe::save_index(fqpipe::build_index(path, b), idx, fqpipe::IndexFormat::gzidx);
  const std::vector<Record> want = read_all(path, options(1, fqpipe::PipelineMode::spmc, false));
  fqpipe::PipelineOptions o = options(3, fqpipe::PipelineMode::mpmc, true);
  o.read.index_path = idx;
  fqpipe::RunInfo info;
  EXPECT_EQ(read_all(path, o, &info), want);
  EXPECT_EQ(info.mode, fqpipe::PipelineMode::mpmc);
}

}  // namespace

namespace {

TEST_F(IndexedPipeline, an_index_built_during_a_pass_equals_fqpipe_index) {
  const std::string text = fastq_text(20000, 17);
  const std::string path = dir_.write("r.fq.gz", multi_member(text, 3, 6));
  const std::string idx = fqpipe::default_index_path(path);
  for (const unsigned threads : {1u, 2u}) {
    std::filesystem::remove(idx);
    fqpipe::PipelineOptions o = options(threads, fqpipe::PipelineMode::automatic, false);
    o.read.build_index = true;
    const fqpipe::RecordCount c = fqpipe::count_records(path, o);
    EXPECT_EQ(c.records, 20000u);
    ASSERT_TRUE(std::filesystem::exists(idx));
    const std::string built = dir_.file("ref.fqidx");
    fqpipe::save_index(fqpipe::build_index(path), built, fqpipe::IndexFormat::fqpipe);
    EXPECT_EQ(fqpipe::testlib::read_file(idx), fqpipe::testlib::read_file(built));
  }
  // A pass that fails on a bad record writes no index.
  std::string bad = text;
  bad[bad.size() / 2 + bad.substr(bad.size() / 2).find("\n+") + 1] = '-';
  const std::string bad_path = dir_.write("bad.fq.gz", fqpipe::testlib::gzip_member(bad, 6));
  fqpipe::PipelineOptions o = options(2, fqpipe::PipelineMode::automatic, false);
  o.read.build_index = true;
  EXPECT_THROW(fqpipe::count_records(bad_path, o), fqpipe::Error);
  EXPECT_FALSE(std::filesystem::exists(fqpipe::default_index_path(bad_path)));
}

}  // namespace
