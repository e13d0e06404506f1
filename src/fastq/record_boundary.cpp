// record_boundary.cpp - the two-record test of find_record_start, line by line.
// Cheap rejections first: most candidate '@' lines fail at the '+' two lines below.
#include "fastq/record_boundary.hpp"

#include <cstring>

namespace fqpipe::fastq {
namespace {

// One line of text: [begin, begin + len) without '\n' or a '\r' before it.
struct Line {
  std::size_t begin = 0, len = 0;
  bool complete = false;  // ended by '\n' (else cut by the end of the text)
};

Line line_at(std::string_view text, std::size_t p) {
  Line l;
  l.begin = p;
  const void* nl = p < text.size() ? std::memchr(text.data() + p, '\n', text.size() - p) : nullptr;
  const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data())
                             : text.size();
  l.complete = nl != nullptr;
  l.len = end - p;
  if (l.len && text[end - 1] == '\r') --l.len;
  return l;
}

enum class Verdict { no, yes, cut };  // cut: the text ended before the record could be judged

// Checks the record whose header line starts at p; on yes, `next` is where the record after it starts.
Verdict check_record(std::string_view text, std::size_t p, std::size_t& next) {
  if (p >= text.size()) return Verdict::cut;
  if (text[p] != '@') return Verdict::no;
  const Line header = line_at(text, p);
  if (!header.complete) return Verdict::cut;
  const Line seq = line_at(text, header.begin + header.len + 1 + (text[header.begin + header.len] == '\r'));
  if (!seq.complete) return Verdict::cut;
  const std::size_t plus_at = seq.begin + seq.len + 1 + (text[seq.begin + seq.len] == '\r');
  if (plus_at >= text.size()) return Verdict::cut;
  if (text[plus_at] != '+') return Verdict::no;
  const Line plus = line_at(text, plus_at);
  if (!plus.complete) return Verdict::cut;
  const Line qual = line_at(text, plus.begin + plus.len + 1 + (text[plus.begin + plus.len] == '\r'));
  if (qual.len > seq.len) return Verdict::no;
  if (!qual.complete) return Verdict::cut;
  if (qual.len != seq.len) return Verdict::no;
  next = qual.begin + qual.len + 1 + (text[qual.begin + qual.len] == '\r');
  return Verdict::yes;
}

bool only_blank_lines(std::string_view text, std::size_t p) {
  for (; p < text.size(); ++p)
    if (text[p] != '\n' && text[p] != '\r') return false;
  return true;
}

}  // namespace

std::size_t find_record_start(std::string_view text, std::size_t from) {
  std::size_t p = from;
  if (p > 0 && p <= text.size() && text[p - 1] != '\n') {  // move to the next line start
    const void* nl = std::memchr(text.data() + p, '\n', text.size() - p);
    if (!nl) return std::string_view::npos;
    p = static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1;
  }
  while (p < text.size()) {
    std::size_t second = 0, third = 0;
    const Verdict first = check_record(text, p, second);
    if (first == Verdict::cut) return std::string_view::npos;
    if (first == Verdict::yes) {
      if (only_blank_lines(text, second)) {
        // One whole record and nothing after it: enough at the end of the input, and at the
        // end of a window we can see no further.
        return p;
      }
      const Verdict next = check_record(text, second, third);
      if (next != Verdict::no) return p;  // yes, or cut short but consistent so far
      // The '@' line may have been a quality line: try the next line start.
    }
    const void* nl = std::memchr(text.data() + p, '\n', text.size() - p);
    if (!nl) break;
    p = static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) + 1;
  }
  return std::string_view::npos;
}

}  // namespace fqpipe::fastq
