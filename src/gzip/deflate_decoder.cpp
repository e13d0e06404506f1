// DeflateDecoder: block loop, stored blocks, the symbol hot loop for 16-bit (marker) and 8-bit
// output, and the switch from the first to the second once the unknown window no longer matters.
#include "gzip/deflate_decoder.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

// The hot loop is also built for BMI2 + AVX2 (chosen at run time) where CPU dispatch is on:
// shrx shifts by any register, so consuming bits no longer goes through %cl, and the match
// copies get VEX encodings (deflate_decode_bench BM_real_unknown_window ~+7 %). The ASan and
// TSan test builds keep the baseline code only, so the suite runs both.
#if defined(FQPIPE_CPU_DISPATCH) && defined(__x86_64__) && defined(__GNUC__)
#define FQPIPE_DECODER_BMI2 1
#define FQPIPE_DECODER_BMI2_TARGET [[gnu::target("avx2,bmi,bmi2,lzcnt,popcnt"), gnu::noinline]]
#else
#define FQPIPE_DECODER_BMI2_TARGET
#endif

namespace fqpipe::gzip {
namespace {

#if defined(FQPIPE_DECODER_BMI2)
const bool have_bmi2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
}();
#else
constexpr bool have_bmi2 = false;
#endif

// Literal entries decoded per refill in the hot loop (decode_symbols).
constexpr unsigned primary_literal_runs = 4;
// Widest write of one hot-loop step past the `pos` it starts at: its literal entries (two slots
// each), then a 258-element match rounded up to copy_match's 32-byte step. Every output buffer
// keeps this many elements spare past the loop's pos_limit.
constexpr size_t write_margin = 2 * primary_literal_runs + 258 + 32;
// Most refills in one hot-loop step (decode_symbols); its fast variant runs while that many fit.
constexpr unsigned refills_per_step = 3;
// Fewest elements decoded between two marker scans in 16-bit mode (scan calls are not free).
constexpr size_t min_scan_step = 4096;
// distance_code() of every symbol a whole_match entry can name, for the hot loop.
constexpr std::array<DistanceCode, 30> distance_codes = [] {
  std::array<DistanceCode, 30> codes{};
  for (unsigned s = 0; s < codes.size(); ++s) codes[s] = distance_code(s);
  return codes;
}();

using ByteVec = uint8_t __attribute__((vector_size(16)));

// Shuffle masks that repeat the first d elements of a 16-byte load across all 16 bytes, and the
// largest multiple of d that fits in 16 bytes, for each distance d below the stride (in elements).
template <typename T>
struct PatternTables {
  static constexpr size_t stride = 16 / sizeof(T);
  uint8_t mask[stride][16] = {};
  uint8_t step[stride] = {};
  constexpr PatternTables() {
    for (size_t d = 1; d < stride; ++d) {
      for (size_t i = 0; i < 16; ++i) mask[d][i] = static_cast<uint8_t>((i / sizeof(T)) % d * sizeof(T) + i % sizeof(T));
      step[d] = static_cast<uint8_t>(stride / d * d);
    }
  }
};
template <typename T>
constexpr PatternTables<T> pattern_tables{};

inline ByteVec load16(const void* p) {
  ByteVec v;
  std::memcpy(&v, p, 16);
  return v;
}
inline void store16(void* p, ByteVec v) { std::memcpy(p, &v, 16); }

// Copies a match of `length` (3..258) elements from `distance` back. Overlapping sources are the
// point of LZ77, so the copy works in 16-byte steps whose source is complete before they load it:
//   distance >= 2 strides: 32 bytes unconditionally (covers the common 3..16-element FASTQ match in
//     16-bit mode without a loop; a branch to copy only 16 bytes for <= 8 elements mispredicts:
//     reads_1.fastq.gz unknown-window 1018 -> 855 MB/s, deflate_decode_bench BM_real_unknown_window),
//     then 32-byte steps;
//   one stride <= distance < 2 strides: 16-byte steps;
//   distance < one stride (runs, short repeats in quality strings): one 16-byte load shuffled into
//     the repeating pattern, stored at steps of the largest multiple of the period that fits.
// Writes at most length + 2 strides - 1 elements past dst (asserted against write_margin).
// out[i] = v[mask[i]]: one pshufb under GCC. Clang has no variable-mask __builtin_shuffle (it
// builds only the fuzz targets), so it gets the same result byte by byte.
inline ByteVec gather16(ByteVec v, ByteVec mask) {
#if defined(__clang__)
  ByteVec out;
  for (int i = 0; i < 16; ++i) out[i] = v[mask[i] & 15];
  return out;
#else
  return __builtin_shuffle(v, mask);
#endif
}

template <typename T>
inline void copy_match(T* dst, size_t distance, unsigned length) {
  constexpr size_t stride = 16 / sizeof(T);
  static_assert(write_margin >= 2 * primary_literal_runs + 258 + 2 * stride - 1);
  const T* src = dst - distance;
  T* const end = dst + length;
  if (distance >= 2 * stride) [[likely]] {
    const ByteVec a = load16(src);
    const ByteVec b = load16(src + stride);
    store16(dst, a);
    store16(dst + stride, b);
    if (length > 2 * stride) [[unlikely]] {
      dst += 2 * stride;
      src += 2 * stride;
      do {
        const ByteVec c = load16(src);
        const ByteVec d = load16(src + stride);
        store16(dst, c);
        store16(dst + stride, d);
        dst += 2 * stride;
        src += 2 * stride;
      } while (dst < end);
    }
  } else if (distance >= stride) {
    do {
      store16(dst, load16(src));
      dst += stride;
      src += stride;
    } while (dst < end);
  } else {
    // The load reads up to stride - distance elements at and after dst (not yet written, inside
    // the margin); the shuffle only picks the distance elements before dst.
    const ByteVec pattern = gather16(load16(src), load16(pattern_tables<T>.mask[distance]));
    const size_t step = pattern_tables<T>.step[distance];
    do {
      store16(dst, pattern);
      dst += step;
    } while (dst < end);
  }
}

// Stores the one or two literals of a literal entry as one unaligned write of two elements.
template <typename T>
inline void store_literals(T* dst, uint32_t e) {
  const uint32_t pair = huffman_entry::payload(e);  // first literal in bits 0..7, second in 8..15
  if constexpr (sizeof(T) == 1) {
    const auto two = static_cast<uint16_t>(pair);
    std::memcpy(dst, &two, 2);
  } else {
    const uint32_t two = (pair & 0xFF) | ((pair & 0xFF00) << 8);
    std::memcpy(dst, &two, 4);
  }
}

}  // namespace

