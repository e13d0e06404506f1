// Marker replacement throughput (GB/s of output): on a real unknown-window chunk of the FASTQ
// corpus, and on synthetic symbols with a given marker share (per mille).
#include <benchmark/benchmark.h>

#include <random>

#include "bench/gzip/bench_corpus.hpp"
#include "gzip/marker_window.hpp"

namespace fqpipe::gzip {
namespace {

void BM_replace_markers_real_chunk(benchmark::State& state) {
  const auto& c = bench::corpus();
  const auto start = bench::boundary_near(0.5);
  DeflateDecoder decoder;
  DeflateChunk chunk;
  if (decoder.decode_unknown_window(c.comp, start.comp_bit, {.stop_bit = start.comp_bit + (uint64_t{32} << 20)},
                                    chunk) != DeflateStatus::ok) {
    state.SkipWithError("decode failed");
    return;
  }
  const auto window = std::span(c.reference.output).subspan(start.decoded_byte - deflate_window_size, deflate_window_size);
  std::vector<uint8_t> out(chunk.symbols().size());
  size_t markers = 0;
  for (uint16_t v : chunk.symbols()) markers += v >= 256;
  for (auto _ : state) {
    if (replace_markers(chunk.symbols(), window, out) != DeflateStatus::ok) state.SkipWithError("failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["marker_share"] = static_cast<double>(markers) / static_cast<double>(out.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}

void BM_replace_markers_synthetic(benchmark::State& state) {
  std::mt19937 rng(1);
  std::vector<uint16_t> symbols(16 << 20);
  for (auto& v : symbols) {
    v = static_cast<int64_t>(rng() % 1000) < state.range(0) ? static_cast<uint16_t>(marker_base + rng() % 32768)
                                                            : static_cast<uint16_t>(rng() % 256);
  }
  const auto window = testing::random_bytes(deflate_window_size, 3);
  std::vector<uint8_t> out(symbols.size());
  for (auto _ : state) {
    if (replace_markers(symbols, window, out) != DeflateStatus::ok) state.SkipWithError("failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}

BENCHMARK(BM_replace_markers_real_chunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replace_markers_synthetic)->Arg(0)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fqpipe::gzip

BENCHMARK_MAIN();
