// BgzfReader (issue 3, item 7): BGZF decoded on several threads, handed out in order.
// What would break: runs handed out of order or with a gap in their decoded offsets, a damaged
// or truncated block accepted as a shorter file (the worst outcome: wrong results reported as a
// success), an error thrown before the good buffers that precede it, a non-BGZF member in the
// middle (`cat a.bgzf.gz b.gz`, valid gzip) lost, and a reader that hangs when destroyed early.
// The reference is zlib (testlib::gunzip); inputs come from Debian's bgzip and a small BGZF
// writer below that can build the odd headers bgzip never writes.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <cstring>
#include <thread>

#include "fqpipe/error.hpp"
#include "gzip/bgzf_reader.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;
using fqpipe::gzip::BgzfReader;

namespace {

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;
constexpr std::size_t kBgzipBlockInput = 0xff00;  // bgzip puts 65280 input bytes in each block

std::string sample_text(std::size_t records, uint64_t seed) {
  GenOptions o;
  o.records = records;
  o.seed = seed;
  o.min_length = 50;
  o.max_length = 150;
  return generate_fastq(o).text;
}

// Compresses `text` with bgzip and returns the compressed bytes.
std::string bgzip(const TempDir& dir, const std::string& text, const std::string& args = "") {
  const std::string in = dir.write("plain.fq", text);
  const std::string out = dir.file("plain.fq.bgzf.gz");
  compress_with("bgzip", in, out, args);
  return read_file(out);
}

uint16_t le16(const std::string& s, std::size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) | (static_cast<uint8_t>(s[at + 1]) << 8));
}

// File offsets of the blocks of a bgzip-written file (18-byte headers, BSIZE at byte 16).
std::vector<std::size_t> block_offsets(const std::string& bgzf) {
  std::vector<std::size_t> offsets;
  for (std::size_t at = 0; at + 18 <= bgzf.size(); at += le16(bgzf, at + 16) + 1u) offsets.push_back(at);
  return offsets;
}