struct DeflateDecoder::State {
  BitReader in;
  DeflateChunk& out;
  DecodeLimits limits;
  bool wide = false;           // writing 16-bit symbols (unknown-window mode, markers still live)
  size_t pos = 0;              // next write index in the active buffer (symbols_ or bytes_)
  size_t last_marker_end = 0;  // wide: one past the last index known to hold a marker
  size_t scanned_to = 0;       // wide: [deflate_window_size, scanned_to) has been scanned

  uint64_t output_size() const {
    return wide ? pos - deflate_window_size : out.symbol_count_ + (pos - out.byte_history_);
  }
};

DeflateStatus DeflateDecoder::decode_unknown_window(std::span<const uint8_t> comp, uint64_t start_bit,
                                                    DecodeLimits limits, DeflateChunk& out) {
  State st{BitReader(comp, start_bit), out, limits};
  st.wide = true;
  st.pos = st.last_marker_end = st.scanned_to = deflate_window_size;
  const uint64_t comp_bytes = (std::min(limits.stop_bit, uint64_t{comp.size()} * 8) - std::min(start_bit, limits.stop_bit)) / 8;
  out.symbols_.grow(deflate_window_size + std::min<uint64_t>(comp_bytes * 4, uint64_t{1} << 28) + write_margin,
                    out.markers_written_ ? deflate_window_size : 0);
  if (!out.markers_written_) {
    static const std::array<uint16_t, deflate_window_size> markers = [] {
      std::array<uint16_t, deflate_window_size> m{};
      for (size_t k = 0; k < m.size(); ++k) m[k] = static_cast<uint16_t>(marker_base + k);
      return m;
    }();
    std::memcpy(out.symbols_.data(), markers.data(), sizeof markers);
    out.markers_written_ = true;
  }
  out.symbol_count_ = out.byte_count_ = out.byte_history_ = 0;
  return decode_blocks(st);
}

