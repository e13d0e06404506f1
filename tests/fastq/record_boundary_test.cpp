// find_record_start (issue 4, item 8): where an MPMC producer that starts inside a file guesses
// its first record. What would break: a quality line that begins with '@' (or a '+' line, or a
// quality line that reads like a header) taken for a header; a start inside "\r\n" or a blank
// line taken for a line start; an empty read's empty lines confusing the two-record test; a
// record cut off by the end of the text reported as a start (or a whole one missed).
// The truth comes from the generator's record offsets and a plain count of newlines, never
// from fqpipe code. Suite names carry no "Pipeline"/"Queue": these tests are single-threaded.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fastq/record_boundary.hpp"
#include "testlib/fastq_gen.hpp"

using fqpipe::fastq::find_record_start;
using namespace fqpipe::testlib;

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Offset just past the 4th '\n' at or after `start`, or npos when fewer follow.
std::size_t after_four_newlines(std::string_view text, std::size_t start) {
  std::size_t p = start;
  for (int i = 0; i < 4; ++i) {
    p = text.find('\n', p);
    if (p == npos) return npos;
    ++p;
  }
  return p;
}

// Where every record of a text starts and where it ends (just past its quality line's '\n';
// npos when that newline is missing), from the generator's offsets.
struct Truth {
  std::vector<std::size_t> starts, ends;
};

Truth truth_of(const Generated& g) {
  Truth t;
  for (const RefRecord& r : g.records) t.starts.push_back(r.decoded_byte);
  for (std::size_t i = 0; i < t.starts.size(); ++i)
    t.ends.push_back(i + 1 < t.starts.size() ? t.starts[i + 1] : after_four_newlines(g.text, t.starts[i]));
  return t;
}

// The answer find_record_start must give for text[0, len) from `from`: the first record
// start >= from if that record is whole within the prefix, else npos.
std::size_t expected(const Truth& t, std::size_t len, std::size_t from) {
  for (std::size_t i = 0; i < t.starts.size(); ++i) {
    if (t.starts[i] < from) continue;
    return t.ends[i] != npos && t.ends[i] <= len ? t.starts[i] : npos;
  }
  return npos;
}

// Every offset of every prefix length in `lens` (and the whole text).
void check_all_offsets(const Generated& g, const std::string& trailer, bool all_prefixes) {
  const std::string text = g.text + trailer;
  const Truth t = truth_of({text, g.records});
  std::vector<std::size_t> lens;
  if (all_prefixes) {
    for (std::size_t len = 0; len <= text.size(); ++len) lens.push_back(len);
  } else {
    lens.push_back(text.size());
  }
  for (const std::size_t len : lens) {
    const std::string_view prefix(text.data(), len);
    for (std::size_t from = 0; from <= len; ++from) {
      const std::size_t want = expected(t, len, from);
      const std::size_t got = find_record_start(prefix, from);
      ASSERT_EQ(got, want) << "prefix length " << len << " of " << text.size() << ", from " << from
                           << "\ntext from there: \"" << std::string(prefix.substr(from, 60)) << "\"";
    }
  }
}

GenOptions adversarial(uint64_t seed, std::size_t records, bool crlf, bool no_final_newline) {
  GenOptions o;
  o.seed = seed;
  o.records = records;
  o.min_length = 0;
  o.max_length = 12;
  o.crlf = crlf;
  o.no_final_newline = no_final_newline;
  o.qual_starts_special = 0.7;
  o.header_comments = 0.4;
  o.plus_repeats_name = 0.4;
  o.qual_lo = '!';
  o.qual_hi = '~';
  return o;
}

}  // namespace

TEST(RecordBoundary, every_offset_of_generated_fastq_finds_the_next_true_record) {
  // Breaks when any offset of a whole file, adversarial in every way the generator offers,
  // does not answer exactly the next record start (npos only after the last whole record).
  for (const bool crlf : {false, true}) {
    for (const bool no_final_newline : {false, true}) {
      for (const char* trailer : {"", "\n", "\n\n", "\r\n\r\n"}) {
        if (no_final_newline && *trailer) continue;  // the trailer would end the last line
        for (uint64_t seed = 1; seed <= 3; ++seed) {
          SCOPED_TRACE("crlf " + std::to_string(crlf) + " no final newline " +
                       std::to_string(no_final_newline) + " trailer " +
                       std::to_string(std::string_view(trailer).size()) + " seed " + std::to_string(seed));
          const Generated g = generate_fastq(adversarial(seed, 120, crlf, no_final_newline));
          check_all_offsets(g, trailer, false);
        }
      }
    }
  }
}