// One gzip member with a BC field, written by hand: `extra_before` is put in FEXTRA before the
// BC subfield, `name` (if not empty) in FNAME. BSIZE must fit 16 bits.
std::string bgzf_block(const std::string& payload, const std::string& extra_before = "",
                       const std::string& name = "") {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string deflated(deflateBound(&zs, payload.size()) + 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  zs.avail_in = static_cast<uInt>(payload.size());
  zs.next_out = reinterpret_cast<Bytef*>(deflated.data());
  zs.avail_out = static_cast<uInt>(deflated.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  deflated.resize(zs.total_out);
  deflateEnd(&zs);
  const std::string extra = extra_before + std::string("BC\x02\x00", 4) + "??";
  std::string h("\x1f\x8b\x08", 3);
  h += static_cast<char>(name.empty() ? 0x04 : 0x0c);
  h += std::string("\0\0\0\0\0\xff", 6);
  h += static_cast<char>(extra.size() & 0xff);
  h += static_cast<char>(extra.size() >> 8);
  h += extra;
  if (!name.empty()) h += name + '\0';
  const std::size_t total = h.size() + deflated.size() + 8;
  if (total > 65536) throw std::runtime_error("block too big for BSIZE");
  const std::size_t bsize_at = 12 + extra_before.size() + 4;
  h[bsize_at] = static_cast<char>((total - 1) & 0xff);
  h[bsize_at + 1] = static_cast<char>((total - 1) >> 8);
  const uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  std::string t(8, '\0');
  for (int i = 0; i < 4; ++i) {
    t[i] = static_cast<char>(crc >> (8 * i));
    t[4 + i] = static_cast<char>(static_cast<uint32_t>(payload.size()) >> (8 * i));
  }
  return h + deflated + t;
}

const std::string kEofBlock("\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0\x1b\0\x03\0\0\0\0\0\0\0\0\0", 28);

// What one pass of the reader produced; `error` is set when it threw.
struct Drained {
  std::string text;
  std::optional<Error> error;
  uint64_t last_input_bytes = 0;
};

// Reads `path` to the end (or the first error), checking that buffers are non-empty and their
// decoded offsets contiguous from 0. A hang ends the test program.
Drained drain(const std::string& path, unsigned threads, std::size_t chunk) {
  Drained d;
  with_deadline(60, [&] {
    BgzfReader reader(path, path, threads, chunk);
    try {
      while (const io::TextBuffer* b = reader.next()) {
        EXPECT_GT(b->size, 0u);
        EXPECT_EQ(b->decoded_offset, d.text.size()) << "gap or overlap in decoded offsets";
        d.text.append(b->data, b->size);
      }
    } catch (const Error& e) {
      d.error = e;
      // A second call reports the same error instead of pretending the input ended.
      try {
        reader.next();
        ADD_FAILURE() << "next() after an error returned normally";
      } catch (const Error& again) {
        EXPECT_EQ(std::string(again.what()), std::string(e.what()));
      }
    }
    d.last_input_bytes = reader.input_bytes_read();
  });
  return d;
}

// The reader must decode `path` to exactly what zlib decodes, for every thread count and chunk.
void expect_same_as_zlib(const std::string& path, const std::vector<unsigned>& threads = {1, 2, 3, 8},
                         const std::vector<std::size_t>& chunks = {64 * kKiB, 1 * kMiB, 4 * kMiB}) {
  const std::string expected = gunzip(read_file(path));
  for (unsigned t : threads) {
    for (std::size_t c : chunks) {
      SCOPED_TRACE("threads " + std::to_string(t) + ", chunk " + std::to_string(c));
      const Drained d = drain(path, t, c);
      ASSERT_FALSE(d.error) << d.error->what();
      ASSERT_EQ(d.text.size(), expected.size());
      ASSERT_TRUE(d.text == expected) << "decoded bytes differ from zlib";
      EXPECT_EQ(d.last_input_bytes, read_file(path).size());
    }
  }
}

// Reading `bytes` must fail with a data error naming the file; whatever came before the error
// must be a prefix of `good_text` ending at or before the reported decoded offset.
Error expect_damage(const TempDir& dir, const std::string& bytes, const std::string& good_text,
                    unsigned threads, std::size_t chunk) {
  const std::string path = dir.write("damaged.bgzf.gz", bytes);
  const Drained d = drain(path, threads, chunk);
  if (!d.error) {
    ADD_FAILURE() << "damaged input accepted, " << d.text.size() << " bytes decoded";
    return Error(ErrorKind::usage, "accepted");
  }
  const Error& e = *d.error;
  EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
  EXPECT_EQ(e.position().file, path) << e.what();
  EXPECT_GE(e.position().comp_byte, 0) << e.what();
  EXPECT_LE(d.text.size(), static_cast<uint64_t>(e.position().decoded_byte)) << e.what();
  EXPECT_TRUE(good_text.compare(0, d.text.size(), d.text) == 0) << "delivered bytes are not the true text";
  EXPECT_FALSE(e.reason().empty());
  EXPECT_FALSE(e.reason()[0] >= 'A' && e.reason()[0] <= 'Z') << e.reason();
  return e;
}

// Selects the block inflater (BlockInflater reads FQPIPE_BGZF_INFLATE when a reader is built)
// for the scope; both engines must give the same bytes and the same errors.
class EngineScope {
 public:
  explicit EngineScope(const char* engine) {
    setenv("FQPIPE_BGZF_INFLATE", engine, 1);
    trace_ = std::make_unique<testing::ScopedTrace>(__FILE__, __LINE__, std::string("engine ") + engine);
  }
  ~EngineScope() { unsetenv("FQPIPE_BGZF_INFLATE"); }

 private:
  std::unique_ptr<testing::ScopedTrace> trace_;
};
constexpr const char* kEngines[] = {"isal", "libdeflate"};

std::string flip(std::string s, std::size_t at, uint8_t mask = 0x01) {
  s[at] = static_cast<char>(s[at] ^ mask);
  return s;
}

}  // namespace

TEST(BgzfReaderConcurrency, identical_bytes_for_every_level_thread_count_and_chunk_size) {
  // Breaks when runs are handed out of order, a block lands at the wrong place of its run's
  // buffer, or a run boundary drops or repeats a block.
  TempDir dir;
  const std::string text = sample_text(12000, 7);  // about 2.6 MB: ~40 blocks, 3 runs of 1 MiB
  for (const std::string args : {"-l 0", "-l 1", "-l 6", "-l 9", "-@ 2"}) {
    SCOPED_TRACE("bgzip " + args);
    const std::string path = dir.write("in.bgzf.gz", bgzip(dir, text, args));
    // The full matrix at bgzip's default level, both engines; a smaller one for the others.
    for (const char* engine : kEngines) {
      EngineScope scope(engine);
      if (args == "-l 6") {
        expect_same_as_zlib(path);
      } else if (std::string(engine) == "isal") {
        expect_same_as_zlib(path, {2, 8}, {64 * kKiB, 1 * kMiB});
      }
    }
  }
}

TEST(BgzfReaderConcurrency, tiny_chunks_hold_one_block_each) {
  // A chunk smaller than one block still makes progress (one block per run).
  TempDir dir;
  const std::string path = dir.write("in.bgzf.gz", bgzip(dir, sample_text(3000, 8)));
  expect_same_as_zlib(path, {1, 3}, {1, 1000});
}

TEST(BgzfReader, only_the_eof_block_is_empty_input) {
  // bgzip of an empty file is the 28-byte EOF block alone: no buffer, no error.
  TempDir dir;
  const std::string bytes = bgzip(dir, "");
  ASSERT_EQ(bytes, kEofBlock);
  const Drained d = drain(dir.write("e.gz", bytes), 2, 64 * kKiB);
  EXPECT_FALSE(d.error);
  EXPECT_TRUE(d.text.empty());
}

TEST(BgzfReader, empty_file_is_a_truncated_header) {
  TempDir dir;
  const Error e = expect_damage(dir, "", "", 1, 64 * kKiB);
  EXPECT_EQ(e.position().comp_byte, 0);
  EXPECT_NE(e.reason().find("truncated gzip header"), std::string::npos) << e.what();
}

TEST(BgzfReader, missing_eof_block_is_accepted) {
  // Valid gzip: the EOF block is a BGZF convention, not a gzip rule.
  TempDir dir;
  std::string bytes = bgzip(dir, sample_text(2000, 9));
  ASSERT_EQ(bytes.substr(bytes.size() - 28), kEofBlock);
  bytes.resize(bytes.size() - 28);
  expect_same_as_zlib(dir.write("noeof.gz", bytes), {1, 3}, {64 * kKiB});
}

TEST(BgzfReader, zero_padding_after_last_member_is_accepted) {
  TempDir dir;
  const std::string bytes = bgzip(dir, sample_text(2000, 10));
  expect_same_as_zlib(dir.write("pad.gz", bytes + std::string(100000, '\0')), {1, 3}, {64 * kKiB});
  expect_same_as_zlib(dir.write("pad1.gz", bytes + std::string(1, '\0')), {2}, {64 * kKiB});
}

TEST(BgzfReader, trailing_garbage_is_an_error_at_its_offset) {
  TempDir dir;
  const std::string text = sample_text(2000, 11);
  const std::string bytes = bgzip(dir, text);
  for (const std::string& tail : {std::string("garbage"), std::string(500, '\0') + "x",
                                  std::string("\x1f\x8b\x09", 3)}) {
    SCOPED_TRACE(tail.size());
    const Error e = expect_damage(dir, bytes + tail, text, 2, 64 * kKiB);
    const std::size_t first_bad = tail.find_first_not_of('\0');
    if (tail[0] != '\x1f') {
      EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(bytes.size() + first_bad)) << e.what();
      EXPECT_NE(e.reason().find("trailing garbage"), std::string::npos) << e.what();
    } else {
      EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(bytes.size())) << e.what();
    }
    EXPECT_EQ(e.position().decoded_byte, static_cast<int64_t>(text.size()));
  }
}

