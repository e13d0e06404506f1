// gzip_header.hpp - parses one gzip member header (RFC 1952 §2.3) from a byte span.
// Pure function over bytes, so it can be fuzzed and tells BGZF (the 'BC' extra field) apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fqpipe::gzip {

enum class HeaderStatus {
  ok,         ///< a complete valid header of `size` bytes
  need_more,  ///< the span ends inside the header
  invalid,    ///< not a valid gzip header; `reason` says why
};

struct GzipHeader {
  HeaderStatus status = HeaderStatus::need_more;
  std::size_t size = 0;         ///< header bytes, i.e. where the deflate data starts
  bool bgzf = false;            ///< FEXTRA holds the BGZF subfield BC with SLEN 2
  uint32_t bgzf_block_size = 0; ///< BSIZE + 1: the whole member's size in bytes, when bgzf
  const char* reason = "";      ///< static text, for status invalid
};

/// Parses the header at the start of [data, data + size).
GzipHeader parse_gzip_header(const uint8_t* data, std::size_t size) noexcept;

/// A little-endian 32-bit field (RFC 1952 §2.1: gzip stores integers least significant first).
inline uint32_t load_le32(const uint8_t* p) noexcept {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

/// What a member's 8-byte trailer (CRC32, ISIZE; RFC 1952 §2.3.1) says against what was decoded.
struct TrailerCheck {
  std::string reason;              ///< empty when the trailer agrees
  unsigned offset_in_trailer = 0;  ///< 0 for a CRC32 mismatch, 4 for an ISIZE mismatch
  bool ok() const noexcept { return reason.empty(); }
};

/// Checks the trailer at `trailer` of member `member_no` (1-based) against the CRC32 and the
/// byte count of its decoded data. The one wording of these errors, for every decoder.
TrailerCheck check_gzip_trailer(const uint8_t* trailer, uint64_t member_no, uint32_t crc,
                                uint64_t decoded_bytes);

/// For a member whose header carries the BGZF size field: the reason text when the member's
/// real size (header to end of trailer, `member_bytes`) differs from it, else "". Every decoder
/// checks it, so a damaged BGZF size is an error whatever the thread count.
std::string check_bgzf_block_size(const GzipHeader& header, uint64_t member_no, uint64_t member_bytes);

/// True when the span starts with the gzip magic 1f 8b.
inline bool has_gzip_magic(const uint8_t* data, std::size_t size) noexcept {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

}  // namespace fqpipe::gzip
