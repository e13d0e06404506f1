// indexed_reader_test.cpp - IndexedGzipReader (issue #5, items 4 and 6): 1000 random seeks by
// byte and by record against zlib-decoded references, on zlib output at several levels,
// multi-member files, pigz and bgzip output, and indexes that went through each format. What
// would break: a window applied wrongly, a bit offset off by one, a member boundary crossed
// badly, a record number counted from the wrong checkpoint, a read that stops early.
#include <gtest/gtest.h>

#include <random>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "index/index_test_support.hpp"
#include "testlib/read_all.hpp"

namespace fqpipe::testing {
namespace {

using testlib::TempDir;

std::vector<Sample> make_samples(const TempDir& dir) {
  std::vector<Sample> out;
  const std::string text = fastq_text(20000, 31);
  for (int level : {1, 6, 9}) {
    const std::string name = "zlib-" + std::to_string(level);
    out.push_back({name, dir.write(name + ".gz", testlib::gzip_member(text, level)), text});
  }
  out.push_back({"members", dir.write("members.gz", multi_member(text, 25, 6)), text});
  const std::string fq = dir.write("in.fq", text);
  for (const char* tool : {"pigz", "bgzip", "gzip"}) {
    if (!have_tool(tool)) continue;
    const std::string path = dir.file(std::string(tool) + ".gz");
    testlib::compress_with(tool, fq, path);
    out.push_back({tool, path, text});
  }
  return out;
}

// The samples are made once for all tests of this program (compressing them is most of the work).
const TempDir& sample_dir() {
  static const TempDir dir;
  return dir;
}
const std::vector<Sample>& samples(const TempDir&) {
  static const std::vector<Sample> all = make_samples(sample_dir());
  return all;
}

// The index of `s` in `format`, written and read back (fqpipe and gzidx) or made by bgzip.
GzipIndex index_for(const TempDir& dir, const Sample& s, IndexFormat format, uint64_t spacing = 96 << 10) {
  IndexBuildOptions o;
  o.spacing = spacing;
  const GzipIndex built = build_index(s.path, o);
  const std::string path = dir.file(s.name + "." + index_format_name(format));
  save_index(built, path, format);
  return load_index(path);
}

std::string read_n(IndexedGzipReader& r, std::size_t n) {
  std::string out(n, '\0');
  out.resize(r.read(out.data(), n));
  return out;
}

void random_byte_seeks(IndexedGzipReader& r, const std::string& text, int seeks, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < seeks; ++i) {
    const uint64_t at = rng() % (text.size() + 1);
    const std::size_t n = rng() % 10 == 0 ? rng() % 200000 : rng() % 2000;
    r.seek(at);
    ASSERT_EQ(r.tell(), at);
    const std::string got = read_n(r, n);
    ASSERT_EQ(got, text.substr(at, n)) << "seek " << i << " to " << at << " reading " << n;
    ASSERT_EQ(r.tell(), at + got.size());
  }
}

TEST(IndexedReader, thousand_random_byte_seeks_on_every_sample) {
  TempDir dir;
  for (const Sample& s : samples(dir)) {
    SCOPED_TRACE(s.name);
    IndexedGzipReader r(s.path, index_for(dir, s, IndexFormat::fqpipe));
    EXPECT_EQ(r.size(), s.text.size());
    random_byte_seeks(r, s.text, 1000, 1);
  }
}

TEST(IndexedReader, random_byte_seeks_through_a_gzidx_index) {
  TempDir dir;
  for (const Sample& s : samples(dir)) {
    SCOPED_TRACE(s.name);
    IndexedGzipReader r(s.path, index_for(dir, s, IndexFormat::gzidx));
    random_byte_seeks(r, s.text, 300, 2);
  }
}

TEST(IndexedReader, thousand_random_record_seeks) {
  TempDir dir;
  for (const Sample& s : samples(dir)) {
    SCOPED_TRACE(s.name);
    const std::vector<uint64_t> starts = record_starts(s.text);
    IndexedGzipReader r(s.path, index_for(dir, s, IndexFormat::fqpipe, 64 << 10));
    ASSERT_EQ(r.index().record_count, starts.size());
    std::mt19937_64 rng(3);
    for (int i = 0; i < 1000; ++i) {
      const uint64_t no = 1 + rng() % starts.size();
      r.seek_record(no);
      ASSERT_EQ(r.tell(), starts[no - 1]) << "record " << no;
      const uint64_t end = no < starts.size() ? starts[no] : s.text.size();
      ASSERT_EQ(read_n(r, static_cast<std::size_t>(end - starts[no - 1])),
                s.text.substr(starts[no - 1], end - starts[no - 1]));
    }
    r.seek_record(starts.size());  // the last record
    EXPECT_EQ(r.tell(), starts.back());
  }
}

TEST(IndexedReader, whole_file_read_equals_the_reference) {
  TempDir dir;
  for (const Sample& s : samples(dir)) {
    SCOPED_TRACE(s.name);
    IndexedGzipReader r(s.path, index_for(dir, s, IndexFormat::fqpipe));
    std::string all;
    char buf[70001];
    for (std::size_t n; (n = r.read(buf, sizeof buf)) > 0;) all.append(buf, n);
    EXPECT_EQ(all, s.text);
    EXPECT_EQ(r.read(buf, sizeof buf), 0u);
    EXPECT_EQ(r.tell(), s.text.size());
  }
}

// Read from the start, every member is checked against its CRC: a damaged CRC is an error.
TEST(IndexedReader, reading_from_the_start_verifies_member_crcs) {
  TempDir dir;
  const std::string text = fastq_text(3000, 32);
  std::string gz = testlib::gzip_member(text, 6);
  const std::string good = dir.write("good.gz", gz);
  gz[gz.size() - 8] ^= 1;
  const std::string bad = dir.write("bad.gz", gz);
  GzipIndex index = build_index(good);
  index.has_checksum = false;  // the damage is in the last KiB; let it reach the decoder
  IndexedGzipReader r(bad, index);
  std::string all(text.size() + 10, '\0');
  const Error e = testlib::expect_error([&] { r.read(all.data(), all.size()); });
  EXPECT_NE(std::string(e.what()).find("crc32 mismatch"), std::string::npos) << e.what();
}

TEST(IndexedReader, reads_cross_member_boundaries) {
  TempDir dir;
  const std::string text = fastq_text(4000, 33);
  std::string gz;
  std::vector<uint64_t> member_ends;
  for (std::size_t at = 0; at < text.size(); at += 10007) {
    gz += testlib::gzip_member(std::string_view(text).substr(at, 10007), 6);
    member_ends.push_back(std::min(text.size(), at + 10007));
  }
  const std::string path = dir.write("m.gz", gz);
  IndexBuildOptions o;
  o.spacing = 40000;
  IndexedGzipReader r(path, build_index(path, o));
  for (uint64_t end : member_ends) {
    const uint64_t at = end > 50 ? end - 50 : 0;
    r.seek(at);
    EXPECT_EQ(read_n(r, 100), text.substr(at, 100)) << "around member end " << end;
  }
}

TEST(IndexedReader, seeking_to_the_end_and_past_it) {
  TempDir dir;
  const std::string text = fastq_text(1000, 34);
  const std::string path = dir.write("e.gz", testlib::gzip_member(text, 6));
  IndexedGzipReader r(path, build_index(path));
  r.seek(text.size());
  char c;
  EXPECT_EQ(r.read(&c, 1), 0u);
  EXPECT_EQ(testlib::expect_error([&] { r.seek(text.size() + 1); }).kind(), ErrorKind::usage);
  r.seek(0);
  EXPECT_EQ(read_n(r, 10), text.substr(0, 10));
}

TEST(IndexedReader, record_seek_errors) {
  TempDir dir;
  const std::string text = fastq_text(1000, 35);
  const std::string path = dir.write("r.gz", testlib::gzip_member(text, 6));
  IndexedGzipReader r(path, build_index(path));
  EXPECT_EQ(testlib::expect_error([&] { r.seek_record(0); }).kind(), ErrorKind::usage);
  EXPECT_EQ(testlib::expect_error([&] { r.seek_record(1001); }).kind(), ErrorKind::usage);
  r.seek_record(1000);
  const std::string idx = dir.file("r.gzidx");
  save_index(build_index(path), idx, IndexFormat::gzidx);
  IndexedGzipReader g(path, load_index(idx));
  const Error e = testlib::expect_error([&] { g.seek_record(5); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  EXPECT_NE(std::string(e.what()).find("no record numbers"), std::string::npos) << e.what();
}

TEST(IndexedReader, empty_gzip_file) {
  TempDir dir;
  const std::string path = dir.write("empty.gz", testlib::gzip_member("", 6));
  IndexedGzipReader r(path, build_index(path));
  char c;
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.read(&c, 1), 0u);
}

TEST(IndexedReader, reader_moves) {
  TempDir dir;
  const std::string text = fastq_text(500, 36);
  const std::string path = dir.write("mv.gz", testlib::gzip_member(text, 6));
  IndexedGzipReader a(path, build_index(path));
  a.seek(100);
  IndexedGzipReader b = std::move(a);
  EXPECT_EQ(read_n(b, 50), text.substr(100, 50));
}

}  // namespace
}  // namespace fqpipe::testing
