// ParallelGzipReader (issue 3, items 5, 6 and 10): one gzip file decoded by a front thread with
// the known window and speculative threads ahead of it.
// What would break: a speculative chunk adopted at the wrong bit (a false block start) or with
// its markers resolved against the wrong window, giving different bytes; a chunk skipped or
// handed out twice at a member boundary, an empty member or a chunk boundary (gaps or overlaps
// in decoded_offset); a damaged, truncated or CRC/ISIZE-mismatched stream accepted as a shorter
// or different file (the worst outcome: wrong results reported as success); an error without the
// file or compressed offset; a reader that hangs or leaks when destroyed before the end.
// The reference is zlib (testlib::gunzip), inputs come from gzip, pigz, bgzip, igzip,
// libdeflate-gzip and zlib itself (flush modes, stored and fixed-Huffman blocks).
// Suites named *Concurrency use small inputs so the TSan run (ctest -R Concurrency) stays quick;
// the large tool/chunk/thread matrix and the damage sweeps live in the other suites.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fqpipe/error.hpp"
#include "gzip/deflate_test_support.hpp"
#include "gzip/parallel_gzip_reader.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;
using fqpipe::gzip::ParallelGzipReader;

namespace {

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;
const std::vector<std::size_t> kChunkSizes = {1 * kKiB, 5 * kKiB, 32 * kKiB, 128 * kKiB, 4 * kMiB};
const std::vector<unsigned> kThreadCounts = {2, 3, 8};
constexpr int kDeadlineSeconds = 120;  // a hang detector, not a timing

// ---------------------------------------------------------------------------------------------
// Inputs.

// FASTQ text of about `bytes` bytes (records of 100..150 bases).
std::string fastq_text(std::size_t bytes, uint64_t seed = 7) {
  GenOptions o;
  o.seed = seed;
  o.min_length = 100;
  o.max_length = 150;
  o.records = bytes / 290 + 1;
  o.header_comments = 0.5;
  return generate_fastq(o).text;
}

std::string random_text(std::size_t bytes, uint32_t seed = 3) {
  const std::vector<uint8_t> v = gzip::testing::random_bytes(bytes, seed);
  return {v.begin(), v.end()};
}

// Highly repetitive records: compresses ~100:1, so a 32 KiB chunk of compressed input expands
// past the speculative output limit and long matches cross every chunk boundary.
std::string repetitive_text(std::size_t bytes) {
  std::mt19937 rng(11);
  const std::string seqs[4] = {std::string(150, 'A'), std::string(75, 'C') + std::string(75, 'G'),
                               "ACGT" + std::string(146, 'T'), std::string(150, 'N')};
  std::string text;
  text.reserve(bytes + 400);
  for (uint64_t n = 0; text.size() < bytes; ++n) {
    text += "@rep " + std::to_string(n / 64) + "\n" + seqs[rng() % 4] + "\n+\n" + std::string(150, 'I') + "\n";
  }
  return text;
}

// One gzip member written with zlib (deflateInit2 windowBits 31): `flush` every `flush_every`
// input bytes (0: never), the given level and strategy (Z_FIXED: fixed Huffman blocks only).
std::string zlib_gzip(std::string_view text, int level, int strategy = Z_DEFAULT_STRATEGY,
                      int flush = Z_NO_FLUSH, std::size_t flush_every = 0) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 31, 8, strategy) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out;
  std::vector<char> buf(1 << 16);
  auto pump = [&](int mode) {
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf.data());
      zs.avail_out = static_cast<uInt>(buf.size());
      rc = deflate(&zs, mode);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("deflate");
      out.append(buf.data(), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0 || (mode == Z_FINISH && rc != Z_STREAM_END));
  };
  std::size_t fed = 0;
  while (fed < text.size()) {
    const std::size_t step = flush_every ? std::min(flush_every, text.size() - fed) : text.size() - fed;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data() + fed));
    zs.avail_in = static_cast<uInt>(step);
    fed += step;
    pump(flush_every ? flush : Z_NO_FLUSH);
  }
  pump(Z_FINISH);
  deflateEnd(&zs);
  return out;
}

bool have_tool(const std::string& tool) { return command_succeeds("command -v " + tool); }

// `text` compressed by an external tool (compress_with: `tool -c args < in > out`).
std::string compress(const TempDir& dir, const std::string& tool, const std::string& args,
                     const std::string& text) {
  const std::string in = dir.write("input.raw", text);
  const std::string out = dir.file("input.raw.gz");
  compress_with(tool, in, out, args);
  return read_file(out);
}

// Size of a plain gzip header (no FEXTRA/FNAME/FCOMMENT/FHCRC: what `tool -c < file` writes).
std::size_t plain_header_size(const std::string& gz) {
  EXPECT_EQ(static_cast<uint8_t>(gz[3]) & 0x1e, 0) << "test expects a header without optional fields";
  return 10;
}

// ---------------------------------------------------------------------------------------------
// Running the reader.

struct Outcome {
  std::string bytes;             // every buffer, concatenated
  std::size_t buffers = 0;
  std::string offset_problem;    // first non-contiguous or empty buffer, if any
  std::optional<Error> error;    // what next() threw
};

