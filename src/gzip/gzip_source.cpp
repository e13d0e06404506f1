// gzip_source.cpp - GzipSource: header parse, ISA-L inflate of the body, trailer check.
// ISA-L runs in raw-deflate-with-CRC mode so we read headers and trailers ourselves and can
// tell exactly where each member ends (bits ISA-L buffered past the end are given back).
#include "gzip/gzip_source.hpp"

#include <isa-l/igzip_lib.h>

#include <cstring>

#include "fqpipe/error.hpp"
#include "gzip/gzip_header.hpp"

namespace fqpipe::gzip {
namespace {

constexpr std::size_t kInputBuffer = std::size_t{1} << 18;

const char* isal_reason(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid deflate distance (reaches before the stream start)";
    default: return "invalid deflate data";
  }
}

}  // namespace

GzipSource::GzipSource(std::unique_ptr<io::ByteSource> raw, std::string file)
    : raw_(std::move(raw)), file_(std::move(file)), inflate_(std::make_unique<inflate_state>()) {
  in_.grow(kInputBuffer);
}

GzipSource::~GzipSource() = default;

void GzipSource::fail(const std::string& reason, uint64_t comp_byte) const {
  ErrorPosition at;
  at.file = file_;
  at.decoded_byte = static_cast<int64_t>(decoded_total_);
  at.comp_byte = static_cast<int64_t>(comp_byte);
  throw Error(ErrorKind::data, reason, at);
}

bool GzipSource::fill(std::size_t want) {
  if (unread() >= want) return true;
  if (in_pos_ > 0) {  // compact: keep unread bytes at the front
    std::memmove(in_.data(), in_.data() + in_pos_, unread());
    in_file_base_ += in_pos_;
    in_end_ -= in_pos_;
    in_pos_ = 0;
  }
  in_.grow(want, in_end_);
  while (unread() < want && !raw_eof_) {
    const std::size_t n = raw_->read(in_.data() + in_end_, in_.capacity() - in_end_);
    if (n == 0) raw_eof_ = true;
    in_end_ += n;
  }
  return unread() >= want;
}

void GzipSource::start_member() {
  std::size_t want = 10;
  for (;;) {
    const bool enough = fill(want);
    const GzipHeader h = parse_gzip_header(in_.data() + in_pos_, unread());
    if (h.status == HeaderStatus::invalid) fail(h.reason, comp_offset());
    if (h.status == HeaderStatus::ok) {
      member_start_ = comp_offset();
      header_ = h;
      in_pos_ += h.size;
      break;
    }
    if (!enough || (raw_eof_ && unread() < want)) fail("truncated gzip header", comp_offset());
    want = unread() + 4096;
  }
  isal_inflate_init(inflate_.get());
  inflate_->crc_flag = ISAL_GZIP_NO_HDR;  // raw deflate; ISA-L keeps the CRC32 of the output
  member_out_ = 0;
  state_ = State::body;
}

void GzipSource::finish_member() {
  // ISA-L may have pulled bytes past the final block into its bit buffer: give them back.
  const std::size_t buffered = static_cast<std::size_t>(inflate_->read_in_length) / 8;
  in_pos_ = static_cast<std::size_t>(inflate_->next_in - in_.data()) - buffered;
  if (!fill(8)) fail("truncated gzip trailer (stream ends inside the crc32/isize)", comp_offset());
  const TrailerCheck check = check_gzip_trailer(in_.data() + in_pos_, members_ + 1, inflate_->crc, member_out_);
  if (!check.ok()) fail(check.reason, comp_offset() + check.offset_in_trailer);
  in_pos_ += 8;
  const std::string size_error = check_bgzf_block_size(header_, members_ + 1, comp_offset() - member_start_);
  if (!size_error.empty()) fail(size_error, member_start_);
  ++members_;
  state_ = State::trailer;
}

void GzipSource::check_trailing_bytes() {
  // After a member: another member, end of file, or zero padding up to end of file.
  for (;;) {
    if (!fill(1)) { state_ = State::done; return; }
    if (in_.data()[in_pos_] == 0x1f) { state_ = State::header; return; }
    for (std::size_t i = in_pos_; i < in_end_; ++i)
      if (in_.data()[i] != 0)
        fail("trailing garbage after gzip member " + std::to_string(members_), in_file_base_ + i);
    in_pos_ = in_end_;  // all zero so far; keep looking until end of file
  }
}

std::size_t GzipSource::read(uint8_t* dst, std::size_t capacity) {
  while (capacity > 0) {
    switch (state_) {
      case State::done: return 0;
      case State::header: start_member(); break;
      case State::trailer: check_trailing_bytes(); break;
      case State::body: {
        if (unread() == 0) fill(1);
        inflate_state& s = *inflate_;
        s.next_in = in_.data() + in_pos_;
        s.avail_in = static_cast<uint32_t>(unread());
        s.next_out = dst;
        s.avail_out = static_cast<uint32_t>(capacity > UINT32_MAX ? UINT32_MAX : capacity);
        const uint32_t out_before = s.avail_out;
        const int rc = isal_inflate(&s);
        if (rc < 0) fail(isal_reason(rc), comp_offset());
        in_pos_ = static_cast<std::size_t>(s.next_in - in_.data());
        const std::size_t produced = out_before - s.avail_out;
        member_out_ += produced;
        decoded_total_ += produced;
        if (s.block_state == ISAL_BLOCK_FINISH) finish_member();
        if (produced > 0) return produced;
        if (state_ == State::body && unread() == 0 && raw_eof_)
          fail("truncated gzip member (compressed data ends before the final deflate block)",
               comp_offset());
        break;
      }
    }
  }
  return 0;
}

}  // namespace fqpipe::gzip
