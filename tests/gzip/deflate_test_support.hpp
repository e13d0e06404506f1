// Shared by the deflate-engine tests and benches: zlib as the independent reference (raw deflate
// streams and their exact block boundaries), test payloads, and a bit writer for hand-made streams.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace fqpipe::gzip::testing {

struct ZlibSettings {
  int level = 6;
  int strategy = Z_DEFAULT_STRATEGY;
  int mem_level = 8;           // 1 makes blocks of ~128 symbols: many boundaries
  size_t flush_every = 0;      // input bytes between flushes; 0 = never
  int flush = Z_SYNC_FLUSH;    // Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_PARTIAL_FLUSH or Z_BLOCK
  int window_bits = 15;        // 9..15: distances reach at most 2^window_bits back
};

inline std::vector<uint8_t> zlib_deflate_raw(std::span<const uint8_t> input, ZlibSettings s = {}) {
  z_stream z{};
  if (deflateInit2(&z, s.level, Z_DEFLATED, -s.window_bits, s.mem_level, s.strategy) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::vector<uint8_t> out(deflateBound(&z, input.size()) + 64 + (s.flush_every ? input.size() / s.flush_every * 16 : 0));
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  size_t fed = 0;
  int rc = Z_OK;
  do {
    const size_t step = s.flush_every ? std::min(s.flush_every, input.size() - fed) : input.size() - fed;
    z.next_in = const_cast<uint8_t*>(input.data() + fed);
    z.avail_in = static_cast<uInt>(step);
    fed += step;
    const int flush = fed == input.size() ? Z_FINISH : s.flush;
    rc = deflate(&z, flush);
  } while (rc == Z_OK && fed < input.size());
  while (rc == Z_OK) rc = deflate(&z, Z_FINISH);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct ZlibBoundary {
  uint64_t comp_bit = 0;      // block header position
  uint64_t decoded_byte = 0;  // output before the block
};

struct ZlibInflated {
  std::vector<uint8_t> output;
  std::vector<ZlibBoundary> blocks;  // every block start, blocks[0] at bit 0
  uint64_t end_byte = 0;             // input consumed: the final block ends in the byte before
  bool ok = false;                   // Z_STREAM_END reached
};

// Inflates a raw stream with Z_BLOCK so zlib stops at every block end, where data_type & 128 marks
// a boundary and data_type & 7 counts the unused bits of the last input byte (zlib manual).
inline ZlibInflated zlib_inflate_raw(std::span<const uint8_t> comp, size_t max_output = size_t{1} << 31) {
  ZlibInflated r;
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  z.next_in = const_cast<uint8_t*>(comp.data());
  z.avail_in = static_cast<uInt>(comp.size());
  r.output.resize(std::max<size_t>(comp.size() * 4, 1 << 16));
  r.blocks.push_back({0, 0});
  for (;;) {
    if (z.total_out == r.output.size()) {
      if (r.output.size() >= max_output) break;
      r.output.resize(r.output.size() * 2);
    }
    z.next_out = r.output.data() + z.total_out;
    z.avail_out = static_cast<uInt>(r.output.size() - z.total_out);
    const int rc = inflate(&z, Z_BLOCK);
    if (rc == Z_STREAM_END) {
      r.ok = true;
      r.end_byte = z.total_in;  // at stream end zlib drops the final byte's unused bits
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // truncated
    if ((z.data_type & 128) && !(z.data_type & 64)) {
      const ZlibBoundary b{z.total_in * 8 - (z.data_type & 7), z.total_out};
      if (b.comp_bit != r.blocks.back().comp_bit) r.blocks.push_back(b);
    }
  }
  r.output.resize(z.total_out);
  inflateEnd(&z);
  return r;
}

// Short-read FASTQ: 150 bp reads, Illumina-like names, qualities with runs (as real data has).
inline std::vector<uint8_t> fastq_like(size_t min_bytes, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string text;
  text.reserve(min_bytes + 400);
  const char* bases = "ACGT";
  const char* quals = "FFFFFFFF:,F:FF#";
  for (uint64_t n = 0; text.size() < min_bytes; ++n) {
    text += "@SIM:1:FCX:1:" + std::to_string(1101 + n % 7) + ":" + std::to_string(rng() % 30000) + ":" +
            std::to_string(rng() % 30000) + " 1:N:0:ACGTACGT\n";
    for (int i = 0; i < 150; ++i) text += bases[rng() % 4];
    text += "\n+\n";
    for (int i = 0; i < 150; ++i) text += quals[rng() % 15];
    text += '\n';
  }
  return {text.begin(), text.end()};
}

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed = 2) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Writes a DEFLATE bit stream by hand: fields LSB first, Huffman codes MSB first (RFC 1951 §3.1.1).
class BitWriter {
 public:
  void put(uint64_t value, unsigned nbits) {
    for (unsigned i = 0; i < nbits; ++i) put_bit((value >> i) & 1);
  }
  void put_code(uint32_t code, unsigned length) {
    for (unsigned i = length; i-- > 0;) put_bit((code >> i) & 1);
  }
  void align() {
    while (bit_count_ % 8) put_bit(0);
  }
  uint64_t bit_count() const { return bit_count_; }
  std::vector<uint8_t> bytes() const { return bytes_; }

 private:
  void put_bit(unsigned bit) {
    if (bit_count_ % 8 == 0) bytes_.push_back(0);
    bytes_.back() = static_cast<uint8_t>(bytes_.back() | (bit << (bit_count_ % 8)));
    ++bit_count_;
  }
  std::vector<uint8_t> bytes_;
  uint64_t bit_count_ = 0;
};

// Canonical codes for the given lengths (RFC 1951 §3.2.2), written independently of the decoder.
inline std::vector<uint32_t> canonical_codes(std::span<const uint8_t> lengths) {
  unsigned count[16] = {};
  for (uint8_t l : lengths) ++count[l];
  count[0] = 0;
  uint32_t next[16] = {};
  uint32_t code = 0;
  for (unsigned len = 1; len < 16; ++len) {
    code = (code + count[len - 1]) << 1;
    next[len] = code;
  }
  std::vector<uint32_t> codes(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i]) codes[i] = next[lengths[i]]++;
  }
  return codes;
}

}  // namespace fqpipe::gzip::testing
