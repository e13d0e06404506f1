// parser.cpp - FastqParser: find four lines, validate them, hand them to a sink (batch or count).
// One state per record (kseq's shape); every error names record, line and decoded byte offset.
#include "fastq/parser.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// The record splitter is also built for AVX2 (chosen at run time) where CPU dispatch is on; the
// ASan and TSan test builds keep the 16-byte code only, so the suite runs both, and the clang
// fuzz build has both (the fuzzer exercises the AVX2 one on an AVX2 machine).
#if defined(FQPIPE_CPU_DISPATCH) && defined(__x86_64__) && defined(__GNUC__)
#define FQPIPE_PARSER_AVX2 1
#include <immintrin.h>
#endif

#include "fqpipe/error.hpp"

namespace fqpipe::fastq {
namespace {

using Bytes16 = uint8_t __attribute__((vector_size(16)));

inline Bytes16 load16(const char* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  return v;
}

// The smallest lane of vlo and the largest of vhi: a 4-step halving reduction.
inline void fold_range(Bytes16 vlo, Bytes16 vhi, uint8_t& lo, uint8_t& hi) {
  auto fold = [&](Bytes16 slo, Bytes16 shi) {
    vlo = slo < vlo ? slo : vlo;
    vhi = shi > vhi ? shi : vhi;
  };
  fold(__builtin_shufflevector(vlo, vlo, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7),
       __builtin_shufflevector(vhi, vhi, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  fold(__builtin_shufflevector(vlo, vlo, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3),
       __builtin_shufflevector(vhi, vhi, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  fold(__builtin_shufflevector(vlo, vlo, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1),
       __builtin_shufflevector(vhi, vhi, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
  fold(__builtin_shufflevector(vlo, vlo, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0),
       __builtin_shufflevector(vhi, vhi, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  lo = vlo[0];
  hi = vhi[0];
}

// Smallest and largest byte of a line. GCC vector types (SSE2 here, NEON elsewhere): 16 bytes
// a step, the tail as one overlapping load (lane_range), then a 4-step halving reduction
// (byte_range). Lines of 150 bytes cost ~40 instructions, against ~3x that for the
// auto-vectorised scalar loop with its epilogue.
inline void lane_range(const char* p, std::size_t n, Bytes16& vlo, Bytes16& vhi) {
  vlo = vhi = load16(p);
  for (std::size_t i = 16; i < n; i += 16) {
    const Bytes16 v = load16(p + (i + 16 <= n ? i : n - 16));
    vlo = v < vlo ? v : vlo;
    vhi = v > vhi ? v : vhi;
  }
}

inline void byte_range(const char* p, std::size_t n, uint8_t& lo, uint8_t& hi) {
  if (n < 16) {
    uint8_t l = 255, h = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto b = static_cast<uint8_t>(p[i]);
      l = b < l ? b : l;
      h = b > h ? b : h;
    }
    lo = l;
    hi = h;
    return;
  }
  Bytes16 vlo, vhi;
  lane_range(p, n, vlo, vhi);
  fold_range(vlo, vhi, lo, hi);
}

std::string show_byte(uint8_t b) {
  char buf[16];
  if (b >= 33 && b <= 126) std::snprintf(buf, sizeof buf, "'%c'", b);
  else std::snprintf(buf, sizeof buf, "byte 0x%02x", b);
  return buf;
}

// First byte of [p, p+n) outside [lo, hi]; `tab_ok` also allows '\t' (headers).
std::size_t first_outside(const char* p, std::size_t n, uint8_t lo, uint8_t hi, bool tab_ok) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint8_t>(p[i]);
    if ((b < lo || b > hi) && !(tab_ok && b == '\t')) return i;
  }
  return n;
}

// The first '\n' in [p, end), or null. Lines are short (a header, 150 bases), where memchr's
// call and alignment set-up cost as much as the scan: 32 bytes a step inline, memchr for the rest.
inline const char* find_newline(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; end - p >= 32; p += 32) {
    const __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), nl);
    const __m128i b = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), nl);
    const auto m = static_cast<uint32_t>(_mm_movemask_epi8(a)) |
                   static_cast<uint32_t>(_mm_movemask_epi8(b)) << 16;
    if (m) return p + __builtin_ctz(m);
  }
#endif
  return static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
}

// Splits up to four lines from [p, end). True when all four are complete; at the end of the
// input (`eof`) the last line may lack its '\n'. r.count tells how many lines were found.
bool split_lines(const char* p, const char* end, bool eof, const char*& next, const char** line,
                 std::size_t* len, std::size_t& count) {
  count = 0;
  for (int i = 0; i < 4; ++i) {
    const char* nl = find_newline(p, end);
    const char* line_end = nl;
    if (!nl) {
      // An empty sequence's empty quality line may end the input with no byte at all.
      const bool empty_last_quality = i == 3 && len[1] == 0 && p == end;
      if (!eof || (p == end && !empty_last_quality)) return false;
      line_end = end;  // the input's last line, unterminated
    }
    std::size_t n = static_cast<std::size_t>(line_end - p);
    if (n && p[n - 1] == '\r') --n;
    line[i] = p;
    len[i] = n;
    count = static_cast<std::size_t>(i) + 1;
    p = nl ? nl + 1 : end;
  }
  next = p;
  return true;
}

#if defined(__SSE2__)
// Whether every lane of [vlo, vhi] (the running minimum and maximum) lies in [lo, hi]: the
// saturating subtractions are non-zero exactly where one does not.
inline bool lanes_in_range(__m128i vlo, __m128i vhi, uint8_t lo, uint8_t hi) {
  const __m128i out = _mm_or_si128(_mm_subs_epu8(_mm_set1_epi8(static_cast<char>(lo)), vlo),
                                   _mm_subs_epu8(vhi, _mm_set1_epi8(static_cast<char>(hi))));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(out, _mm_setzero_si128())) == 0xffff;
}
#endif

// The '\n' ending the line at p (null when none comes before `end`), and whether every byte
// of the line, a '\r' before the '\n' included, lies in [lo, hi]: the line split and the
// ascii check in one pass. 16 bytes a step; the step that holds the '\n' masks what follows it.
struct Lanes16 {
  static const char* scan_line(const char* p, const char* end, uint8_t lo, uint8_t hi, bool& in_range) {
#if defined(__SSE2__)
    alignas(16) static const uint8_t kKeep[32] = {255, 255, 255, 255, 255, 255, 255, 255,
                                                  255, 255, 255, 255, 255, 255, 255, 255};
    const __m128i nl = _mm_set1_epi8('\n');
    __m128i vlo = _mm_set1_epi8(static_cast<char>(255)), vhi = _mm_setzero_si128();
    for (; end - p >= 16; p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)));
      if (m) {
        const unsigned k = static_cast<unsigned>(__builtin_ctz(m));
        // Lanes [0, k) are the line's: the rest become 255 for the minimum and 0 for the maximum.
        const __m128i keep = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kKeep + 16 - k));
        vlo = _mm_min_epu8(vlo, _mm_or_si128(v, _mm_xor_si128(keep, _mm_set1_epi8(-1))));
        vhi = _mm_max_epu8(vhi, _mm_and_si128(v, keep));
        in_range = lanes_in_range(vlo, vhi, lo, hi);
        return p + k;
      }
      vlo = _mm_min_epu8(vlo, v);
      vhi = _mm_max_epu8(vhi, v);
    }
    in_range = lanes_in_range(vlo, vhi, lo, hi);
