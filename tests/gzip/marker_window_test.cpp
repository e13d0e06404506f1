// Marker replacement and window chaining: a wrong index here silently corrupts bytes of every
// speculatively decoded chunk (issue 3), so they are checked against a naive model.
#include <gtest/gtest.h>

#include <random>

#include "gzip/deflate_test_support.hpp"
#include "gzip/marker_window.hpp"

namespace fqpipe::gzip {
namespace {

std::vector<uint16_t> random_symbols(size_t n, double marker_share, uint32_t seed, unsigned lowest_k = 0) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution is_marker(marker_share);
  std::vector<uint16_t> s(n);
  for (auto& v : s) {
    v = is_marker(rng) ? static_cast<uint16_t>(marker_base + lowest_k + rng() % (deflate_window_size - lowest_k))
                       : static_cast<uint16_t>(rng() % 256);
  }
  return s;
}

std::vector<uint8_t> naive_resolve(const std::vector<uint16_t>& symbols, std::span<const uint8_t> window) {
  std::vector<uint8_t> out;
  for (uint16_t v : symbols) {
    out.push_back(v < 256 ? static_cast<uint8_t>(v) : window[v - marker_base - (deflate_window_size - window.size())]);
  }
  return out;
}

// Marker density from none to all, sizes around the 16-symbol group: every path of the loop.
TEST(MarkerWindow, replacement_matches_naive_model_at_every_density_and_length) {
  const auto window = testing::random_bytes(deflate_window_size, 5);
  for (const double share : {0.0, 0.001, 0.1, 0.5, 1.0}) {
    for (const size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{33}, size_t{100'003}}) {
      const auto symbols = random_symbols(n, share, static_cast<uint32_t>(n + 1000 * share));
      std::vector<uint8_t> out(n);
      ASSERT_EQ(replace_markers(symbols, window, out), DeflateStatus::ok);
      ASSERT_EQ(out, naive_resolve(symbols, window)) << share << " " << n;
    }
  }
}

// Near the stream start the window is short: markers for bytes that exist resolve (right-aligned),
// one naming a byte before the stream is an error.
TEST(MarkerWindow, short_window_resolves_right_aligned_and_rejects_markers_before_stream_start) {
  const auto window = testing::random_bytes(1000, 6);
  const auto symbols = random_symbols(5000, 0.2, 7, deflate_window_size - 1000);
  std::vector<uint8_t> out(symbols.size());
  ASSERT_EQ(replace_markers(symbols, window, out), DeflateStatus::ok);
  EXPECT_EQ(out, naive_resolve(symbols, window));
  auto bad = symbols;
  bad[4321] = static_cast<uint16_t>(marker_base + deflate_window_size - 1001);
  EXPECT_EQ(replace_markers(bad, window, out), DeflateStatus::distance_beyond_history);
  EXPECT_EQ(replace_markers(bad, {}, out), DeflateStatus::distance_beyond_history);
}

// next_window for chunks smaller than, equal to and larger than 32 KiB, with and without a byte
// tail, from a full and a short window: always the last 32 KiB of everything decoded so far.
TEST(MarkerWindow, next_window_is_last_32k_of_window_plus_chunk_for_every_size) {
  const auto text = testing::fastq_like(400'000, 8);
  const auto comp = testing::zlib_deflate_raw(text, {.level = 6, .mem_level = 1});
  const auto ref = testing::zlib_inflate_raw(comp);
  DeflateDecoder decoder;
  DeflateChunk chunk;
  std::vector<uint8_t> next;
  for (size_t b = 1; b + 1 < ref.blocks.size(); b += std::max<size_t>(1, ref.blocks.size() / 40)) {
    for (const size_t blocks_in_chunk : {size_t{1}, size_t{3}, size_t{40}}) {
      const size_t e = std::min(b + blocks_in_chunk, ref.blocks.size() - 1);
      const uint64_t u0 = ref.blocks[b].decoded_byte;
      const uint64_t u1 = ref.blocks[e].decoded_byte;
      ASSERT_EQ(decoder.decode_unknown_window(comp, ref.blocks[b].comp_bit, {.stop_bit = ref.blocks[e].comp_bit}, chunk),
                DeflateStatus::ok);
      ASSERT_EQ(chunk.decoded_size(), u1 - u0);
      const uint64_t w0 = u0 > deflate_window_size ? u0 - deflate_window_size : 0;
      const std::span<const uint8_t> window(ref.output.data() + w0, u0 - w0);
      ASSERT_EQ(next_window(chunk, window, next), DeflateStatus::ok);
      const uint64_t n0 = u1 > deflate_window_size ? u1 - deflate_window_size : 0;
      ASSERT_EQ(next, std::vector<uint8_t>(ref.output.begin() + static_cast<ptrdiff_t>(n0),
                                           ref.output.begin() + static_cast<ptrdiff_t>(u1)))
          << "block " << b << " +" << blocks_in_chunk;
    }
  }
}

}  // namespace
}  // namespace fqpipe::gzip
