// fastq_parser.cpp - fuzz target: the FASTQ parser in every validation mode on arbitrary text.
// The first byte picks the options (headers kept or not among them) and how the text is cut.
// The same text is parsed three times: in small buffers (records straddle them and take the
// general, record-at-a-time path), in pieces that read a straddling record again from its
// start (TextSource::next_from, as plain-file chunks are read), and as one buffer (regular
// records take the fast run); all must tell the same records, numbers, offsets, quality
// range, or the same error at the same place.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>

#include "fastq/parser.hpp"
#include "fqpipe/error.hpp"
#include "io/buffer_source.hpp"
#include "memory_source.hpp"

namespace {

// The text in pieces of `piece` bytes; a record under half a piece that runs past one is read
// again from its start with the next.
class RereadText final : public fqpipe::io::TextSource {
 public:
  RereadText(const uint8_t* data, std::size_t size, std::size_t piece) : data_(data), size_(size), piece_(piece) {}
  const fqpipe::io::TextBuffer* next() override {
    if (pos_ >= size_) return nullptr;
    const std::size_t n = std::min(piece_, size_ - pos_);
    buf_ = {reinterpret_cast<const char*>(data_) + pos_, n, pos_};
    pos_ += n;
    return &buf_;
  }
  const fqpipe::io::TextBuffer* next_from(uint64_t from) override {
    if (pos_ >= size_ || from < buf_.decoded_offset || from >= pos_ || pos_ - from > piece_ / 2) return nullptr;
    pos_ = static_cast<std::size_t>(from);
    return next();
  }
  uint64_t input_bytes_read() const noexcept override { return pos_; }

 private:
  const uint8_t* data_;
  std::size_t size_, piece_, pos_ = 0;
  fqpipe::io::TextBuffer buf_;
};

std::string parse_all(fqpipe::io::TextSource& text, const fqpipe::ReadOptions& options) {
  std::string out;
  try {
    fqpipe::fastq::FastqParser parser(text, options, "fuzz");
    fqpipe::FastqBatch batch;
    uint64_t records = 0;
    while (parser.next_batch(batch)) {
      for (const fqpipe::FastqRecord r : batch) {
        if (r.sequence.size() != r.quality.size()) __builtin_trap();
        if (!options.keep_headers && !r.header.empty()) __builtin_trap();
        ++records;
        out += std::to_string(r.record_no) + ' ' + std::to_string(r.decoded_byte) + ' ';
        out.append(r.header).append("|").append(r.sequence).append("|").append(r.quality) += '\n';
      }
    }
    if (records != parser.records()) __builtin_trap();
    out += "ok " + std::to_string(parser.quality_lo()) + ' ' + std::to_string(parser.quality_hi());
  } catch (const fqpipe::Error& e) {
    const fqpipe::ErrorPosition& at = e.position();
    out += std::string("error ") + e.what() + " record " + std::to_string(at.record_no) + " line " +
           std::to_string(at.line_no) + " byte " + std::to_string(at.decoded_byte) + " text " + at.line;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  fqpipe::ReadOptions options;
  options.check_ascii = data[0] & 1;
  options.check_quality = data[0] & 2;
  options.schema = static_cast<fqpipe::QualitySchema>((data[0] >> 2) % 6);
  options.batch_records = 1 + ((data[0] >> 5) & 3);
  options.keep_headers = !(data[0] & 0x80);
  options.max_record_bytes = 4096;
  fqpipe::fuzz::MemorySource small(data + 1, size - 1, 1 + (data[0] % 7) * 13);
  fqpipe::io::BufferSource small_buffers(small, false, 64);
  const std::string pieces = parse_all(small_buffers, options);
  RereadText reread(data + 1, size - 1, 8 + (data[0] % 5) * 29);
  const std::string reread_pieces = parse_all(reread, options);
  fqpipe::fuzz::MemorySource all(data + 1, size - 1, SIZE_MAX);
  fqpipe::io::BufferSource one_buffer(all, false, size + 64);
  const std::string whole = parse_all(one_buffer, options);
  if (pieces != whole || reread_pieces != whole) __builtin_trap();
  return 0;
}