#else
    in_range = true;
#endif
    for (; p < end; ++p) {
      if (*p == '\n') return p;
      const auto b = static_cast<uint8_t>(*p);
      in_range = in_range && b >= lo && b <= hi;
    }
    return nullptr;
  }

  // The byte range of known bytes as lane-wise minimum and maximum, unfolded: checking it
  // against bounds and merging it into a running range need no reduction to one byte.
  struct Range {
    Bytes16 lo, hi;
  };
  static Range empty_range() { return {Bytes16{} + 255, Bytes16{}}; }
  static Range range_of(const char* p, std::size_t n) {
    if (n < 16) {
      uint8_t l = 255, h = 0;
      fastq::byte_range(p, n, l, h);
      return {Bytes16{} + l, Bytes16{} + h};
    }
    Range r;
    lane_range(p, n, r.lo, r.hi);
    return r;
  }
  static bool within(const Range& r, uint8_t lo, uint8_t hi) {
    const auto out = (r.lo < lo) | (r.hi > hi);
    uint64_t w[2];
    std::memcpy(w, &out, 16);
    return (w[0] | w[1]) == 0;
  }
  static void merge(Range& into, const Range& r) {
    into.lo = r.lo < into.lo ? r.lo : into.lo;
    into.hi = r.hi > into.hi ? r.hi : into.hi;
  }
  static void fold(const Range& r, uint8_t& lo, uint8_t& hi) {
    uint8_t l, h;
    fold_range(r.lo, r.hi, l, h);
    lo = std::min(lo, l);
    hi = std::max(hi, h);
  }
};

