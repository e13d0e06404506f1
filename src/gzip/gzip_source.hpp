// gzip_source.hpp - GzipSource, sequential decoding of gzip and BGZF with ISA-L.
// The single-producer path: one thread, every member's CRC32 and ISIZE verified.
#pragma once

#include <memory>
#include <string>

#include "gzip/gzip_header.hpp"
#include "io/byte_source.hpp"
#include "io/grow_buffer.hpp"

struct inflate_state;

namespace fqpipe::gzip {

/// Decodes every member of a gzip file in order. Zero bytes after the last member are
/// accepted (as gzip does, e.g. tape padding); any other trailing byte is an error.
class GzipSource final : public io::ByteSource {
 public:
  /// `raw` supplies the compressed bytes; `file` names it in errors.
  GzipSource(std::unique_ptr<io::ByteSource> raw, std::string file);
  ~GzipSource() override;

  std::size_t read(uint8_t* dst, std::size_t capacity) override;
  uint64_t input_bytes_read() const noexcept override { return raw_->input_bytes_read(); }

  /// Members completed so far.
  uint64_t members() const noexcept { return members_; }

 private:
  enum class State { header, body, trailer, done };

  bool fill(std::size_t want);            // make `want` unread bytes available; false at EOF
  std::size_t unread() const noexcept { return in_end_ - in_pos_; }
  uint64_t comp_offset() const noexcept { return in_file_base_ + in_pos_; }
  void start_member();
  void finish_member();
  void check_trailing_bytes();
  [[noreturn]] void fail(const std::string& reason, uint64_t comp_byte) const;

  std::unique_ptr<io::ByteSource> raw_;
  std::string file_;
  std::unique_ptr<inflate_state> inflate_;
  io::GrowBuffer<uint8_t> in_;    // uninitialised: zeroing 256 KiB per open showed in fuzz_gzip_stream
  std::size_t in_pos_ = 0, in_end_ = 0;
  uint64_t in_file_base_ = 0;    // file offset of in_[0]
  bool raw_eof_ = false;
  State state_ = State::header;
  uint64_t member_start_ = 0;    // file offset of the current member
  GzipHeader header_;            // the current member's header
  uint64_t member_out_ = 0;      // bytes the current member has produced
  uint64_t decoded_total_ = 0;
  uint64_t members_ = 0;
};

}  // namespace fqpipe::gzip
