// Every way a DEFLATE stream can be malformed must give its own status, never a crash or a read
// outside the input (run under ASan/UBSan); zlib is the judge for mutated streams (issue 3).
#include <gtest/gtest.h>

#include <random>

#include "gzip/deflate_decoder.hpp"
#include "gzip/deflate_test_support.hpp"

namespace fqpipe::gzip {
namespace {

using testing::BitWriter;

constexpr uint8_t code_length_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

struct ClSymbol {
  unsigned symbol;
  unsigned extra = 0;  // repeat count field of 16/17/18
};

// A complete code-length code: symbols 0..12 get 4 bits, 13..18 get 5 (13/16 + 6/32 = 1).
std::vector<uint8_t> default_cl_lengths() {
  std::vector<uint8_t> l(19, 4);
  for (unsigned s = 13; s < 19; ++s) l[s] = 5;
  return l;
}

std::vector<ClSymbol> literally(const std::vector<uint8_t>& litlen, const std::vector<uint8_t>& dist) {
  std::vector<ClSymbol> seq;
  for (uint8_t l : litlen) seq.push_back({l});
  for (uint8_t l : dist) seq.push_back({l});
  return seq;
}

// Writes a dynamic block header: BFINAL, BTYPE=2, HLIT/HDIST fields as given, all 19 code-length
// code lengths, then the code-length symbols.
void write_dynamic_header(BitWriter& w, bool final, unsigned hlit, unsigned hdist, const std::vector<ClSymbol>& seq,
                          const std::vector<uint8_t>& cl_lengths = default_cl_lengths()) {
  w.put(final, 1);
  w.put(2, 2);
  w.put(hlit, 5);
  w.put(hdist, 5);
  w.put(15, 4);
  for (unsigned i = 0; i < 19; ++i) w.put(cl_lengths[code_length_order[i]], 3);
  const auto codes = testing::canonical_codes(cl_lengths);
  for (const ClSymbol& c : seq) {
    w.put_code(codes[c.symbol], cl_lengths[c.symbol]);
    if (c.symbol == 16) w.put(c.extra, 2);
    if (c.symbol == 17) w.put(c.extra, 3);
    if (c.symbol == 18) w.put(c.extra, 7);
  }
}

// 256 literals of 9 bits would be incomplete; a simple complete litlen code: 0..255 and 256 need
// 257 codes: 255 codes of 8 bits + 2 codes of 9 bits (255/256 + 2/512 = 1).
std::vector<uint8_t> complete_litlen(size_t count = 257) {
  std::vector<uint8_t> l(count, 0);
  for (unsigned s = 0; s < 255; ++s) l[s] = 8;
  l[255] = 9;
  l[256] = 9;
  return l;
}

DeflateStatus decode_known(const std::vector<uint8_t>& comp, std::span<const uint8_t> window = {}) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  return decoder.decode_known_window(comp, 0, window, {}, chunk);
}

DeflateStatus decode_unknown(const std::vector<uint8_t>& comp) {
  DeflateDecoder decoder;
  DeflateChunk chunk;
  return decoder.decode_unknown_window(comp, 0, {}, chunk);
}

// Dynamic block with the given code lengths, then (litlen symbol, distance symbol or -1) pairs
// and end of block, with zero extra bits.
std::vector<uint8_t> dynamic_block(const std::vector<uint8_t>& litlen, const std::vector<uint8_t>& dist,
                                   const std::vector<std::pair<unsigned, int>>& symbols, bool end_of_block = true) {
  BitWriter w;
  write_dynamic_header(w, true, static_cast<unsigned>(litlen.size() - 257), static_cast<unsigned>(dist.size() - 1),
                       literally(litlen, dist));
  const auto lcodes = testing::canonical_codes(litlen);
  const auto dcodes = testing::canonical_codes(dist);
  auto put_length_extra = [&](unsigned sym) {
    const unsigned i = sym - 257;
    if (i >= 8 && i < 28) w.put(0, i / 4 - 1);
  };
  for (const auto& [l, d] : symbols) {
    w.put_code(lcodes[l], litlen[l]);
    if (l > 256) put_length_extra(l);
    if (d >= 0) {
      w.put_code(dcodes[static_cast<unsigned>(d)], dist[static_cast<unsigned>(d)]);
      if (d >= 4) w.put(0, static_cast<unsigned>(d) / 2 - 1);
    }
  }
  if (end_of_block) w.put_code(lcodes[256], litlen[256]);
  return w.bytes();
}

TEST(DeflateInvalid, block_type_3_is_rejected) {
  for (unsigned final : {0u, 1u}) {
    BitWriter w;
    w.put(final, 1);
    w.put(3, 2);
    w.put(0, 29);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_block_type);
    EXPECT_EQ(decode_unknown(w.bytes()), DeflateStatus::invalid_block_type);
  }
}