#if defined(FQPIPE_PARSER_AVX2)
// The same in 32-byte steps, for machines with AVX2 (a 150-base line: 5 steps instead of 10).
// Lines shorter than a step, and the last < 32 bytes of a buffer, take the 16-byte code.
struct Lanes32 {
  [[gnu::target("avx2")]] static const char* scan_line(const char* p, const char* end, uint8_t lo, uint8_t hi,
                                                       bool& in_range) {
    alignas(32) static const uint8_t kKeep[64] = {
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255};
    const __m256i nl = _mm256_set1_epi8('\n');
    __m256i vlo = _mm256_set1_epi8(static_cast<char>(255)), vhi = _mm256_setzero_si256();
    for (; end - p >= 32; p += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      const auto m = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)));
      if (m) {
        const unsigned k = static_cast<unsigned>(__builtin_ctz(m));
        const __m256i keep = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kKeep + 32 - k));
        vlo = _mm256_min_epu8(vlo, _mm256_or_si256(v, _mm256_xor_si256(keep, _mm256_set1_epi8(-1))));
        vhi = _mm256_max_epu8(vhi, _mm256_and_si256(v, keep));
        in_range = lanes_in_range(fold(vlo, true), fold(vhi, false), lo, hi);
        return p + k;
      }
      vlo = _mm256_min_epu8(vlo, v);
      vhi = _mm256_max_epu8(vhi, v);
    }
    bool tail_in_range;
    const char* nl_at = Lanes16::scan_line(p, end, lo, hi, tail_in_range);
    in_range = tail_in_range && lanes_in_range(fold(vlo, true), fold(vhi, false), lo, hi);
    return nl_at;
  }
  // As Lanes16::Range, in 32 lanes.
  struct Range {
    __m256i lo, hi;
  };
  [[gnu::target("avx2")]] static Range empty_range() {
    return {_mm256_set1_epi8(static_cast<char>(255)), _mm256_setzero_si256()};
  }
  [[gnu::target("avx2")]] static Range range_of(const char* p, std::size_t n) {
    if (n < 32) {
      const Lanes16::Range r = Lanes16::range_of(p, n);
      __m128i lo, hi;
      std::memcpy(&lo, &r.lo, 16);
      std::memcpy(&hi, &r.hi, 16);
      return {_mm256_broadcastsi128_si256(lo), _mm256_broadcastsi128_si256(hi)};
    }
    Range r;
    r.lo = r.hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    for (std::size_t i = 32; i < n; i += 32) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + (i + 32 <= n ? i : n - 32)));
      r.lo = _mm256_min_epu8(r.lo, v);
      r.hi = _mm256_max_epu8(r.hi, v);
    }
    return r;
  }
  // Saturating subtractions are non-zero exactly in the lanes below lo or above hi.
  [[gnu::target("avx2")]] static bool within(const Range& r, uint8_t lo, uint8_t hi) {
    const __m256i out = _mm256_or_si256(_mm256_subs_epu8(_mm256_set1_epi8(static_cast<char>(lo)), r.lo),
                                        _mm256_subs_epu8(r.hi, _mm256_set1_epi8(static_cast<char>(hi))));
    return _mm256_testz_si256(out, out) != 0;
  }
  [[gnu::target("avx2")]] static void merge(Range& into, const Range& r) {
    into.lo = _mm256_min_epu8(into.lo, r.lo);
    into.hi = _mm256_max_epu8(into.hi, r.hi);
  }
  [[gnu::target("avx2")]] static void fold(const Range& r, uint8_t& lo, uint8_t& hi) {
    uint8_t l, h;
    fold_range(reinterpret_cast<Bytes16>(fold(r.lo, true)), reinterpret_cast<Bytes16>(fold(r.hi, false)), l, h);
    lo = std::min(lo, l);
    hi = std::max(hi, h);
  }
  // The two 16-byte halves of v combined by minimum (or maximum).
  [[gnu::target("avx2")]] static __m128i fold(__m256i v, bool minimum) {
    const __m128i a = _mm256_castsi256_si128(v), b = _mm256_extracti128_si256(v, 1);
    return minimum ? _mm_min_epu8(a, b) : _mm_max_epu8(a, b);
  }
};
#endif

