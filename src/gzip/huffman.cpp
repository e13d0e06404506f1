// Builds the canonical Huffman tables of huffman.hpp. Building runs once per dynamic block (about
// every 16-64 KiB of output), so it favours simple passes over cleverness.
#include "gzip/huffman.hpp"

#include <algorithm>
#include <cassert>

namespace fqpipe::gzip {
namespace {

constexpr unsigned max_code_length = 15;  // RFC 1951 §3.2.7

// Kraft sum scaled by 2^15: a complete code sums to exactly 2^15.
struct KraftCount {
  std::array<uint16_t, max_code_length + 1> count_by_length{};
  uint32_t scaled_sum = 0;
  unsigned used_symbols = 0;
  unsigned longest = 0;
};

KraftCount count_lengths(std::span<const uint8_t> lengths) {
  KraftCount k;
  for (const uint8_t len : lengths) {
    ++k.count_by_length[len];
    if (len != 0) {
      k.scaled_sum += 1u << (max_code_length - len);
      ++k.used_symbols;
      k.longest = std::max<unsigned>(k.longest, len);
    }
  }
  return k;
}

HuffmanStatus judge(const KraftCount& k, CodeRules rules) {
  constexpr uint32_t complete = 1u << max_code_length;
  if (k.scaled_sum > complete) return HuffmanStatus::over_subscribed;
  if (k.scaled_sum == complete) return HuffmanStatus::ok;
  if (k.used_symbols == 0 && rules.allow_empty) return HuffmanStatus::ok;
  if (k.used_symbols == 1 && k.longest == 1 && rules.allow_single_length_one) return HuffmanStatus::ok;
  return HuffmanStatus::incomplete;
}

uint32_t reverse_bits(uint32_t code, unsigned length) {
  uint32_t reversed = 0;
  for (unsigned i = 0; i < length; ++i) {
    reversed = (reversed << 1) | (code & 1);
    code >>= 1;
  }
  return reversed;
}

uint32_t make_entry(unsigned code_length, unsigned extra_bits, uint32_t flags, uint32_t payload) {
  // The decoder shifts by the whole entry (count modulo 64): bit 5 must stay clear.
  assert(code_length + extra_bits < 32 && !(flags & 0x20));
  return (code_length + extra_bits) | (code_length << huffman_entry::code_length_shift) | flags |
         (payload << huffman_entry::payload_shift);
}

// Length symbols 257..285 (RFC 1951 §3.2.5) as base and extra bits; distances: distance_code().
struct BaseAndExtra {
  uint32_t base;
  unsigned extra;
};

BaseAndExtra length_symbol(unsigned symbol) {
  const unsigned i = symbol - 257;
  if (i < 8) return {3 + i, 0};
  if (i == 28) return {258, 0};
  const unsigned extra = i / 4 - 1;
  return {((4 + i % 4) << extra) + 3, extra};
}

}  // namespace

HuffmanStatus check_code_lengths(std::span<const uint8_t> lengths, CodeRules rules) {
  return judge(count_lengths(lengths), rules);
}

template <unsigned PrimaryBits, unsigned MaxEntries>
template <typename SymbolEntry>
HuffmanStatus HuffmanTable<PrimaryBits, MaxEntries>::build_entries(std::span<const uint8_t> lengths,
                                                                    CodeRules rules,
                                                                    SymbolEntry symbol_entry) {
  const KraftCount k = count_lengths(lengths);
  if (const HuffmanStatus s = judge(k, rules); s != HuffmanStatus::ok) return s;

  constexpr uint32_t primary_size = 1u << PrimaryBits;
  if (k.scaled_sum != (1u << max_code_length)) {
    // An accepted incomplete code leaves bit strings unassigned; they must decode as invalid.
    std::fill_n(entries_.begin(), primary_size, huffman_entry::exceptional | huffman_entry::invalid);
  }

  // Canonical codes: within a length, consecutive values in symbol order (RFC 1951 §3.2.2).
  std::array<uint32_t, max_code_length + 2> next_code{};
  for (unsigned len = 1; len <= max_code_length; ++len) {
    next_code[len + 1] = (next_code[len] + k.count_by_length[len]) << 1;
  }

  // Subtable size per primary index = 2^(longest code under that prefix - PrimaryBits).
  std::array<uint8_t, primary_size> longest_under_prefix{};
  std::array<uint16_t, max_code_length + 2> code_cursor = {};
  for (unsigned len = 1; len <= max_code_length; ++len) code_cursor[len] = static_cast<uint16_t>(next_code[len]);
  if (k.longest > PrimaryBits) {
    auto cursor = code_cursor;
    for (size_t symbol = 0; symbol < lengths.size(); ++symbol) {
      const unsigned len = lengths[symbol];
      if (len <= PrimaryBits) continue;
      const uint32_t prefix = reverse_bits(cursor[len]++, len) & (primary_size - 1);
      longest_under_prefix[prefix] = std::max<uint8_t>(longest_under_prefix[prefix], static_cast<uint8_t>(len));
    }
  }

  // Subtables are laid out in prefix order; the pointers are written before any symbol entry.
  if (k.longest > PrimaryBits) {
    uint32_t next_free = primary_size;
    for (uint32_t prefix = 0; prefix < primary_size; ++prefix) {
      if (longest_under_prefix[prefix] == 0) continue;
      const unsigned index_bits = longest_under_prefix[prefix] - PrimaryBits;
      if (next_free + (1u << index_bits) > MaxEntries) return HuffmanStatus::over_subscribed;  // unreachable
      entries_[prefix] = huffman_entry::exceptional | huffman_entry::subtable |
                         (index_bits << huffman_entry::code_length_shift) |
                         (next_free << huffman_entry::payload_shift);
      next_free += 1u << index_bits;
    }
  }

  for (size_t symbol = 0; symbol < lengths.size(); ++symbol) {
    const unsigned len = lengths[symbol];
    if (len == 0) continue;
    const uint32_t reversed = reverse_bits(code_cursor[len]++, len);
    const uint32_t entry = symbol_entry(static_cast<unsigned>(symbol), len);
    if (len <= PrimaryBits) {
      for (uint32_t i = reversed; i < primary_size; i += 1u << len) entries_[i] = entry;
      continue;
    }
    const uint32_t prefix = reversed & (primary_size - 1);
    const unsigned index_bits = longest_under_prefix[prefix] - PrimaryBits;
    const uint32_t start = huffman_entry::payload(entries_[prefix]);
    for (uint32_t i = reversed >> PrimaryBits; i < (1u << index_bits); i += 1u << (len - PrimaryBits)) {
      entries_[start + i] = entry;
    }
  }
  return HuffmanStatus::ok;
}

HuffmanStatus LiteralLengthTable::build(std::span<const uint8_t> lengths) {
  assert(lengths.size() >= 257 && lengths.size() <= 288);
  const HuffmanStatus s = build_entries(lengths, {.allow_single_length_one = true}, [](unsigned symbol, unsigned len) {
    using namespace huffman_entry;
    if (symbol < 256) return make_entry(len, 0, literal, symbol);
    if (symbol == 256) return make_entry(len, 0, exceptional | end_of_block, 0);
    if (symbol >= 286) return make_entry(len, 0, exceptional | invalid, symbol);  // fixed code only
    const BaseAndExtra b = length_symbol(symbol);
    return make_entry(len, b.extra, 0, b.base);
  });
  if (s == HuffmanStatus::ok) pair_literals();
  return s;
}

// A primary entry for literal A of length la may also hold the next literal B when B's code (lb
// bits) lies entirely within the primary_bits - la bits that follow: both decode from one lookup.
void LiteralLengthTable::pair_literals() {
  using namespace huffman_entry;
  constexpr uint32_t primary_size = 1u << primary_bits;
  std::array<uint32_t, primary_size> single;
  std::copy_n(entries_.begin(), primary_size, single.begin());
  for (uint32_t i = 0; i < primary_size; ++i) {
    const uint32_t first = single[i];
    if (!(first & literal)) continue;
    const unsigned first_len = code_length(first);
    const uint32_t second = single[i >> first_len];
    if (!(second & literal) || code_length(second) > primary_bits - first_len) continue;
    const unsigned both = first_len + code_length(second);
    entries_[i] = both | (both << code_length_shift) | literal | two_literals |
                  ((payload(first) | (payload(second) << 8)) << payload_shift);
  }
}

void LiteralLengthTable::add_distances(const DistanceTable& dist) {
  using namespace huffman_entry;
  constexpr uint32_t primary_size = 1u << primary_bits;
  for (uint32_t i = 0; i < primary_size; ++i) {
    const uint32_t e = entries_[i];
    if (e & (literal | exceptional | whole_match)) continue;
    const unsigned length_bits = total_bits(e);  // the length code and its extra bits
    if (length_bits >= primary_bits) continue;
    // The distance code starts at bit length_bits of the index; only primary_bits - length_bits
    // of it are known here, so it qualifies only if it is no longer than that.
    const uint32_t d = dist.primary()[(i >> length_bits) & DistanceTable::primary_mask];
    if (d & exceptional) continue;  // invalid, or longer than the distance primary bits
    const unsigned prefix = length_bits + code_length(d);
    if (prefix > primary_bits) continue;
    const unsigned extra = total_bits(d) - code_length(d);
    const uint32_t base = payload(d);
    // Distance symbol from its base and extra bits (the inverse of distance_code()).
    const uint32_t symbol = extra == 0 ? base - 1 : 2 * (extra + 1) + (((base - 1) >> extra) - 2);
    assert(distance_code(symbol).base == base && distance_code(symbol).extra == extra);
    const uint32_t length = base_plus_extra(e, i);
    entries_[i] = (prefix + extra) | (prefix << code_length_shift) | whole_match |
                  ((length | (symbol << 9)) << payload_shift);
  }
}

HuffmanStatus DistanceTable::build(std::span<const uint8_t> lengths) {
  assert(!lengths.empty() && lengths.size() <= 32);
  return build_entries(lengths, {.allow_single_length_one = true, .allow_empty = true},
                       [](unsigned symbol, unsigned len) {
                         using namespace huffman_entry;
                         if (symbol >= 30) return make_entry(len, 0, exceptional | invalid, symbol);
                         const DistanceCode b = distance_code(symbol);
                         return make_entry(len, b.extra, 0, b.base);
                       });
}

HuffmanStatus CodeLengthTable::build(std::span<const uint8_t> lengths) {
  assert(lengths.size() == 19);
  return build_entries(lengths, {}, [](unsigned symbol, unsigned len) { return make_entry(len, 0, 0, symbol); });
}

const LiteralLengthTable& fixed_literal_length_table() {
  static const LiteralLengthTable table = [] {
    std::array<uint8_t, 288> lengths{};
    std::fill(lengths.begin(), lengths.begin() + 144, 8);
    std::fill(lengths.begin() + 144, lengths.begin() + 256, 9);
    std::fill(lengths.begin() + 256, lengths.begin() + 280, 7);
    std::fill(lengths.begin() + 280, lengths.end(), 8);
    LiteralLengthTable t;
    [[maybe_unused]] const HuffmanStatus s = t.build(lengths);
    assert(s == HuffmanStatus::ok);
    t.add_distances(fixed_distance_table());
    return t;
  }();
  return table;
}

const DistanceTable& fixed_distance_table() {
  static const DistanceTable table = [] {
    std::array<uint8_t, 32> lengths;
    lengths.fill(5);
    DistanceTable t;
    [[maybe_unused]] const HuffmanStatus s = t.build(lengths);
    assert(s == HuffmanStatus::ok);
    return t;
  }();
  return table;
}

}  // namespace fqpipe::gzip
