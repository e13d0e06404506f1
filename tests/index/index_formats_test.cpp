// index_formats_test.cpp - the index file formats (issue #5, item 2). What would break: a field
// lost or changed by a write/read round trip, a GZIDX layout that drifts from indexed_gzip's, a
// .gzi misread, and above all a truncated, corrupt, foreign or stale index that loads and then
// gives wrong data instead of an error naming the index and what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "index/index_formats.hpp"
#include "index/index_test_support.hpp"
#include "testlib/read_all.hpp"

namespace fqpipe::testing {
namespace {

using testlib::TempDir;

std::vector<uint8_t> file_bytes(const std::string& path) {
  const std::string s = testlib::read_file(path);
  return {s.begin(), s.end()};
}

std::string write_bytes(const TempDir& dir, const std::string& name, const std::vector<uint8_t>& b) {
  return dir.write(name, std::string(b.begin(), b.end()));
}

uint64_t le(const std::vector<uint8_t>& b, std::size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}

struct Built {
  std::string text, gz_path;
  GzipIndex index;
};

Built built(const TempDir& dir, int members = 1, uint64_t spacing = 64 << 10) {
  Built b;
  b.text = fastq_text(8000, 21);
  b.gz_path = dir.write("in.gz", members == 1 ? testlib::gzip_member(b.text, 6) : multi_member(b.text, members, 6));
  IndexBuildOptions o;
  o.spacing = spacing;
  b.index = build_index(b.gz_path, o);
  return b;
}

// `got` read back from a file, `want` written. GZIDX pads short windows at the front with zeros
// (a member start less than 32 KiB back), and the padding reads back as window bytes.
void expect_same_checkpoints(const GzipIndex& got, const GzipIndex& want, bool records) {
  ASSERT_EQ(got.checkpoints.size(), want.checkpoints.size());
  for (std::size_t i = 0; i < got.checkpoints.size(); ++i) {
    const IndexCheckpoint &x = got.checkpoints[i], &y = want.checkpoints[i];
    EXPECT_EQ(x.comp_bit, y.comp_bit) << i;
    EXPECT_EQ(x.decoded_byte, y.decoded_byte) << i;
    const std::vector<uint8_t> wx = x.window.bytes(), wy = y.window.bytes();
    ASSERT_GE(wx.size(), wy.size()) << i;
    EXPECT_TRUE(std::equal(wy.begin(), wy.end(), wx.end() - static_cast<std::ptrdiff_t>(wy.size()))) << i;
    const auto padding_end = wx.end() - static_cast<std::ptrdiff_t>(wy.size());
    EXPECT_TRUE(std::all_of(wx.begin(), padding_end, [](uint8_t b) { return b == 0; })) << i;
    if (got.format == IndexFormat::fqpipe) {
      EXPECT_EQ(wx.size(), wy.size()) << i;
    }
    if (records) {
      EXPECT_EQ(x.record_no, y.record_no) << i;
      EXPECT_EQ(x.record_byte, y.record_byte) << i;
    }
  }
}

// The error of a bad index: kind data, names the index file, says what is wrong.
void expect_index_error(const std::function<void()>& fn, const std::string& index_path, const std::string& words) {
  const Error e = testlib::expect_error(fn);
  EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
  EXPECT_EQ(e.position().file, index_path) << e.what();
  EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << "expected '" << words << "' in: " << e.what();
}

TEST(IndexFormats, fqpipe_round_trip_keeps_every_field) {
  TempDir dir;
  const Built b = built(dir, 5);
  const std::string path = dir.file("x.fqidx");
  save_index(b.index, path, IndexFormat::fqpipe);
  const GzipIndex got = load_index(path);
  EXPECT_EQ(got.format, IndexFormat::fqpipe);
  EXPECT_EQ(got.path, path);
  EXPECT_EQ(got.comp_size, b.index.comp_size);
  EXPECT_EQ(got.decoded_size, b.index.decoded_size);
  EXPECT_EQ(got.spacing, b.index.spacing);
  EXPECT_EQ(got.file_checksum, b.index.file_checksum);
  EXPECT_TRUE(got.has_checksum);
  EXPECT_TRUE(got.has_records);
  EXPECT_EQ(got.record_count, b.index.record_count);
  expect_same_checkpoints(got, b.index, true);
  // Written again, the bytes are the same.
  save_index(got, dir.file("y.fqidx"), IndexFormat::fqpipe);
  EXPECT_EQ(file_bytes(path), file_bytes(dir.file("y.fqidx")));
}

TEST(IndexFormats, gzidx_round_trip_and_layout) {
  TempDir dir;
  const Built b = built(dir, 3);
  const std::string path = dir.file("x.gzidx");
  save_index(b.index, path, IndexFormat::gzidx);
  const std::vector<uint8_t> f = file_bytes(path);
  // FORMATS.md: magic, version 1, flags 0, sizes, spacing, window 32768, count, 18-byte points.
  ASSERT_GE(f.size(), 35u);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 5), "GZIDX");
  EXPECT_EQ(f[5], 1);
  EXPECT_EQ(f[6], 0);
  EXPECT_EQ(le(f, 7, 8), b.index.comp_size);
  EXPECT_EQ(le(f, 15, 8), b.index.decoded_size);
  EXPECT_EQ(le(f, 23, 4), b.index.spacing);
  EXPECT_EQ(le(f, 27, 4), 32768u);
  const uint64_t n = le(f, 31, 4);
  ASSERT_EQ(n, b.index.checkpoints.size());
  uint64_t windows = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const IndexCheckpoint& c = b.index.checkpoints[i];
    const std::size_t at = 35 + 18 * i;
    EXPECT_EQ(le(f, at, 8), (c.comp_bit + 7) / 8);
    EXPECT_EQ(le(f, at + 8, 8), c.decoded_byte);
    EXPECT_EQ(f[at + 16], (8 - c.comp_bit % 8) % 8);
    EXPECT_EQ(f[at + 17], c.window.empty() ? 0 : 1);
    windows += !c.window.empty();
  }
  EXPECT_EQ(f.size(), 35 + 18 * n + 32768 * windows);
  const GzipIndex got = load_index(path);
  EXPECT_EQ(got.format, IndexFormat::gzidx);
  EXPECT_EQ(got.comp_size, b.index.comp_size);
  EXPECT_EQ(got.decoded_size, b.index.decoded_size);
  EXPECT_FALSE(got.has_records);
  EXPECT_FALSE(got.has_checksum);
  expect_same_checkpoints(got, b.index, false);
}

