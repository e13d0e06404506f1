// Whole raw DEFLATE streams decoded from bit 0 must equal zlib's output, block boundaries and end
// bit, for every block type and zlib setting. A miss here means wrong bytes for any gzip input (issue 3).
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "gzip/deflate_decoder.hpp"
#include "gzip/deflate_test_support.hpp"

namespace fqpipe::gzip {
namespace {

using testing::ZlibSettings;

struct Payload {
  std::string name;
  std::vector<uint8_t> bytes;
};

std::vector<Payload> payloads() {
  std::vector<Payload> p;
  p.push_back({"empty", {}});
  p.push_back({"one_byte", {'A'}});
  p.push_back({"three_bytes", {'@', '@', '@'}});
  p.push_back({"fastq", testing::fastq_like(300'000)});
  p.push_back({"random", testing::random_bytes(100'000)});
  p.push_back({"one_byte_run", std::vector<uint8_t>(200'000, 'F')});
  std::vector<uint8_t> pattern;
  for (int i = 0; i < 100'000; ++i) pattern.push_back(static_cast<uint8_t>("ACGTTGCA"[i % 7]));
  p.push_back({"period_7", pattern});
  return p;
}

std::vector<std::pair<std::string, ZlibSettings>> settings() {
  return {
      {"level1", {.level = 1}},
      {"level6", {.level = 6}},
      {"level9", {.level = 9}},
      {"stored", {.level = 0}},
      {"fixed", {.level = 6, .strategy = Z_FIXED}},
      {"huffman_only", {.level = 6, .strategy = Z_HUFFMAN_ONLY}},
      {"rle", {.level = 6, .strategy = Z_RLE}},
      {"small_blocks", {.level = 6, .mem_level = 1}},
      {"sync_flush", {.level = 6, .flush_every = 7'777, .flush = Z_SYNC_FLUSH}},
      {"full_flush", {.level = 6, .flush_every = 50'000, .flush = Z_FULL_FLUSH}},
      {"partial_flush", {.level = 6, .flush_every = 3'001, .flush = Z_PARTIAL_FLUSH}},
      {"block_flush", {.level = 9, .flush_every = 1'000, .flush = Z_BLOCK}},
  };
}

std::vector<uint8_t> joined(const DeflateChunk& chunk) {
  std::vector<uint8_t> out;
  for (uint16_t s : chunk.symbols()) out.push_back(static_cast<uint8_t>(s));
  out.insert(out.end(), chunk.bytes().begin(), chunk.bytes().end());
  return out;
}

// Known (empty) window from bit 0: every block type, every flush kind, ends exactly where zlib does.
TEST(DeflateDecode, whole_stream_matches_zlib_for_every_block_type_and_flush) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (const auto& payload : payloads()) {
    for (const auto& [setting_name, setting] : settings()) {
      SCOPED_TRACE(payload.name + "/" + setting_name);
      const auto comp = testing::zlib_deflate_raw(payload.bytes, setting);
      const auto reference = testing::zlib_inflate_raw(comp);
      ASSERT_TRUE(reference.ok);
      ASSERT_EQ(decoder.decode_known_window(comp, 0, {}, {}, chunk), DeflateStatus::ok);
      EXPECT_TRUE(chunk.final_block_seen);
      EXPECT_EQ((chunk.end_bit + 7) / 8, reference.end_byte);
      ASSERT_EQ(chunk.decoded_size(), payload.bytes.size());
      EXPECT_TRUE(std::equal(chunk.bytes().begin(), chunk.bytes().end(), payload.bytes.begin()));
      ASSERT_EQ(chunk.blocks.size(), reference.blocks.size());
      for (size_t i = 0; i < chunk.blocks.size(); ++i) {
        EXPECT_EQ(chunk.blocks[i].comp_bit, reference.blocks[i].comp_bit) << "block " << i;
        EXPECT_EQ(chunk.blocks[i].decoded_byte, reference.blocks[i].decoded_byte) << "block " << i;
      }
    }
  }
}

// From bit 0 there is nothing before the stream, so unknown-window mode must produce no marker and
// must switch to bytes after 32 KiB; its output must equal zlib's too.
TEST(DeflateDecode, unknown_window_from_stream_start_has_no_markers_and_switches_to_bytes) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (const auto& payload : payloads()) {
    for (const auto& [setting_name, setting] : settings()) {
      SCOPED_TRACE(payload.name + "/" + setting_name);
      const auto comp = testing::zlib_deflate_raw(payload.bytes, setting);
      ASSERT_EQ(decoder.decode_unknown_window(comp, 0, {}, chunk), DeflateStatus::ok);
      for (uint16_t s : chunk.symbols()) ASSERT_LT(s, 256);
      EXPECT_EQ(joined(chunk), payload.bytes);
      if (payload.bytes.size() > 3 * deflate_window_size) {
        EXPECT_GT(chunk.bytes().size(), 0u) << "never left 16-bit mode";
      }
    }
  }
}

// A window is ignored by a stream that never reaches back into it: a non-empty window must not
// shift or leak into the output.
TEST(DeflateDecode, known_window_content_does_not_leak_into_output) {
  const auto data = testing::fastq_like(50'000, 9);
  const auto comp = testing::zlib_deflate_raw(data);
  const auto window = testing::random_bytes(deflate_window_size, 4);
  DeflateDecoder decoder;
  DeflateChunk chunk;
  ASSERT_EQ(decoder.decode_known_window(comp, 0, window, {}, chunk), DeflateStatus::ok);
  EXPECT_EQ(std::vector<uint8_t>(chunk.bytes().begin(), chunk.bytes().end()), data);
}

// One decoder and one chunk object reused across very different streams: no state may survive
// from the previous call (stale tables, stale history, stale counts).
TEST(DeflateDecode, reused_decoder_and_chunk_carry_no_state_between_streams) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  const auto big = testing::fastq_like(400'000, 3);
  const auto small = std::vector<uint8_t>{'x', 'y', 'z', 'x', 'y', 'z', 'x', 'y', 'z'};
  const auto comp_big = testing::zlib_deflate_raw(big, {.level = 9});
  const auto comp_small = testing::zlib_deflate_raw(small, {.level = 1});
  for (int round = 0; round < 3; ++round) {
    ASSERT_EQ(decoder.decode_unknown_window(comp_big, 0, {}, chunk), DeflateStatus::ok);
    EXPECT_EQ(joined(chunk), big);
    ASSERT_EQ(decoder.decode_known_window(comp_small, 0, {}, {}, chunk), DeflateStatus::ok);
    EXPECT_EQ(joined(chunk), small);
    ASSERT_EQ(decoder.decode_unknown_window(comp_small, 0, {}, chunk), DeflateStatus::ok);
    EXPECT_EQ(joined(chunk), small);
  }
}

// Output caps: a false block start can expand without bound; the cap must stop it exactly.
TEST(DeflateDecode, output_cap_is_enforced_exactly) {
  const auto data = std::vector<uint8_t>(300'000, 'F');
  const auto comp = testing::zlib_deflate_raw(data, {.level = 9});
  DeflateDecoder decoder;
  DeflateChunk chunk;
  EXPECT_EQ(decoder.decode_known_window(comp, 0, {}, {.max_output = data.size()}, chunk), DeflateStatus::ok);
  EXPECT_EQ(decoder.decode_known_window(comp, 0, {}, {.max_output = data.size() - 1}, chunk),
            DeflateStatus::output_limit_exceeded);
  EXPECT_EQ(decoder.decode_unknown_window(comp, 0, {.max_output = 1000}, chunk),
            DeflateStatus::output_limit_exceeded);
}

// Cancellation (the parallel reader abandons a speculative chunk the front overtook): a set
// flag stops decoding at the next block start with `cancelled`; a flag never set changes
// nothing. (The reader side, a chunk cancelled mid-way, is covered by the end-to-end runs.)
TEST(DeflateDecode, cancel_flag_stops_at_the_next_block_start) {
  const auto data = testing::fastq_like(300'000);
  const auto comp = testing::zlib_deflate_raw(data, {.level = 6, .mem_level = 1});  // many small blocks
  DeflateDecoder decoder;
  DeflateChunk chunk;
  std::atomic<bool> cancel{false};
  ASSERT_EQ(decoder.decode_unknown_window(comp, 0, {.cancel = &cancel}, chunk), DeflateStatus::ok);
  EXPECT_EQ(joined(chunk), data);
  ASSERT_GT(chunk.blocks.size(), 10u);
  cancel = true;
  for (const bool known : {false, true}) {
    const DeflateStatus s = known ? decoder.decode_known_window(comp, 0, {}, {.cancel = &cancel}, chunk)
                                  : decoder.decode_unknown_window(comp, 0, {.cancel = &cancel}, chunk);
    EXPECT_EQ(s, DeflateStatus::cancelled);
    EXPECT_EQ(chunk.decoded_size(), 0u);
    EXPECT_EQ(chunk.end_bit, 0u);
    EXPECT_TRUE(chunk.blocks.empty());
  }
}

}  // namespace
}  // namespace fqpipe::gzip