TEST(DeflateInvalid, stored_len_not_complement_of_nlen_is_rejected) {
  BitWriter w;
  w.put(1, 1);
  w.put(0, 2);
  w.align();
  w.put(5, 16);
  w.put(static_cast<uint16_t>(~6u), 16);
  w.put(0x4141414141ULL, 40);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::stored_length_mismatch);
}

TEST(DeflateInvalid, over_subscribed_code_length_code_is_rejected) {
  BitWriter w;
  write_dynamic_header(w, true, 0, 0, {}, std::vector<uint8_t>(19, 1));
  w.put(0, 64);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::over_subscribed_code);
}

TEST(DeflateInvalid, incomplete_code_length_code_is_rejected_even_with_one_length_1_code) {
  for (const auto& cl : {std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                         std::vector<uint8_t>{2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                         std::vector<uint8_t>(19, 0)}) {
    BitWriter w;
    write_dynamic_header(w, true, 0, 0, {}, cl);
    w.put(0, 64);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::incomplete_code);
  }
}

TEST(DeflateInvalid, over_subscribed_literal_length_code_is_rejected) {
  const std::vector<uint8_t> litlen(257, 8);  // 257/256
  EXPECT_EQ(decode_known(dynamic_block(litlen, {1}, {})), DeflateStatus::over_subscribed_code);
}

TEST(DeflateInvalid, incomplete_literal_length_code_is_rejected) {
  const std::vector<uint8_t> litlen(257, 9);  // 257/512
  EXPECT_EQ(decode_known(dynamic_block(litlen, {1}, {})), DeflateStatus::incomplete_code);
}

// zlib accepts a literal/length code with one code of length 1 (only end-of-block); the other bit
// string names no symbol.
TEST(DeflateInvalid, single_length_1_literal_length_code_is_accepted_and_its_gap_rejected) {
  std::vector<uint8_t> litlen(257, 0);
  litlen[256] = 1;
  EXPECT_EQ(decode_known(dynamic_block(litlen, {1}, {})), DeflateStatus::ok);
  BitWriter w;
  write_dynamic_header(w, true, 0, 0, literally(litlen, {1}));
  w.put(1, 1);  // the unassigned code
  w.put(0, 16);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_literal_length_symbol);
}

TEST(DeflateInvalid, over_subscribed_distance_code_is_rejected) {
  EXPECT_EQ(decode_known(dynamic_block(complete_litlen(), {1, 1, 1}, {})), DeflateStatus::over_subscribed_code);
}

TEST(DeflateInvalid, incomplete_distance_code_is_rejected) {
  EXPECT_EQ(decode_known(dynamic_block(complete_litlen(), {2, 2}, {})), DeflateStatus::incomplete_code);
  EXPECT_EQ(decode_known(dynamic_block(complete_litlen(), {0, 2}, {})), DeflateStatus::incomplete_code);
}

// RFC 1951 §3.2.7: one distance code of one bit is legal; its other bit string is not a code.
TEST(DeflateInvalid, single_length_1_distance_code_is_accepted_and_its_gap_rejected) {
  const auto litlen = complete_litlen(258);  // symbol 257 (length 3) gets no code yet
  auto with_length = litlen;
  with_length[254] = 9;  // 254 x 8 bits + 4 x 9 bits = 1
  with_length[257] = 9;
  const std::vector<uint8_t> dist = {1};
  EXPECT_EQ(decode_known(dynamic_block(with_length, dist, {{'a', -1}, {257, 0}, {257, 0}})), DeflateStatus::ok);
  BitWriter w;
  write_dynamic_header(w, true, 1, 0, literally(with_length, dist));
  const auto lcodes = testing::canonical_codes(with_length);
  w.put_code(lcodes['a'], 8);
  w.put_code(lcodes[257], 9);
  w.put(1, 1);  // the unassigned distance bit string
  w.put(0, 32);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_distance_symbol);
}

// A block without matches may have no distance code at all; a match in it is an error.
TEST(DeflateInvalid, empty_distance_code_is_accepted_until_a_match_needs_it) {
  auto litlen = complete_litlen(258);
  litlen[254] = 9;
  litlen[257] = 9;
  EXPECT_EQ(decode_known(dynamic_block(litlen, {0}, {{'a', -1}, {'b', -1}})), DeflateStatus::ok);
  BitWriter w;
  write_dynamic_header(w, true, 1, 0, literally(litlen, {0}));
  const auto lcodes = testing::canonical_codes(litlen);
  w.put_code(lcodes['a'], 8);
  w.put_code(lcodes[257], 9);
  w.put(0, 32);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_distance_symbol);
}

