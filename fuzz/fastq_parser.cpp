// fastq_parser.cpp - fuzz target: the FASTQ parser in every validation mode on arbitrary text.
// The first byte picks the options; a parse either succeeds or throws fqpipe::Error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fastq/parser.hpp"
#include "fqpipe/error.hpp"
#include "io/buffer_source.hpp"

namespace {

class MemorySource final : public fqpipe::io::ByteSource {
 public:
  MemorySource(const uint8_t* data, std::size_t size, std::size_t step) : data_(data), size_(size), step_(step) {}
  std::size_t read(uint8_t* dst, std::size_t capacity) override {
    const std::size_t n = std::min({capacity, size_ - pos_, step_});
    std::memcpy(dst, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  uint64_t input_bytes_read() const noexcept override { return pos_; }

 private:
  const uint8_t* data_;
  std::size_t size_, pos_ = 0, step_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  fqpipe::ReadOptions options;
  options.check_ascii = data[0] & 1;
  options.check_quality = data[0] & 2;
  options.schema = static_cast<fqpipe::QualitySchema>((data[0] >> 2) % 6);
  options.batch_records = 1 + (data[0] >> 5);
  options.max_record_bytes = 4096;
  MemorySource source(data + 1, size - 1, 1 + (data[0] % 7) * 13);
  fqpipe::io::BufferSource buffers(source, false, 64);
  try {
    fqpipe::fastq::FastqParser parser(buffers, options, "fuzz");
    fqpipe::FastqBatch batch;
    uint64_t records = 0;
    while (parser.next_batch(batch)) {
      for (const fqpipe::FastqRecord r : batch) {
        if (r.sequence.size() != r.quality.size()) __builtin_trap();
        ++records;
      }
    }
    if (records != parser.records()) __builtin_trap();
  } catch (const fqpipe::Error&) {
  }
  return 0;
}
