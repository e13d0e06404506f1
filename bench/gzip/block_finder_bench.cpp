// Block finder throughput in MB/s of compressed input: on random bytes (pure rejection cost) and on
// a real level-6 FASTQ stream (searching from guessed offsets to the next block).
#include <benchmark/benchmark.h>

#include "bench/gzip/bench_corpus.hpp"
#include "gzip/block_finder.hpp"

namespace fqpipe::gzip {
namespace {

void BM_block_finder_random_bytes(benchmark::State& state) {
  const auto random = testing::random_bytes(16 << 20, 7);
  BlockFinder finder(random, state.range(0) != 0);
  for (auto _ : state) {
    uint64_t from = 0;
    while (auto c = finder.find(from)) from = (c->comp_bit + 10) / 8 * 8 + 8;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * random.size()));
}

// Guess a start every 4 MiB of compressed input, as the chunk scheduler does, and find the block.
void BM_block_finder_fastq_level6_from_guesses(benchmark::State& state) {
  const auto& c = bench::corpus();
  BlockFinder finder(c.comp);
  constexpr uint64_t guess_step_bits = uint64_t{4} << 23;
  uint64_t scanned_bits = 0;
  for (auto _ : state) {
    for (uint64_t guess = guess_step_bits; guess < c.comp.size() * 8; guess += guess_step_bits) {
      const auto found = finder.find(guess);
      if (!found) state.SkipWithError("no block found");
      scanned_bits += found ? found->comp_bit - guess : 0;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(scanned_bits / 8));
}

BENCHMARK(BM_block_finder_random_bytes)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_block_finder_fastq_level6_from_guesses)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fqpipe::gzip

BENCHMARK_MAIN();