TEST(DeflateInvalid, repeat_16_as_first_length_is_rejected) {
  BitWriter w;
  write_dynamic_header(w, true, 0, 0, {{16, 0}});
  w.put(0, 64);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::repeat_without_previous_length);
}

TEST(DeflateInvalid, repeat_running_past_hlit_plus_hdist_is_rejected) {
  for (const unsigned repeat_symbol : {16u, 17u, 18u}) {
    auto seq = literally(complete_litlen(), {});  // 257 lengths; HDIST + 1 = 2 remain
    seq.push_back({repeat_symbol, 0});            // repeats at least 3
    BitWriter w;
    write_dynamic_header(w, true, 0, 1, seq);
    w.put(0, 64);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::repeat_overflows_lengths) << repeat_symbol;
  }
}

// Repeats may cross from literal/length into distance lengths (RFC 1951 §3.2.7): legal. Here a
// run of three zeros covers literal/length 257 and distances 0 and 1; distances 2 and 3 get 1 bit.
TEST(DeflateInvalid, repeat_crossing_into_distance_lengths_is_accepted) {
  auto seq = literally(complete_litlen(), {});
  seq.push_back({17, 0});  // 3 zeros
  seq.push_back({1});
  seq.push_back({1});
  BitWriter w;
  write_dynamic_header(w, true, 1, 3, seq);
  w.put_code(testing::canonical_codes(complete_litlen(258))[256], 9);
  w.put(0, 16);
  EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::ok);
}

TEST(DeflateInvalid, zero_length_end_of_block_code_is_rejected) {
  auto litlen = complete_litlen(258);
  litlen[256] = 0;
  litlen[257] = 9;
  EXPECT_EQ(decode_known(dynamic_block(litlen, {1}, {}, false)), DeflateStatus::missing_end_of_block);
}

TEST(DeflateInvalid, more_than_286_literal_length_or_30_distance_codes_are_rejected) {
  for (const auto& [hlit, hdist] : {std::pair{30u, 0u}, std::pair{31u, 0u}, std::pair{0u, 30u}, std::pair{0u, 31u}}) {
    BitWriter w;
    write_dynamic_header(w, true, hlit, hdist, {});
    w.put(0, 64);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::too_many_codes) << hlit << " " << hdist;
  }
}

// Fixed code (RFC 1951 §3.2.6) assigns codes to literal/length 286, 287 and distances 30, 31, but
// they have no meaning.
TEST(DeflateInvalid, fixed_code_symbols_286_287_and_distances_30_31_are_rejected) {
  for (unsigned symbol : {286u, 287u}) {
    BitWriter w;
    w.put(1, 1);
    w.put(1, 2);
    w.put_code(0b11000000 + (symbol - 280), 8);
    w.put(0, 32);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_literal_length_symbol) << symbol;
    EXPECT_EQ(decode_unknown(w.bytes()), DeflateStatus::invalid_literal_length_symbol) << symbol;
  }
  for (unsigned symbol : {30u, 31u}) {
    BitWriter w;
    w.put(1, 1);
    w.put(1, 2);
    w.put_code('a' + 0x30, 8);  // literal 'a'
    w.put_code(1, 7);           // symbol 257: length 3
    w.put_code(symbol, 5);
    w.put(0, 32);
    EXPECT_EQ(decode_known(w.bytes()), DeflateStatus::invalid_distance_symbol) << symbol;
  }
}

// Known window: a distance may reach exactly the window's first byte, not one further; at stream
// start (empty window) any distance beyond the output so far is invalid.
TEST(DeflateInvalid, distance_beyond_window_is_rejected) {
  auto fixed_match = [](unsigned literals, unsigned dist_symbol, unsigned extra, unsigned extra_bits) {
    BitWriter w;
    w.put(1, 1);
    w.put(1, 2);
    for (unsigned i = 0; i < literals; ++i) w.put_code('x' + 0x30, 8);
    w.put_code(1, 7);  // length 3
    w.put_code(dist_symbol, 5);
    w.put(extra, extra_bits);
    w.put_code(0, 7);
    return w.bytes();
  };
  EXPECT_EQ(decode_known(fixed_match(0, 0, 0, 0)), DeflateStatus::distance_beyond_history);
  EXPECT_EQ(decode_known(fixed_match(1, 0, 0, 0)), DeflateStatus::ok);         // distance 1
  EXPECT_EQ(decode_known(fixed_match(4, 4, 0, 1)), DeflateStatus::distance_beyond_history);  // 5 > 4
  EXPECT_EQ(decode_known(fixed_match(5, 4, 0, 1)), DeflateStatus::ok);
  const std::vector<uint8_t> window(100, 'w');
  // distance 101 = symbol 13 (base 97, 5 extra bits) + 4; with 0 literals written first.
  EXPECT_EQ(decode_known(fixed_match(0, 13, 4, 5), window), DeflateStatus::distance_beyond_history);
  EXPECT_EQ(decode_known(fixed_match(0, 13, 3, 5), window), DeflateStatus::ok);
  EXPECT_EQ(decode_known(fixed_match(1, 13, 4, 5), window), DeflateStatus::ok);
  // Unknown window: 32768 back from the chunk start is the oldest marker, still legal.
  EXPECT_EQ(decode_unknown(fixed_match(0, 29, 8191, 13)), DeflateStatus::ok);
}