// Reads `path` to the end (or the first error) on another thread. A hang ends the program
// (a hung reader cannot be joined) after keeping the input as $TMPDIR/fqpipe-parallel-hang.gz
// and naming the configuration, so the hang can be reproduced with the CLI.
Outcome decode(const std::string& path, unsigned threads, std::size_t chunk_bytes,
               int deadline_seconds = kDeadlineSeconds) {
  auto run = [path, threads, chunk_bytes] {
    Outcome r;
    try {
      ParallelGzipReader reader(path, path, threads, chunk_bytes);
      while (const io::TextBuffer* b = reader.next()) {
        if (r.offset_problem.empty() && (b->decoded_offset != r.bytes.size() || b->size == 0 || !b->data))
          r.offset_problem = "buffer " + std::to_string(r.buffers) + ": decoded_offset " +
                             std::to_string(b->decoded_offset) + ", size " + std::to_string(b->size) +
                             ", expected offset " + std::to_string(r.bytes.size());
        r.bytes.append(b->data, b->size);
        ++r.buffers;
      }
    } catch (const Error& e) {
      r.error = e;
    }
    return r;
  };
  auto fut = std::async(std::launch::async, run);
  if (fut.wait_for(std::chrono::seconds(deadline_seconds)) != std::future_status::ready) {
    const char* tmp = std::getenv("TMPDIR");
    const std::string kept = std::string(tmp && *tmp ? tmp : "/tmp") + "/fqpipe-parallel-hang.gz";
    run_shell("cp " + shell_quote(path) + " " + shell_quote(kept));
    std::fprintf(stderr, "FATAL: ParallelGzipReader hung (threads %u, chunk %zu) on %s, kept as %s\n", threads,
                 chunk_bytes, path.c_str(), kept.c_str());
    std::fflush(stderr);
    std::_Exit(3);
  }
  return fut.get();
}

std::string config(const std::string& label, unsigned threads, std::size_t chunk_bytes) {
  return label + " (threads " + std::to_string(threads) + ", chunk " + std::to_string(chunk_bytes) + ")";
}