DeflateStatus DeflateDecoder::decode_known_window(std::span<const uint8_t> comp, uint64_t start_bit,
                                                  std::span<const uint8_t> window, DecodeLimits limits,
                                                  DeflateChunk& out) {
  if (window.size() > deflate_window_size) window = window.last(deflate_window_size);
  State st{BitReader(comp, start_bit), out, limits};
  st.pos = window.size();
  const uint64_t comp_bytes = (std::min(limits.stop_bit, uint64_t{comp.size()} * 8) - std::min(start_bit, limits.stop_bit)) / 8;
  out.bytes_.grow(window.size() + std::min<uint64_t>(comp_bytes * 4, uint64_t{1} << 28) + write_margin, 0);
  if (!window.empty()) std::memcpy(out.bytes_.data(), window.data(), window.size());
  out.byte_history_ = window.size();
  out.symbol_count_ = out.byte_count_ = 0;
  return decode_blocks(st);
}

// Block loop (RFC 1951 §3.2.3): header, body, until the final block or the first boundary at or
// after stop_bit. Always leaves out's counts and end_bit describing what was decoded.
DeflateStatus DeflateDecoder::decode_blocks(State& st) {
  DeflateChunk& out = st.out;
  out.start_bit = st.in.position();
  out.final_block_seen = false;
  out.blocks.clear();
  DeflateStatus status = DeflateStatus::ok;
  for (;;) {
    const uint64_t here = st.in.position();
    if (here >= st.limits.stop_bit) break;
    if (st.limits.cancel && st.limits.cancel->load(std::memory_order_relaxed)) {
      status = DeflateStatus::cancelled;
      break;
    }
    out.blocks.push_back({here, st.output_size()});
    st.in.refill();
    const auto header = static_cast<unsigned>(st.in.peek(3));
    st.in.consume(3);
    switch (header >> 1) {
      case 0: status = decode_stored(st); break;
      case 1: status = decode_compressed(st, fixed_literal_length_table(), fixed_distance_table()); break;
      case 2:
        status = read_dynamic_header(st.in, header_);
        if (status != DeflateStatus::ok) break;
        // read_dynamic_header validated both codes, so building cannot fail.
        (void)litlen_.build(header_.literal_lengths());
        (void)dist_.build(header_.distance_lengths());
        litlen_.add_distances(dist_);
        status = decode_compressed(st, litlen_, dist_);
        break;
      default: status = DeflateStatus::invalid_block_type; break;
    }
    if (status == DeflateStatus::ok && st.in.overran()) status = DeflateStatus::truncated_input;
    if (status != DeflateStatus::ok) break;
    if (st.output_size() > st.limits.max_output) {
      status = DeflateStatus::output_limit_exceeded;
      break;
    }
    if (st.wide) maybe_leave_wide_mode(st);
    if (header & 1) {
      out.final_block_seen = true;
      break;
    }
  }
  // A verdict that used zero padding past the end of the input is about truncation, not content.
  if (status != DeflateStatus::ok && st.in.overran()) status = DeflateStatus::truncated_input;
  out.end_bit = st.in.position();
  if (st.wide) {
    out.symbol_count_ = st.pos - deflate_window_size;
    out.byte_count_ = 0;
  } else {
    out.byte_count_ = st.pos - out.byte_history_;
  }
  return status;
}

