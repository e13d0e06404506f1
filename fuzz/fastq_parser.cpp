// fastq_parser.cpp - fuzz target: the FASTQ parser in every validation mode on arbitrary text.
// The first byte picks the options (headers kept or not among them) and how the text is cut.
// The same text is parsed twice: in small buffers (records straddle them and take the general,
// record-at-a-time path) and as one buffer (regular records take the fast run); both must tell
// the same records, numbers, offsets, quality range, or the same error at the same place.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fastq/parser.hpp"
#include "fqpipe/error.hpp"
#include "io/buffer_source.hpp"
#include "memory_source.hpp"

namespace {

std::string parse_all(const uint8_t* data, std::size_t size, const fqpipe::ReadOptions& options,
                      std::size_t step, std::size_t buffer_bytes) {
  fqpipe::fuzz::MemorySource source(data, size, step);
  fqpipe::io::BufferSource buffers(source, false, buffer_bytes);
  std::string out;
  try {
    fqpipe::fastq::FastqParser parser(buffers, options, "fuzz");
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
  const std::string pieces = parse_all(data + 1, size - 1, options, 1 + (data[0] % 7) * 13, 64);
  const std::string whole = parse_all(data + 1, size - 1, options, SIZE_MAX, size + 64);
  if (pieces != whole) __builtin_trap();
  return 0;
}