// Index of the first differing byte, for readable failures on megabyte strings.
std::size_t first_difference(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// The reader's output equals zlib's for every chunk size and thread count.
void expect_matches_zlib(const std::string& gz, const std::string& label,
                         const std::vector<std::size_t>& chunks = kChunkSizes,
                         const std::vector<unsigned>& threads = kThreadCounts) {
  TempDir dir;
  const std::string path = dir.write("input.gz", gz);
  const std::string expected = gunzip(gz);
  for (std::size_t chunk : chunks) {
    for (unsigned t : threads) {
      const Outcome r = decode(path, t, chunk);
      const std::string where = config(label, t, chunk);
      ASSERT_FALSE(r.error) << where << ": " << r.error->what();
      EXPECT_TRUE(r.offset_problem.empty()) << where << ": " << r.offset_problem;
      ASSERT_EQ(r.bytes.size(), expected.size()) << where;
      ASSERT_TRUE(r.bytes == expected) << where << ": first difference at decoded byte "
                                       << first_difference(r.bytes, expected);
    }
  }
}

// A data error that names the file and a compressed offset inside it (STYLE.md §6).
void expect_data_error(const Error& e, const std::string& path, std::size_t file_size,
                       const std::string& where) {
  EXPECT_EQ(e.kind(), ErrorKind::data) << where << ": " << e.what();
  EXPECT_EQ(e.position().file, path) << where;
  const std::string what = e.what();
  EXPECT_NE(what.find(path), std::string::npos) << where << ": " << what;
  EXPECT_NE(what.find("compressed byte"), std::string::npos) << where << ": " << what;
  EXPECT_GE(e.position().comp_byte, 0) << where << ": " << what;
  EXPECT_LE(e.position().comp_byte, static_cast<int64_t>(file_size)) << where << ": " << what;
  ASSERT_FALSE(e.reason().empty()) << where;
  EXPECT_FALSE(e.reason()[0] >= 'A' && e.reason()[0] <= 'Z') << where << ": " << e.reason();
}

std::string with_byte(std::string s, std::size_t at, uint8_t xor_mask) {
  s[at] = static_cast<char>(static_cast<uint8_t>(s[at]) ^ xor_mask);
  return s;
}

// zlib's verdict on a possibly damaged file: its output, or nullopt when it rejects it.
std::optional<std::string> zlib_verdict(const std::string& gz) {
  try {
    return gunzip(gz);
  } catch (const ReferenceError&) {
    return std::nullopt;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte equality with zlib over the tool x chunk size x thread count matrix.

TEST(ParallelGzipZlibEquality, gzip_levels_1_6_9_on_fastq) {
  // Hazard: speculative chunks adopted at a wrong bit, markers resolved against a stale window.
  TempDir dir;
  const std::string text = fastq_text(3 * kMiB);
  for (const char* level : {"-1", "-6", "-9"}) expect_matches_zlib(compress(dir, "gzip", level, text), std::string("gzip ") + level);
}

TEST(ParallelGzipZlibEquality, random_bytes_become_stored_blocks) {
  // Hazard: stored block starts are ambiguous by a few bits (their padding is zero), so the
  // speculative start and the front's end bit must be compared exactly or the chunk redone.
  TempDir dir;
  const std::string text = random_text(2 * kMiB);
  expect_matches_zlib(compress(dir, "gzip", "-6", text), "gzip -6 random");
  expect_matches_zlib(zlib_gzip(fastq_text(kMiB), 0), "zlib level 0 (stored blocks of text)");
}

TEST(ParallelGzipZlibEquality, highly_repetitive_text_past_speculative_output_limit) {
  // Hazard: a chunk expanding ~100x exceeds the speculative output limit; the front must still
  // decode it, and matches reaching 32 KiB back across every chunk boundary must resolve.
  TempDir dir;
  const std::string text = repetitive_text(6 * kMiB);
  expect_matches_zlib(compress(dir, "gzip", "-9", text), "gzip -9 repetitive");
  expect_matches_zlib(compress(dir, "gzip", "-1", text), "gzip -1 repetitive");
}

TEST(ParallelGzipZlibEquality, pigz_block_sizes_32k_128k) {
  // Hazard: pigz ends every block with an empty stored block (sync flush): many byte-aligned
  // boundaries and zero-length blocks at chunk starts.
  if (!have_tool("pigz")) GTEST_SKIP() << "pigz is missing";
  TempDir dir;
  const std::string text = fastq_text(3 * kMiB, 8);
  for (const char* args : {"-6 -b 32", "-6 -b 128", "-9 -b 32 -i"})
    expect_matches_zlib(compress(dir, "pigz", args, text), std::string("pigz ") + args);
}

TEST(ParallelGzipZlibEquality, bgzip_read_as_plain_multi_member_gzip) {
  // Hazard: hundreds of members (each with its own empty window and trailer) inside one chunk,
  // the BGZF end-of-file empty member last.
  if (!have_tool("bgzip")) GTEST_SKIP() << "bgzip is missing";
  TempDir dir;
  expect_matches_zlib(compress(dir, "bgzip", "", fastq_text(3 * kMiB, 9)), "bgzip");
}

TEST(ParallelGzipZlibEquality, igzip_levels_0_to_3) {
  // Hazard: ISA-L's encoder writes large blocks and at level 0 fixed/static-like blocks the
  // block finder cannot see, so the front decodes more itself.
  if (!have_tool("igzip")) GTEST_SKIP() << "igzip is missing";
  TempDir dir;
  const std::string text = fastq_text(3 * kMiB, 10);
  for (const char* level : {"-0", "-1", "-2", "-3"}) expect_matches_zlib(compress(dir, "igzip", level, text), std::string("igzip ") + level);
}

TEST(ParallelGzipZlibEquality, libdeflate_levels_1_6_12) {
  // Hazard: libdeflate's near-optimal parser (-12) makes unusual Huffman codes and block sizes.
  if (!have_tool("libdeflate-gzip")) GTEST_SKIP() << "libdeflate-gzip is missing (Debian libdeflate-tools)";
  TempDir dir;
  const std::string text = fastq_text(3 * kMiB, 12);
  for (const char* level : {"-1", "-6", "-12"})
    expect_matches_zlib(compress(dir, "libdeflate-gzip", level, text), std::string("libdeflate-gzip ") + level);
}

TEST(ParallelGzipZlibEquality, zlib_sync_flush_every_16k) {
  // Hazard: empty stored blocks (00 00 ff ff) every 16 KiB: several boundaries per chunk.
  expect_matches_zlib(zlib_gzip(fastq_text(3 * kMiB, 13), 6, Z_DEFAULT_STRATEGY, Z_SYNC_FLUSH, 16 * kKiB),
                      "zlib Z_SYNC_FLUSH every 16 KiB");
}

TEST(ParallelGzipZlibEquality, zlib_full_flush_every_64k) {
  // Hazard: full flushes reset the history, so chunks start with no back-reference at all.
  expect_matches_zlib(zlib_gzip(fastq_text(3 * kMiB, 14), 6, Z_DEFAULT_STRATEGY, Z_FULL_FLUSH, 64 * kKiB),
                      "zlib Z_FULL_FLUSH every 64 KiB");
}

// A gzip member around zlib's raw DEFLATE of `text` (windowBits -`window_bits`, `mem_level`,
// `strategy`), its header carrying every optional field (FEXTRA with two subfields, FNAME,
// FCOMMENT, FHCRC) when `all_fields`.
std::string raw_member(std::string_view text, int level, int strategy, int window_bits, int mem_level,
                       bool all_fields) {
  const std::vector<uint8_t> deflated = gzip::testing::zlib_deflate_raw(
      {reinterpret_cast<const uint8_t*>(text.data()), text.size()},
      {.level = level, .strategy = strategy, .mem_level = mem_level, .window_bits = window_bits});
  const std::string body(deflated.begin(), deflated.end());
  std::string h = {'\x1f', '\x8b', 8, static_cast<char>(all_fields ? 0x1e : 0), 0, 0, 0, 0, 0, 3};
  if (all_fields) {
    const std::string extra = std::string("AB\x02\x00xyCD\x00\x00", 10);  // two subfields, one empty
    h += static_cast<char>(extra.size());
    h += '\0';
    h += extra;
    h += std::string("name.fq") + '\0' + std::string("a comment") + '\0';
    const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(h.data()), static_cast<uInt>(h.size()));
    h += static_cast<char>(crc & 0xff);
    h += static_cast<char>((crc >> 8) & 0xff);
  }
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  std::string trailer;
  for (const uLong v : {crc, static_cast<uLong>(text.size())})
    for (int i = 0; i < 4; ++i) trailer += static_cast<char>((v >> (8 * i)) & 0xff);
  return h + body + trailer;
}

TEST(ParallelGzipZlibEquality, encoder_settings_outside_the_common_levels) {
  // Hazards: Huffman-only output (no match: a speculative chunk's window never matters) and
  // RLE (distance 1 only); a 512-byte window (windowBits 9) and memLevel 1 (blocks of a few
  // hundred symbols: a boundary every few hundred bytes); level 0 (stored blocks only); pigz
  // -11 (zopfli's block splitting); --rsyncable (gzip and pigz: flushes at content-defined
  // places); and members whose headers carry every optional field, in the middle of a stream.
  TempDir dir;
  const std::string text = fastq_text(600 * kKiB, 21);
  const std::vector<std::size_t> chunks = {1 * kKiB, 32 * kKiB, 128 * kKiB};
  const std::vector<unsigned> threads = {2, 3};
  expect_matches_zlib(zlib_gzip(text, 6, Z_HUFFMAN_ONLY), "zlib Z_HUFFMAN_ONLY", chunks, threads);
  expect_matches_zlib(zlib_gzip(text, 6, Z_RLE), "zlib Z_RLE", chunks, threads);
  expect_matches_zlib(raw_member(text, 9, Z_DEFAULT_STRATEGY, 9, 1, false), "windowBits 9, memLevel 1", chunks, threads);
  expect_matches_zlib(zlib_gzip(text, 0), "zlib level 0", chunks, threads);
  expect_matches_zlib(compress(dir, "gzip", "--rsyncable -6", text), "gzip --rsyncable", chunks, threads);
  if (have_tool("pigz")) {
    expect_matches_zlib(compress(dir, "pigz", "-11", fastq_text(200 * kKiB, 22)), "pigz -11", chunks, threads);
    expect_matches_zlib(compress(dir, "pigz", "--rsyncable -6 -b 64", text), "pigz --rsyncable", chunks, threads);
  }
  const std::string members = raw_member(text, 6, Z_DEFAULT_STRATEGY, 15, 8, true) + gzip_member("") +
                              raw_member(fastq_text(300 * kKiB, 23), 1, Z_DEFAULT_STRATEGY, 15, 8, true) +
                              raw_member("", 6, Z_DEFAULT_STRATEGY, 15, 8, true);
  expect_matches_zlib(members, "members with FEXTRA, FNAME, FCOMMENT and FHCRC", chunks, threads);
}

TEST(ParallelGzipZlibEquality, fixed_huffman_blocks_only) {
  // Hazard: fixed-Huffman blocks are invisible to the block finder; no speculative chunk can
  // start in them, the front must carry the whole stream.
  expect_matches_zlib(zlib_gzip(fastq_text(kMiB, 15), 6, Z_FIXED), "zlib Z_FIXED");
}

TEST(ParallelGzipZlibEquality, tiny_inputs_fixed_huffman) {
  // Hazard: a member smaller than anything chunk-sized; a 1-byte output; a single fixed block.
  TempDir dir;
  for (const std::string& text : {std::string("A"), std::string("@r\nACGT\n+\nIIII\n")}) {
    expect_matches_zlib(compress(dir, "gzip", "-6", text), "gzip tiny " + std::to_string(text.size()));
    expect_matches_zlib(zlib_gzip(text, 9), "zlib tiny " + std::to_string(text.size()));
    if (have_tool("igzip")) expect_matches_zlib(compress(dir, "igzip", "-1", text), "igzip tiny");
    if (have_tool("libdeflate-gzip"))
      expect_matches_zlib(compress(dir, "libdeflate-gzip", "-6", text), "libdeflate-gzip tiny");
  }
}

TEST(ParallelGzipZlibEquality, empty_input_gzip_of_dev_null) {
  // Hazard: a member with no output at all must give end of input, not an error or a hang.
  const CommandResult r = run_shell("gzip -c < /dev/null");
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.out.size(), 20u);
  expect_matches_zlib(r.out, "gzip < /dev/null");
  expect_matches_zlib(zlib_gzip("", 6), "zlib empty");
}

TEST(ParallelGzipZlibEquality, concatenated_members_including_empty_ones) {
  // Hazard: a member boundary inside a chunk (window reset, CRC restart), empty members first,
  // between and last, members from different encoders.
  TempDir dir;
  const std::string empty = zlib_gzip("", 6);
  const std::string a = fastq_text(kMiB, 16), b = fastq_text(700 * kKiB, 17), c = random_text(300 * kKiB);
  std::string gz = empty + compress(dir, "gzip", "-6", a) + empty + empty + zlib_gzip(b, 1, Z_DEFAULT_STRATEGY,
                                                                                        Z_SYNC_FLUSH, 20 * kKiB);
  if (have_tool("igzip")) gz += compress(dir, "igzip", "-1", c);
  else gz += zlib_gzip(c, 6);
  gz += empty + compress(dir, "gzip", "-9", "A") + empty;
  expect_matches_zlib(gz, "concatenated members");
}

TEST(ParallelGzipZlibEquality, many_small_members_inside_one_chunk) {
  // Hazard: dozens of member boundaries per chunk, some falling right at a chunk guess.
  std::string gz;
  const std::string text = fastq_text(2 * kMiB, 18);
  for (std::size_t at = 0, n = 0; at < text.size(); ++n) {
    const std::size_t len = std::min<std::size_t>(text.size() - at, 3000 + (n * 7919) % 20000);
    gz += zlib_gzip(std::string_view(text).substr(at, len), 1 + static_cast<int>(n % 9));
    at += len;
  }
  expect_matches_zlib(gz, "many small members");
}

TEST(ParallelGzipZlibEquality, zero_padding_after_last_member_is_accepted) {
  // Hazard: tape-style zero padding after the last member (gzip accepts it) reported as garbage.
  TempDir dir;
  const std::string gz = compress(dir, "gzip", "-6", fastq_text(600 * kKiB, 19));
  expect_matches_zlib(gz + std::string(1, '\0'), "one zero byte after", {32 * kKiB}, {2, 3});
  expect_matches_zlib(gz + std::string(70000, '\0'), "70000 zero bytes after", {32 * kKiB, 4 * kMiB}, {2, 3});
}

// ---------------------------------------------------------------------------------------------
// Damage: truncation, bit flips, trailer mismatches, trailing data.

// A 2-member file for the damage tests: ~1.2 MB of output, ~450 KB compressed, 32 KiB chunks.
struct DamageInput {
  std::string first, second;  // compressed members
  std::string gz;             // first + second
  std::string text;           // decoded
  std::string second_text;    // decoded second member
};

const DamageInput& damage_input() {
  static const DamageInput input = [] {
    DamageInput d;
    const std::string a = fastq_text(800 * kKiB, 20), b = fastq_text(400 * kKiB, 21);
    d.first = zlib_gzip(a, 6);
    d.second = zlib_gzip(b, 6);
    d.gz = d.first + d.second;
    d.text = a + b;
    d.second_text = b;
    return d;
  }();
  return input;
}

// Damaged input: an error, and the buffers before it are a prefix of the good output.
// `prefix`: the damage lies after every good byte (truncation, trailer, trailing data), so the
// buffers before the error must be a prefix of the good output; a flipped bit may change bytes
// before its CRC catches it, so there only the error counts.
void expect_error_after_prefix(const std::string& damaged, const std::string& good, const std::string& label,
                               const std::vector<std::size_t>& chunks, const std::vector<unsigned>& threads,
                               bool prefix = true) {
  TempDir dir;
  const std::string path = dir.write("damaged.gz", damaged);
  for (std::size_t chunk : chunks) {
    for (unsigned t : threads) {
      const Outcome r = decode(path, t, chunk);
      const std::string where = config(label, t, chunk);
      ASSERT_TRUE(r.error) << where << ": accepted, " << r.bytes.size() << " bytes decoded of " << good.size()
                           << (r.bytes == good ? " (identical)" : " (different)");
      expect_data_error(*r.error, path, damaged.size(), where);
      EXPECT_TRUE(r.offset_problem.empty()) << where << ": " << r.offset_problem;
      if (!prefix) continue;
      EXPECT_LE(r.bytes.size(), good.size()) << where;
      EXPECT_TRUE(good.compare(0, r.bytes.size(), r.bytes) == 0)
          << where << ": output before the error differs at decoded byte " << first_difference(r.bytes, good);
    }
  }
}

TEST(ParallelGzipDamage, truncated_at_40_points) {
  // Hazard: a cut stream taken for a complete one (the last chunk decoded short, bits past the
  // end read as zeros, a missing trailer not noticed). Cuts inside the header, the deflate
  // stream of both members, between the members and inside both trailers.
  const DamageInput& d = damage_input();
  const std::size_t n = d.gz.size(), m1 = d.first.size();
  std::vector<std::size_t> cuts = {1, 2, 5, 9, 10, 11, m1 - 8, m1 - 4, m1 - 1, m1, m1 + 3, m1 + 10, n - 8, n - 5, n - 1};
  for (std::size_t i = 1; cuts.size() < 40; ++i) cuts.push_back(i * n / 26 + (i * 37) % 1000);
  for (std::size_t cut : cuts) {
    ASSERT_LT(cut, n);
    const std::string damaged = d.gz.substr(0, cut);
    ASSERT_FALSE(zlib_verdict(damaged) && cut != m1) << "zlib accepts the cut at " << cut;
    if (cut == m1) continue;  // exactly one whole member: valid (checked below)
    expect_error_after_prefix(damaged, d.text, "cut at " + std::to_string(cut) + " of " + std::to_string(n),
                              {32 * kKiB}, {2, 3});
  }
  expect_matches_zlib(d.gz.substr(0, m1), "cut exactly after the first member", {32 * kKiB}, {2, 3});
}

TEST(ParallelGzipDamage, truncated_inside_trailer) {
  // Hazard: the deflate stream is complete, only crc32/isize are missing; easy to miss.
  const DamageInput& d = damage_input();
  for (std::size_t missing = 1; missing <= 8; ++missing)
    expect_error_after_prefix(d.second.substr(0, d.second.size() - missing), d.second_text,
                              "second member alone, " + std::to_string(missing) + " trailer bytes missing",
                              {32 * kKiB}, {2});
}

TEST(ParallelGzipDamage, truncated_at_chunk_guesses_with_many_threads) {
  // Hazard: cuts right at or around the chunk guesses, where speculative chunks start and stop.
  const DamageInput& d = damage_input();
  for (std::size_t g = 1; g * 128 * kKiB < d.gz.size(); ++g)
    for (std::size_t delta : {std::size_t{0}, std::size_t{1}, std::size_t{2000}}) {
      const std::size_t cut = g * 128 * kKiB + delta;
      if (cut >= d.gz.size()) continue;
      expect_error_after_prefix(d.gz.substr(0, cut), d.text, "cut at " + std::to_string(cut), {32 * kKiB, 128 * kKiB},
                                {8});
    }
}

// Flips bit `bit` of `gz`, decodes it and compares with zlib's verdict: zlib rejects -> error here
// too; zlib accepts (same output, CRC ok) -> the same bytes here.
void check_bit_flip(const std::string& gz, const std::string& good, uint64_t bit, std::size_t chunk,
                    unsigned threads) {
  const std::string damaged = with_byte(gz, bit / 8, static_cast<uint8_t>(1u << (bit % 8)));
  const std::optional<std::string> zlib = zlib_verdict(damaged);
  const std::string label = "bit " + std::to_string(bit) + " (byte " + std::to_string(bit / 8) + ") flipped";
  if (!zlib) {
    expect_error_after_prefix(damaged, good, label + ", zlib rejects", {chunk}, {threads}, false);
    return;
  }
  ASSERT_TRUE(*zlib == good) << label << ": zlib accepts a different output (crc collision?)";
  TempDir dir;
  const std::string path = dir.write("flipped.gz", damaged);
  const Outcome r = decode(path, threads, chunk);
  const std::string where = config(label + ", zlib accepts", threads, chunk);
  ASSERT_FALSE(r.error) << where << ": " << r.error->what();
  EXPECT_TRUE(r.bytes == good) << where;
}

TEST(ParallelGzipDamage, bit_flips_in_deflate_stream_match_zlib_verdict) {
  // Hazard: a flipped bit makes another valid-looking stream (different literals, a false block
  // boundary the speculative threads pick up, a distance beyond the history); the CRC or the
  // decoder must catch it in parallel mode exactly as zlib does.
  const DamageInput& d = damage_input();
  const std::size_t h = plain_header_size(d.gz);
  const uint64_t first_bit = h * 8, end_bit = (d.first.size() - 8) * 8;
  std::mt19937_64 rng(42);
  std::vector<uint64_t> bits;
  for (int i = 0; i < 40; ++i) bits.push_back(first_bit + rng() % (end_bit - first_bit));
  // Also: the first block header, and right at a few 32 KiB chunk guesses.
  for (uint64_t b : {first_bit, first_bit + 1, first_bit + 2, first_bit + 5, first_bit + 17})
    bits.push_back(b);
  for (uint64_t g = 1; g <= 4; ++g) bits.push_back(g * 32 * kKiB * 8 + g * 3);
  // And a few in the second member's deflate stream.
  const uint64_t second_first = (d.first.size() + h) * 8, second_end = (d.gz.size() - 8) * 8;
  for (int i = 0; i < 6; ++i) bits.push_back(second_first + rng() % (second_end - second_first));
  for (std::size_t i = 0; i < bits.size(); ++i) {
    check_bit_flip(d.gz, d.text, bits[i], 32 * kKiB, i % 2 ? 3 : 2);
    if (HasFatalFailure()) return;
  }
}

TEST(ParallelGzipDamage, crc_mismatch_in_last_member) {
  // Hazard: CRCs of chunks decoded on different threads not checked, or not combined right.
  const DamageInput& d = damage_input();
  for (std::size_t byte = 0; byte < 4; ++byte)
    expect_error_after_prefix(with_byte(d.gz, d.gz.size() - 8 + byte, 0x10), d.text,
                              "crc byte " + std::to_string(byte) + " of member 2", {32 * kKiB, 4 * kMiB}, {2, 3});
}

TEST(ParallelGzipDamage, crc_mismatch_in_first_of_two_members) {
  // Hazard: only the last member's trailer verified; the CRC state not reset per member.
  const DamageInput& d = damage_input();
  expect_error_after_prefix(with_byte(d.gz, d.first.size() - 8, 0x01), d.text, "crc of member 1",
                            {32 * kKiB, 4 * kMiB}, {2, 8});
}

TEST(ParallelGzipDamage, isize_mismatch_in_either_member) {
  // Hazard: ISIZE ignored (a truncated-then-rejoined stream with a good CRC slips through).
  const DamageInput& d = damage_input();
  expect_error_after_prefix(with_byte(d.gz, d.first.size() - 4, 0x01), d.text, "isize of member 1", {32 * kKiB},
                            {2, 3});
  expect_error_after_prefix(with_byte(d.gz, d.gz.size() - 1, 0x80), d.text, "isize high byte of member 2",
                            {32 * kKiB}, {2, 3});
}

TEST(ParallelGzipDamage, garbage_after_last_member) {
  // Hazard: trailing non-gzip bytes silently ignored (gzip warns; fqpipe must fail).
  const DamageInput& d = damage_input();
  expect_error_after_prefix(d.gz + "garbage", d.text, "text after the last member", {32 * kKiB}, {2, 3});
  expect_error_after_prefix(d.gz + std::string(100, '\0') + "x", d.text, "zeros then a byte", {32 * kKiB}, {2});
  expect_error_after_prefix(d.gz + "\x1f", d.text, "half a magic number", {32 * kKiB}, {2});
  expect_error_after_prefix(d.gz + std::string("\x1f\x8b\x08\0", 4), d.text, "a truncated next header", {32 * kKiB},
                            {2});
}

TEST(ParallelGzipDamage, damaged_second_member_header) {
  // Hazard: a bad header after a good member taken for trailing garbage to ignore.
  const DamageInput& d = damage_input();
  expect_error_after_prefix(with_byte(d.gz, d.first.size() + 2, 0x01), d.text, "method byte of member 2",
                            {32 * kKiB}, {2, 3});
  expect_error_after_prefix(with_byte(d.gz, d.first.size() + 3, 0xe0), d.text, "reserved flags of member 2",
                            {32 * kKiB}, {2});
}

// ---------------------------------------------------------------------------------------------
// Concurrency: small inputs, so these also run quickly under TSan.

// ~450 KB of output in 32 KiB chunks: ~5 chunks, enough for adoption, waste and overtaking.
const std::string& small_gz() {
  static const std::string gz = zlib_gzip(fastq_text(450 * kKiB, 30), 6) + zlib_gzip("", 6) +
                                zlib_gzip(fastq_text(100 * kKiB, 31), 1, Z_DEFAULT_STRATEGY, Z_SYNC_FLUSH, 8 * kKiB);
  return gz;
}

TEST(ParallelGzipConcurrency, small_multi_chunk_file_matches_zlib) {
  // Hazard: data races between the front, the speculative threads and next() (TSan).
  expect_matches_zlib(small_gz(), "small file", {32 * kKiB, 128 * kKiB}, {2, 3, 8});
}

TEST(ParallelGzipConcurrency, full_flush_stream_front_meets_byte_aligned_speculative_start) {
  // Hazard: Z_FULL_FLUSH writes an empty stored block every 64 KiB; a speculative start can be
  // byte-aligned where ISA-L, fed exactly up to it, does not rest (it keeps a block's last bits
  // until it sees more input). The front, fed up to that very byte again and again, must still
  // make progress (it spun forever at 7c02fd0, e.g. 3 threads, 32 KiB chunks). Several seeds,
  // so that flush points fall on many different bit positions.
  TempDir dir;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    GenOptions o;
    o.seed = seed;
    o.records = 2000;
    o.min_length = o.max_length = 150;
    o.n_fraction = 0;
    o.qual_lo = '#';
    o.qual_hi = 'F';
    const std::string text = generate_fastq(o).text;
    const std::string gz = zlib_gzip(text, 6, Z_DEFAULT_STRATEGY, Z_FULL_FLUSH, 64 * kKiB);
    const std::string path = dir.write("full_flush.gz", gz);
    const std::string expected = gunzip(gz);
    for (unsigned threads : {2u, 3u, 8u}) {
      const std::string where = config("full flush, seed " + std::to_string(seed), threads, 32 * kKiB);
      const Outcome r = decode(path, threads, 32 * kKiB, 30);
      ASSERT_FALSE(r.error) << where << ": " << r.error->what();
      ASSERT_TRUE(r.bytes == expected) << where;
    }
  }
}

