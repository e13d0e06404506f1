// DeflateDecoder: block loop, stored blocks, the symbol hot loop for 16-bit (marker) and 8-bit
// output, and the switch from the first to the second once the unknown window no longer matters.
#include "gzip/deflate_decoder.hpp"

#include <algorithm>
#include <cstring>

namespace fqpipe::gzip {
namespace {

// One hot-loop iteration writes at most 258 elements plus the overshoot of a 16-byte copy.
constexpr size_t write_margin = 258 + 32;
// Fewest elements decoded between two marker scans in 16-bit mode (scan calls are not free).
constexpr size_t min_scan_step = 4096;

// Copies a match of `length` elements from `distance` back. Overlapping sources are the point of
// LZ77: a distance below the 16-byte stride repeats a short pattern, handled element by element
// (distance 1, runs of one symbol such as quality strings, is filled directly).
template <typename T>
inline void copy_match(T* dst, size_t distance, unsigned length) {
  constexpr size_t stride = 16 / sizeof(T);
  const T* src = dst - distance;
  T* const end = dst + length;
  if (distance >= stride) {
    do {
      std::memcpy(dst, src, 16);  // whole source chunk lies before dst: no overlap within a copy
      dst += stride;
      src += stride;
    } while (dst < end);
  } else if (distance == 1) {
    T run[stride];
    std::fill_n(run, stride, *src);
    do {
      std::memcpy(dst, run, 16);
      dst += stride;
    } while (dst < end);
  } else {
    while (dst < end) *dst++ = *src++;
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
  out.symbols_.grow(deflate_window_size + std::min<uint64_t>(comp_bytes * 4, uint64_t{1} << 28) + write_margin, 0);
  for (size_t k = 0; k < deflate_window_size; ++k) out.symbols_.data()[k] = static_cast<uint16_t>(marker_base + k);
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
    Progress p;
    if (st.wide) {
      const size_t next_scan = std::max(st.last_marker_end + deflate_window_size, st.pos + min_scan_step);
      limit = std::min(limit, next_scan);
      p = decode_symbols<uint16_t, false>(st, st.out.symbols_.data(), st.pos, limit, litlen, dist);
      if (p == Progress::checkpoint && !st.in.can_refill_fast() && st.pos < limit) {
        p = decode_symbols<uint16_t, true>(st, st.out.symbols_.data(), st.pos, limit, litlen, dist);
      }
    } else {
      p = decode_symbols<uint8_t, false>(st, st.out.bytes_.data(), st.pos, limit, litlen, dist);
      if (p == Progress::checkpoint && !st.in.can_refill_fast() && st.pos < limit) {
        p = decode_symbols<uint8_t, true>(st, st.out.bytes_.data(), st.pos, limit, litlen, dist);
      }
    }
    if (p == Progress::end_of_block) return DeflateStatus::ok;
    if (p == Progress::error) return symbol_error_;
    if (st.wide) maybe_leave_wide_mode(st);
  }
}

// The hot loop. Phases of one iteration:
//   1. refill the bit buffer (one unaligned load; the careful variant pads and checks truncation),
//   2. look up the literal/length entry (subtable only for codes longer than 11 bits),
//   3. literal (or pair of literals): store both slots unconditionally, advance by 1 or 2, loop,
//   4. end of block or invalid code: leave,
//   5. length = base + extra bits, both from the entry, consumed in one shift,
//   6. distance entry, base + extra, check it against the history in the buffer,
//   7. copy the match (16-byte strides, or a run for distance 1).
// 56 bits after a refill cover a length (15+5 bits) and a distance (15+13 bits), so one refill per
// iteration suffices.
template <typename T, bool NearEnd>
DeflateDecoder::Progress DeflateDecoder::decode_symbols(State& st, T* out, size_t& pos_ref, size_t pos_limit,
                                                        const LiteralLengthTable& litlen,
                                                        const DistanceTable& dist) {
  using namespace huffman_entry;
  BitReader in = st.in;  // a local copy lives in registers
  size_t pos = pos_ref;
  Progress result = Progress::checkpoint;
  while (pos < pos_limit) {
    if constexpr (NearEnd) {
      in.refill();
      if (in.overran()) {
        symbol_error_ = DeflateStatus::truncated_input;
        result = Progress::error;
        break;
      }
    } else {
      if (!in.can_refill_fast()) break;
      in.refill_fast();
    }
    uint64_t bits = in.bits();
    uint32_t e = litlen.primary()[bits & LiteralLengthTable::primary_mask];
    if (e & subtable) [[unlikely]] e = litlen.subtable_entry(e, bits);
    if (e & literal) {
      out[pos] = static_cast<T>((e >> payload_shift) & 0xFF);
      out[pos + 1] = static_cast<T>(e >> (payload_shift + 8));
      pos += 1 + ((e & two_literals) != 0);
      in.consume(total_bits(e));
      continue;
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
    const uint32_t length = base_plus_extra(e, bits);
    in.consume(total_bits(e));

    bits = in.bits();
    uint32_t d = dist.primary()[bits & DistanceTable::primary_mask];
    if (d & subtable) [[unlikely]] d = dist.subtable_entry(d, bits);
    if (d & exceptional) [[unlikely]] {
      symbol_error_ = DeflateStatus::invalid_distance_symbol;
      result = Progress::error;
      break;
    }
    const uint32_t distance = base_plus_extra(d, bits);
    in.consume(total_bits(d));
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