// A whole record inside [p, end), the common case, in one pass over its bytes: header and
// sequence are split and range-checked together, and the quality line ends where the
// sequence length says, which one byte confirms; its byte range, which the caller checks
// (and needs anyway), must then prove that no '\n' or '\r' hides inside. Anything unusual (a
// record cut by the buffer's end, '\r' or '\t', a length mismatch, bytes outside printable
// ascii) returns false, and split_lines() and check_bytes() take the record the general way,
// down to the precise error.
//
// `seq_hint`, when not 0, is a guess of the sequence length (the previous record's: reads of
// one run mostly share a length). When the '\n' lies there and the bytes before it are all
// printable, the line is that long, and a range check over known bytes replaces the scan,
// whose every step waits on the test of the one before (parse_bench count 10.3 -> 11.3 GB/s).
template <class Lanes>
[[gnu::always_inline]] inline bool split_record(const char* p, const char* end, const char*& next, RecordLines& r,
                                                std::size_t seq_hint = 0) {
  static constexpr uint8_t kLowest[3] = {32, 33, 32};  // header, sequence, '+' line
  for (int i = 0; i < 3; ++i) {
    if (i == 1 && seq_hint && static_cast<std::size_t>(end - p) > seq_hint && p[seq_hint] == '\n') {
      if (Lanes::within(Lanes::range_of(p, seq_hint), kLowest[1], 126)) {
        r.line[1] = p;
        r.len[1] = seq_hint;
        p += seq_hint + 1;
        continue;
      }
    }
    if (i == 2 && end - p > 1 && p[0] == '+' && p[1] == '\n') {  // the usual bare '+' line
      r.line[2] = p;
      r.len[2] = 1;
      p += 2;
      continue;
    }
    bool in_range;
    const char* nl = Lanes::scan_line(p, end, kLowest[i], 126, in_range);
    if (!nl || !in_range) return false;
    r.line[i] = p;
    r.len[i] = static_cast<std::size_t>(nl - p);
    p = nl + 1;
  }
  const std::size_t n = r.len[1];
  if (static_cast<std::size_t>(end - p) <= n || p[n] != '\n') return false;
  r.line[3] = p;
  r.len[3] = n;
  r.count = 4;
  r.fast = true;
  next = p + n + 1;
  return true;
}

// split_record() with the quality's exact byte range, for one record at a time.
template <class Lanes>
[[gnu::always_inline]] inline bool split_one_record(const char* p, const char* end, const char*& next, RecordLines& r) {
  if (!split_record<Lanes>(p, end, next, r)) return false;
  uint8_t lo = 255, hi = 0;
  if (r.len[3]) Lanes::fold(Lanes::range_of(r.line[3], r.len[3]), lo, hi);
  r.qual_lo = lo;
  r.qual_hi = hi;
  return lo > '\r';
}

#if defined(FQPIPE_PARSER_AVX2)
[[gnu::target("avx2")]] bool split_record_avx2(const char* p, const char* end, const char*& next, RecordLines& r) {
  return split_one_record<Lanes32>(p, end, next, r);
}
const bool kHaveAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

}  // namespace

bool FastqParser::split_predicted(const char* p, const char* end, const char*& next, RecordLines& r) {
#if defined(FQPIPE_PARSER_AVX2)
  if (kHaveAvx2) return split_record_avx2(p, end, next, r);
#endif
  return split_one_record<Lanes16>(p, end, next, r);
}

