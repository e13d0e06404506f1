// testlib/fastq_gen.hpp - a deterministic random FASTQ generator for tests. The same options and
// seed always give the same bytes, so a failure reproduces; the generator also returns the
// records it wrote, which tests may compare with both fqpipe and the reference splitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "testlib/reference.hpp"

namespace fqpipe::testlib {

struct GenOptions {
  uint64_t seed = 1;
  std::size_t records = 1000;
  std::size_t min_length = 0;    ///< shortest sequence (0 allowed)
  std::size_t max_length = 150;  ///< longest sequence (inclusive)
  bool crlf = false;             ///< end every line with "\r\n"
  /// Fraction (0..1) of records whose '+' line repeats the header.
  double plus_repeats_name = 0.0;
  /// Quality bytes are drawn uniformly from [qual_lo, qual_hi].
  char qual_lo = '!';
  char qual_hi = 'J';
  /// Fraction of records whose quality line starts with '@' or '+' (half each), when the
  /// length allows; the byte is used even if outside [qual_lo, qual_hi].
  double qual_starts_special = 0.0;
  /// Leave out the newline after the last record's quality line.
  bool no_final_newline = false;
  /// Fraction of headers that carry a comment after a space ("r12 1:N:0:ACGT len=…").
  double header_comments = 0.0;
  /// Fraction of sequence bytes that are N, and fraction written in lowercase.
  double n_fraction = 0.01;
  double lowercase_fraction = 0.0;
  /// Prefix of every read name; names are prefix + record number (1-based).
  std::string name_prefix = "read";
};

struct Generated {
  std::string text;                ///< the FASTQ bytes
  std::vector<RefRecord> records;  ///< what was written (header without '@', no line ends)
};

/// Generates FASTQ text and the records in it.
Generated generate_fastq(const GenOptions& options);

}  // namespace fqpipe::testlib
