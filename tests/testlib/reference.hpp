// testlib/reference.hpp - an independent reference for what fqpipe should read: zlib inflates
// every gzip member and a naive line splitter cuts FASTQ into records. No fqpipe code is used,
// so a test that compares fqpipe with this reference can catch a bug on either side.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fqpipe::testlib {

/// One record as the reference sees it: fields without '@', '\r' or newline.
struct RefRecord {
  std::string header;
  std::string sequence;
  std::string quality;
  uint64_t decoded_byte = 0;  ///< offset of the '@' in the decompressed text

  bool operator==(const RefRecord&) const = default;
};

/// Raised by the reference itself (damaged gzip, text that is not 4-line FASTQ).
struct ReferenceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The whole content of a file; throws ReferenceError when it cannot be read.
std::string read_file(const std::string& path);

/// True when `bytes` starts with the gzip magic 1f 8b.
bool is_gzip(std::string_view bytes);

/// Inflates every gzip member of `bytes` (zlib, windowBits 15+32) back to back. Zero bytes after
/// the last member are ignored; anything else, or a damaged/truncated member, throws.
std::string gunzip(std::string_view bytes);

/// The decompressed text of a file: gunzip() when it starts with 1f 8b, the bytes otherwise.
std::string decode_file(const std::string& path);

/// Splits FASTQ text naively into records: lines split at '\n', one trailing '\r' dropped per
/// line, blank lines at the very end ignored, then four lines per record. Throws when the
/// number of lines is not a multiple of 4 (a last record with an empty sequence keeps its empty
/// quality line) or a header/separator does not start with '@'/'+'.
std::vector<RefRecord> split_fastq(std::string_view text);

/// The records of a file: split_fastq(decode_file(path)).
std::vector<RefRecord> reference_records(const std::string& path);

/// Normalised FASTQ of records ("@header\nseq\n+\nqual\n" each).
std::string to_fastq(const std::vector<RefRecord>& records);

/// Per-line positions of a text, for computing the line/byte an error must report.
struct LineIndex {
  explicit LineIndex(std::string_view text);
  /// Decoded offset of the first byte of 1-based line `line_no`.
  uint64_t line_start(uint64_t line_no) const { return starts.at(line_no - 1); }
  std::vector<uint64_t> starts;  ///< offset of each line's first byte
};

}  // namespace fqpipe::testlib
