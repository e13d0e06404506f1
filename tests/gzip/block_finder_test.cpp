// The block finder must find real block starts from a few bits before them (dynamic and stored),
// and almost never accept a random bit offset: a miss or a false start costs a re-decode (issue 3).
#include <gtest/gtest.h>

#include <random>

#include "gzip/block_finder.hpp"
#include "gzip/deflate_test_support.hpp"

namespace fqpipe::gzip {
namespace {

unsigned block_type_at(std::span<const uint8_t> comp, uint64_t bit) {
  BitReader in(comp, bit);
  return in.read(3) >> 1;
}

// Where a search for the block after `previous` may start. A stored block's header may sit at any
// bit of its zero padding, and an empty stored block 00 00 FF FF shifted by one byte reads as
// another (LEN 0xFF00, NLEN 0x00FF); so after a stored block the search starts past its NLEN.
uint64_t search_start_after(std::span<const uint8_t> comp, uint64_t previous) {
  return block_type_at(comp, previous) == 0 ? ((previous + 3 + 7) / 8 + 4) * 8 : previous + 1;
}

// From up to 3000 bits before each non-final dynamic block (but after the previous block start),
// the finder returns exactly that block.
TEST(BlockFinder, finds_every_dynamic_block_from_bits_before_it) {
  std::mt19937 rng(3);
  const auto text = testing::fastq_like(1'500'000, 21);
  for (const auto& settings : {testing::ZlibSettings{.level = 6}, testing::ZlibSettings{.level = 1, .mem_level = 3},
                               testing::ZlibSettings{.level = 9, .flush_every = 30'000, .flush = Z_SYNC_FLUSH}}) {
    const auto comp = testing::zlib_deflate_raw(text, settings);
    const auto ref = testing::zlib_inflate_raw(comp);
    BlockFinder finder(comp);
    size_t checked = 0;
    for (size_t i = 1; i + 1 < ref.blocks.size(); ++i) {
      const uint64_t bit = ref.blocks[i].comp_bit;
      if (block_type_at(comp, bit) != 2) continue;
      const uint64_t earliest = search_start_after(comp, ref.blocks[i - 1].comp_bit);
      const uint64_t from = std::max(earliest, bit > 3000 ? bit - rng() % 3000 : 0);
      const auto found = finder.find(from, bit + 1);
      ASSERT_TRUE(found.has_value()) << "block " << i << " at bit " << bit;
      EXPECT_EQ(found->comp_bit, bit) << "block " << i;
      EXPECT_EQ(found->kind, BlockCandidate::Kind::dynamic);
      ++checked;
    }
    EXPECT_GT(checked, 5u);
  }
}

// Stored blocks that hold data: the reported start precedes LEN by 3..10 zero bits and names the
// same LEN byte as the true header (any such start decodes the same block).
TEST(BlockFinder, finds_stored_blocks_by_their_len_byte) {
  const auto random = testing::random_bytes(400'000, 31);
  for (const auto& settings : {testing::ZlibSettings{.level = 0},
                               testing::ZlibSettings{.level = 6, .flush_every = 10'000, .flush = Z_SYNC_FLUSH}}) {
    const auto comp = testing::zlib_deflate_raw(random, settings);
    const auto ref = testing::zlib_inflate_raw(comp);
    BlockFinder finder(comp);
    size_t checked = 0;
    for (size_t i = 1; i + 1 < ref.blocks.size(); ++i) {
      const uint64_t bit = ref.blocks[i].comp_bit;
      if (block_type_at(comp, bit) != 0) continue;
      const uint64_t len_byte = (bit + 3 + 7) / 8;
      if (comp[len_byte] == 0 && comp[len_byte + 1] == 0) continue;  // a flush marker (next test)
      const uint64_t earliest = search_start_after(comp, ref.blocks[i - 1].comp_bit);
      const auto found = finder.find(std::max(earliest, bit - std::min<uint64_t>(bit, 40)), bit + 1);
      ASSERT_TRUE(found.has_value()) << "block " << i;
      EXPECT_EQ(found->kind, BlockCandidate::Kind::stored);
      EXPECT_LE(found->comp_bit, bit);
      EXPECT_EQ((found->comp_bit + 3 + 7) / 8, len_byte);
      DeflateDecoder decoder;
      DeflateChunk from_found;
      DeflateChunk from_true;
      ASSERT_EQ(decoder.decode_unknown_window(comp, found->comp_bit, {.stop_bit = bit + 1}, from_found), DeflateStatus::ok);
      ASSERT_EQ(decoder.decode_unknown_window(comp, bit, {.stop_bit = bit + 1}, from_true), DeflateStatus::ok);
      EXPECT_EQ(from_found.end_bit, from_true.end_bit);
      ++checked;
    }
    EXPECT_GT(checked, 3u);
  }
}

// Random bytes have no blocks: count what survives each filter and assert the final rate is tiny.
TEST(BlockFinder, false_positive_rate_on_random_bytes_is_below_1e_minus_6) {
  const auto random = testing::random_bytes(6 << 20, 41);
  for (const bool confirm : {false, true}) {
    BlockFinder finder(random, confirm);
    uint64_t dynamic_found = 0;
    uint64_t stored_found = 0;
    uint64_t from = 0;
    while (auto c = finder.find(from)) {
      (c->kind == BlockCandidate::Kind::dynamic ? dynamic_found : stored_found) += 1;
      // Past a stored candidate's LEN field: its other zero-padding starts are the same block.
      from = c->kind == BlockCandidate::Kind::dynamic ? c->comp_bit + 1 : (c->comp_bit + 10) / 8 * 8 + 8;
    }
    const auto& n = finder.counts();
    const double offsets = static_cast<double>(random.size()) * 8;
    std::printf("confirm=%d offsets=%.0f header_table=%.4f cl_code=%.2e full_header=%.2e dynamic=%.2e stored=%.2e\n",
                confirm, offsets, static_cast<double>(n.passed_header_table) / offsets,
                static_cast<double>(n.passed_code_length_code) / offsets,
                static_cast<double>(n.passed_dynamic_header) / offsets, static_cast<double>(dynamic_found) / offsets,
                static_cast<double>(stored_found) / offsets);
    EXPECT_LT(static_cast<double>(dynamic_found) / offsets, 1e-6);
    EXPECT_LT(static_cast<double>(stored_found) / offsets, 1e-6);
  }
}

// The first filter judges 45 offsets per load with shifted masks: an off-by-one there would drop
// real blocks of some HLIT/HDIST values without any other test noticing. Its survivors must be
// exactly the offsets whose 13 bits, read one at a time here, could start a dynamic block, for
// ranges that start and end anywhere inside a load.
TEST(BlockFinder, header_filter_passes_exactly_the_plausible_offsets) {
  const auto random = testing::random_bytes(1 << 16, 43);
  const auto bit_at = [&](uint64_t i) { return i / 8 < random.size() ? (random[i / 8] >> (i % 8)) & 1u : 0u; };
  const auto field = [&](uint64_t at, unsigned n) {
    unsigned v = 0;
    for (unsigned k = 0; k < n; ++k) v |= bit_at(at + k) << k;
    return v;
  };
  std::mt19937 rng(44);
  for (int round = 0; round < 40; ++round) {
    const uint64_t from = rng() % (random.size() * 8 - 2000);
    const uint64_t until = from + 1 + rng() % 1999;
    uint64_t expected = 0;
    for (uint64_t bit = from; bit < until; ++bit)
      expected += field(bit, 3) == 4 && field(bit + 3, 5) <= 29 && field(bit + 8, 5) <= 29;
    BlockFinder finder(random);
    ASSERT_FALSE(finder.find_dynamic(from, until).has_value()) << "a dynamic header in random bytes";
    EXPECT_EQ(finder.counts().passed_header_table, expected) << "offsets [" << from << ", " << until << ")";
  }
}

// Empty stored blocks (flush markers: pigz, Z_SYNC_FLUSH, Z_FULL_FLUSH) are never candidates: from
// anywhere before one, the finder returns the block after it, which starts on a byte (where the
// front's ISA-L rests; it rarely rests on the bit reported for a marker).
TEST(BlockFinder, skips_flush_markers_to_the_block_after_them) {
  const auto text = testing::fastq_like(600'000, 23);
  size_t checked = 0;
  for (const int flush : {Z_SYNC_FLUSH, Z_FULL_FLUSH}) {
    const auto comp = testing::zlib_deflate_raw(text, {.level = 6, .flush_every = 20'000, .flush = flush});
    const auto ref = testing::zlib_inflate_raw(comp);
    BlockFinder finder(comp);
    for (size_t i = 1; i + 2 < ref.blocks.size(); ++i) {
      const uint64_t bit = ref.blocks[i].comp_bit;
      const uint64_t len_byte = (bit + 3 + 7) / 8;
      if (block_type_at(comp, bit) != 0 || comp[len_byte] != 0 || comp[len_byte + 1] != 0) continue;
      const uint64_t after = ref.blocks[i + 1].comp_bit;
      ASSERT_EQ(after, (len_byte + 4) * 8) << "block " << i;
      if (block_type_at(comp, after) != 2) continue;
      const auto found = finder.find(search_start_after(comp, ref.blocks[i - 1].comp_bit), after + 1);
      ASSERT_TRUE(found.has_value()) << "marker " << i;
      EXPECT_EQ(found->comp_bit, after) << "marker " << i;
      EXPECT_EQ(found->kind, BlockCandidate::Kind::dynamic);
      ++checked;
    }
  }
  EXPECT_GT(checked, 20u);
  const std::vector<uint8_t> sync_marker = {0x00, 0x00, 0x00, 0xFF, 0xFF};  // an empty stored block alone
  BlockFinder alone(sync_marker, false);
  EXPECT_FALSE(alone.find(0).has_value());
}

// Nothing to find near the ends: tiny inputs, ranges at the very end, empty ranges.
TEST(BlockFinder, tiny_inputs_and_end_ranges_do_not_over_read) {
  for (size_t n = 0; n < 40; ++n) {
    const auto bytes = testing::random_bytes(n, static_cast<uint32_t>(n));
    BlockFinder finder(bytes);
    for (uint64_t from = 0; from <= n * 8; from += 3) (void)finder.find(from);
    EXPECT_FALSE(finder.find(n * 8).has_value());
    EXPECT_FALSE(finder.find(5, 5).has_value());
  }
  const std::vector<uint8_t> stored_one = {0x00, 0x01, 0x00, 0xFE, 0xFF, 'A'};  // a stored block of one byte
  BlockFinder finder(stored_one, false);
  const auto found = finder.find(0);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->kind, BlockCandidate::Kind::stored);
}

}  // namespace
}  // namespace fqpipe::gzip
