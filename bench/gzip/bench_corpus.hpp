// The deflate-engine benches' common input: ~64 MB of FASTQ-like text compressed by zlib level 6
// (FQPIPE_BENCH_MB overrides the size), built once per process.
#pragma once

#include <cstdlib>
#include <string>

#include "gzip/deflate_test_support.hpp"

namespace fqpipe::gzip::bench {

struct Corpus {
  std::vector<uint8_t> text;
  std::vector<uint8_t> comp;
  testing::ZlibInflated reference;  // with zlib's block boundaries
};

inline const Corpus& corpus() {
  static const Corpus c = [] {
    const char* env = std::getenv("FQPIPE_BENCH_MB");
    const size_t mb = env ? std::stoul(env) : 64;
    Corpus k;
    k.text = testing::fastq_like(mb << 20, 42);
    k.comp = testing::zlib_deflate_raw(k.text, {.level = 6});
    k.reference = testing::zlib_inflate_raw(k.comp);
    return k;
  }();
  return c;
}

// The first block boundary at or after `fraction` of the compressed stream.
inline testing::ZlibBoundary boundary_near(double fraction) {
  const auto& blocks = corpus().reference.blocks;
  const auto target = static_cast<uint64_t>(fraction * static_cast<double>(corpus().comp.size()) * 8);
  for (const auto& b : blocks) {
    if (b.comp_bit >= target) return b;
  }
  return blocks.back();
}

}  // namespace fqpipe::gzip::bench