namespace {

struct BatchSink {
  FastqBatch& batch;
  std::size_t max_records, max_bytes;
  bool headers;  // ReadOptions::keep_headers
  std::size_t bytes = 0;
  bool full() const noexcept { return batch.size() >= max_records || bytes >= max_bytes; }
  void add(const char* const* line, const std::size_t* len, uint64_t decoded) {
    const std::size_t header = headers ? len[0] - 1 : 0;  // the header arena holds no '@'
    batch.append({line[0] + 1, header}, {line[1], len[1]}, {line[3], len[3]}, decoded);
    bytes += header + 2 * len[1];
  }
};

struct CountSink {
  uint64_t max_records, records = 0, bases = 0;
  bool full() const noexcept { return records >= max_records; }
  void add(const char* const*, const std::size_t* len, uint64_t) {
    ++records;
    bases += len[1];
  }
};

// A '+' line that repeats a name other than the header's (a bare '+' repeats none).
inline bool plus_names_another(const RecordLines& r) {
  return r.len[2] > 1 && std::string_view(r.line[2] + 1, r.len[2] - 1) != std::string_view(r.line[0] + 1, r.len[0] - 1);
}

// What a run of regular records reads and advances: the parser's state, copied in and out, so
// the loop keeps it in registers (as members, every store of the sink could alias them).
struct RunState {
  const char* p;    // next record
  const char* end;  // end of the buffer
  uint64_t offset;  // decoded offset of p
  uint64_t records = 0;
  uint8_t qual_lo, qual_hi;          // running quality byte range
  uint8_t allowed_lo, allowed_hi;    // what the options accept in a quality line ('\r' never)
  std::size_t max_record_bytes;
};

// Takes records from s.p while each is regular: whole in the buffer and split by
// split_record() (printable header and sequence, quality length = sequence length), with a
// '+' line that is '+' alone or repeats the header's name, a quality range the options accept
// and a size within the limit. Split, checks and the sink's add run in one loop here (the
// record-at-a-time path calls, stores and reloads per record: parse_bench count 8.5 -> 9.7 GB/s,
// batches 6.0 -> 6.6 GB/s). Quality ranges stay in vector lanes, checked and merged there,
// and are reduced to two bytes once per run.
// At the first other record it stops, and the general path takes that one, down to its error.
template <class Lanes, class Sink>
[[gnu::always_inline]] inline void take_run(RunState& s, Sink& sink, typename Lanes::Range& qual) {
  std::size_t seq_hint = 0;
  while (s.p < s.end && *s.p == '@' && !sink.full()) {
    RecordLines r;
    const char* next;
    if (!split_record<Lanes>(s.p, s.end, next, r, seq_hint)) return;
    seq_hint = r.len[1];
    if (r.line[2][0] != '+' || plus_names_another(r)) return;
    const auto size = static_cast<std::size_t>(next - s.p);
    if (size > s.max_record_bytes) return;
    if (r.len[3]) {
      const typename Lanes::Range q = Lanes::range_of(r.line[3], r.len[3]);
      if (!Lanes::within(q, s.allowed_lo, s.allowed_hi)) return;
      Lanes::merge(qual, q);
    }
    sink.add(r.line, r.len, s.offset);
    ++s.records;
    s.offset += size;
    s.p = next;
  }
}

template <class Lanes, class Sink>
[[gnu::always_inline]] inline void run_records(RunState& s, Sink& sink) {
  typename Lanes::Range qual = Lanes::empty_range();
  take_run<Lanes>(s, sink, qual);
  Lanes::fold(qual, s.qual_lo, s.qual_hi);
}

#if defined(FQPIPE_PARSER_AVX2)
template <class Sink>
[[gnu::target("avx2"), gnu::noinline]] void run_records_avx2(RunState& s, Sink& sink) {
  run_records<Lanes32>(s, sink);
}
#endif

}  // namespace

