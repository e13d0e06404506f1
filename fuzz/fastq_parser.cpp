// fastq_parser.cpp - fuzz target: the FASTQ parser in every validation mode on arbitrary text.
// The first byte picks the options; a parse either succeeds or throws fqpipe::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fastq/parser.hpp"
#include "fqpipe/error.hpp"
#include "io/buffer_source.hpp"
#include "memory_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  fqpipe::ReadOptions options;
  options.check_ascii = data[0] & 1;
  options.check_quality = data[0] & 2;
  options.schema = static_cast<fqpipe::QualitySchema>((data[0] >> 2) % 6);
  options.batch_records = 1 + (data[0] >> 5);
  options.max_record_bytes = 4096;
  fqpipe::fuzz::MemorySource source(data + 1, size - 1, 1 + (data[0] % 7) * 13);
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
