// parser.hpp - FastqParser, the 4-line FASTQ state machine that fills FastqBatches from bytes.
// It owns one growable buffer; records are located with memchr and copied into the batch arenas.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fqpipe/batch.hpp"
#include "fqpipe/reader.hpp"
#include "io/byte_source.hpp"

namespace fqpipe::fastq {

/// Parses records from a ByteSource of decompressed text, in order, validating as configured.
/// Throws fqpipe::Error (kind data) naming the record, line and decompressed byte offset.
class FastqParser {
 public:
  FastqParser(io::ByteSource& source, const ReadOptions& options, std::string file);

  /// Fills `batch` (cleared first) with up to options.batch_records records; false at the end.
  bool next_batch(FastqBatch& batch);

  uint64_t records() const noexcept { return next_record_no_ - 1; }
  /// Smallest / largest quality byte seen so far (lo > hi when none).
  uint8_t quality_lo() const noexcept { return qual_lo_; }
  uint8_t quality_hi() const noexcept { return qual_hi_; }

 private:
  // The four lines of one record, '\n' and '\r' excluded; `next` is where the next record starts.
  struct RecordLines {
    const char* line[4];
    std::size_t len[4];
    std::size_t count;  // lines found (4 for a complete record)
    std::size_t next;   // buffer index after the record
  };

  bool next_record(RecordLines& r);
  bool split_lines(RecordLines& r) const;
  bool only_blank_lines_remain();
  bool refill();
  void validate(const RecordLines& r);
  [[noreturn]] void fail(const RecordLines& r, int line, const std::string& reason) const;

  io::ByteSource& source_;
  ReadOptions options_;
  std::string file_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;  // unparsed bytes are buf_[pos_, end_)
  uint64_t buf_offset_ = 0;        // decoded offset of buf_[0]
  bool eof_ = false;
  uint64_t next_record_no_ = 1;
  uint8_t qual_lo_ = 255, qual_hi_ = 0;
  QualityRange qual_range_;
};

}  // namespace fqpipe::fastq