// Runs of regular records from the current buffer (see run_records), when one can start here:
// no straddling record, no blank line pending.
template <class Sink>
void FastqParser::take_regular_records(Sink& sink) {
  if (!buf_ || pos_ >= buf_->size || !carry_.empty() || blank_pending_) return;
  run_regular_records(sink);
  // The run stopped at a record that runs past the buffer: a source that reads again starts
  // the next buffer at it, and the run goes on there (else the general path carries it).
  while (pos_ >= runs_past_from_ && pos_ < buf_->size && !sink.full() &&
         read_again_from(buf_->decoded_offset + pos_))
    run_regular_records(sink);
}

// Makes `b` the current buffer, from its start, and finds where its last four line ends
// begin: a record that starts after the first of them runs past the buffer. Once per buffer,
// not per record: a CRLF file stops the fast run at every record, and counting line ends there
// made `count -t 1` of a 162 MB CRLF file 43.7 -> 51.4 ms (median of 11 in a timing loop).
void FastqParser::take_buffer(const io::TextBuffer* b) {
  buf_ = b;
  pos_ = 0;
  end_offset_ = b->decoded_offset + b->size;
  std::size_t n = b->size;  // search before here
  int found = 0;
  for (; found < 4; ++found) {
    const void* nl = ::memrchr(b->data, '\n', n);
    if (!nl) break;
    n = static_cast<std::size_t>(static_cast<const char*>(nl) - b->data);
  }
  runs_past_from_ = found == 4 ? n + 1 : 0;
}

// The record at `offset`, inside the current buffer, read again from its start with the next
// buffer, where the source can (TextSource::next_from).
bool FastqParser::read_again_from(uint64_t offset) {
  const io::TextBuffer* again = source_.next_from(offset);
  if (!again) return false;
  take_buffer(again);
  return true;
}

template <class Sink>
void FastqParser::run_regular_records(Sink& sink) {
  RunState s;
  s.p = buf_->data + pos_;
  s.end = buf_->data + buf_->size;
  s.offset = buf_->decoded_offset + pos_;
  s.qual_lo = qual_lo_;
  s.qual_hi = qual_hi_;
  // One range for every check: no byte up to '\r' (a CRLF line or a control byte goes the
  // general way), the schema's range and printable ascii where those checks are on.
  s.allowed_lo = '\r' + 1;
  s.allowed_hi = 255;
  if (options_.check_quality) {
    s.allowed_lo = std::max(s.allowed_lo, qual_range_.lo);
    s.allowed_hi = std::min(s.allowed_hi, qual_range_.hi);
  }
  if (options_.check_ascii) {
    s.allowed_lo = std::max<uint8_t>(s.allowed_lo, 33);
    s.allowed_hi = std::min<uint8_t>(s.allowed_hi, 126);
  }
  s.max_record_bytes = options_.max_record_bytes;
#if defined(FQPIPE_PARSER_AVX2)
  if (kHaveAvx2) {
    run_records_avx2(s, sink);
  } else {
    run_records<Lanes16>(s, sink);
  }
#else
  run_records<Lanes16>(s, sink);
#endif
  pos_ += static_cast<std::size_t>(s.p - (buf_->data + pos_));
  next_record_no_ += s.records;
  qual_lo_ = s.qual_lo;
  qual_hi_ = s.qual_hi;
}

FastqParser::FastqParser(io::TextSource& source, const ReadOptions& options, std::string file,
                         uint64_t first_record_no)
    : source_(source), options_(options), file_(std::move(file)), next_record_no_(first_record_no),
      qual_range_(quality_range(options.schema)) {
  // A batch always takes at least one record, whatever the limits say.
  if (options_.batch_records == 0) options_.batch_records = 1;
  if (options_.batch_bytes == 0) options_.batch_bytes = 1;
}

void FastqParser::fail(const RecordLines& r, std::size_t line, const std::string& reason) const {
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + line + 1;
  const char* p = r.line[line];
  at.decoded_byte = static_cast<int64_t>(r.start_offset + static_cast<uint64_t>(p - r.start));
  at.line = error_excerpt(p, r.len[line]);
  throw Error(ErrorKind::data, reason, at);
}

void FastqParser::check_record_size(const char* start, std::size_t size, uint64_t offset) const {
  if (size <= options_.max_record_bytes) return;
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + 1;
  at.decoded_byte = static_cast<int64_t>(offset);
  at.line = error_excerpt(start, static_cast<std::size_t>(
                                     std::find(start, start + size, '\n') - start));
  throw Error(ErrorKind::data, "record too long (limit " + std::to_string(options_.max_record_bytes) +
                                   " bytes; raise with --max-record-size)", at);
}