TEST(ParallelGzipConcurrency, speculative_threads_starved_of_cpu) {
  // Hazard: speculative threads run SCHED_IDLE, so on a busy machine they may get no core for a
  // long time. The front must not wait for one (its block finder, its chunk), nor the consumer
  // for one that took a chunk's markers: here every thread shares one CPU with a busy thread of
  // normal priority, and the reader must still give zlib's bytes well within the deadline.
  // Orders of events the scheduler rarely produces otherwise: slots abandoned before their start
  // is known, markers replaced twice, the item left to a speculative thread to recycle (ASan).
  TempDir dir;
  const std::string gz = zlib_gzip(fastq_text(3 * kMiB, 41), 6);
  const std::string path = dir.write("starved.gz", gz);
  const std::string expected = gunzip(gz);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(static_cast<unsigned>(std::max(0, sched_getcpu())), &one);
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    // Busy 3 ms, idle 1 ms: speculative threads get a core now and then, and lose it mid-work.
    while (!stop.load(std::memory_order_relaxed)) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(3);
      while (std::chrono::steady_clock::now() < until) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (unsigned threads : {2u, 3u, 8u, 8u, 8u}) {
    std::string out;
    with_deadline(60, [&] {
      // The reader's threads inherit this thread's CPU set.
      (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      ParallelGzipReader reader(path, path, threads, 32 * kKiB);
      while (const io::TextBuffer* b = reader.next()) out.append(b->data, b->size);
    });
    EXPECT_TRUE(out == expected) << "threads " << threads << ": first difference at decoded byte "
                                 << first_difference(out, expected);
  }
  stop = true;
  busy.join();
}

TEST(ParallelGzipConcurrency, same_output_on_repeated_runs) {
  // Hazard: which chunks are adopted depends on timing; the output must not.
  TempDir dir;
  const std::string path = dir.write("small.gz", small_gz());
  const std::string expected = gunzip(small_gz());
  for (int run = 0; run < 12; ++run) {
    const Outcome r = decode(path, 2 + run % 7, 32 * kKiB);
    ASSERT_FALSE(r.error) << "run " << run << ": " << r.error->what();
    ASSERT_TRUE(r.bytes == expected) << "run " << run;
  }
}

TEST(ParallelGzipConcurrency, truncated_small_file_errors_with_any_thread_count) {
  // Hazard: the error item overtaken or lost when several threads stop at once.
  const std::string& gz = small_gz();
  const std::string text = gunzip(gz);
  for (std::size_t cut : {gz.size() / 3, gz.size() / 2 + 7, gz.size() - 3})
    expect_error_after_prefix(gz.substr(0, cut), text, "cut at " + std::to_string(cut), {32 * kKiB}, {2, 3, 8});
}

// Opens a reader, takes `reads` buffers, destroys it; all within the deadline.
void destroy_after(const std::string& path, unsigned threads, int reads) {
  with_deadline(30, [&] {
    ParallelGzipReader reader(path, path, threads, 32 * kKiB);
    for (int i = 0; i < reads; ++i)
      if (!reader.next()) break;
  });
}

TEST(ParallelGzipConcurrency, destroyed_before_and_after_first_buffers) {
  // Hazard: the destructor waiting for threads blocked on a full output queue or on a
  // speculative slot (a hang), or leaking chunks in flight (ASan).
  TempDir dir;
  const std::string path = dir.write("small.gz", small_gz());
  for (unsigned threads : {2u, 3u, 8u})
    for (int reads : {0, 1, 3}) destroy_after(path, threads, reads);
}

TEST(ParallelGzipConcurrency, destroyed_while_threads_are_busy) {
  // Hazard: destruction while the front is mid-chunk and speculative threads are decoding.
  TempDir dir;
  const std::string path = dir.write("small.gz", small_gz());
  for (int i = 0; i < 5; ++i) {
    with_deadline(30, [&] {
      ParallelGzipReader reader(path, path, 3, 32 * kKiB);
      std::this_thread::sleep_for(std::chrono::milliseconds(i));
    });
  }
}

TEST(ParallelGzipConcurrency, destroyed_with_an_unread_error) {
  // Hazard: the front blocked pushing its error while the reader is destroyed.
  TempDir dir;
  const std::string& gz = small_gz();
  const std::string path = dir.write("cut.gz", gz.substr(0, gz.size() / 2));
  for (int reads : {0, 1}) destroy_after(path, 3, reads);
}

TEST(ParallelGzipConcurrency, next_after_end_stays_at_end) {
  // Hazard: a second next() after nullptr blocking forever on the empty output queue (the
  // sequential and BGZF sources return nullptr again).
  TempDir dir;
  const std::string path = dir.write("tiny.gz", zlib_gzip("@r\nA\n+\nI\n", 6));
  with_deadline(30, [&] {
    ParallelGzipReader reader(path, path, 2, 32 * kKiB);
    while (reader.next()) {
    }
    EXPECT_EQ(reader.next(), nullptr);
  });
}

TEST(ParallelGzipConcurrency, next_after_error_throws_again) {
  // Hazard: a consumer that retries after an error hangs, or sees a clean end of input (the
  // sequential and BGZF sources throw the error again).
  TempDir dir;
  const std::string& gz = small_gz();
  const std::string path = dir.write("cut.gz", gz.substr(0, gz.size() / 2));
  with_deadline(30, [&] {
    ParallelGzipReader reader(path, path, 3, 32 * kKiB);
    expect_error([&] {
      while (reader.next()) {
      }
    });
    expect_error([&] { reader.next(); });
  });
}

// ---------------------------------------------------------------------------------------------
// The CLI: fqpipe decompress/count/stats/validate --gzip-decoder parallel.

class ParallelGzipCli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
  }
  CommandResult fq(const std::string& args) const {
    return run_shell("timeout 60 " + shell_quote(bin_) + " " + args);
  }
  std::string bin_;
  TempDir dir_;
};

