// parse_bench.cpp - in-memory throughput of each layer after decoding: split + validate (count),
// parse into batches, and the stats consumer on ready batches. MB/s are of FASTQ text.
// Run: build/release/bench/parse_bench [FILE.fastq]  (default: 64 MiB of generated 150 bp reads)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "fastq/parser.hpp"
#include "fqpipe/stats.hpp"
#include "io/buffer_source.hpp"

namespace {

std::string g_text;  // the FASTQ text every benchmark reads

// A ByteSource over a string, so parsing is measured without I/O or decompression.
class MemorySource final : public fqpipe::io::ByteSource {
 public:
  explicit MemorySource(const std::string& text) : text_(text) {}
  std::size_t read(uint8_t* dst, std::size_t capacity) override {
    const std::size_t n = std::min(capacity, text_.size() - pos_);
    std::memcpy(dst, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  uint64_t input_bytes_read() const noexcept override { return pos_; }

 private:
  const std::string& text_;
  std::size_t pos_ = 0;
};

std::string generated_fastq(std::size_t bytes) {
  std::mt19937_64 rng(7);
  std::string out;
  out.reserve(bytes + 1024);
  for (uint64_t i = 0; out.size() < bytes; ++i) {
    out += "@sim:1:FC:1:" + std::to_string(i) + " 1:N:0:ACGT\n";
    for (int j = 0; j < 150; ++j) out += "ACGT"[rng() & 3];
    out += "\n+\n";
    for (int j = 0; j < 150; ++j) out += static_cast<char>('5' + (rng() % 10));
    out += '\n';
  }
  return out;
}

void BM_count(benchmark::State& state) {
  fqpipe::ReadOptions opt;
  opt.check_ascii = opt.check_quality = false;
  for (auto _ : state) {
    MemorySource src(g_text);
    fqpipe::io::BufferSource buffers(src, false);
    fqpipe::fastq::FastqParser parser(buffers, opt, "bench");
    uint64_t bases = 0, n = 0;
    while (const uint64_t k = parser.count(8192, bases)) n += k;
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_text.size()));
}

void BM_parse_batches(benchmark::State& state) {
  fqpipe::ReadOptions opt;
  opt.check_ascii = state.range(0) != 0;
  opt.check_quality = state.range(0) != 0;
  for (auto _ : state) {
    MemorySource src(g_text);
    fqpipe::io::BufferSource buffers(src, false);
    fqpipe::fastq::FastqParser parser(buffers, opt, "bench");
    fqpipe::FastqBatch batch;
    uint64_t n = 0;
    while (parser.next_batch(batch)) n += batch.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_text.size()));
}

void BM_stats_consume(benchmark::State& state) {
  // Batches are prepared once; only the consumer is timed.
  MemorySource src(g_text);
  fqpipe::io::BufferSource buffers(src, false);
  fqpipe::ReadOptions opt;
  fqpipe::fastq::FastqParser parser(buffers, opt, "bench");
  std::vector<fqpipe::FastqBatch> batches(1);
  while (parser.next_batch(batches.back())) batches.emplace_back();
  for (auto _ : state) {
    fqpipe::FastqStats stats;
    for (const auto& b : batches) stats.consume(b);
    benchmark::DoNotOptimize(stats.reads());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_text.size()));
}

// Parse into a batch of state.range(0) records and consume it at once, as a producer that
// reduces its own records does: small batches stay in the core's cache.
void BM_parse_and_stats(benchmark::State& state) {
  fqpipe::ReadOptions opt;
  opt.batch_records = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    MemorySource src(g_text);
    fqpipe::io::BufferSource buffers(src, false);
    fqpipe::fastq::FastqParser parser(buffers, opt, "bench");
    fqpipe::FastqBatch batch;
    fqpipe::FastqStats stats;
    while (parser.next_batch(batch)) stats.consume(batch);
    benchmark::DoNotOptimize(stats.reads());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * g_text.size()));
}

BENCHMARK(BM_count)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parse_batches)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_stats_consume)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_parse_and_stats)->Arg(32)->Arg(128)->Arg(512)->Arg(8192)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc > 1) {
    std::ifstream in(argv[1], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    g_text = ss.str();
  } else {
    g_text = generated_fastq(std::size_t{64} << 20);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
