// parser.cpp - FastqParser: find four lines, validate them, copy them into the batch.
// One state per record (kseq's shape); every error names record, line and decoded byte offset.
#include "fastq/parser.hpp"

#include <algorithm>
#include <cstring>

#include "fqpipe/error.hpp"

namespace fqpipe::fastq {
namespace {

constexpr std::size_t kInitialBuffer = std::size_t{1} << 20;

// Smallest and largest byte of a line; a plain loop that the compiler vectorises.
void byte_range(const char* p, std::size_t n, uint8_t& lo, uint8_t& hi) {
  uint8_t l = 255, h = 0;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    l = std::min(l, u[i]);
    h = std::max(h, u[i]);
  }
  lo = l;
  hi = h;
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

}  // namespace

FastqParser::FastqParser(io::ByteSource& source, const ReadOptions& options, std::string file)
    : source_(source), options_(options), file_(std::move(file)), buf_(kInitialBuffer),
      qual_range_(quality_range(options.schema)) {
  if (options_.batch_records == 0) options_.batch_records = 1;
}

void FastqParser::fail(const RecordLines& r, int line, const std::string& reason) const {
  ErrorPosition at;
  at.file = file_;
  at.record_no = next_record_no_;
  at.line_no = 4 * (next_record_no_ - 1) + static_cast<uint64_t>(line) + 1;
  const char* p = r.line[line];
  at.decoded_byte = static_cast<int64_t>(buf_offset_ + static_cast<uint64_t>(p - buf_.data()));
  at.line = error_excerpt(p, r.len[line]);
  throw Error(ErrorKind::data, reason, at);
}

bool FastqParser::refill() {
  if (eof_) return false;
  // Keep the unparsed tail (a partial record) at the front of the buffer.
  const std::size_t keep = end_ - pos_;
  if (keep > options_.max_record_bytes) {
    ErrorPosition at;
    at.file = file_;
    at.record_no = next_record_no_;
    at.line_no = 4 * (next_record_no_ - 1) + 1;
    at.decoded_byte = static_cast<int64_t>(buf_offset_ + pos_);
    at.line = error_excerpt(buf_.data() + pos_, keep);
    throw Error(ErrorKind::data,
                "record too long (limit " + std::to_string(options_.max_record_bytes) +
                    " bytes; raise with --max-record-size)", at);
  }
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, keep);
    buf_offset_ += pos_;
    end_ = keep;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  const std::size_t n =
      source_.read(reinterpret_cast<uint8_t*>(buf_.data()) + end_, buf_.size() - end_);
  if (n == 0) eof_ = true;
  end_ += n;
  return n > 0;
}

// Finds the four lines starting at pos_. At end of input the last line may lack its '\n'.
bool FastqParser::split_lines(RecordLines& r) const {
  const char* const base = buf_.data();
  const char* p = base + pos_;
  const char* const end = base + end_;
  r.count = 0;
  for (int i = 0; i < 4; ++i) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* line_end = nl;
    if (!nl) {
      // An empty sequence's empty quality line may end the input without any byte at all.
      const bool empty_last_quality = i == 3 && r.len[1] == 0 && p == end && p[-1] == '\n';
      if (!eof_ || (p == end && !empty_last_quality)) return false;
      line_end = end;  // last line of the input, unterminated
    }
    std::size_t len = static_cast<std::size_t>(line_end - p);
    if (len && p[len - 1] == '\r') --len;
    r.line[i] = p;
    r.len[i] = len;
    r.count = static_cast<std::size_t>(i) + 1;
    p = nl ? nl + 1 : end;
  }
  r.next = static_cast<std::size_t>(p - base);
  return true;
}

// Blank lines ('\n' or '\r\n') after the last record are accepted. True when only blank lines
// remain; false when a record follows them (then parsing goes on and names the blank line).
bool FastqParser::only_blank_lines_remain() {
  for (;;) {
    for (std::size_t i = pos_; i < end_; ++i)
      if (buf_[i] != '\n' && buf_[i] != '\r') return false;
    if (!refill()) return true;  // refill keeps [pos_, end_), so the blank lines stay in view
  }
}