// Version 0: no flags byte, 17-byte points, a window for every checkpoint but the first.
TEST(IndexFormats, gzidx_version_0_is_read) {
  TempDir dir;
  const Built b = built(dir, 1);
  for (std::size_t i = 1; i < b.index.checkpoints.size(); ++i) ASSERT_FALSE(b.index.checkpoints[i].window.empty());
  const std::vector<uint8_t> v1 = index::write_gzidx(b.index);
  const std::size_t n = b.index.checkpoints.size();
  std::vector<uint8_t> v0(v1.begin(), v1.begin() + 5);
  v0.push_back(0);
  v0.insert(v0.end(), v1.begin() + 7, v1.begin() + 35);
  for (std::size_t i = 0; i < n; ++i) v0.insert(v0.end(), v1.begin() + 35 + 18 * i, v1.begin() + 35 + 18 * i + 17);
  v0.insert(v0.end(), v1.begin() + 35 + 18 * n, v1.end());
  const GzipIndex got = load_index(write_bytes(dir, "v0.gzidx", v0));
  expect_same_checkpoints(got, b.index, false);
}

TEST(IndexFormats, bgzip_gzi_is_read_and_seeks) {
  if (!have_tool("bgzip")) GTEST_SKIP() << "bgzip is not installed";
  TempDir dir;
  const std::string text = fastq_text(6000, 22);
  const std::string fq = dir.write("in.fq", text);
  ASSERT_TRUE(testlib::command_succeeds("bgzip -c -i -I " + testlib::shell_quote(dir.file("in.fq.gz.gzi")) + " " +
                                        testlib::shell_quote(fq) + " > " + testlib::shell_quote(dir.file("in.fq.gz"))));
  const GzipIndex index = load_index(dir.file("in.fq.gz.gzi"));
  EXPECT_EQ(index.format, IndexFormat::gzi);
  EXPECT_FALSE(index.sizes_known);
  ASSERT_GT(index.checkpoints.size(), 3u);
  IndexedGzipReader r(dir.file("in.fq.gz"), index);
  EXPECT_EQ(r.size(), text.size());
  for (const IndexCheckpoint& c : index.checkpoints) {
    EXPECT_TRUE(c.window.empty());
    r.seek(c.decoded_byte);
    std::string got(100, '\0');
    got.resize(r.read(got.data(), got.size()));
    EXPECT_EQ(got, text.substr(c.decoded_byte, 100));
  }
}

