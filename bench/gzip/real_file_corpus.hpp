// Real-file input for the deflate-engine benches: FQPIPE_BENCH_FILE names a gzip file (one member,
// e.g. ~/fqpipe-bench-data/reads_1.fastq.gz). Chunks of FQPIPE_BENCH_CHUNK_KIB (default 1024) KiB of
// compressed input start at true block boundaries found by decoding with a known window, so each
// chunk comes with its 32 KiB window: the parallel reader's speculative workload, on real data.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "gzip/deflate_decoder.hpp"
#include "gzip/gzip_header.hpp"

namespace fqpipe::gzip::bench {

struct RealChunk {
  uint64_t start_bit = 0;
  uint64_t stop_bit = 0;          // the requested stop; decoding ends at the first boundary after
  uint64_t end_bit = 0;           // the boundary decoding stopped at (next chunk's start)
  std::vector<uint8_t> window;    // the 32 KiB before start_bit
  uint64_t decoded_size = 0;
};

struct RealCorpus {
  std::vector<uint8_t> comp;      // the deflate body (after the gzip header)
  std::vector<RealChunk> chunks;  // consecutive, tiling [chunks[0].start_bit, chunks.back().end_bit)
  uint64_t decoded_size = 0;      // sum over chunks
};

inline const char* real_file_path() { return std::getenv("FQPIPE_BENCH_FILE"); }

// Chunks start FQPIPE_BENCH_SKIP_MIB (default 4) MiB into the body; FQPIPE_BENCH_CHUNKS (default 16).
inline const RealCorpus& real_corpus() {
  static const RealCorpus c = [] {
    RealCorpus k;
    const char* path = real_file_path();
    if (path == nullptr) return k;
    std::ifstream f(path, std::ios::binary);
    std::vector<uint8_t> file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const GzipHeader h = parse_gzip_header(file.data(), file.size());
    if (h.status != HeaderStatus::ok) throw std::runtime_error("FQPIPE_BENCH_FILE: not a gzip file");
    k.comp.assign(file.begin() + static_cast<std::ptrdiff_t>(h.size), file.end());
    const auto env = [](const char* name, uint64_t fallback) {
      const char* v = std::getenv(name);
      return v ? std::stoull(v) : fallback;
    };
    const uint64_t chunk_bits = env("FQPIPE_BENCH_CHUNK_KIB", 1024) * 1024 * 8;
    const uint64_t skip_bits = env("FQPIPE_BENCH_SKIP_MIB", 4) * 1024 * 1024 * 8;
    const uint64_t count = env("FQPIPE_BENCH_CHUNKS", 16);
    DeflateDecoder decoder;
    DeflateChunk chunk;
    if (decoder.decode_known_window(k.comp, 0, {}, {.stop_bit = skip_bits}, chunk) != DeflateStatus::ok) {
      throw std::runtime_error("FQPIPE_BENCH_FILE: prefix decode failed");
    }
    std::vector<uint8_t> window(chunk.bytes().end() - deflate_window_size, chunk.bytes().end());
    uint64_t bit = chunk.end_bit;
    for (uint64_t i = 0; i < count && !chunk.final_block_seen; ++i) {
      RealChunk rc{.start_bit = bit, .stop_bit = bit + chunk_bits, .window = window};
      if (decoder.decode_known_window(k.comp, bit, window, {.stop_bit = rc.stop_bit}, chunk) != DeflateStatus::ok) {
        throw std::runtime_error("FQPIPE_BENCH_FILE: chunk decode failed");
      }
      rc.end_bit = chunk.end_bit;
      rc.decoded_size = chunk.decoded_size();
      k.decoded_size += rc.decoded_size;
      const auto bytes = chunk.bytes();
      window.assign(bytes.end() - deflate_window_size, bytes.end());
      bit = chunk.end_bit;
      k.chunks.push_back(std::move(rc));
    }
    std::fprintf(stderr, "real corpus: %zu chunks, %.1f MB compressed -> %.1f MB\n", k.chunks.size(),
                 static_cast<double>(bit - k.chunks.front().start_bit) / 8e6, static_cast<double>(k.decoded_size) / 1e6);
    return k;
  }();
  return c;
}

}  // namespace fqpipe::gzip::bench