TEST(RecordBoundary, every_offset_of_every_prefix_finds_a_whole_record_or_npos) {
  // Breaks when text that ends inside a record (as a chunk or window does) yields that record,
  // or a quality line whose lines below are cut off is taken for a header.
  for (const bool crlf : {false, true}) {
    for (const bool no_final_newline : {false, true}) {
      SCOPED_TRACE("crlf " + std::to_string(crlf) + " no final newline " + std::to_string(no_final_newline));
      const Generated g = generate_fastq(adversarial(7, 14, crlf, no_final_newline));
      check_all_offsets(g, "", true);
    }
  }
}

TEST(RecordBoundary, empty_reads_only) {
  // Breaks when the empty sequence and quality lines of empty reads ("@r\n\n+\n\n") are taken
  // for blank lines, or a '+' line for something after them.
  GenOptions o = adversarial(3, 30, false, false);
  o.max_length = 0;
  for (const bool crlf : {false, true}) {
    o.crlf = crlf;
    check_all_offsets(generate_fastq(o), "", true);
  }
}

TEST(RecordBoundary, quality_at_signs_before_a_record) {
  // Breaks when the quality line "@@@@" is taken for a header.
  const std::string text = "@r1\nACGT\n+\n@@@@\n@r2\nACGT\n+\nIIII\n@r3\nAC\n+\nII\n";
  const std::size_t q1 = text.find("@@@@"), r2 = text.find("@r2"), r3 = text.find("@r3");
  EXPECT_EQ(find_record_start(text, 0), 0u);
  for (std::size_t from = 1; from <= r2; ++from) EXPECT_EQ(find_record_start(text, from), r2) << from;
  for (std::size_t from = r2 + 1; from <= r3; ++from) EXPECT_EQ(find_record_start(text, from), r3) << from;
  EXPECT_EQ(find_record_start(text, q1), r2);
  EXPECT_EQ(find_record_start(text, r3 + 1), npos);
  EXPECT_EQ(find_record_start(text, text.size()), npos);
}

TEST(RecordBoundary, quality_plus_lines) {
  // Breaks when a quality line that is just "+" (or starts with '+') is taken for the separator,
  // shifting the record by a line.
  const std::string text = "@r1\nA\n+\n+\n@r2\nAC\n+r2\n++\n@r3\nACG\n+\n+@+\n@r4\nA\n+\nI\n";
  const std::size_t r2 = text.find("@r2"), r3 = text.find("@r3"), r4 = text.find("@r4");
  for (std::size_t from = 1; from <= r2; ++from) EXPECT_EQ(find_record_start(text, from), r2) << from;
  for (std::size_t from = r2 + 1; from <= r3; ++from) EXPECT_EQ(find_record_start(text, from), r3) << from;
  for (std::size_t from = r3 + 1; from <= r4; ++from) EXPECT_EQ(find_record_start(text, from), r4) << from;
}

TEST(RecordBoundary, quality_line_that_reads_as_a_header) {
  // Breaks when a quality line equal to a header ("@r2", as long as its sequence) passes as a
  // record start: the lines below it are the next header and a sequence, not a '+' line.
  const std::string text = "@r1\nACG\n+\n@r2\n@r2\nACG\n+\n@r2\n@r3\nAAA\n+r3\n@r3\n@r4\nTTT\n+\nIII\n";
  const std::size_t r2 = text.find("@r2\nACG"), r3 = text.find("@r3\nAAA"), r4 = text.find("@r4");
  for (std::size_t from = 1; from <= r2; ++from) EXPECT_EQ(find_record_start(text, from), r2) << from;
  for (std::size_t from = r2 + 1; from <= r3; ++from) EXPECT_EQ(find_record_start(text, from), r3) << from;
  for (std::size_t from = r3 + 1; from <= r4; ++from) EXPECT_EQ(find_record_start(text, from), r4) << from;
}

TEST(RecordBoundary, text_ending_mid_record) {
  // Breaks when a record whose quality line is cut off (or missing) is reported as a start.
  const std::string whole = "@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\n@III\n";
  const std::size_t r2 = whole.find("@r2");
  for (std::size_t len = 0; len < whole.size(); ++len) {
    const std::string_view cut(whole.data(), len);
    // r1 is whole from len >= r2 on; r2 never is before the last byte.
    EXPECT_EQ(find_record_start(cut, 0), len >= r2 ? 0 : npos) << len;
    EXPECT_EQ(find_record_start(cut, 1), npos) << len;
  }
  EXPECT_EQ(find_record_start(whole, 1), r2);
  // Without the final newline the last record cannot be judged whole.
  EXPECT_EQ(find_record_start(std::string_view(whole.data(), whole.size() - 1), 1), npos);
}

