// bgzf_block_inflater.cpp - BlockInflater over ISA-L's stateless inflate (CRC computed while
// decoding) or libdeflate's whole-buffer decoder (CRC in a second pass over cached output).
#include "gzip/bgzf_block_inflater.hpp"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace fqpipe::gzip {

BlockInflater::Engine BlockInflater::engine_from_environment() noexcept {
  const char* v = std::getenv("FQPIPE_BGZF_INFLATE");
  return v && std::strcmp(v, "libdeflate") == 0 ? Engine::libdeflate : Engine::isal;
}

BlockInflater::BlockInflater(Engine engine) : engine_(engine) {
  if (engine_ == Engine::isal) {
    isal_ = std::make_unique<inflate_state>();
  } else {
    libdeflate_ = libdeflate_alloc_decompressor();
    if (!libdeflate_) throw std::bad_alloc();
  }
}

BlockInflater::~BlockInflater() {
  if (libdeflate_) libdeflate_free_decompressor(libdeflate_);
}

InflateResult BlockInflater::inflate(const uint8_t* in, std::size_t in_size, char* out,
                                     std::size_t out_capacity) {
  InflateResult r;
  if (engine_ == Engine::libdeflate) {
    const libdeflate_result rc = libdeflate_deflate_decompress_ex(
        libdeflate_, in, in_size, out, out_capacity, &r.in_used, &r.out_size);
    if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) r.status = InflateStatus::output_overflow;
    if (rc != LIBDEFLATE_SUCCESS) return r;
    r.crc = libdeflate_crc32(0, out, r.out_size);
    r.status = InflateStatus::ok;
    return r;
  }
  inflate_state& s = *isal_;
  isal_inflate_init(&s);
  s.crc_flag = ISAL_GZIP_NO_HDR;  // raw deflate, CRC32 of the output kept in s.crc
  s.next_in = const_cast<uint8_t*>(in);
  s.avail_in = static_cast<uint32_t>(in_size);
  s.next_out = reinterpret_cast<uint8_t*>(out);
  s.avail_out = static_cast<uint32_t>(out_capacity);
  const int rc = isal_inflate_stateless(&s);
  if (rc == ISAL_OUT_OVERFLOW) r.status = InflateStatus::output_overflow;
  if (rc != ISAL_DECOMP_OK) return r;
  // ISA-L loads input 8 bytes at a time; whole bytes still in its bit buffer were not used.
  const std::size_t buffered = static_cast<std::size_t>(s.read_in_length) / 8;
  r.in_used = static_cast<std::size_t>(s.next_in - in) - buffered;
  r.out_size = out_capacity - s.avail_out;
  r.crc = s.crc;
  r.status = InflateStatus::ok;
  return r;
}

}  // namespace fqpipe::gzip