void FastqParser::fail_blank_line() const {
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + 1;
  at.decoded_byte = static_cast<int64_t>(blank_offset_);
  throw Error(ErrorKind::data, "expected '@' at start of record, found an empty line", at);
}

// Appends the rest of a straddling record from the current buffer. True once it is complete.
bool FastqParser::complete_carry(RecordLines& r) {
  const char* const p = buf_->data + pos_;
  const char* const end = buf_->data + buf_->size;
  const char* q = p;
  while (carry_lines_ < 4) {
    const char* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)));
    if (!nl) break;
    q = nl + 1;
    ++carry_lines_;
  }
  if (carry_lines_ < 4) q = end;
  carry_.insert(carry_.end(), p, q);
  pos_ += static_cast<std::size_t>(q - p);
  check_record_size(carry_.data(), carry_.size(), carry_offset_);
  if (carry_lines_ < 4) return false;
  const char* next;
  split_lines(carry_.data(), carry_.data() + carry_.size(), false, next, r.line, r.len, r.count);
  r.start = carry_.data();
  r.start_offset = carry_offset_;
  return true;
}

// End of input: a straddling record may still be pending (its last line unterminated).
bool FastqParser::finish_at_end(RecordLines& r) {
  at_end_ = true;
  if (open_end_) return false;  // the rest is someone else's to finish
  if (carry_.empty()) return false;  // blank lines at the very end are fine
  // The limit is on the record, however it reached us: checked here too, not only on appends.
  check_record_size(carry_.data(), carry_.size(), carry_offset_);
  const char* next;
  r.start = carry_.data();
  r.start_offset = carry_offset_;
  const bool complete = split_lines(carry_.data(), carry_.data() + carry_.size(), true, next,
                                    r.line, r.len, r.count);
  carry_lines_ = 4;  // consumed: cleared before the next call reads on
  if (complete) return true;
  // Truncated: check the lines that are there first, so a wrong header is named as such.
  validate(r);
  static const char* const kMissing[] = {"", "sequence", "'+' separator", "quality"};
  fail(r, r.count - 1, std::string("truncated record: input ends before its ") + kMissing[r.count] + " line");
}

bool FastqParser::next_record(RecordLines& r) {
  r.fast = false;
  if (carry_lines_ == 4) {  // the straddling record was handed out last time
    carry_.clear();
    carry_lines_ = 0;
  }
  if (at_end_) return false;
  for (;;) {
    if (!buf_ || pos_ == buf_->size) {
      const io::TextBuffer* b = source_.next();
      if (!b) {
        buf_ = nullptr;
        pos_ = 0;
        return finish_at_end(r);
      }
      take_buffer(b);
      continue;
    }
    if (!carry_.empty()) {
      if (complete_carry(r)) return true;
      continue;
    }
    const char* const p = buf_->data + pos_;
    if (*p == '\n' || *p == '\r') {  // blank line: an error unless only blank lines follow
      if (!blank_pending_) {
        blank_pending_ = true;
        blank_offset_ = buf_->decoded_offset + pos_;
      }
      ++pos_;
      continue;
    }
    if (blank_pending_) fail_blank_line();
    const char* const end = buf_->data + buf_->size;
    const char* next;
    r.start = p;
    r.start_offset = buf_->decoded_offset + pos_;
    if (split_predicted(p, end, next, r) || split_lines(p, end, false, next, r.line, r.len, r.count)) {
      check_record_size(p, static_cast<std::size_t>(next - p), r.start_offset);
      pos_ += static_cast<std::size_t>(next - p);
      return true;
    }
    // The record runs past this buffer: read again from its start where the source can,
    // else carry what there is and complete it from the next buffer.
    if (read_again_from(r.start_offset)) continue;
    carry_.assign(p, end);
    carry_offset_ = r.start_offset;
    carry_lines_ = r.count;
    pos_ = buf_->size;
  }
}