// Every proper prefix of a valid stream is truncated: never ok, never a crash or over-read.
TEST(DeflateInvalid, every_prefix_of_a_valid_stream_is_truncated_input) {
  const auto text = testing::fastq_like(3'000, 8);
  for (const auto& settings : {testing::ZlibSettings{.level = 6}, testing::ZlibSettings{.level = 0},
                               testing::ZlibSettings{.level = 6, .strategy = Z_FIXED},
                               testing::ZlibSettings{.level = 6, .flush_every = 500, .flush = Z_SYNC_FLUSH}}) {
    const auto comp = testing::zlib_deflate_raw(text, settings);
    DeflateDecoder decoder;
    DeflateChunk chunk;
    for (size_t n = 0; n < comp.size(); ++n) {
      // An exact-size heap copy, so ASan sees any read past its end.
      const std::vector<uint8_t> prefix(comp.begin(), comp.begin() + static_cast<ptrdiff_t>(n));
      ASSERT_EQ(decoder.decode_known_window(prefix, 0, {}, {}, chunk), DeflateStatus::truncated_input) << n;
      ASSERT_EQ(decoder.decode_unknown_window(prefix, 0, {}, chunk), DeflateStatus::truncated_input) << n;
      ASSERT_LE(chunk.end_bit, n * 8 + 64);
    }
  }
  DeflateDecoder decoder;
  DeflateChunk chunk;
  const std::vector<uint8_t> two = {0xFF, 0xFF};
  EXPECT_EQ(decoder.decode_known_window(two, 1000, {}, {}, chunk), DeflateStatus::truncated_input);
}

// Mutated and random streams, judged by zlib: we succeed exactly when zlib does, with its output.
TEST(DeflateInvalid, mutated_streams_agree_with_zlib) {
  std::mt19937 rng(77);
  const auto text = testing::fastq_like(6'000, 12);
  std::vector<std::vector<uint8_t>> seeds = {
      testing::zlib_deflate_raw(text, {.level = 6}), testing::zlib_deflate_raw(text, {.level = 1, .mem_level = 1}),
      testing::zlib_deflate_raw(text, {.level = 6, .strategy = Z_FIXED}),
      testing::zlib_deflate_raw(std::vector<uint8_t>(text.begin(), text.begin() + 700), {.level = 0})};
  DeflateDecoder decoder;
  DeflateChunk chunk;
  int agreed_ok = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> comp;
    if (round % 10 == 9) {
      comp = testing::random_bytes(1 + rng() % 2000, static_cast<uint32_t>(rng()));
    } else {
      comp = seeds[rng() % seeds.size()];
      const unsigned flips = 1 + rng() % 3;
      for (unsigned f = 0; f < flips; ++f) comp[rng() % comp.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    const auto reference = testing::zlib_inflate_raw(comp, size_t{1} << 26);
    const DeflateStatus s = decoder.decode_known_window(comp, 0, {}, {.max_output = size_t{1} << 26}, chunk);
    ASSERT_EQ(s == DeflateStatus::ok, reference.ok) << "round " << round << " status " << to_string(s);
    if (reference.ok) {
      ++agreed_ok;
      ASSERT_EQ(std::vector<uint8_t>(chunk.bytes().begin(), chunk.bytes().end()), reference.output);
      ASSERT_EQ((chunk.end_bit + 7) / 8, reference.end_byte);
    }
    (void)decoder.decode_unknown_window(comp, 0, {.max_output = size_t{1} << 26}, chunk);
  }
  std::printf("mutated streams zlib accepted: %d of 3000\n", agreed_ok);
}

}  // namespace
}  // namespace fqpipe::gzip
