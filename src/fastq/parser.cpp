// parser.cpp - FastqParser: find four lines, validate them, hand them to a sink (batch or count).
// One state per record (kseq's shape); every error names record, line and decoded byte offset.
#include "fastq/parser.hpp"

#include <algorithm>
#include <cstring>

#include "fqpipe/error.hpp"

namespace fqpipe::fastq {
namespace {

using Bytes16 = uint8_t __attribute__((vector_size(16)));

inline Bytes16 load16(const char* p) {
  Bytes16 v;
  std::memcpy(&v, p, 16);
  return v;
}

// Smallest and largest byte of a line. GCC vector types (SSE2 here, NEON elsewhere): 16 bytes
// a step, the tail as one overlapping load, then a 4-step halving reduction. Lines of 150 bytes
// cost ~40 instructions, against ~3x that for the auto-vectorised scalar loop with its epilogue.
inline void byte_range(const char* p, std::size_t n, uint8_t& lo, uint8_t& hi) {
  if (n < 16) {
    uint8_t l = 255, h = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto b = static_cast<uint8_t>(p[i]);
      l = b < l ? b : l;
      h = b > h ? b : h;
    }
    lo = l;
    hi = h;
    return;
  }
  Bytes16 vlo = load16(p), vhi = vlo;
  for (std::size_t i = 16; i < n; i += 16) {
    const Bytes16 v = load16(p + (i + 16 <= n ? i : n - 16));
    vlo = v < vlo ? v : vlo;
    vhi = v > vhi ? v : vhi;
  }
  auto fold = [&](Bytes16 slo, Bytes16 shi) {
    vlo = slo < vlo ? slo : vlo;
    vhi = shi > vhi ? shi : vhi;
  };
  fold(__builtin_shufflevector(vlo, vlo, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7),
       __builtin_shufflevector(vhi, vhi, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  fold(__builtin_shufflevector(vlo, vlo, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3),
       __builtin_shufflevector(vhi, vhi, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  fold(__builtin_shufflevector(vlo, vlo, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1),
       __builtin_shufflevector(vhi, vhi, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
  fold(__builtin_shufflevector(vlo, vlo, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0),
       __builtin_shufflevector(vhi, vhi, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  lo = vlo[0];
  hi = vhi[0];
}

std::string show_byte(uint8_t b) {
  char buf[16];
  if (b >= 33 && b <= 126) std::snprintf(buf, sizeof buf, "'%c'", b);
  else std::snprintf(buf, sizeof buf, "byte 0x%02x", b);
  return buf;
}

// First byte of [p, p+n) outside [lo, hi]; `tab_ok` also allows '\t' (headers).
std::size_t first_outside(const char* p, std::size_t n, uint8_t lo, uint8_t hi, bool tab_ok) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint8_t>(p[i]);
    if ((b < lo || b > hi) && !(tab_ok && b == '\t')) return i;
  }
  return n;
}

// Splits up to four lines from [p, end). True when all four are complete; at the end of the
// input (`eof`) the last line may lack its '\n'. r.count tells how many lines were found.
bool split_lines(const char* p, const char* end, bool eof, const char*& next, const char** line,
                 std::size_t* len, std::size_t& count) {
  count = 0;
  for (int i = 0; i < 4; ++i) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = nl;
    if (!nl) {
      // An empty sequence's empty quality line may end the input with no byte at all.
      const bool empty_last_quality = i == 3 && len[1] == 0 && p == end;
      if (!eof || (p == end && !empty_last_quality)) return false;
      line_end = end;  // the input's last line, unterminated
    }
    std::size_t n = static_cast<std::size_t>(line_end - p);
    if (n && p[n - 1] == '\r') --n;
    line[i] = p;
    len[i] = n;
    count = static_cast<std::size_t>(i) + 1;
    p = nl ? nl + 1 : end;
  }
  next = p;
  return true;
}

struct BatchSink {
  FastqBatch& batch;
  std::size_t max_records, max_bytes, bytes = 0;
  bool full() const noexcept { return batch.size() >= max_records || bytes >= max_bytes; }
  void add(const char* const* line, const std::size_t* len, uint64_t decoded) {
    batch.append({line[0] + 1, len[0] - 1}, {line[1], len[1]}, {line[3], len[3]}, decoded);
    bytes += len[0] - 1 + 2 * len[1];  // the header arena holds no '@' 
  }
};

struct CountSink {
  uint64_t max_records, records = 0, bases = 0;
  bool full() const noexcept { return records >= max_records; }
  void add(const char* const*, const std::size_t* len, uint64_t) {
    ++records;
    bases += len[1];
  }
};

}  // namespace

FastqParser::FastqParser(io::TextSource& source, const ReadOptions& options, std::string file,
                         uint64_t first_record_no)
    : source_(source), options_(options), file_(std::move(file)), next_record_no_(first_record_no),
      qual_range_(quality_range(options.schema)) {
  // A batch always takes at least one record, whatever the limits say.
  if (options_.batch_records == 0) options_.batch_records = 1;
  if (options_.batch_bytes == 0) options_.batch_bytes = 1;
}

void FastqParser::fail(const RecordLines& r, std::size_t line, const std::string& reason) const {
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + line + 1;
  const char* p = r.line[line];
  at.decoded_byte = static_cast<int64_t>(r.start_offset + static_cast<uint64_t>(p - r.start));
  at.line = error_excerpt(p, r.len[line]);
  throw Error(ErrorKind::data, reason, at);
}

void FastqParser::check_record_size(const char* start, std::size_t size, uint64_t offset) const {
  if (size <= options_.max_record_bytes) return;
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + 1;
  at.decoded_byte = static_cast<int64_t>(offset);
  at.line = error_excerpt(start, static_cast<std::size_t>(
                                     std::find(start, start + size, '\n') - start));
  throw Error(ErrorKind::data, "record too long (limit " + std::to_string(options_.max_record_bytes) +
                                   " bytes; raise with --max-record-size)", at);
}

void FastqParser::fail_blank_line() const {
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + 1;
  at.decoded_byte = static_cast<int64_t>(blank_offset_);
  throw Error(ErrorKind::data, "expected '@' at start of record, found an empty line", at);
}

// Appends the rest of a straddling record from the current buffer. True once it is complete.
bool FastqParser::complete_carry(RecordLines& r) {
  const char* const p = buf_->data + pos_;
  const char* const end = buf_->data + buf_->size;
  const char* q = p;
  while (carry_lines_ < 4) {
    const char* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)));
    if (!nl) break;
    q = nl + 1;
    ++carry_lines_;
  }
  if (carry_lines_ < 4) q = end;
  carry_.insert(carry_.end(), p, q);
  pos_ += static_cast<std::size_t>(q - p);
  check_record_size(carry_.data(), carry_.size(), carry_offset_);
  if (carry_lines_ < 4) return false;
  const char* next;
  split_lines(carry_.data(), carry_.data() + carry_.size(), false, next, r.line, r.len, r.count);
  r.start = carry_.data();
  r.start_offset = carry_offset_;
  return true;
}

// End of input: a straddling record may still be pending (its last line unterminated).
bool FastqParser::finish_at_end(RecordLines& r) {
  at_end_ = true;
  if (open_end_) return false;  // the rest is someone else's to finish
  if (carry_.empty()) return false;  // blank lines at the very end are fine
  // The limit is on the record, however it reached us: checked here too, not only on appends.
  check_record_size(carry_.data(), carry_.size(), carry_offset_);
  const char* next;
  r.start = carry_.data();
  r.start_offset = carry_offset_;
  const bool complete = split_lines(carry_.data(), carry_.data() + carry_.size(), true, next,
                                    r.line, r.len, r.count);
  carry_lines_ = 4;  // consumed: cleared before the next call reads on
  if (complete) return true;
  // Truncated: check the lines that are there first, so a wrong header is named as such.
  validate(r);
  static const char* const kMissing[] = {"", "sequence", "'+' separator", "quality"};
  fail(r, r.count - 1, std::string("truncated record: input ends before its ") + kMissing[r.count] + " line");
}

bool FastqParser::next_record(RecordLines& r) {
  if (carry_lines_ == 4) {  // the straddling record was handed out last time
    carry_.clear();
    carry_lines_ = 0;
  }
  if (at_end_) return false;
  for (;;) {
    if (!buf_ || pos_ == buf_->size) {
      buf_ = source_.next();
      pos_ = 0;
      if (!buf_) return finish_at_end(r);
      end_offset_ = buf_->decoded_offset + buf_->size;
      continue;
    }
    if (!carry_.empty()) {
      if (complete_carry(r)) return true;
      continue;
    }
    const char* const p = buf_->data + pos_;
    if (*p == '\n' || *p == '\r') {  // blank line: an error unless only blank lines follow
      if (!blank_pending_) {
        blank_pending_ = true;
        blank_offset_ = buf_->decoded_offset + pos_;
      }
      ++pos_;
      continue;
    }
    if (blank_pending_) fail_blank_line();
    const char* const end = buf_->data + buf_->size;
    const char* next;
    r.start = p;
    r.start_offset = buf_->decoded_offset + pos_;
    if (split_lines(p, end, false, next, r.line, r.len, r.count)) {
      check_record_size(p, static_cast<std::size_t>(next - p), r.start_offset);
      pos_ += static_cast<std::size_t>(next - p);
      return true;
    }
    // The record runs past this buffer: carry what there is and complete it from the next.
    carry_.assign(p, end);
    carry_offset_ = r.start_offset;
    carry_lines_ = r.count;
    pos_ = buf_->size;
  }
}

uint64_t FastqParser::unfinished_offset() const noexcept {
  if (blank_pending_) return blank_offset_;
  if (!carry_.empty() && carry_lines_ < 4) return carry_offset_;
  return end_offset_;
}

// Byte checks of one record. The quality line's range is computed once and serves schema
// detection, the schema check and the ascii check alike.
void FastqParser::check_bytes(const RecordLines& r) {
  uint8_t lo, hi;
  if (r.len[3]) {
    byte_range(r.line[3], r.len[3], lo, hi);
    qual_lo_ = std::min(qual_lo_, lo);
    qual_hi_ = std::max(qual_hi_, hi);
    if (options_.check_quality && (lo < qual_range_.lo || hi > qual_range_.hi)) {
      const std::size_t i = first_outside(r.line[3], r.len[3], qual_range_.lo, qual_range_.hi, false);
      fail(r, 3, "quality " + show_byte(static_cast<uint8_t>(r.line[3][i])) + " at position " +
                     std::to_string(i + 1) + " outside " + std::string(schema_name(options_.schema)) +
                     " range " + show_byte(qual_range_.lo) + ".." + show_byte(qual_range_.hi));
    }
    if (options_.check_ascii && (lo < 33 || hi > 126)) fail_not_printable(r, 3, 33);
  }
  if (!options_.check_ascii) return;
  byte_range(r.line[0], r.len[0], lo, hi);
  if ((lo < 32 && first_outside(r.line[0], r.len[0], 32, 126, true) < r.len[0]) || hi > 126)
    fail_not_printable(r, 0, 32);
  if (r.len[1]) {
    byte_range(r.line[1], r.len[1], lo, hi);
    if (lo < 33 || hi > 126) fail_not_printable(r, 1, 33);
  }
}

void FastqParser::fail_not_printable(const RecordLines& r, std::size_t line, uint8_t lowest) const {
  static const char* const kWhat[] = {"header", "sequence", "separator", "quality"};
  const std::size_t i = first_outside(r.line[line], r.len[line], lowest, 126, line == 0);
  fail(r, line, std::string(kWhat[line]) + " holds " + show_byte(static_cast<uint8_t>(r.line[line][i])) +
                    " at position " + std::to_string(i + 1) + " (expected printable ascii)");
}

// Checks one record; with r.count < 4 only the lines present (truncated input).
void FastqParser::validate(const RecordLines& r) {
  if (r.len[0] == 0 || r.line[0][0] != '@') {
    fail(r, 0, r.len[0] == 0 ? "expected '@' at start of record, found an empty line"
                             : "expected '@' at start of record, found " +
                                   show_byte(static_cast<uint8_t>(r.line[0][0])));
  }
  if (r.count >= 3) {
    if (r.len[2] == 0 || r.line[2][0] != '+')
      fail(r, 2, r.len[2] == 0 ? "expected '+' separator line, found an empty line"
                               : "expected '+' separator line, found " +
                                     show_byte(static_cast<uint8_t>(r.line[2][0])));
    if (r.len[2] > 1 && std::string_view(r.line[2] + 1, r.len[2] - 1) !=
                            std::string_view(r.line[0] + 1, r.len[0] - 1))
      fail(r, 2, "'+' line repeats a different name than the header");
  }
  if (r.count < 4) return;
  if (r.len[3] != r.len[1])
    fail(r, 3, "quality length " + std::to_string(r.len[3]) + " != sequence length " +
                   std::to_string(r.len[1]));
  check_bytes(r);
}

template <class Sink>
void FastqParser::parse(Sink& sink) {
  RecordLines r;
  while (!sink.full() && next_record(r)) {
    validate(r);
    sink.add(r.line, r.len, r.start_offset);
    ++next_record_no_;
  }
}

bool FastqParser::next_batch(FastqBatch& batch) {
  batch.clear(next_record_no_);
  BatchSink sink{batch, options_.batch_records, options_.batch_bytes};
  parse(sink);
  return !batch.empty();
}

uint64_t FastqParser::count(uint64_t max_records, uint64_t& bases) {
  CountSink sink{max_records};
  parse(sink);
  bases = sink.bases;
  return sink.records;
}

}  // namespace fqpipe::fastq
