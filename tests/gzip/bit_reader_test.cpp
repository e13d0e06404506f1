// BitReader: every start bit, every field width, exact positions, and no read past the input: the
// decoder and block finder trust it for bounds (issue 3).
#include <gtest/gtest.h>

#include <random>

#include "gzip/bit_reader.hpp"
#include "gzip/deflate_test_support.hpp"

namespace fqpipe::gzip {
namespace {

uint32_t naive_bits(const std::vector<uint8_t>& data, uint64_t bit, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i, ++bit) {
    const unsigned b = bit / 8 < data.size() ? (data[bit / 8] >> (bit % 8)) & 1 : 0;
    v |= b << i;
  }
  return v;
}

TEST(BitReader, reads_match_naive_extraction_from_every_start_bit) {
  const auto data = testing::random_bytes(64, 3);
  std::mt19937 rng(4);
  for (uint64_t start = 0; start < data.size() * 8; ++start) {
    BitReader in(data, start);
    uint64_t bit = start;
    while (bit < data.size() * 8) {
      const unsigned n = 1 + rng() % 32;
      ASSERT_EQ(in.position(), bit);
      ASSERT_EQ(in.read(n), naive_bits(data, bit, n)) << start << " " << bit;
      bit += n;
      ASSERT_EQ(in.overran(), bit > data.size() * 8);
    }
  }
}

// Exact-size heap buffers: ASan would catch a load past the end in the 8-byte refill.
TEST(BitReader, reading_past_the_end_reports_overrun_and_yields_zeros) {
  for (size_t size = 0; size < 20; ++size) {
    const std::vector<uint8_t> data(size, 0xFF);
    BitReader in(data, 0);
    for (size_t i = 0; i < size * 8; ++i) ASSERT_EQ(in.read(1), 1u);
    EXPECT_FALSE(in.overran());
    EXPECT_EQ(in.read(17), 0u);
    EXPECT_TRUE(in.overran());
    EXPECT_EQ(in.position(), size * 8 + 17);
  }
  const std::vector<uint8_t> data(3, 0xAA);
  BitReader in(data, 1000);  // start beyond the end
  EXPECT_EQ(in.position(), 1000u);
  EXPECT_EQ(in.read(5), 0u);
  EXPECT_TRUE(in.overran());
}

TEST(BitReader, align_to_byte_and_seek_keep_positions_exact) {
  const auto data = testing::random_bytes(40, 5);
  BitReader in(data, 3);
  in.align_to_byte();
  EXPECT_EQ(in.position(), 8u);
  in.align_to_byte();
  EXPECT_EQ(in.position(), 8u);
  (void)in.read(13);
  in.align_to_byte();
  EXPECT_EQ(in.position(), 24u);
  in.seek(77);
  EXPECT_EQ(in.read(9), naive_bits(data, 77, 9));
  EXPECT_EQ(in.position(), 86u);
}

}  // namespace
}  // namespace fqpipe::gzip
