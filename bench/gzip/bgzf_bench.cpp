// Decode speed of BgzfReader over a real BGZF file, draining every buffer (no parsing): the
// inflate layer alone. MB/s counts decompressed bytes; wall time, since decoding is parallel.
// File: $FQPIPE_BGZF_BENCH_FILE, default ~/fqpipe-bench-data/reads_1.bgzf.gz. Compare with
// `bgzip -dc -@ 2 FILE > /dev/null` and `igzip -dc FILE > /dev/null` (issue 3, item 7).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "gzip/bgzf_reader.hpp"

namespace fqpipe::gzip {
namespace {

std::string bench_file() {
  if (const char* f = std::getenv("FQPIPE_BGZF_BENCH_FILE")) return f;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/fqpipe-bench-data/reads_1.bgzf.gz";
}

// Arguments: decoding threads (the caller of next() included), chunk size in KiB.
void BM_bgzf_reader_drain(benchmark::State& state) {
  const std::string path = bench_file();
  const auto threads = static_cast<unsigned>(state.range(0));
  const auto chunk = static_cast<std::size_t>(state.range(1)) << 10;
  uint64_t bytes = 0;
  for (auto _ : state) {
    try {
      BgzfReader reader(path, path, threads, chunk);
      while (const io::TextBuffer* b = reader.next()) {
        benchmark::DoNotOptimize(b->data[b->size - 1]);
        bytes += b->size;
      }
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_bgzf_reader_drain)
    ->ArgsProduct({{1, 2}, {4096}})
    ->Args({2, 1024})
    ->Args({2, 16384})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);  // one pass is ~1 s; add --benchmark_repetitions=5 for a median

}  // namespace
}  // namespace fqpipe::gzip

BENCHMARK_MAIN();
