// testlib/fastq_gen.cpp - deterministic FASTQ generator (see header). Uses its own splitmix64 so
// the output does not depend on the standard library's distributions.
#include "testlib/fastq_gen.hpp"

namespace fqpipe::testlib {
namespace {

struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi].
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }
  bool chance(double p) { return p > 0 && static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
};

}  // namespace

Generated generate_fastq(const GenOptions& o) {
  Rng rng{o.seed * 0x2545f4914f6cdd1dULL + 1};
  Generated g;
  const char* eol = o.crlf ? "\r\n" : "\n";
  static const char kBases[] = "ACGT";
  g.records.reserve(o.records);
  for (std::size_t i = 0; i < o.records; ++i) {
    RefRecord r;
    r.decoded_byte = g.text.size();
    r.header = o.name_prefix + std::to_string(i + 1);
    if (rng.chance(o.header_comments))
      r.header += " " + std::to_string(rng.range(1, 2)) + ":N:0:ACGT\tlen=" + std::to_string(i % 97);
    const std::size_t len = static_cast<std::size_t>(rng.range(o.min_length, o.max_length));
    r.sequence.resize(len);
    r.quality.resize(len);
    for (std::size_t k = 0; k < len; ++k) {
      char b = rng.chance(o.n_fraction) ? 'N' : kBases[rng.next() & 3];
      if (rng.chance(o.lowercase_fraction)) b = static_cast<char>(b | 0x20);
      r.sequence[k] = b;
      r.quality[k] = static_cast<char>(rng.range(static_cast<unsigned char>(o.qual_lo),
                                                 static_cast<unsigned char>(o.qual_hi)));
    }
    if (len > 0 && rng.chance(o.qual_starts_special)) r.quality[0] = (rng.next() & 1) ? '@' : '+';
    const bool repeat = rng.chance(o.plus_repeats_name);
    g.text += '@';
    g.text += r.header;
    g.text += eol;
    g.text += r.sequence;
    g.text += eol;
    g.text += '+';
    if (repeat) g.text += r.header;
    g.text += eol;
    g.text += r.quality;
    if (!(o.no_final_newline && i + 1 == o.records)) g.text += eol;
    g.records.push_back(std::move(r));
  }
  return g;
}

}  // namespace fqpipe::testlib