TEST(BgzfReaderConcurrency, non_bgzf_member_in_the_middle) {
  // `cat a.bgzf.gz b.gz c.bgzf.gz` is valid gzip: the plain members (one larger than a chunk,
  // one empty) are inflated serially between parallel runs.
  TempDir dir;
  const std::string a = sample_text(1500, 12), b = sample_text(2500, 13), c = sample_text(1500, 14);
  const std::string bytes = bgzip(dir, a) + gzip_member(b) + gzip_member("") + bgzip(dir, c, "-l 1");
  expect_same_as_zlib(dir.write("mixed.gz", bytes), {1, 2, 8}, {64 * kKiB, 1 * kMiB});
  // A plain gzip file with no BGZF block at all, several members.
  expect_same_as_zlib(dir.write("plain.gz", gzip_member(b) + gzip_member(a, 1)), {1, 3}, {64 * kKiB});
}

TEST(BgzfReader, bgzf_headers_with_other_subfields_and_a_name) {
  // The BC subfield need not come first, and FNAME may follow FEXTRA (RFC 1952 §2.3.1).
  TempDir dir;
  const std::string a = sample_text(200, 15), b = sample_text(200, 16);
  const std::string bytes = bgzf_block(a, std::string("XY\x03\x00" "abc", 7)) + bgzf_block(b, "", "reads.fq") + kEofBlock;
  expect_same_as_zlib(dir.write("odd.gz", bytes), {1, 2}, {64 * kKiB});
}