TEST(IndexFormats, gzi_that_does_not_fit_the_file_is_an_error) {
  TempDir dir;
  const Built b = built(dir, 1);
  // Entry 1 at compressed byte 100 of a plain gzip file: no BGZF member there.
  std::vector<uint8_t> gzi;
  for (uint64_t v : {1ull, 100ull, 5000ull})
    for (int i = 0; i < 8; ++i) gzi.push_back(static_cast<uint8_t>(v >> (8 * i)));
  const std::string path = write_bytes(dir, "bad.gzi", gzi);
  expect_index_error([&] { IndexedGzipReader(b.gz_path, load_index(path)).seek(6000); }, path, "BGZF");
}

TEST(IndexFormats, wrong_magic_is_not_an_index) {
  TempDir dir;
  const std::string path = dir.write("junk.idx", "this is not an index at all, just some text\n");
  expect_index_error([&] { load_index(path); }, path, "not an index");
  EXPECT_EQ(testlib::expect_error([&] { load_index(dir.file("missing.idx")); }).kind(), ErrorKind::io);
}

TEST(IndexFormats, unknown_versions_are_refused) {
  TempDir dir;
  const Built b = built(dir, 1);
  std::vector<uint8_t> f = index::write_fqidx(b.index);
  f[8] = 2;
  expect_index_error([&] { index::read_fqidx(f, "a.fqidx"); }, "a.fqidx", "version 2");
  std::vector<uint8_t> g = index::write_gzidx(b.index);
  g[5] = 7;
  expect_index_error([&] { index::read_gzidx(g, "a.gzidx"); }, "a.gzidx", "version 7");
}

// Cut anywhere, an index is an error, never a shorter index.
TEST(IndexFormats, truncated_index_at_every_length) {
  TempDir dir;
  const Built b = built(dir, 2, 256 << 10);
  const std::vector<uint8_t> fq = index::write_fqidx(b.index);
  for (std::size_t n = 0; n < fq.size(); ++n) {
    const std::span<const uint8_t> cut(fq.data(), n);
    const Error e = testlib::expect_error([&] { index::read_fqidx(cut, "t.fqidx"); });
    ASSERT_EQ(e.kind(), ErrorKind::data) << n;
    ASSERT_EQ(e.position().file, "t.fqidx");
  }
  const std::vector<uint8_t> gz = index::write_gzidx(b.index);
  for (std::size_t n = 0; n < gz.size(); n += (n < 200 ? 1 : 997)) {
    const std::span<const uint8_t> cut(gz.data(), n);
    ASSERT_EQ(testlib::expect_error([&] { index::read_gzidx(cut, "t.gzidx"); }).kind(), ErrorKind::data) << n;
  }
  // Through load_index too, for one cut each.
  const std::string p = write_bytes(dir, "cut.fqidx", {fq.begin(), fq.end() - 5});
  expect_index_error([&] { load_index(p); }, p, "truncated");
}

// fqpipe's format has a CRC-32: any changed byte is an error.
TEST(IndexFormats, corrupt_byte_anywhere_in_an_fqpipe_index) {
  TempDir dir;
  const Built b = built(dir, 2, 256 << 10);
  const std::vector<uint8_t> good = index::write_fqidx(b.index);
  for (std::size_t at = 0; at < good.size(); at += (at < 400 ? 1 : 13)) {
    for (uint8_t flip : {0x01, 0x80}) {
      std::vector<uint8_t> bad = good;
      bad[at] ^= flip;
      const Error e = testlib::expect_error([&] { index::read_fqidx(bad, "c.fqidx"); });
      ASSERT_EQ(e.kind(), ErrorKind::data) << "byte " << at;
    }
  }
}

