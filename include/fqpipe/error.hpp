// fqpipe/error.hpp - the one exception type fqpipe throws, and how it prints.
// Every failure that reaches a caller is an fqpipe::Error carrying the position it happened at.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fqpipe {

/// What kind of failure an Error reports; the CLI maps it to an exit code
/// (data: 1, usage and io: 2).
enum class ErrorKind {
  data,   ///< malformed FASTQ, damaged or truncated compressed data (exit 1)
  io,     ///< a file that cannot be opened or read (exit 2)
  usage,  ///< bad options or arguments (exit 2)
};

/// Where an error happened. Fields that are not known stay at their defaults
/// (0 for the 1-based counters, -1 for offsets).
struct ErrorPosition {
  std::string file;               ///< path as given by the user ("-" for stdin)
  uint64_t record_no = 0;         ///< 1-based number of the record, 0 when not in a record
  uint64_t line_no = 0;           ///< 1-based line number in the decompressed text, 0 if unknown
  int64_t decoded_byte = -1;      ///< offset in the decompressed text of the offending line
  int64_t comp_byte = -1;         ///< offset in the compressed file, where known
  std::string line;               ///< the offending line, cut at 200 bytes, without newline
};

/// The exception type of fqpipe. what() is the full one-line message in the CLI's form:
///   "reads.fq.gz: record 1234 (line 4936, byte 567890): quality length 149 != sequence length 150"
/// The offending line, if any, is kept separately in position().line.
class Error : public std::runtime_error {
 public:
  /// Builds an error; `reason` is lowercase, says expected vs found and has no trailing period.
  Error(ErrorKind kind, std::string reason, ErrorPosition where = {});

  ErrorKind kind() const noexcept { return kind_; }
  /// The reason alone, without the position prefix.
  const std::string& reason() const noexcept { return reason_; }
  const ErrorPosition& position() const noexcept { return where_; }

 private:
  ErrorKind kind_;
  std::string reason_;
  ErrorPosition where_;
};

/// Cuts `line` to at most 200 bytes for ErrorPosition::line.
std::string error_excerpt(const char* begin, std::size_t length);

}  // namespace fqpipe