TEST(BgzfReader, bc_member_with_isize_over_64k_is_decoded_serially) {
  // No BGZF writer makes it, but it is valid gzip; its size must not be trusted for buffers.
  TempDir dir;
  std::string big;
  const std::string piece = sample_text(100, 17);  // repeats within the 32 KiB window: small
  while (big.size() <= 100000) big += piece;
  ASSERT_GT(big.size(), 65536u);
  const std::string bytes = bgzip(dir, sample_text(500, 18)) + bgzf_block(big) + bgzip(dir, sample_text(500, 19));
  expect_same_as_zlib(dir.write("big.gz", bytes), {1, 3}, {64 * kKiB, 4 * kMiB});
}

TEST(BgzfReader, truncated_at_many_offsets_is_never_short) {
  // A cut anywhere inside a header, deflate data or trailer is an error; a cut exactly at a
  // block boundary is a valid (shorter) gzip file and must equal zlib's reading.
  TempDir dir;
  const std::string text = sample_text(2500, 20);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  std::vector<std::size_t> cuts = {1, 2, 9, 10, 11, 17, 18, 19, 30};
  for (std::size_t i = 1; i < 50; ++i) cuts.push_back(bytes.size() * i / 50);
  for (std::size_t b : blocks) {
    for (std::size_t d : {1, 12, 18, 19}) if (b + d < bytes.size()) cuts.push_back(b + d);
    if (b > 8) cuts.push_back(b - 4);  // inside the previous block's trailer
  }
  for (std::size_t k = 1; k <= 30; ++k) cuts.push_back(bytes.size() - k);
  for (std::size_t n = 0; n < cuts.size(); ++n) {
    const std::size_t cut = cuts[n];
    EngineScope scope(kEngines[n % 2]);
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size()));
    const std::string part = bytes.substr(0, cut);
    bool reference_accepts = true;
    std::string expected;
    try {
      expected = gunzip(part);
    } catch (const ReferenceError&) {
      reference_accepts = false;
    }
    for (unsigned t : {1u, 3u}) {
      if (reference_accepts) {
        const Drained d = drain(dir.write("cut.gz", part), t, 64 * kKiB);
        ASSERT_FALSE(d.error) << d.error->what();
        EXPECT_TRUE(d.text == expected);
      } else {
        const Error e = expect_damage(dir, part, text, t, 64 * kKiB);
        EXPECT_LE(e.position().comp_byte, static_cast<int64_t>(cut)) << e.what();
      }
    }
  }
}

TEST(BgzfReaderConcurrency, crc_mismatch_in_block_7_reports_its_offset) {
  // Every buffer before block 7 is delivered, then the error names block 7's offsets.
  TempDir dir;
  const std::string text = sample_text(6000, 21);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  ASSERT_GT(blocks.size(), 10u);
  const std::size_t crc_at = blocks[8] - 8;
  for (unsigned t : {1u, 2u, 8u}) {
    EngineScope scope(kEngines[t % 2]);
    for (std::size_t chunk : {64 * kKiB, 1 * kMiB}) {
      SCOPED_TRACE("threads " + std::to_string(t) + ", chunk " + std::to_string(chunk));
      const std::string path = dir.write("crc.gz", flip(bytes, crc_at, 0x10));
      const Drained d = drain(path, t, chunk);
      ASSERT_TRUE(d.error);
      EXPECT_EQ(d.error->position().comp_byte, static_cast<int64_t>(blocks[7])) << d.error->what();
      EXPECT_EQ(d.error->position().decoded_byte, static_cast<int64_t>(7 * kBgzipBlockInput));
      EXPECT_NE(d.error->reason().find("crc32 mismatch in gzip member 8"), std::string::npos) << d.error->what();
      if (chunk == 64 * kKiB) {
        EXPECT_EQ(d.text.size(), 7 * kBgzipBlockInput);  // every buffer before it
      }
      EXPECT_TRUE(text.compare(0, d.text.size(), d.text) == 0);
    }
  }
}