// Stored block (RFC 1951 §3.2.4): zero padding to a byte boundary, LEN, NLEN, LEN raw bytes.
DeflateStatus DeflateDecoder::decode_stored(State& st) {
  st.in.align_to_byte();
  const uint32_t len = st.in.read(16);
  const uint32_t nlen = st.in.read(16);
  if (st.in.overran()) return DeflateStatus::truncated_input;
  if (len != (~nlen & 0xFFFF)) return DeflateStatus::stored_length_mismatch;
  const uint64_t first_byte = st.in.position() / 8;
  const std::span<const uint8_t> comp = st.in.data();
  if (first_byte + len > comp.size()) return DeflateStatus::truncated_input;
  if (const DeflateStatus s = make_room(st, len); s != DeflateStatus::ok) return s;
  const uint8_t* src = comp.data() + first_byte;
  if (st.wide) {
    std::copy_n(src, len, st.out.symbols_.data() + st.pos);  // widens each byte to a symbol
  } else if (len != 0) {
    std::memcpy(st.out.bytes_.data() + st.pos, src, len);
  }
  st.pos += len;
  st.in.seek((first_byte + len) * 8);
  return DeflateStatus::ok;
}

DeflateStatus DeflateDecoder::make_room(State& st, size_t count) {
  const size_t need = st.pos + count + write_margin;
  if (st.wide) {
    st.out.symbols_.grow(need, st.pos);
  } else {
    st.out.bytes_.grow(need, st.pos);
  }
  return DeflateStatus::ok;
}

