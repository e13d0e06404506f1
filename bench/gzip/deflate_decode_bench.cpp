// Decode speed of DeflateDecoder (16-bit marker mode and known-window mode) against zlib inflate on
// the same FASTQ-like level-6 stream; MB/s counts decompressed bytes. With FQPIPE_BENCH_FILE set,
// also on 1 MiB chunks of a real gzip file (real_file_corpus.hpp), against ISA-L.
#include <benchmark/benchmark.h>

#include "bench/gzip/bench_corpus.hpp"
#include "bench/gzip/real_file_corpus.hpp"
#include "gzip/deflate_decoder.hpp"
#include "gzip/isal_inflater.hpp"

namespace fqpipe::gzip {
namespace {

void BM_zlib_inflate_whole_stream(benchmark::State& state) {
  const auto& c = bench::corpus();
  std::vector<uint8_t> out(c.text.size());
  for (auto _ : state) {
    z_stream z{};
    (void)inflateInit2(&z, -15);
    z.next_in = const_cast<uint8_t*>(c.comp.data());
    z.avail_in = static_cast<uInt>(c.comp.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    if (inflate(&z, Z_FINISH) != Z_STREAM_END) state.SkipWithError("zlib failed");
    inflateEnd(&z);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.text.size()));
}

void BM_known_window_whole_stream(benchmark::State& state) {
  const auto& c = bench::corpus();
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (auto _ : state) {
    if (decoder.decode_known_window(c.comp, 0, {}, {}, chunk) != DeflateStatus::ok) state.SkipWithError("failed");
    benchmark::DoNotOptimize(chunk.bytes().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.text.size()));
}

// A 4 MiB-of-input chunk from an interior boundary, window unknown: the speculative path.
void BM_unknown_window_4MiB_chunk(benchmark::State& state) {
  const auto& c = bench::corpus();
  const auto start = bench::boundary_near(0.5);
  DeflateDecoder decoder;
  DeflateChunk chunk;
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (decoder.decode_unknown_window(c.comp, start.comp_bit, {.stop_bit = start.comp_bit + (uint64_t{32} << 20)},
                                      chunk) != DeflateStatus::ok) {
      state.SkipWithError("failed");
    }
    bytes += chunk.decoded_size();
  }
  state.counters["marker_prefix_fraction"] =
      static_cast<double>(chunk.symbols().size()) / static_cast<double>(chunk.decoded_size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Same chunk with its window known: the 8-bit path alone.
void BM_known_window_4MiB_chunk(benchmark::State& state) {
  const auto& c = bench::corpus();
  const auto start = bench::boundary_near(0.5);
  const auto window = std::span(c.reference.output).subspan(start.decoded_byte - deflate_window_size, deflate_window_size);
  DeflateDecoder decoder;
  DeflateChunk chunk;
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (decoder.decode_known_window(c.comp, start.comp_bit, window,
                                    {.stop_bit = start.comp_bit + (uint64_t{32} << 20)}, chunk) != DeflateStatus::ok) {
      state.SkipWithError("failed");
    }
    bytes += chunk.decoded_size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Real file, every chunk decoded with its window unknown (the speculative path).
void BM_real_unknown_window(benchmark::State& state) {
  const auto& c = bench::real_corpus();
  DeflateDecoder decoder;
  DeflateChunk chunk;
  double symbols = 0;
  for (auto _ : state) {
    symbols = 0;
    for (const auto& rc : c.chunks) {
      if (decoder.decode_unknown_window(c.comp, rc.start_bit, {.stop_bit = rc.stop_bit}, chunk) != DeflateStatus::ok ||
          chunk.end_bit != rc.end_bit || chunk.decoded_size() != rc.decoded_size) {
        state.SkipWithError("unknown-window decode differs from the known-window one");
        return;
      }
      symbols += static_cast<double>(chunk.symbols().size());
    }
  }
  state.counters["marker_prefix_fraction"] = symbols / static_cast<double>(c.decoded_size);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.decoded_size));
}

// Real file, same chunks with their windows known: our 8-bit path.
void BM_real_known_window(benchmark::State& state) {
  const auto& c = bench::real_corpus();
  DeflateDecoder decoder;
  DeflateChunk chunk;
  for (auto _ : state) {
    for (const auto& rc : c.chunks) {
      if (decoder.decode_known_window(c.comp, rc.start_bit, rc.window, {.stop_bit = rc.stop_bit}, chunk) !=
          DeflateStatus::ok) {
        state.SkipWithError("failed");
        return;
      }
      benchmark::DoNotOptimize(chunk.bytes().data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.decoded_size));
}

// Real file, same chunks through ISA-L (fed to the byte holding the chunk's end boundary, so it
// decodes about the same output; MB/s counts what it produced).
void BM_real_isal_known_window(benchmark::State& state) {
  const auto& c = bench::real_corpus();
  IsalInflater isal;
  ByteChunk out;
  uint64_t bytes = 0;
  for (auto _ : state) {
    for (const auto& rc : c.chunks) {
      out.size = 0;
      isal.start(c.comp, rc.start_bit, rc.window);
      if (isal.feed_until(rc.end_bit / 8, out) != DeflateStatus::ok) {
        state.SkipWithError("failed");
        return;
      }
      bytes += out.size;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_zlib_inflate_whole_stream)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_known_window_whole_stream)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_unknown_window_4MiB_chunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_known_window_4MiB_chunk)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fqpipe::gzip

int main(int argc, char** argv) {
  using namespace fqpipe::gzip;
  if (bench::real_file_path() != nullptr) {
    benchmark::RegisterBenchmark("BM_real_unknown_window", BM_real_unknown_window)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_real_known_window", BM_real_known_window)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_real_isal_known_window", BM_real_isal_known_window)->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
