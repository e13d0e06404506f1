// Canonical Huffman tables: every code of random complete codes must decode to its symbol, length
// and extra-bit layout, and the Kraft verdicts must match RFC 1951 / zlib (issue 3).
#include <gtest/gtest.h>

#include <random>

#include "gzip/deflate_test_support.hpp"
#include "gzip/huffman.hpp"

namespace fqpipe::gzip {
namespace {

// A random complete code for n symbols with lengths <= max_len: split random leaves of a tree.
std::vector<uint8_t> random_complete_lengths(size_t n, unsigned used, unsigned max_len, std::mt19937& rng) {
  std::vector<unsigned> depths = {0};
  while (depths.size() < used) {
    const size_t i = rng() % depths.size();
    if (depths[i] >= max_len) continue;
    const unsigned d = depths[i] + 1;
    depths[i] = d;
    depths.push_back(d);
  }
  std::vector<uint8_t> lengths(n, 0);
  std::vector<size_t> slots(n);
  for (size_t i = 0; i < n; ++i) slots[i] = i;
  std::shuffle(slots.begin(), slots.end(), rng);
  for (size_t i = 0; i < depths.size(); ++i) lengths[slots[i]] = static_cast<uint8_t>(depths[i]);
  return lengths;
}

uint64_t reversed(uint32_t code, unsigned len) {
  uint64_t r = 0;
  for (unsigned i = 0; i < len; ++i) r |= uint64_t{(code >> (len - 1 - i)) & 1} << i;
  return r;
}

// Literal/length: literals (single or paired), end of block, length base + extra bits, codes up to
// 15 bits through subtables; random bits after each code must not change the verdict.
TEST(Huffman, every_literal_length_code_decodes_to_its_symbol_and_extra_bits) {
  std::mt19937 rng(1);
  using namespace huffman_entry;
  for (int round = 0; round < 200; ++round) {
    auto lengths = random_complete_lengths(286, 2 + rng() % 285, 15, rng);
    if (lengths[256] == 0) continue;
    LiteralLengthTable table;
    ASSERT_EQ(table.build(lengths), HuffmanStatus::ok);
    const auto codes = testing::canonical_codes(lengths);
    for (unsigned s = 0; s < 286; ++s) {
      if (!lengths[s]) continue;
      const uint64_t tail = (uint64_t{rng()} << 32 | rng()) & ((uint64_t{1} << 40) - 1);
      const uint64_t bits = reversed(codes[s], lengths[s]) | (tail << lengths[s]);
      const uint32_t e = table.lookup(bits);
      if (s < 256) {
        ASSERT_TRUE(e & literal) << s;
        ASSERT_EQ(payload(e) & 0xFF, s);
        ASSERT_EQ(code_length(e), total_bits(e));
        if (e & two_literals) {
          // The second literal is what the bits after the first code decode to.
          const uint32_t after_first = table.lookup(bits >> lengths[s]);
          ASSERT_TRUE(after_first & literal);
          ASSERT_EQ(payload(after_first) & 0xFF, payload(e) >> 8);
          ASSERT_EQ(total_bits(e), lengths[s] + lengths[payload(after_first) & 0xFF]);
        } else {
          ASSERT_EQ(total_bits(e), lengths[s]);
        }
      } else if (s == 256) {
        ASSERT_TRUE((e & exceptional) && (e & end_of_block));
        ASSERT_EQ(total_bits(e), lengths[s]);
      } else {
        ASSERT_FALSE(e & (literal | exceptional));
        ASSERT_EQ(code_length(e), lengths[s]);
        const uint32_t length = base_plus_extra(e, bits);
        const unsigned extra = total_bits(e) - lengths[s];
        const uint32_t expect_base = [&] {
          static const uint16_t base[] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                          31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
          return base[s - 257];
        }();
        ASSERT_EQ(length, expect_base + (tail & ((1u << extra) - 1))) << s;
      }
    }
  }
}

TEST(Huffman, every_distance_code_decodes_to_base_plus_extra_bits) {
  static const uint16_t base[] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                  193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  std::mt19937 rng(2);
  for (int round = 0; round < 300; ++round) {
    const auto lengths = random_complete_lengths(30, 2 + rng() % 29, 15, rng);
    DistanceTable table;
    ASSERT_EQ(table.build(lengths), HuffmanStatus::ok);
    const auto codes = testing::canonical_codes(lengths);
    for (unsigned s = 0; s < 30; ++s) {
      if (!lengths[s]) continue;
      const uint64_t tail = rng() & 0x1FFF;
      const uint64_t bits = reversed(codes[s], lengths[s]) | (tail << lengths[s]);
      const uint32_t e = table.lookup(bits);
      const unsigned extra = s < 4 ? 0 : s / 2 - 1;
      ASSERT_EQ(huffman_entry::total_bits(e), lengths[s] + extra);
      ASSERT_EQ(huffman_entry::base_plus_extra(e, bits), base[s] + (tail & ((1u << extra) - 1)));
    }
  }
}

// add_distances: a length code followed by a distance code decodes as one whole_match entry
// exactly when the length code, its extra bits and the distance code fit the primary bits; the
// entry carries the length with its extra bits, the distance symbol, and where the distance's
// extra bits start. Every other entry stays as build() made it.
TEST(Huffman, whole_match_entries_hold_length_and_distance_code_when_both_fit) {
  using namespace huffman_entry;
  std::mt19937 rng(5);
  unsigned whole = 0, split = 0;
  for (int round = 0; round < 300; ++round) {
    // Short codes often (so many pairs fit), long ones sometimes (subtables on either side).
    auto lengths = random_complete_lengths(286, 2 + rng() % (round % 3 ? 40 : 285), 15, rng);
    if (lengths[256] == 0) continue;
    const auto dist_lengths = random_complete_lengths(30, 1 + rng() % 29, round % 4 ? 8 : 15, rng);
    LiteralLengthTable plain, table;
    DistanceTable dist;
    ASSERT_EQ(plain.build(lengths), HuffmanStatus::ok);
    ASSERT_EQ(table.build(lengths), HuffmanStatus::ok);
    ASSERT_EQ(dist.build(dist_lengths), HuffmanStatus::ok);
    table.add_distances(dist);
    const auto codes = testing::canonical_codes(lengths);
    const auto dist_codes = testing::canonical_codes(dist_lengths);
    for (unsigned s = 257; s < 286; ++s) {
      if (!lengths[s]) continue;
      for (unsigned t = 0; t < 30; ++t) {
        if (!dist_lengths[t]) continue;
        const uint64_t len_tail = rng() & 0x1F, dist_tail = rng() & 0x1FFF, rest = rng();
        const uint32_t length_entry = plain.lookup(reversed(codes[s], lengths[s]) | (len_tail << lengths[s]));
        const unsigned len_extra = total_bits(length_entry) - lengths[s];
        const unsigned dist_extra = distance_code(t).extra;
        const unsigned prefix = lengths[s] + len_extra + dist_lengths[t];
        const uint64_t bits = reversed(codes[s], lengths[s]) | ((len_tail & ((1u << len_extra) - 1)) << lengths[s]) |
                              (reversed(dist_codes[t], dist_lengths[t]) << (lengths[s] + len_extra)) |
                              (dist_tail << prefix) | (rest << (prefix + 13));
        const uint32_t e = table.lookup(bits);
        if (prefix <= LiteralLengthTable::primary_bits) {
          ++whole;
          ASSERT_TRUE(e & whole_match) << s << " " << t;
          ASSERT_FALSE(e & (literal | exceptional));
          ASSERT_EQ(match_length(e), base_plus_extra(length_entry, bits)) << s;
          ASSERT_EQ(match_distance_symbol(e), t);
          ASSERT_EQ(code_length(e), prefix);
          ASSERT_EQ(total_bits(e), prefix + dist_extra);
        } else {
          ++split;
          ASSERT_EQ(e, plain.lookup(bits)) << s << " " << t;  // the length entry, unchanged
        }
      }
    }
    for (uint32_t i = 0; i < (1u << LiteralLengthTable::primary_bits); ++i) {
      if (!(table.lookup(i) & whole_match) || (plain.lookup(i) & literal)) {
        ASSERT_EQ(table.lookup(i), plain.lookup(i)) << i;  // literals, end of block, pointers
      }
    }
  }
  EXPECT_GT(whole, 1000u);
  EXPECT_GT(split, 1000u);
}

// A block without distance codes (all lengths zero), or with one code of length 1: a length code
// before an unassigned distance bit string must stay a plain length entry, so the decoder reports
// the invalid distance.
TEST(Huffman, whole_match_entries_never_name_an_unassigned_distance_code) {
  using namespace huffman_entry;
  std::vector<uint8_t> lengths(286, 0);
  lengths[256] = 2;
  lengths[257] = 2;  // length 3
  lengths['A'] = 2;
  lengths['C'] = 2;
  for (const std::vector<uint8_t>& dist_lengths : {std::vector<uint8_t>(30, 0), [] {
         std::vector<uint8_t> one(30, 0);
         one[4] = 1;  // only the bit string 0 is a distance code
         return one;
       }()}) {
    LiteralLengthTable table;
    DistanceTable dist;
    ASSERT_EQ(table.build(lengths), HuffmanStatus::ok);
    ASSERT_EQ(dist.build(dist_lengths), HuffmanStatus::ok);
    table.add_distances(dist);
    const auto codes = testing::canonical_codes(lengths);
    const uint64_t length_code = reversed(codes[257], 2);
    for (uint64_t after = 0; after < 512; ++after) {
      const uint32_t e = table.lookup(length_code | (after << 2));
      const bool assigned = dist_lengths[4] == 1 && (after & 1) == 0;
      ASSERT_EQ((e & whole_match) != 0, assigned) << after;
      if (assigned) {
        ASSERT_EQ(match_distance_symbol(e), 4u);
        ASSERT_EQ(total_bits(e), 2u + 1u + 1u);  // length code, distance code, one extra bit
      }
    }
  }
}

TEST(Huffman, kraft_verdicts_follow_rfc1951_and_zlib) {
  const std::vector<uint8_t> complete = {1, 2, 3, 3};
  const std::vector<uint8_t> over = {1, 1, 2};
  const std::vector<uint8_t> under = {2, 2, 2};
  const std::vector<uint8_t> single_one = {0, 1, 0};
  const std::vector<uint8_t> single_two = {0, 2, 0};
  const std::vector<uint8_t> empty = {0, 0, 0};
  const CodeRules strict{};
  const CodeRules distance{.allow_single_length_one = true, .allow_empty = true};
  EXPECT_EQ(check_code_lengths(complete, strict), HuffmanStatus::ok);
  EXPECT_EQ(check_code_lengths(over, distance), HuffmanStatus::over_subscribed);
  EXPECT_EQ(check_code_lengths(under, distance), HuffmanStatus::incomplete);
  EXPECT_EQ(check_code_lengths(single_one, strict), HuffmanStatus::incomplete);
  EXPECT_EQ(check_code_lengths(single_one, distance), HuffmanStatus::ok);
  EXPECT_EQ(check_code_lengths(single_two, distance), HuffmanStatus::incomplete);
  EXPECT_EQ(check_code_lengths(empty, strict), HuffmanStatus::incomplete);
  EXPECT_EQ(check_code_lengths(empty, distance), HuffmanStatus::ok);
  std::vector<uint8_t> cl(19, 0);
  cl[3] = 1;
  CodeLengthTable cl_table;
  EXPECT_EQ(cl_table.build(cl), HuffmanStatus::incomplete);  // code-length code: no exceptions
  std::vector<uint8_t> litlen(257, 0);
  litlen[256] = 1;
  LiteralLengthTable litlen_table;
  EXPECT_EQ(litlen_table.build(litlen), HuffmanStatus::ok);
  EXPECT_TRUE(litlen_table.lookup(1) & huffman_entry::invalid);
  EXPECT_TRUE(litlen_table.lookup(0) & huffman_entry::end_of_block);
}

// Tables are rebuilt in place for every block: a long-code layout followed by a short one must not
// leave stale subtable pointers behind.
TEST(Huffman, rebuilding_a_table_leaves_no_stale_subtables) {
  std::mt19937 rng(9);
  LiteralLengthTable table;
  for (int round = 0; round < 100; ++round) {
    auto lengths = random_complete_lengths(286, round % 2 ? 286 : 3 + rng() % 20, 15, rng);
    if (lengths[256] == 0) continue;
    ASSERT_EQ(table.build(lengths), HuffmanStatus::ok);
    const auto codes = testing::canonical_codes(lengths);
    for (unsigned s = 0; s < 286; ++s) {
      if (!lengths[s]) continue;
      const uint32_t e = table.lookup(reversed(codes[s], lengths[s]));
      if (s < 256) {
        ASSERT_EQ(huffman_entry::payload(e) & 0xFF, s);
      } else {
        ASSERT_EQ(huffman_entry::code_length(e), lengths[s]);
      }
    }
  }
}

}  // namespace
}  // namespace fqpipe::gzip
