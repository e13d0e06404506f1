// Decoding from an interior block boundary, with the window unknown (markers) or known, stopping
// at the right boundary, and tiling a stream into chunks: the parallel path of DESIGN.md §3 (issue 3).
#include <gtest/gtest.h>

#include <random>

#include "gzip/deflate_decoder.hpp"
#include "gzip/deflate_test_support.hpp"
#include "gzip/marker_window.hpp"

namespace fqpipe::gzip {
namespace {

using testing::ZlibSettings;

struct Stream {
  std::string name;
  std::vector<uint8_t> comp;
  testing::ZlibInflated reference;
};

std::vector<Stream> streams() {
  const auto fastq = testing::fastq_like(600'000, 5);
  const auto random = testing::random_bytes(150'000, 6);
  std::vector<Stream> s;
  auto add = [&](std::string name, const std::vector<uint8_t>& data, ZlibSettings settings) {
    auto comp = testing::zlib_deflate_raw(data, settings);
    auto reference = testing::zlib_inflate_raw(comp);
    s.push_back({std::move(name), std::move(comp), std::move(reference)});
  };
  add("fastq_level6", fastq, {.level = 6});
  add("fastq_level1_small_blocks", fastq, {.level = 1, .mem_level = 1});
  add("fastq_level9_sync_flush", fastq, {.level = 9, .flush_every = 20'000, .flush = Z_SYNC_FLUSH});
  add("fastq_fixed", fastq, {.level = 6, .strategy = Z_FIXED, .mem_level = 2});
  add("fastq_full_flush", fastq, {.level = 6, .flush_every = 40'000, .flush = Z_FULL_FLUSH});
  add("random_stored", random, {.level = 0});
  add("random_level6", random, {.level = 6, .mem_level = 2});
  return s;
}

// Up to `count` block indexes spread over the stream (never block 0: that is the easy case).
std::vector<size_t> sample_blocks(const testing::ZlibInflated& ref, size_t count) {
  std::vector<size_t> picks;
  const size_t n = ref.blocks.size();
  if (n < 2) return picks;
  for (size_t i = 0; i < count; ++i) picks.push_back(1 + (i * 7919) % (n - 1));
  return picks;
}

std::vector<uint8_t> resolve(const DeflateChunk& chunk, std::span<const uint8_t> window) {
  std::vector<uint8_t> out(chunk.decoded_size());
  EXPECT_EQ(replace_markers(chunk.symbols(), window, std::span(out).first(chunk.symbols().size())),
            DeflateStatus::ok);
  std::copy(chunk.bytes().begin(), chunk.bytes().end(), out.begin() + static_cast<ptrdiff_t>(chunk.symbols().size()));
  return out;
}

std::span<const uint8_t> window_before(const testing::ZlibInflated& ref, uint64_t decoded_byte) {
  const uint64_t start = decoded_byte > deflate_window_size ? decoded_byte - deflate_window_size : 0;
  return std::span(ref.output).subspan(start, decoded_byte - start);
}

// Unknown window from a real interior boundary to the end; replacing markers with the true 32 KiB
// must reproduce zlib's output exactly (a wrong marker index shifts bytes by one: caught here).
TEST(DeflateChunk, unknown_window_from_interior_boundary_resolves_to_zlib_output) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (const auto& s : streams()) {
    for (size_t b : sample_blocks(s.reference, 6)) {
      SCOPED_TRACE(s.name + " block " + std::to_string(b));
      const auto& block = s.reference.blocks[b];
      ASSERT_EQ(decoder.decode_unknown_window(s.comp, block.comp_bit, {}, chunk), DeflateStatus::ok);
      ASSERT_TRUE(chunk.final_block_seen);
      ASSERT_EQ(chunk.decoded_size(), s.reference.output.size() - block.decoded_byte);
      const auto resolved = resolve(chunk, window_before(s.reference, block.decoded_byte));
      ASSERT_TRUE(std::equal(resolved.begin(), resolved.end(), s.reference.output.begin() + block.decoded_byte));
    }
  }
}

// Known window from the same boundaries equals zlib (the front thread's path, and the re-decode
// after a mismatch).
TEST(DeflateChunk, known_window_from_interior_boundary_matches_zlib_output) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (const auto& s : streams()) {
    for (size_t b : sample_blocks(s.reference, 6)) {
      SCOPED_TRACE(s.name + " block " + std::to_string(b));
      const auto& block = s.reference.blocks[b];
      const auto window = window_before(s.reference, block.decoded_byte);
      ASSERT_EQ(decoder.decode_known_window(s.comp, block.comp_bit, window, {}, chunk), DeflateStatus::ok);
      ASSERT_EQ(chunk.decoded_size(), s.reference.output.size() - block.decoded_byte);
      ASSERT_TRUE(std::equal(chunk.bytes().begin(), chunk.bytes().end(), s.reference.output.begin() + block.decoded_byte));
    }
  }
}

// stop_bit anywhere in (boundary j-1, boundary j] must stop exactly at boundary j, with the
// per-block list equal to zlib's; stop_bit at the start yields an empty chunk.
TEST(DeflateChunk, stop_bit_stops_at_next_zlib_boundary_exactly) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  std::mt19937 rng(11);
  for (const auto& s : streams()) {
    const auto& blocks = s.reference.blocks;
    for (size_t b : sample_blocks(s.reference, 8)) {
      if (b + 3 >= blocks.size()) continue;
      const size_t j = b + 1 + rng() % 2;
      const uint64_t lo = blocks[j - 1].comp_bit + 1;
      const uint64_t hi = blocks[j].comp_bit;
      for (const uint64_t stop : {lo, hi, lo + rng() % (hi - lo + 1)}) {
        SCOPED_TRACE(s.name + " from block " + std::to_string(b) + " stop " + std::to_string(stop));
        ASSERT_EQ(decoder.decode_unknown_window(s.comp, blocks[b].comp_bit, {.stop_bit = stop}, chunk),
                  DeflateStatus::ok);
        EXPECT_EQ(chunk.end_bit, blocks[j].comp_bit);
        EXPECT_FALSE(chunk.final_block_seen);
        EXPECT_EQ(chunk.decoded_size(), blocks[j].decoded_byte - blocks[b].decoded_byte);
        ASSERT_EQ(chunk.blocks.size(), j - b);
        for (size_t k = 0; k < chunk.blocks.size(); ++k) {
          EXPECT_EQ(chunk.blocks[k].comp_bit, blocks[b + k].comp_bit);
          EXPECT_EQ(chunk.blocks[k].decoded_byte, blocks[b + k].decoded_byte - blocks[b].decoded_byte);
        }
      }
    }
    ASSERT_EQ(decoder.decode_unknown_window(s.comp, blocks[1].comp_bit, {.stop_bit = blocks[1].comp_bit}, chunk),
              DeflateStatus::ok);
    EXPECT_EQ(chunk.decoded_size(), 0u);
    EXPECT_EQ(chunk.end_bit, blocks[1].comp_bit);
  }
}

// The whole parallel scheme in one thread: chunk i decodes (unknown window) from the end of chunk
// i-1 up to the first boundary past a guessed offset; windows are chained with next_window. The
// concatenation must be zlib's output, and chunks must tile the stream with no gap or overlap.
TEST(DeflateChunk, chunks_chained_by_next_window_tile_the_stream_exactly) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (const auto& s : streams()) {
    for (const uint64_t chunk_bits : {uint64_t{20'000}, uint64_t{150'000}, uint64_t{1'000'000}}) {
      SCOPED_TRACE(s.name + " chunk bits " + std::to_string(chunk_bits));
      std::vector<uint8_t> output;
      std::vector<uint8_t> window;
      std::vector<uint8_t> next;
      uint64_t start = 0;
      bool final_seen = false;
      while (!final_seen) {
        ASSERT_EQ(decoder.decode_unknown_window(s.comp, start, {.stop_bit = start + chunk_bits}, chunk),
                  DeflateStatus::ok);
        const auto resolved = resolve(chunk, window);
        output.insert(output.end(), resolved.begin(), resolved.end());
        ASSERT_EQ(next_window(chunk, window, next), DeflateStatus::ok);
        ASSERT_TRUE(std::equal(next.begin(), next.end(), output.end() - static_cast<ptrdiff_t>(next.size())));
        window.swap(next);
        ASSERT_GT(chunk.end_bit, start);
        start = chunk.end_bit;
        final_seen = chunk.final_block_seen;
      }
      EXPECT_EQ(output, s.reference.output);
    }
  }
}

// Marker arithmetic at the extremes: a reference to the oldest window byte (distance 32768 at the
// chunk's first byte) must be marker 32768 + 0, the newest (distance 1) marker 32768 + 32767.
TEST(DeflateChunk, markers_name_window_bytes_oldest_first) {
  // Fixed block: length 3 (symbol 257, 7-bit code 0000001), distance 32768 (symbol 29, extra 8191),
  // then length 3 distance 1 (symbol 0, 5-bit code 00000), then end of block (0000000).
  testing::BitWriter w;
  w.put(1, 1);
  w.put(1, 2);
  w.put_code(0b0000001, 7);
  w.put_code(29, 5);
  w.put(8191, 13);
  w.put_code(0b0000001, 7);
  w.put_code(0, 5);
  w.put_code(0, 7);
  const auto comp = w.bytes();
  DeflateDecoder decoder;
  DeflateChunk chunk;
  ASSERT_EQ(decoder.decode_unknown_window(comp, 0, {}, chunk), DeflateStatus::ok);
  const std::vector<uint16_t> expected = {32768, 32769, 32770, 32770, 32770, 32770};
  EXPECT_EQ(std::vector<uint16_t>(chunk.symbols().begin(), chunk.symbols().end()), expected);
  EXPECT_EQ(chunk.end_bit, w.bit_count());
}

}  // namespace
}  // namespace fqpipe::gzip