uint64_t FastqParser::unfinished_offset() const noexcept {
  if (blank_pending_) return blank_offset_;
  if (!carry_.empty() && carry_lines_ < 4) return carry_offset_;
  return end_offset_;
}

// Byte checks of one record. The quality line's range is computed once and serves schema
// detection, the schema check and the ascii check alike.
void FastqParser::check_bytes(const RecordLines& r) {
  uint8_t lo, hi;
  if (r.len[3]) {
    if (r.fast) {
      lo = r.qual_lo;
      hi = r.qual_hi;
    } else {
      byte_range(r.line[3], r.len[3], lo, hi);
    }
    qual_lo_ = std::min(qual_lo_, lo);
    qual_hi_ = std::max(qual_hi_, hi);
    if (options_.check_quality && (lo < qual_range_.lo || hi > qual_range_.hi)) {
      const std::size_t i = first_outside(r.line[3], r.len[3], qual_range_.lo, qual_range_.hi, false);
      fail(r, 3, "quality " + show_byte(static_cast<uint8_t>(r.line[3][i])) + " at position " +
                     std::to_string(i + 1) + " outside " + std::string(schema_name(options_.schema)) +
                     " range " + show_byte(qual_range_.lo) + ".." + show_byte(qual_range_.hi));
    }
    if (options_.check_ascii && (lo < 33 || hi > 126)) fail_not_printable(r, 3, 33);
  }
  if (!options_.check_ascii || r.fast) return;  // the fast split checked header and sequence
  byte_range(r.line[0], r.len[0], lo, hi);
  if ((lo < 32 && first_outside(r.line[0], r.len[0], 32, 126, true) < r.len[0]) || hi > 126)
    fail_not_printable(r, 0, 32);
  if (r.len[1]) {
    byte_range(r.line[1], r.len[1], lo, hi);
    if (lo < 33 || hi > 126) fail_not_printable(r, 1, 33);
  }
}

void FastqParser::fail_not_printable(const RecordLines& r, std::size_t line, uint8_t lowest) const {
  static const char* const kWhat[] = {"header", "sequence", "separator", "quality"};
  const std::size_t i = first_outside(r.line[line], r.len[line], lowest, 126, line == 0);
  fail(r, line, std::string(kWhat[line]) + " holds " + show_byte(static_cast<uint8_t>(r.line[line][i])) +
                    " at position " + std::to_string(i + 1) + " (expected printable ascii)");
}

// Checks one record; with r.count < 4 only the lines present (truncated input).
void FastqParser::validate(const RecordLines& r) {
  if (r.len[0] == 0 || r.line[0][0] != '@') {
    fail(r, 0, r.len[0] == 0 ? "expected '@' at start of record, found an empty line"
                             : "expected '@' at start of record, found " +
                                   show_byte(static_cast<uint8_t>(r.line[0][0])));
  }
  if (r.count >= 3) {
    if (r.len[2] == 0 || r.line[2][0] != '+')
      fail(r, 2, r.len[2] == 0 ? "expected '+' separator line, found an empty line"
                               : "expected '+' separator line, found " +
                                     show_byte(static_cast<uint8_t>(r.line[2][0])));
    if (plus_names_another(r)) fail(r, 2, "'+' line repeats a different name than the header");
  }
  if (r.count < 4) return;
  if (r.len[3] != r.len[1])
    fail(r, 3, "quality length " + std::to_string(r.len[3]) + " != sequence length " +
                   std::to_string(r.len[1]));
  check_bytes(r);
}

template <class Sink>
void FastqParser::parse(Sink& sink) {
  RecordLines r;
  for (;;) {
    take_regular_records(sink);
    if (sink.full() || !next_record(r)) return;
    validate(r);
    sink.add(r.line, r.len, r.start_offset);
    ++next_record_no_;
  }
}

bool FastqParser::next_batch(FastqBatch& batch) {
  batch.clear(next_record_no_);
  BatchSink sink{batch, options_.batch_records, options_.batch_bytes, options_.keep_headers};
  parse(sink);
  return !batch.empty();
}

uint64_t FastqParser::count(uint64_t max_records, uint64_t& bases) {
  CountSink sink{max_records};
  parse(sink);
  bases = sink.bases;
  return sink.records;
}

}  // namespace fqpipe::fastq