TEST(BgzfReader, isize_mismatch_reports_its_block) {
  // ISIZE one too large (the decoder would leave a hole) and absurdly large (a damaged trailer
  // must not size a buffer; that member is inflated serially and still fails).
  TempDir dir;
  const std::string text = sample_text(4000, 22);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  for (const auto& [byte, mask] : {std::pair{0, 0x01}, std::pair{3, 0x40}, std::pair{2, 0x01}}) {
    SCOPED_TRACE("isize byte " + std::to_string(byte));
    for (unsigned t : {1u, 2u}) {
      EngineScope scope(kEngines[t % 2]);
      const Error e = expect_damage(dir, flip(bytes, blocks[4] - 4 + byte, mask), text, t, 64 * kKiB);
      // Over 64 KiB, the member is inflated serially and reports its trailer (as GzipSource).
      const bool serial = byte >= 2;
      EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(serial ? blocks[4] - 4 : blocks[3])) << e.what();
      EXPECT_EQ(e.position().decoded_byte, static_cast<int64_t>((serial ? 4 : 3) * kBgzipBlockInput)) << e.what();
      EXPECT_NE(e.reason().find("isize mismatch in gzip member 4"), std::string::npos) << e.what();
    }
  }
}

TEST(BgzfReader, bsize_byte_flipped_is_an_error_at_its_block) {
  // gzip ignores BSIZE, but a BGZF reader cuts the file with it: a wrong one must be caught,
  // not decoded as a different split of the stream.
  TempDir dir;
  const std::string text = sample_text(4000, 23);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  for (const auto& [byte, mask] : {std::pair{0, 0x01}, std::pair{0, 0x20}, std::pair{1, 0x01},
                                   std::pair{1, 0x80}}) {
    SCOPED_TRACE("bsize byte " + std::to_string(byte) + " mask " + std::to_string(mask));
    for (unsigned t : {1u, 2u}) {
      EngineScope scope(kEngines[t % 2]);
      const Error e = expect_damage(dir, flip(bytes, blocks[2] + 16 + byte, mask), text, t, 64 * kKiB);
      EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(blocks[2])) << e.what();
    }
  }
}

TEST(BgzfReader, block_size_past_end_of_file) {
  TempDir dir;
  const std::string text = sample_text(3000, 24);
  std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  const std::size_t last = blocks[blocks.size() - 2];  // the last block with data
  bytes[last + 16] = '\xff';
  bytes[last + 17] = '\xff';
  const Error e = expect_damage(dir, bytes, text, 2, 64 * kKiB);
  EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(last)) << e.what();
  EXPECT_NE(e.reason().find("truncated bgzf block"), std::string::npos) << e.what();
}

TEST(BgzfReader, flipped_byte_inside_deflate_data) {
  // Invalid codes, wrong lengths or wrong bytes: each shows up as invalid data, an ISIZE or a
  // CRC32 mismatch of that block, never as different text.
  TempDir dir;
  const std::string text = sample_text(4000, 25);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  const std::size_t begin = blocks[5] + 18, end = blocks[6] - 8;
  for (std::size_t i = 0; i < 12; ++i) {
    const std::size_t at = begin + (end - begin) * i / 12;
    SCOPED_TRACE("flip at " + std::to_string(at));
    for (const uint8_t mask : {0x01, 0x80}) {
      EngineScope scope(kEngines[mask & 1]);
      const Error e = expect_damage(dir, flip(bytes, at, mask), text, 3, 1 * kMiB);
      EXPECT_EQ(e.position().comp_byte, static_cast<int64_t>(blocks[5])) << e.what();
      EXPECT_EQ(e.position().decoded_byte, static_cast<int64_t>(5 * kBgzipBlockInput)) << e.what();
    }
  }
}

