// gzip_header.hpp - parses one gzip member header (RFC 1952 §2.3) from a byte span.
// Pure function over bytes, so it can be fuzzed and tells BGZF (the 'BC' extra field) apart.
#pragma once

#include <cstddef>
#include <cstdint>

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

/// True when the span starts with the gzip magic 1f 8b.
inline bool has_gzip_magic(const uint8_t* data, std::size_t size) noexcept {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

}  // namespace fqpipe::gzip
