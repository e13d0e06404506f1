// gzip_header.cpp - RFC 1952 member header: magic, method, flags, FEXTRA/FNAME/FCOMMENT/FHCRC.
// Reserved flag bits and a wrong header CRC are errors, as in gzip itself.
#include "gzip/gzip_header.hpp"

#include <zlib.h>

#include <cstdio>
#include <initializer_list>

namespace fqpipe::gzip {
namespace {

constexpr uint8_t kFhcrc = 0x02, kFextra = 0x04, kFname = 0x08, kFcomment = 0x10;
constexpr uint8_t kReservedFlags = 0xe0;

GzipHeader invalid(const char* reason) {
  GzipHeader h;
  h.status = HeaderStatus::invalid;
  h.reason = reason;
  return h;
}

// BGZF (SAM spec §4.1): subfield SI1='B' SI2='C' SLEN=2 carrying BSIZE = member size - 1.
void find_bgzf_field(const uint8_t* extra, std::size_t xlen, GzipHeader& h) {
  std::size_t i = 0;
  while (i + 4 <= xlen) {
    const std::size_t slen = extra[i + 2] | (extra[i + 3] << 8);
    if (i + 4 + slen > xlen) return;
    if (extra[i] == 'B' && extra[i + 1] == 'C' && slen == 2) {
      h.bgzf = true;
      h.bgzf_block_size = (extra[i + 4] | (extra[i + 5] << 8)) + 1u;
      return;
    }
    i += 4 + slen;
  }
}

}  // namespace

GzipHeader parse_gzip_header(const uint8_t* data, std::size_t size) noexcept {
  GzipHeader h;
  if (size < 10) {
    if ((size >= 1 && data[0] != 0x1f) || (size >= 2 && data[1] != 0x8b))
      return invalid("not a gzip member (bad magic bytes)");
    return h;  // need_more
  }
  if (data[0] != 0x1f || data[1] != 0x8b) return invalid("not a gzip member (bad magic bytes)");
  if (data[2] != 8) return invalid("unsupported gzip compression method (expected 8, deflate)");
  const uint8_t flags = data[3];
  if (flags & kReservedFlags) return invalid("reserved gzip header flag bits are set");
  std::size_t pos = 10;
  if (flags & kFextra) {
    if (size < pos + 2) return h;
    const std::size_t xlen = data[pos] | (data[pos + 1] << 8);
    pos += 2;
    if (size < pos + xlen) return h;
    find_bgzf_field(data + pos, xlen, h);
    pos += xlen;
  }
  for (const uint8_t field : {kFname, kFcomment}) {
    if (!(flags & field)) continue;
    while (pos < size && data[pos] != 0) ++pos;
    if (pos >= size) return GzipHeader{};  // need_more
    ++pos;                                 // the terminating zero
  }
  if (flags & kFhcrc) {
    if (size < pos + 2) return GzipHeader{};
    const uint32_t crc = static_cast<uint32_t>(crc32(0, data, static_cast<uInt>(pos)));
    const uint32_t stored = data[pos] | (data[pos + 1] << 8);
    if ((crc & 0xffff) != stored) return invalid("gzip header crc16 mismatch");
    pos += 2;
  }
  h.status = HeaderStatus::ok;
  h.size = pos;
  return h;
}

std::string check_bgzf_block_size(const GzipHeader& header, uint64_t member_no, uint64_t member_bytes) {
  if (!header.bgzf || header.bgzf_block_size == member_bytes) return {};
  return "bgzf block size field of gzip member " + std::to_string(member_no) + " says " +
         std::to_string(header.bgzf_block_size) + " bytes, the member takes " + std::to_string(member_bytes);
}

TrailerCheck check_gzip_trailer(const uint8_t* trailer, uint64_t member_no, uint32_t crc,
                                uint64_t decoded_bytes) {
  TrailerCheck check;
  const uint32_t stored_crc = load_le32(trailer);
  const uint32_t stored_isize = load_le32(trailer + 4);
  const std::string member = "gzip member " + std::to_string(member_no);
  if (stored_crc != crc) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "crc32 mismatch in %s: stored %08x, computed %08x", member.c_str(),
                  stored_crc, crc);
    check.reason = msg;
  } else if (stored_isize != static_cast<uint32_t>(decoded_bytes)) {
    check.reason = "isize mismatch in " + member + ": stored " + std::to_string(stored_isize) +
                   ", decoded " + std::to_string(static_cast<uint32_t>(decoded_bytes)) + " (mod 2^32)";
    check.offset_in_trailer = 4;
  }
  return check;
}

}  // namespace fqpipe::gzip
