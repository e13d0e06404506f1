// Marker replacement throughput (GB/s of output): on a real unknown-window chunk of the FASTQ
// corpus, and on synthetic symbols with a given marker share (per mille). With FQPIPE_BENCH_FILE
// set, also on every unknown-window chunk of a real gzip file (real_file_corpus.hpp).
#include <benchmark/benchmark.h>

#include <random>

#include "bench/gzip/bench_corpus.hpp"
#include "bench/gzip/real_file_corpus.hpp"
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

void BM_replace_markers_real_file(benchmark::State& state) {
  const auto& c = bench::real_corpus();
  DeflateDecoder decoder;
  std::vector<std::vector<uint16_t>> symbols;
  size_t total = 0;
  size_t markers = 0;
  for (const auto& rc : c.chunks) {
    DeflateChunk chunk;
    if (decoder.decode_unknown_window(c.comp, rc.start_bit, {.stop_bit = rc.stop_bit}, chunk) != DeflateStatus::ok) {
      state.SkipWithError("decode failed");
      return;
    }
    symbols.emplace_back(chunk.symbols().begin(), chunk.symbols().end());
    total += chunk.symbols().size();
    for (uint16_t v : chunk.symbols()) markers += v >= 256;
  }
  std::vector<uint8_t> out(total);
  for (auto _ : state) {
    size_t at = 0;
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (replace_markers(symbols[i], c.chunks[i].window, {out.data() + at, symbols[i].size()}) != DeflateStatus::ok) {
        state.SkipWithError("failed");
      }
      at += symbols[i].size();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["marker_share"] = static_cast<double>(markers) / static_cast<double>(total);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}

BENCHMARK(BM_replace_markers_real_chunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_replace_markers_synthetic)->Arg(0)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fqpipe::gzip

int main(int argc, char** argv) {
  using namespace fqpipe::gzip;
  if (bench::real_file_path() != nullptr) {
    benchmark::RegisterBenchmark("BM_replace_markers_real_file", BM_replace_markers_real_file)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