// GZIDX has no checksum: its header and table are checked field by field.
TEST(IndexFormats, corrupt_gzidx_header_fields) {
  TempDir dir;
  const Built b = built(dir, 1, 256 << 10);
  const std::vector<uint8_t> good = index::write_gzidx(b.index);
  struct Case {
    std::size_t at;
    int width;
    uint64_t value;
    const char* words;
  };
  const std::size_t p2 = 35 + 18, p3 = 35 + 36;
  for (const Case& c : {Case{0, 1, 'X', "magic"}, Case{5, 1, 9, "version"}, Case{6, 1, 1, "flags"},
                        Case{27, 4, 16384, "window size"}, Case{31, 4, 100000, "truncated"},
                        Case{35 + 16, 1, 9, "bit count"}, Case{35 + 17, 1, 2, "window flag"},
                        Case{p3 + 8, 8, 1, "before the previous"}, Case{p2, 8, 1, "before the previous"},
                        Case{15, 8, 1000, "past the decompressed size"}}) {
    std::vector<uint8_t> bad = good;
    for (int i = 0; i < c.width; ++i) bad[c.at + i] = static_cast<uint8_t>(c.value >> (8 * i));
    expect_index_error([&] { index::read_gzidx(bad, "h.gzidx"); }, "h.gzidx", c.words);
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  expect_index_error([&] { index::read_gzidx(longer, "h.gzidx"); }, "h.gzidx", "padded");
}

TEST(IndexFormats, stale_index_file_changed_size) {
  TempDir dir;
  const Built b = built(dir, 1);
  const std::string idx = dir.file("in.gz.fqidx");
  save_index(b.index, idx, IndexFormat::fqpipe);
  const std::string other = dir.write("other.gz", testlib::gzip_member(fastq_text(8100, 21), 6));
  expect_index_error([&] { IndexedGzipReader(other, load_index(idx)); }, idx, "stale");
  const std::string gzidx = dir.file("in.gzidx");
  save_index(b.index, gzidx, IndexFormat::gzidx);
  expect_index_error([&] { IndexedGzipReader(other, load_index(gzidx)); }, gzidx, "stale");
}

TEST(IndexFormats, stale_index_same_size_other_content) {
  TempDir dir;
  const Built b = built(dir, 1);
  const std::string idx = dir.file("in.gz.fqidx");
  save_index(b.index, idx, IndexFormat::fqpipe);
  for (std::size_t at : {std::size_t{20}, testlib::read_file(b.gz_path).size() - 3}) {
    std::string gz = testlib::read_file(b.gz_path);
    gz[at] ^= 0x10;
    const std::string changed = dir.write("changed.gz", gz);
    expect_index_error([&] { IndexedGzipReader(changed, load_index(idx)); }, idx, "checksum");
  }
}

TEST(IndexFormats, index_that_records_more_bytes_than_the_file_has) {
  TempDir dir;
  Built b = built(dir, 1);
  b.index.decoded_size += 10;
  b.index.has_records = false;
  const std::string idx = dir.file("in.gz.fqidx");
  save_index(b.index, idx, IndexFormat::fqpipe);
  IndexedGzipReader r(b.gz_path, load_index(idx));
  std::string all(b.text.size() + 100, '\0');
  expect_index_error([&] { r.read(all.data(), all.size()); }, idx, "records");
  expect_index_error([&] { r.seek(b.text.size() + 5); }, idx, "stale");
}

TEST(IndexFormats, saving_gzi_or_gzidx_without_sizes_is_a_usage_error) {
  TempDir dir;
  const Built b = built(dir, 1);
  EXPECT_EQ(testlib::expect_error([&] { save_index(b.index, dir.file("x.gzi"), IndexFormat::gzi); }).kind(),
            ErrorKind::usage);
  GzipIndex no_sizes = b.index;
  no_sizes.sizes_known = false;
  EXPECT_EQ(testlib::expect_error([&] { save_index(no_sizes, dir.file("x.gzidx"), IndexFormat::gzidx); }).kind(),
            ErrorKind::usage);
}

}  // namespace
}  // namespace fqpipe::testing