TEST_F(ParallelGzipCli, decompress_md5_equals_gzip_dc) {
  // Hazard: the CLI path (DecodedInput, output writer) differing from the reader's output.
  const std::string path = dir_.write("reads.fq.gz", compress(dir_, "gzip", "-6", fastq_text(2 * kMiB, 40)));
  const CommandResult ours =
      fq("decompress --gzip-decoder parallel -t 2 --chunk-size 65536 " + shell_quote(path) + " | md5sum");
  const CommandResult ref = run_shell("gzip -dc " + shell_quote(path) + " | md5sum");
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(ref.exit_code, 0);
  EXPECT_EQ(ours.out, ref.out);
}

TEST_F(ParallelGzipCli, decompress_truncated_exits_1_and_leaves_no_output) {
  // Hazard: a truncated file written out as a shorter "success", or a partial OUT left behind.
  const std::string gz = compress(dir_, "gzip", "-6", fastq_text(2 * kMiB, 41));
  const std::string path = dir_.write("cut.fq.gz", gz.substr(0, gz.size() * 2 / 3));
  const std::string out = dir_.file("out.fq");
  const CommandResult r = fq("decompress --gzip-decoder parallel -t 2 --chunk-size 65536 -o " + shell_quote(out) +
                             " " + shell_quote(path));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cut.fq.gz"), std::string::npos) << r.err;
  EXPECT_FALSE(command_succeeds("test -e " + shell_quote(out))) << "partial output left behind";
  EXPECT_EQ(run_shell("ls " + shell_quote(dir_.path()) + " | grep -c fqpipe-tmp").out, "0\n") << "temporary file left";
  const CommandResult to_stdout = fq("decompress --gzip-decoder parallel -t 3 --chunk-size 32768 " + shell_quote(path) +
                                     " > /dev/null");
  EXPECT_EQ(to_stdout.exit_code, 1) << to_stdout.err;
  EXPECT_FALSE(to_stdout.err.empty());
}

