// Outcome of decoding or validating DEFLATE data (RFC 1951), one value per way input can be wrong.
// Hot loops return it; the stage boundary turns it into fqpipe::Error (STYLE §6).
#pragma once

#include <cstdint>
#include <string_view>

namespace fqpipe::gzip {

enum class [[nodiscard]] DeflateStatus : uint8_t {
  ok,
  truncated_input,                 // a block needs bits past the end of the input
  invalid_block_type,              // BTYPE = 3 (RFC 1951 §3.2.3)
  stored_length_mismatch,          // stored block LEN != ~NLEN (§3.2.4)
  too_many_codes,                  // HLIT > 29 (more than 286 codes) or HDIST > 29 (more than 30)
  over_subscribed_code,            // a code-length, literal/length or distance code is over-subscribed
  incomplete_code,                 // ... or incomplete, beyond what §3.2.7 and zlib accept
  repeat_without_previous_length,  // code-length symbol 16 as the first length
  repeat_overflows_lengths,        // a repeat runs past HLIT + 257 + HDIST + 1 lengths
  missing_end_of_block,            // code length of symbol 256 is zero
  invalid_literal_length_symbol,   // symbol 286/287, or a bit string the code leaves unassigned
  invalid_distance_symbol,         // symbol 30/31, or no distance code is defined
  distance_beyond_history,         // reference before the window (or 32 KiB before the chunk)
  output_limit_exceeded,           // the caller's output cap was reached
  cancelled,                       // the caller's cancel flag was set (DecodeLimits::cancel)
};

constexpr std::string_view to_string(DeflateStatus s) {
  switch (s) {
    case DeflateStatus::ok: return "ok";
    case DeflateStatus::truncated_input: return "truncated deflate input";
    case DeflateStatus::invalid_block_type: return "invalid deflate block type 3";
    case DeflateStatus::stored_length_mismatch: return "stored block length does not match its complement";
    case DeflateStatus::too_many_codes: return "too many literal/length or distance codes";
    case DeflateStatus::over_subscribed_code: return "over-subscribed huffman code";
    case DeflateStatus::incomplete_code: return "incomplete huffman code";
    case DeflateStatus::repeat_without_previous_length: return "code length repeat with no previous length";
    case DeflateStatus::repeat_overflows_lengths: return "code length repeat runs past the last code";
    case DeflateStatus::missing_end_of_block: return "missing end-of-block code";
    case DeflateStatus::invalid_literal_length_symbol: return "invalid literal/length symbol";
    case DeflateStatus::invalid_distance_symbol: return "invalid distance symbol";
    case DeflateStatus::distance_beyond_history: return "distance reaches before the available history";
    case DeflateStatus::output_limit_exceeded: return "decoded output exceeds the limit";
    case DeflateStatus::cancelled: return "decoding cancelled";
  }
  return "unknown deflate status";
}

}  // namespace fqpipe::gzip
