// record_boundary.hpp - find_record_start: where the next FASTQ record begins, seen from any byte.
// A producer that starts inside a file guesses its first record with it; seams verify the guess.
#pragma once

#include <cstddef>
#include <string_view>

namespace fqpipe::fastq {

/// The first offset p >= `from` of `text` at which a record starts, or npos.
///
/// A line beginning with '@' is not enough: quality lines may begin with '@' (Q31) or '+'
/// (Q10). p must start a line (p == 0 or text[p-1] == '\n') and the lines from p must read as
/// two consecutive records: '@' header, sequence, '+' line, quality as long as the sequence
/// ('\r' before '\n' ignored), then the same again. For valid FASTQ only true record starts
/// pass. Where `text` ends inside the second record, the lines present must agree; where only
/// blank lines or nothing follow the first, one record suffices. npos when `text` ends before
/// a first record could be judged whole. The answer is a guess all the same: callers verify it
/// against the true end of the record before (see pipeline/chunk_coordinator.hpp).
std::size_t find_record_start(std::string_view text, std::size_t from);

}  // namespace fqpipe::fastq