bool FastqParser::next_record(RecordLines& r) {
  for (;;) {
    if (pos_ < end_ && (buf_[pos_] == '\n' || buf_[pos_] == '\r') && only_blank_lines_remain()) {
      pos_ = end_;
      return false;
    }
    if (split_lines(r)) return true;
    if (eof_) {
      if (pos_ == end_) return false;
      // Truncated: validate what is there first, so a wrong header is named as such.
      r.count = 0;
      const char* p = buf_.data() + pos_;
      const char* const end = buf_.data() + end_;
      while (p < end && r.count < 4) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        const char* line_end = nl ? nl : end;
        std::size_t len = static_cast<std::size_t>(line_end - p);
        if (len && p[len - 1] == '\r') --len;
        r.line[r.count] = p;
        r.len[r.count++] = len;
        p = nl ? nl + 1 : end;
      }
      validate(r);
      static const char* const kMissing[] = {"", "sequence", "'+' separator", "quality"};
      fail(r, static_cast<int>(r.count) - 1,
           std::string("truncated record: input ends before its ") + kMissing[r.count] + " line");
    }
    refill();
  }
}

// Checks one record; with r.count < 4 only the lines present (truncated input).
void FastqParser::validate(const RecordLines& r) {
  if (r.len[0] == 0 || r.line[0][0] != '@') {
    fail(r, 0, r.len[0] == 0 ? "expected '@' at start of record, found an empty line"
                             : "expected '@' at start of record, found " +
                                   show_byte(static_cast<uint8_t>(r.line[0][0])));
  }
  const std::string_view header(r.line[0] + 1, r.len[0] - 1);
  if (r.count >= 3) {
    if (r.len[2] == 0 || r.line[2][0] != '+')
      fail(r, 2, r.len[2] == 0 ? "expected '+' separator line, found an empty line"
                               : "expected '+' separator line, found " +
                                     show_byte(static_cast<uint8_t>(r.line[2][0])));
    if (r.len[2] > 1 && std::string_view(r.line[2] + 1, r.len[2] - 1) != header)
      fail(r, 2, "'+' line repeats a different name than the header");
  }
  if (r.count < 4) return;
  if (r.len[3] != r.len[1])
    fail(r, 3, "quality length " + std::to_string(r.len[3]) + " != sequence length " +
                   std::to_string(r.len[1]));
  uint8_t lo, hi;
  byte_range(r.line[3], r.len[3], lo, hi);
  if (r.len[3]) {
    qual_lo_ = std::min(qual_lo_, lo);
    qual_hi_ = std::max(qual_hi_, hi);
  }
  if (options_.check_quality && r.len[3] && (lo < qual_range_.lo || hi > qual_range_.hi)) {
    const std::size_t i = first_outside(r.line[3], r.len[3], qual_range_.lo, qual_range_.hi, false);
    fail(r, 3, "quality " + show_byte(static_cast<uint8_t>(r.line[3][i])) + " at position " +
                   std::to_string(i + 1) + " outside " + std::string(schema_name(options_.schema)) +
                   " range " + show_byte(qual_range_.lo) + ".." + show_byte(qual_range_.hi));
  }
  if (options_.check_ascii) {
    for (int line : {1, 3}) {
      byte_range(r.line[line], r.len[line], lo, hi);
      if (r.len[line] && (lo < 33 || hi > 126)) {
        const std::size_t i = first_outside(r.line[line], r.len[line], 33, 126, false);
        fail(r, line, std::string(line == 1 ? "sequence" : "quality") + " holds " +
                          show_byte(static_cast<uint8_t>(r.line[line][i])) + " at position " +
                          std::to_string(i + 1) + " (expected printable ascii)");
      }
    }
    byte_range(r.line[0], r.len[0], lo, hi);
    if (lo < 32 || hi > 126) {
      const std::size_t i = first_outside(r.line[0], r.len[0], 32, 126, true);
      if (i < r.len[0])
        fail(r, 0, "header holds " + show_byte(static_cast<uint8_t>(r.line[0][i])) +
                       " at position " + std::to_string(i + 1) + " (expected printable ascii)");
    }
  }
}

bool FastqParser::next_batch(FastqBatch& batch) {
  batch.clear(next_record_no_);
  std::size_t bytes = 0;
  RecordLines r;
  while (batch.size() < options_.batch_records && bytes < options_.batch_bytes) {
    if (!next_record(r)) break;
    validate(r);
    const uint64_t decoded = buf_offset_ + pos_;
    batch.append({r.line[0] + 1, r.len[0] - 1}, {r.line[1], r.len[1]}, {r.line[3], r.len[3]},
                 decoded);
    bytes += r.len[0] + 2 * r.len[1];
    pos_ = r.next;
    ++next_record_no_;
  }
  return !batch.empty();
}

}  // namespace fqpipe::fastq