TEST_F(ParallelGzipCli, count_stats_validate_fail_on_damage_and_agree_when_intact) {
  // Hazard: the pipeline commands swallowing the parallel reader's error, or counting
  // differently from the sequential decoder.
  const std::string gz = compress(dir_, "gzip", "-6", fastq_text(1500 * kKiB, 42));
  const std::string good = dir_.write("good.fq.gz", gz);
  const std::string cut = dir_.write("cut.fq.gz", gz.substr(0, gz.size() / 2));
  const std::string bad_crc = dir_.write("crc.fq.gz", with_byte(gz, gz.size() - 7, 0x04));
  for (const char* cmd : {"count", "stats", "validate"}) {
    const std::string opts = std::string(cmd) + " -q -t 2 --chunk-size 32768 --gzip-decoder ";
    const CommandResult par = fq(opts + "parallel " + shell_quote(good));
    const CommandResult seq = fq(opts + "sequential " + shell_quote(good));
    EXPECT_EQ(par.exit_code, 0) << cmd << ": " << par.err;
    EXPECT_EQ(par.out, seq.out) << cmd;
    for (const std::string& damaged : {cut, bad_crc}) {
      const CommandResult r = fq(opts + "parallel " + shell_quote(damaged));
      EXPECT_EQ(r.exit_code, 1) << cmd << " " << damaged << ": " << r.out << r.err;
      EXPECT_NE(r.err.find(damaged), std::string::npos) << cmd << ": " << r.err;
    }
  }
}

}  // namespace