// The hot loop. The chain that limits it runs through the table loads: entry -> consume its bits ->
// next entry. Refills stay off that chain: each looks up the next entry with the bits already in
// the buffer first, and ORs new bits in behind it. Phases of one iteration (e, the primary
// literal/length entry for the current bits, is looked up on entry; >= 12 bits are valid):
//   1. refill (the careful variant pads past the end and checks truncation),
//   2. literal entries (one or two literals each): store both slots with one write, consume, look
//      up the next; up to four per refill (each takes <= 11 of the >= 56 bits, so the lookup after
//      the fourth still sees >= 12); a non-literal entry then gets a refill (>= 56 bits again),
//   2b. a whole-match entry (length and distance code, ~89 % of FASTQ's matches): the distance's
//      extra bits read and everything consumed in one shift (<= 24 bits: >= 32 stay), the next
//      primary entry looked up, the match copied, back to 1,
//   3. subtable entry for codes longer than 11 bits (a long literal is stored and the loop goes on),
//   4. end of block or invalid code: leave,
//   5. length = base + extra bits, both from the entry, consumed in one shift (<= 20 bits),
//   6. distance entry looked up (>= 36 bits left), then a refill, then its subtable and extra bits
//      (<= 28 bits: >= 28 stay), checked against the history in the buffer,
//   7. the next primary entry looked up, then the match copied (copy_match).
// A step may pass pos_limit by up to write_margin elements.
template <typename T, bool NearEnd>
[[gnu::always_inline]] inline DeflateDecoder::Progress DeflateDecoder::decode_symbols(State& st, T* out, size_t& pos_ref, size_t pos_limit,
                                                        const LiteralLengthTable& litlen,
                                                        const DistanceTable& dist) {
  using namespace huffman_entry;
  constexpr unsigned primary_bits = LiteralLengthTable::primary_bits;
  static_assert((primary_literal_runs + 1) * primary_bits <= BitReader::min_bits_after_refill);
  // A length code with extra bits (<= 20) leaves enough for the distance's primary lookup, and a
  // distance with extra bits (<= 28, after the mid-match refill) enough for the next primary lookup.
  static_assert(BitReader::min_bits_after_refill - 20 >= DistanceTable::primary_bits);
  static_assert(BitReader::min_bits_after_refill - 28 >= primary_bits + 1);
  BitReader in = st.in;  // a local copy lives in registers
  size_t pos = pos_ref;
  const uint32_t* const litlen_primary = litlen.primary();
  const uint32_t* const dist_primary = dist.primary();
  Progress result = Progress::checkpoint;
  const auto refill = [&in]() {
    if constexpr (NearEnd) {
      in.refill();
    } else {
      in.refill_fast();
    }
  };
  const auto primary_entry = [&in, litlen_primary]() {
    return litlen_primary[in.bits() & LiteralLengthTable::primary_mask];
  };
  if (pos < pos_limit) in.refill();
  uint32_t e = primary_entry();
  while (pos < pos_limit) {
    if constexpr (NearEnd) {
      if (in.overran()) [[unlikely]] {
        symbol_error_ = DeflateStatus::truncated_input;
        result = Progress::error;
        break;
      }
    } else {
      if (!in.can_refill_fast(refills_per_step)) [[unlikely]] break;
    }
    refill();
    if (e & literal) {
      unsigned runs = 0;
      do {
        store_literals(out + pos, e);
        pos += 1 + ((e & two_literals) != 0);
        in.consume(total_bits(e));
        e = primary_entry();
      } while ((e & literal) && ++runs < primary_literal_runs);
      if (e & literal) continue;  // four literal entries done: refill at the top
      refill();
    }
    uint32_t length, distance;
    if (e & whole_match) [[likely]] {
      // Length and distance code in one entry: only the distance's extra bits are read here.
      const uint64_t bits = in.bits();
      in.consume(total_bits(e));
      const DistanceCode code = distance_codes[match_distance_symbol(e)];
      distance = code.base + static_cast<uint32_t>((bits >> code_length(e)) & BitReader::low_mask(code.extra));
      length = match_length(e);
    } else {
      if (e & subtable) [[unlikely]] {
        e = litlen.subtable_entry(e, in.bits());
        if (e & literal) {
          out[pos++] = static_cast<T>(payload(e));
          in.consume(total_bits(e));
          e = primary_entry();
          continue;
        }
      }
      if (e & exceptional) [[unlikely]] {
        in.consume(total_bits(e));
        if (e & end_of_block) {
          result = Progress::end_of_block;
        } else {
          symbol_error_ = DeflateStatus::invalid_literal_length_symbol;
          result = Progress::error;
        }
        break;
      }
      length = base_plus_extra(e, in.bits());
      in.consume(total_bits(e));

      uint32_t d = dist_primary[in.bits() & DistanceTable::primary_mask];
      refill();
      if (d & subtable) [[unlikely]] d = dist.subtable_entry(d, in.bits());
      if (d & exceptional) [[unlikely]] {
        symbol_error_ = DeflateStatus::invalid_distance_symbol;
        result = Progress::error;
        break;
      }
      distance = base_plus_extra(d, in.bits());
      in.consume(total_bits(d));
    }
    e = primary_entry();
    if (distance > pos) [[unlikely]] {
      symbol_error_ = DeflateStatus::distance_beyond_history;
      result = Progress::error;
      break;
    }
    copy_match(out + pos, distance, length);
    pos += length;
  }
  st.in = in;
  pos_ref = pos;
  return result;
}

template <typename T>
FQPIPE_DECODER_BMI2_TARGET DeflateDecoder::Progress DeflateDecoder::decode_symbols_bmi2(
    State& st, T* out, size_t& pos, size_t pos_limit, const LiteralLengthTable& litlen, const DistanceTable& dist) {
  return decode_symbols<T, false>(st, out, pos, pos_limit, litlen, dist);
}

