// testlib/ref_stats.cpp - reference statistics (see header): one pass, one base at a time.
#include "testlib/ref_stats.hpp"

#include <algorithm>

namespace fqpipe::testlib {

RefStats reference_stats(const std::vector<RefRecord>& records, int offset) {
  RefStats s;
  for (const RefRecord& r : records) {
    const uint64_t len = r.sequence.size();
    s.min_len = s.reads == 0 ? len : std::min(s.min_len, len);
    s.max_len = std::max(s.max_len, len);
    ++s.reads;
    s.bases += len;
    ++s.hist[len];
    if (s.pos_sum.size() < len) {
      s.pos_sum.resize(len);
      s.pos_count.resize(len);
    }
    for (std::size_t i = 0; i < len; ++i) {
      switch (r.sequence[i]) {
        case 'A': case 'a': ++s.a; break;
        case 'C': case 'c': ++s.c; break;
        case 'G': case 'g': ++s.g; break;
        case 'T': case 't': ++s.t; break;
        case 'N': case 'n': ++s.n; break;
        default: break;
      }
      const int q = static_cast<unsigned char>(r.quality[i]);
      s.qual_lo = std::min(s.qual_lo, q);
      s.qual_hi = std::max(s.qual_hi, q);
      const int score = q - offset;
      s.qual_sum += static_cast<uint64_t>(score);
      if (score >= 20) ++s.q20;
      if (score >= 30) ++s.q30;
      s.pos_sum[i] += static_cast<uint64_t>(score);
      ++s.pos_count[i];
    }
  }
  return s;
}

}  // namespace fqpipe::testlib