TEST(BgzfReader, bad_header_in_the_middle) {
  TempDir dir;
  const std::string text = sample_text(3000, 26);
  const std::string bytes = bgzip(dir, text);
  const std::vector<std::size_t> blocks = block_offsets(bytes);
  const Error method = expect_damage(dir, flip(bytes, blocks[3] + 2, 0x01), text, 2, 64 * kKiB);
  EXPECT_EQ(method.position().comp_byte, static_cast<int64_t>(blocks[3])) << method.what();
  EXPECT_NE(method.reason().find("compression method"), std::string::npos) << method.what();
  const Error magic = expect_damage(dir, flip(bytes, blocks[3], 0x01), text, 2, 64 * kKiB);
  EXPECT_EQ(magic.position().comp_byte, static_cast<int64_t>(blocks[3])) << magic.what();
}

TEST(BgzfReader, plain_member_damage_is_reported) {
  // The serial path for non-BGZF members checks CRC32 and truncation like the parallel one.
  TempDir dir;
  const std::string a = sample_text(500, 27), b = sample_text(3000, 28);
  const std::string head = bgzip(dir, a);
  const std::string member = gzip_member(b);
  const std::string good = a + b;
  const Error crc = expect_damage(dir, flip(head + member, head.size() + member.size() - 8), good, 2, 64 * kKiB);
  // A member larger than a chunk is delivered as it inflates, so its CRC32 error points, as
  // GzipSource's does, at its trailer and at the end of its text.
  EXPECT_EQ(crc.position().comp_byte, static_cast<int64_t>(head.size() + member.size() - 8)) << crc.what();
  EXPECT_EQ(crc.position().decoded_byte, static_cast<int64_t>(good.size())) << crc.what();
  EXPECT_NE(crc.reason().find("crc32 mismatch"), std::string::npos) << crc.what();
  for (std::size_t cut : {std::size_t{5}, member.size() / 2, member.size() - 3}) {
    SCOPED_TRACE(cut);
    expect_damage(dir, head + member.substr(0, cut), good, 2, 64 * kKiB);
  }
}

TEST(BgzfReader, missing_or_unreadable_file_is_an_io_error) {
  TempDir dir;
  try {
    BgzfReader reader(dir.file("absent.gz"), "absent.gz", 2);
    ADD_FAILURE() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(e.position().file, "absent.gz");
  }
  try {
    BgzfReader reader(dir.path(), dir.path(), 2);
    ADD_FAILURE() << "opened a directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
  }
}

TEST(BgzfReaderConcurrency, destroyed_early_does_not_hang) {
  // The destructor must stop workers that are waiting for a free slot or decoding.
  TempDir dir;
  const std::string path = dir.write("in.gz", bgzip(dir, sample_text(12000, 29)));
  with_deadline(60, [&] {
    for (int round = 0; round < 40; ++round) {
      BgzfReader reader(path, path, 1 + round % 8, 64 * kKiB);
      for (int i = 0; i < round % 5; ++i) ASSERT_NE(reader.next(), nullptr);
    }
  });
}

TEST(BgzfReaderConcurrency, progress_is_readable_from_another_thread) {
  // input_bytes_read() is polled by a progress thread while next() runs: monotonic, ends at
  // the file size.
  TempDir dir;
  const std::string bytes = bgzip(dir, sample_text(12000, 30));
  const std::string path = dir.write("in.gz", bytes);
  BgzfReader reader(path, path, 3, 64 * kKiB);
  std::atomic<bool> done{false};
  std::thread poller([&] {
    uint64_t last = 0;
    while (!done.load()) {
      const uint64_t now = reader.input_bytes_read();
      EXPECT_GE(now, last);
      last = now;
    }
  });
  std::size_t total = 0;
  while (const io::TextBuffer* b = reader.next()) total += b->size;
  done = true;
  poller.join();
  EXPECT_EQ(total, gunzip(bytes).size());
  EXPECT_EQ(reader.input_bytes_read(), bytes.size());
}
