// isal_inflater.cpp - IsalInflater: priming ISA-L's bit buffer, feeding it to a byte limit, and
// reading its state back. ISA-L keeps a header it could not finish in tmp_in_buffer (state
// ISAL_BLOCK_HDR); those bytes are not yet consumed, so the boundary lies before them.
#include "gzip/isal_inflater.hpp"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>

namespace fqpipe::gzip {

IsalInflater::IsalInflater() : state_(std::make_unique<inflate_state>()) {}
IsalInflater::~IsalInflater() = default;

void IsalInflater::start(std::span<const uint8_t> comp, uint64_t comp_bit, std::span<const uint8_t> window) {
  comp_ = comp;
  inflate_state& s = *state_;
  isal_inflate_init(&s);
  s.crc_flag = ISAL_DEFLATE;
  if (window.size() > deflate_window_size) window = window.last(deflate_window_size);
  if (!window.empty())
    isal_inflate_set_dict(&s, const_cast<uint8_t*>(window.data()), static_cast<uint32_t>(window.size()));
  const uint64_t byte = comp_bit / 8;
  const unsigned skip = comp_bit % 8;
  s.next_in = const_cast<uint8_t*>(comp.data()) + byte;
  s.avail_in = 0;
  if (skip && byte < comp.size()) {  // the rest of a partly used byte goes into the bit buffer
    s.read_in = comp[byte] >> skip;
    s.read_in_length = static_cast<int32_t>(8 - skip);
    s.next_in += 1;
  }
}

DeflateStatus IsalInflater::feed_until(uint64_t end_byte, ByteChunk& out, std::size_t max_size) {
  inflate_state& s = *state_;
  end_byte = std::min<uint64_t>(end_byte, comp_.size());
  const uint64_t at = static_cast<uint64_t>(s.next_in - comp_.data());
  s.avail_in = end_byte > at ? static_cast<uint32_t>(end_byte - at) : 0;
  for (;;) {
    if (out.size >= max_size) return DeflateStatus::ok;  // full; input may remain for the next call
    // Never past max_size: the parallel reader's 2-chunk cap (64 KiB for 32 KiB chunks) would
    // otherwise still get 4 MiB per buffer in flight.
    if (out.data.capacity() - out.size < (std::size_t{1} << 18) && out.data.capacity() < max_size)
      out.data.grow(std::min(max_size, std::max<std::size_t>(out.data.capacity() * 2, std::size_t{4} << 20)), out.size);
    s.next_out = out.data.data() + out.size;
    s.avail_out = static_cast<uint32_t>(
        std::min<std::size_t>({out.data.capacity() - out.size, max_size - out.size, UINT32_MAX}));
    const uint32_t before = s.avail_out;
    const int rc = isal_inflate(&s);
    out.size += before - s.avail_out;
    if (rc == ISAL_INVALID_LOOKBACK) return DeflateStatus::distance_beyond_history;
    if (rc == ISAL_INVALID_SYMBOL) return DeflateStatus::invalid_literal_length_symbol;
    if (rc < 0) return DeflateStatus::invalid_block_type;
    if (s.block_state == ISAL_BLOCK_FINISH) return DeflateStatus::ok;
    if (s.avail_out > 0) break;  // input exhausted (output space was left over)
  }
  if (end_byte == comp_.size() && s.block_state != ISAL_BLOCK_FINISH) return DeflateStatus::truncated_input;
  return DeflateStatus::ok;
}

DeflateStatus IsalInflater::feed_into(uint64_t end_byte, uint8_t* out, std::size_t capacity,
                                      std::size_t& produced) {
  inflate_state& s = *state_;
  end_byte = std::min<uint64_t>(end_byte, comp_.size());
  const uint64_t at = static_cast<uint64_t>(s.next_in - comp_.data());
  s.avail_in = end_byte > at ? static_cast<uint32_t>(std::min<uint64_t>(end_byte - at, UINT32_MAX)) : 0;
  while (produced < capacity) {
    s.next_out = out + produced;
    s.avail_out = static_cast<uint32_t>(std::min<std::size_t>(capacity - produced, UINT32_MAX));
    const uint32_t before = s.avail_out;
    const int rc = isal_inflate(&s);
    produced += before - s.avail_out;
    if (rc == ISAL_INVALID_LOOKBACK) return DeflateStatus::distance_beyond_history;
    if (rc == ISAL_INVALID_SYMBOL) return DeflateStatus::invalid_literal_length_symbol;
    if (rc < 0) return DeflateStatus::invalid_block_type;
    if (s.block_state == ISAL_BLOCK_FINISH) return DeflateStatus::ok;
    if (s.avail_out > 0) break;  // input exhausted (output space was left over)
  }
  if (produced < capacity && end_byte == comp_.size() && s.block_state != ISAL_BLOCK_FINISH)
    return DeflateStatus::truncated_input;
  return DeflateStatus::ok;
}

uint64_t IsalInflater::consumed_bits() const noexcept {
  return static_cast<uint64_t>(state_->next_in - comp_.data()) * 8;
}

bool IsalInflater::finished() const noexcept { return state_->block_state == ISAL_BLOCK_FINISH; }

std::optional<uint64_t> IsalInflater::boundary_bit() const noexcept {
  const inflate_state& s = *state_;
  const bool between = s.block_state == ISAL_BLOCK_NEW_HDR || s.block_state == ISAL_BLOCK_HDR ||
                       s.block_state == ISAL_BLOCK_FINISH || s.block_state == ISAL_BLOCK_INPUT_DONE;
  if (!between || s.tmp_out_valid != s.tmp_out_processed) {
    if (s.block_state != ISAL_BLOCK_FINISH) return std::nullopt;
  }
  const uint64_t consumed_bytes = static_cast<uint64_t>(s.next_in - comp_.data()) -
                                  (s.block_state == ISAL_BLOCK_HDR ? s.tmp_in_size : 0);
  return consumed_bytes * 8 - static_cast<uint64_t>(s.read_in_length);
}

}  // namespace fqpipe::gzip