TEST(RecordBoundary, blank_lines) {
  // Breaks when a blank line counts as a line start of a record, or blank lines after the
  // last record stop it from being found. Blank lines between records are invalid FASTQ: r1
  // followed by one is not two consecutive records, so even from 0 the answer is r2 (the
  // caller's seam check reports the blank line).
  const std::string text = "@r1\nAC\n+\nII\n\n\n@r2\nAC\n+\nII\n\r\n\n";
  const std::size_t r2 = text.find("@r2");
  for (std::size_t from = 0; from <= r2; ++from) EXPECT_EQ(find_record_start(text, from), r2) << from;
  for (std::size_t from = r2 + 1; from <= text.size(); ++from)
    EXPECT_EQ(find_record_start(text, from), npos) << from;
  EXPECT_EQ(find_record_start("\n\n\n", 0), npos);
  EXPECT_EQ(find_record_start("", 0), npos);
}

TEST(RecordBoundary, single_record) {
  // Breaks when one record with nothing after it (the end of an input) is not enough.
  for (const std::string text : {"@r\nACGT\n+\n@@@@\n", "@r\r\nACGT\r\n+r\r\n+III\r\n", "@r\n\n+\n\n"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(find_record_start(text, 0), 0u);
    for (std::size_t from = 1; from <= text.size(); ++from) EXPECT_EQ(find_record_start(text, from), npos) << from;
  }
  // Its last line unterminated: it cannot be judged whole.
  EXPECT_EQ(find_record_start("@r\nACGT\n+\nIIII", 0), npos);
}

TEST(RecordBoundary, offsets_inside_crlf) {
  // Breaks when an offset between '\r' and '\n' is taken for a line start (the '\n' would be
  // the first byte of a "record"), or a '\r' is counted in a line's length.
  const std::string text = "@r1\r\nACGT\r\n+\r\n@@@@\r\n@r2\r\nACGT\r\n+r2\r\n+III\r\n@r3\r\nA\r\n+\r\nI\r\n";
  const std::size_t r2 = text.find("@r2"), r3 = text.find("@r3");
  for (std::size_t from = 1; from <= r2; ++from) EXPECT_EQ(find_record_start(text, from), r2) << from;
  for (std::size_t from = r2 + 1; from <= r3; ++from) EXPECT_EQ(find_record_start(text, from), r3) << from;
  for (std::size_t p = text.find('\r'); p != npos; p = text.find('\r', p + 1)) {
    const std::size_t want = p + 2 <= r2 ? r2 : p + 2 <= r3 ? r3 : npos;
    EXPECT_EQ(find_record_start(text, p + 1), want) << "between \\r and \\n at " << p;
  }
}

TEST(RecordBoundary, quality_length_decides) {
  // Breaks when a candidate is accepted whose quality is not as long as its sequence: from the
  // quality line "@AB" the lines read header "@AB", sequence "@r2", '+' line "+A" (r2's
  // sequence) and "quality" "+" (1 != 3), so the guess must be the true start "@r2".
  const std::string text = "@r1\nGGG\n+\n@AB\n@r2\n+A\n+\nII\n@r3\nA\n+\nI\n";
  EXPECT_EQ(find_record_start(text, 1), text.find("@r2"));
}

TEST(RecordBoundary, sequence_starting_with_plus_can_shift_the_frame) {
  // The documented limit of a guess: the parser accepts any printable sequence, so a sequence
  // that begins with '+' lets a quality line beginning with '@' read as a header. Records r1
  // ("@r1","AAA","+","@AA") and r2 ("@r2","+AA","+r2","@AA") are valid, yet from "@AA" the
  // lines read as a record ("@AA","@r2","+AA","+r2") followed by a consistent cut one. The
  // answer is a wrong guess, which the MPMC seam check must catch (PipelineMpmc tests this).
  const std::string text = "@r1\nAAA\n+\n@AA\n@r2\n+AA\n+r2\n@AA\n";
  EXPECT_EQ(find_record_start(text, 1), text.find("@AA"));
  EXPECT_LT(find_record_start(text, 1), text.find("@r2"));
}