TEST_F(ParallelGzipCli, auto_takes_the_parallel_decoder_only_where_it_pays) {
  // Hazard: `auto` running the parallel decoder on one thread's budget, on a pipe, or on a file
  // too small to cut (thread start-up for nothing), or never running it at all.
  const std::string text = fastq_text(1500 * kKiB, 43);
  const std::string gz = compress(dir_, "gzip", "-6", text);
  const std::string path = dir_.write("auto.fq.gz", gz);
  const std::string file = shell_quote(path);
  const std::string many = "--chunk-size " + std::to_string(gz.size() / 16) + " ";  // 16 chunks
  const std::string few = "--chunk-size " + std::to_string(gz.size() / 4) + " ";    // 4 chunks
  const auto decoder = [&](const std::string& args) {
    const CommandResult r = fq("decompress -v " + args + " > /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.err;
  };
  EXPECT_NE(decoder("-t 2 " + many + file).find("parallel gzip"), std::string::npos);
  EXPECT_NE(decoder("-t 2 " + few + file).find("sequential"), std::string::npos);
  EXPECT_NE(decoder("-t 1 " + many + file).find("sequential"), std::string::npos);
  EXPECT_NE(decoder("-t 2 " + many + "- < " + file).find("sequential"), std::string::npos);
  // The explicit choice wins over the size.
  EXPECT_NE(decoder("-t 2 --gzip-decoder parallel " + few + file).find("parallel gzip"), std::string::npos);
  // stats takes the same decoder and gets the same answer as with ISA-L alone.
  const CommandResult par = fq("stats -t 2 -v --json " + many + file);
  EXPECT_NE(par.err.find("parallel gzip"), std::string::npos) << par.err;
  const CommandResult seq = fq("stats -t 2 --gzip-decoder sequential --json " + file);
  ASSERT_EQ(par.exit_code, 0) << par.err;
  EXPECT_EQ(par.out, seq.out);
}
