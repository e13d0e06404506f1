// Dynamic block header parsing (RFC 1951 §3.2.7). The block finder calls this on every candidate
// that survives its cheap filters, so it rejects as early as it can (running Kraft sums).
#include "gzip/dynamic_header.hpp"

#include "gzip/huffman.hpp"

namespace fqpipe::gzip {
namespace {

// Order in which the code-length code lengths are stored (RFC 1951 §3.2.7).
constexpr std::array<uint8_t, 19> code_length_order = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                                       11, 4, 12, 3, 13, 2, 14, 1, 15};

DeflateStatus to_deflate_status(HuffmanStatus s) {
  switch (s) {
    case HuffmanStatus::ok: return DeflateStatus::ok;
    case HuffmanStatus::over_subscribed: return DeflateStatus::over_subscribed_code;
    case HuffmanStatus::incomplete: return DeflateStatus::incomplete_code;
  }
  return DeflateStatus::incomplete_code;
}

DeflateStatus read_header_fields(BitReader& in, DynamicHeader& out) {
  in.refill();
  const auto hlit = static_cast<unsigned>(in.peek(5));
  const auto hdist = static_cast<unsigned>(in.peek(10) >> 5);
  const auto hclen = static_cast<unsigned>(in.peek(14) >> 10);
  in.consume(14);
  if (hlit > 29 || hdist > 29) return DeflateStatus::too_many_codes;
  out.literal_count = hlit + 257;
  out.distance_count = hdist + 1;

  std::array<uint8_t, 19> cl_lengths{};
  for (unsigned i = 0; i < hclen + 4; ++i) cl_lengths[code_length_order[i]] = static_cast<uint8_t>(in.read(3));
  CodeLengthTable cl_table;
  if (const HuffmanStatus s = cl_table.build(cl_lengths); s != HuffmanStatus::ok) return to_deflate_status(s);

  // Running Kraft sums (scaled by 2^15) reject over-subscribed codes before all lengths are read.
  const unsigned total = out.literal_count + out.distance_count;
  uint32_t kraft[2] = {0, 0};
  unsigned i = 0;
  while (i < total) {
    in.refill();  // >= 56 bits: a 7-bit code and 7 repeat bits fit
    if (in.overran()) return DeflateStatus::truncated_input;
    const uint32_t e = cl_table.primary()[in.peek(7)];
    in.consume(huffman_entry::total_bits(e));
    const unsigned symbol = huffman_entry::payload(e);
    unsigned length = 0;
    unsigned repeat = 1;
    if (symbol < 16) {
      length = symbol;
    } else if (symbol == 16) {
      if (i == 0) return DeflateStatus::repeat_without_previous_length;
      length = out.lengths[i - 1];
      repeat = 3 + static_cast<unsigned>(in.peek(2));
      in.consume(2);
    } else if (symbol == 17) {
      repeat = 3 + static_cast<unsigned>(in.peek(3));
      in.consume(3);
    } else {
      repeat = 11 + static_cast<unsigned>(in.peek(7));
      in.consume(7);
    }
    if (i + repeat > total) return DeflateStatus::repeat_overflows_lengths;
    for (unsigned end = i + repeat; i < end; ++i) {
      out.lengths[i] = static_cast<uint8_t>(length);
      if (length != 0) {
        uint32_t& sum = kraft[i >= out.literal_count];
        sum += 1u << (15 - length);
        if (sum > (1u << 15)) return DeflateStatus::over_subscribed_code;
      }
    }
  }
  if (in.overran()) return DeflateStatus::truncated_input;
  if (out.lengths[256] == 0) return DeflateStatus::missing_end_of_block;
  if (kraft[0] != (1u << 15)) {
    const HuffmanStatus s = check_code_lengths(out.literal_lengths(), {.allow_single_length_one = true});
    if (s != HuffmanStatus::ok) return to_deflate_status(s);
  }
  if (kraft[1] != (1u << 15)) {
    const HuffmanStatus s =
        check_code_lengths(out.distance_lengths(), {.allow_single_length_one = true, .allow_empty = true});
    if (s != HuffmanStatus::ok) return to_deflate_status(s);
  }
  return DeflateStatus::ok;
}

}  // namespace

DeflateStatus read_dynamic_header(BitReader& in, DynamicHeader& out) {
  const DeflateStatus s = read_header_fields(in, out);
  // A verdict that used zero padding past the end of the input is about truncation, not content.
  if (s != DeflateStatus::ok && in.overran()) return DeflateStatus::truncated_input;
  return s;
}

}  // namespace fqpipe::gzip
