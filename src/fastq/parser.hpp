// parser.hpp - FastqParser, the 4-line FASTQ state machine over buffers of decoded text.
// Records inside a buffer are parsed in place; only a record that straddles two buffers is
// assembled in a carry buffer first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fqpipe/batch.hpp"
#include "fqpipe/reader.hpp"
#include "io/text_source.hpp"

namespace fqpipe::fastq {

/// The lines of one record, '\n' and '\r' excluded (the parser's working state, in the header
/// because parser.cpp's record loops outside the class fill it too).
struct RecordLines {
  const char* line[4];
  std::size_t len[4];
  std::size_t count;      // lines found (4 for a complete record)
  const char* start;      // the record's first byte...
  uint64_t start_offset;  // ...and its decoded offset
  bool fast;                 // split_predicted() found it: header and sequence are
  uint8_t qual_lo, qual_hi;  // printable ascii, and the quality's byte range is known
};

/// Parses records in order, validating as configured. Throws fqpipe::Error (kind data) naming
/// the record, line and decompressed byte offset.
class FastqParser {
 public:
  /// Parses `source`; its first record is number `first_record_no` of the input (errors and
  /// batches are numbered from there, lines from 4 * (first_record_no - 1) + 1).
  FastqParser(io::TextSource& source, const ReadOptions& options, std::string file,
              uint64_t first_record_no = 1);

  /// Makes the end of `source` the end of a piece of the input, not of the input: a record cut
  /// off there is left unfinished instead of reported as truncated. See unfinished_offset().
  void set_open_end() noexcept { open_end_ = true; }
  /// After the end was reached with set_open_end(): the decoded offset of the first byte that
  /// belongs to no record handed out (a cut-off record or pending blank lines), or the end of
  /// the source when every byte was used.
  uint64_t unfinished_offset() const noexcept;

  /// Fills `batch` (cleared first) with up to options.batch_records records; false at the end.
  bool next_batch(FastqBatch& batch);
  /// Counts up to `max_records` further records and their bases without copying them;
  /// returns the number counted (0 at the end). Checks the same as next_batch().
  uint64_t count(uint64_t max_records, uint64_t& bases);

  /// Number of the last record handed out (first_record_no - 1 before the first).
  uint64_t records() const noexcept { return next_record_no_ - 1; }
  /// Smallest / largest quality byte seen so far (lo > hi when none).
  uint8_t quality_lo() const noexcept { return qual_lo_; }
  uint8_t quality_hi() const noexcept { return qual_hi_; }

 private:
  template <class Sink>
  void parse(Sink& sink);
  template <class Sink>
  void take_regular_records(Sink& sink);
  template <class Sink>
  void run_regular_records(Sink& sink);
  void take_buffer(const io::TextBuffer* b);
  bool read_again_from(uint64_t offset);
  bool next_record(RecordLines& r);
  static bool split_predicted(const char* p, const char* end, const char*& next, RecordLines& r);
  bool complete_carry(RecordLines& r);
  bool finish_at_end(RecordLines& r);
  void validate(const RecordLines& r);
  void check_bytes(const RecordLines& r);
  [[noreturn]] void fail(const RecordLines& r, std::size_t line, const std::string& reason) const;
  [[noreturn]] void fail_blank_line() const;
  void check_record_size(const char* start, std::size_t size, uint64_t offset) const;
  [[noreturn]] void fail_not_printable(const RecordLines& r, std::size_t line, uint8_t lowest) const;

  io::TextSource& source_;
  ReadOptions options_;
  std::string file_;
  const io::TextBuffer* buf_ = nullptr;  // current buffer; records at buf_->data[pos_] on
  std::size_t pos_ = 0;
  std::size_t runs_past_from_ = 0;       // a record starting at or after it runs past buf_
  bool at_end_ = false;
  bool open_end_ = false;
  uint64_t end_offset_ = 0;              // decoded offset just past the last buffer taken
  std::vector<char> carry_;              // a record straddling buffers, as far as read
  uint64_t carry_offset_ = 0;
  std::size_t carry_lines_ = 0;          // newlines in carry_
  uint64_t next_record_no_ = 1;
  // A blank line is fine only if nothing but blank lines follows: remember the first one.
  bool blank_pending_ = false;
  uint64_t blank_offset_ = 0;
  uint8_t qual_lo_ = 255, qual_hi_ = 0;
  QualityRange qual_range_;
};

}  // namespace fqpipe::fastq