// Huffman-coded block body. Runs the hot loop in slices: each slice ends at end-of-block, at an
// error, near the end of the input (where the careful loop takes over), or at a checkpoint where
// the buffer grows, the output cap is checked, and 16-bit mode may end.
DeflateStatus DeflateDecoder::decode_compressed(State& st, const LiteralLengthTable& litlen,
                                                const DistanceTable& dist) {
  for (;;) {
    if (st.output_size() > st.limits.max_output) return DeflateStatus::output_limit_exceeded;
    size_t capacity = st.wide ? st.out.symbols_.capacity() : st.out.bytes_.capacity();
    if (st.pos + write_margin >= capacity) {
      (void)make_room(st, st.pos);  // doubles
      capacity = st.wide ? st.out.symbols_.capacity() : st.out.bytes_.capacity();
    }
    size_t limit = capacity - write_margin;
    // Stop a slice once the output passes the cap, so the check above fires.
    const uint64_t room_under_cap = st.limits.max_output - std::min(st.limits.max_output, st.output_size());
    if (room_under_cap < limit - st.pos) limit = st.pos + static_cast<size_t>(room_under_cap) + 1;
    assert(limit + write_margin <= capacity);  // every write of decode_symbols stays in the buffer
    Progress p;
    if (st.wide) {
      const size_t next_scan = std::max(st.last_marker_end + deflate_window_size, st.pos + min_scan_step);
      limit = std::min(limit, next_scan);
      p = have_bmi2 ? decode_symbols_bmi2<uint16_t>(st, st.out.symbols_.data(), st.pos, limit, litlen, dist)
                    : decode_symbols<uint16_t, false>(st, st.out.symbols_.data(), st.pos, limit, litlen, dist);
      if (p == Progress::checkpoint && !st.in.can_refill_fast(refills_per_step) && st.pos < limit) {
        p = decode_symbols<uint16_t, true>(st, st.out.symbols_.data(), st.pos, limit, litlen, dist);
      }
    } else {
      p = have_bmi2 ? decode_symbols_bmi2<uint8_t>(st, st.out.bytes_.data(), st.pos, limit, litlen, dist)
                    : decode_symbols<uint8_t, false>(st, st.out.bytes_.data(), st.pos, limit, litlen, dist);
      if (p == Progress::checkpoint && !st.in.can_refill_fast(refills_per_step) && st.pos < limit) {
        p = decode_symbols<uint8_t, true>(st, st.out.bytes_.data(), st.pos, limit, litlen, dist);
      }
    }
    if (p == Progress::end_of_block) return DeflateStatus::ok;
    if (p == Progress::error) return symbol_error_;
    if (st.wide) maybe_leave_wide_mode(st);
  }
}

// In 16-bit mode, finds the last marker written since the previous scan; once the newest 32 KiB
// hold none, no later reference can reach a marker, so the rest of the chunk is written as bytes
// with those 32 KiB as history. Returns true when it switched.
bool DeflateDecoder::maybe_leave_wide_mode(State& st) {
  const uint16_t* sym = st.out.symbols_.data();
  size_t i = st.pos;
  while (i > st.scanned_to) {
    if (i - st.scanned_to >= 16) {
      uint16_t any = 0;
      for (size_t j = i - 16; j < i; ++j) any |= sym[j];
      if (any < 256) {
        i -= 16;
        continue;
      }
    }
    if (sym[i - 1] >= 256) {
      st.last_marker_end = i;
      break;
    }
    --i;
  }
  st.scanned_to = st.pos;
  if (st.pos - st.last_marker_end < deflate_window_size) return false;

  DeflateChunk& out = st.out;
  out.symbol_count_ = st.pos - deflate_window_size;
  out.bytes_.grow(deflate_window_size + std::max<size_t>(out.symbol_count_, 1 << 20) + write_margin, 0);
  std::copy_n(sym + st.pos - deflate_window_size, deflate_window_size, out.bytes_.data());  // narrows
  out.byte_history_ = deflate_window_size;
  st.pos = deflate_window_size;
  st.wide = false;
  return true;
}

}  // namespace fqpipe::gzip
