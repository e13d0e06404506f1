// Fast and general record splits agree (issue 2, item 4). The parser takes a record that lies
// whole inside a buffer in one pass (split_predicted: the quality line's end predicted from
// the sequence length), and anything else the general way. Feeding the same text once as one
// buffer and once a few bytes at a time sends every record down the other path, so any input
// on which the two differ (records, numbers, offsets, schema bytes, the error and where) fails.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "fastq/parser.hpp"
#include "fqpipe/error.hpp"
#include "testlib/fastq_gen.hpp"

using namespace fqpipe;

namespace {

// Records read again from their start (TextSource::next_from), over all tests: the rereading
// sources must have sent the parser that way often.
std::size_t g_rereads = 0;

// The text cut into pieces of at most `piece` bytes (the whole text at once when 0). With
// `reread`, a record that runs past a piece is read again from its start with the next one,
// as the pipeline reads plain files: only a record under half a piece, while text is left.
class PieceText final : public io::TextSource {
 public:
  PieceText(const std::string& text, std::size_t piece, bool reread = false)
      : text_(text), piece_(piece ? piece : text.size()), reread_(reread) {}
  const io::TextBuffer* next() override {
    if (pos_ >= text_.size()) return nullptr;
    const std::size_t n = std::min(piece_, text_.size() - pos_);
    buf_ = {text_.data() + pos_, n, pos_};
    pos_ += n;
    return &buf_;
  }
  const io::TextBuffer* next_from(uint64_t from) override {
    if (!reread_ || pos_ >= text_.size() || from < buf_.decoded_offset || from >= pos_ || pos_ - from > piece_ / 2)
      return nullptr;
    ++g_rereads;
    pos_ = static_cast<std::size_t>(from);
    return next();
  }
  uint64_t input_bytes_read() const noexcept override { return pos_; }

 private:
  const std::string& text_;
  std::size_t piece_;
  bool reread_;
  std::size_t pos_ = 0;
  io::TextBuffer buf_;
};

// Everything a parse tells: each record and its place, then the schema bytes or the error.
std::string parse_all(const std::string& text, std::size_t piece, const ReadOptions& options,
                      bool reread = false) {
  PieceText source(text, piece, reread);
  fastq::FastqParser parser(source, options, "x.fq");
  std::string out;
  FastqBatch batch;
  try {
    while (parser.next_batch(batch)) {
      for (const FastqRecord& r : batch) {
        out += std::to_string(r.record_no) + ' ' + std::to_string(r.decoded_byte) + ' ';
        out.append(r.header).append("|").append(r.sequence).append("|").append(r.quality) += '\n';
      }
    }
    out += "ok " + std::to_string(parser.quality_lo()) + ' ' + std::to_string(parser.quality_hi());
  } catch (const Error& e) {
    const ErrorPosition& at = e.position();
    out += std::string("error ") + e.what() + " line " + std::to_string(at.line_no) + " byte " +
           std::to_string(at.decoded_byte) + " text " + at.line;
  }
  return out;
}

// One random change of the kinds a damaged or unusual file has.
void mutate(std::string& text, std::mt19937_64& rng) {
  if (text.empty()) return;
  const std::size_t at = rng() % text.size();
  static const char kBytes[] = {'\n', '\r', '\t', '\0', ' ', '@', '+', '~', '\x7f', '\x80', '\xff', '!', ' '};
  switch (rng() % 7) {
    case 0: text.insert(at, 1, kBytes[rng() % sizeof kBytes]); break;
    case 1: text[at] = kBytes[rng() % sizeof kBytes]; break;
    case 2: text.erase(at, 1 + rng() % 3); break;
    case 3: text[at] = static_cast<char>(rng() & 0xff); break;
    case 4: {  // "\r" before a newline: a CRLF line among LF lines
      const std::size_t nl = text.find('\n', at);
      if (nl != std::string::npos) text.insert(nl, 1, '\r');
      break;
    }
    case 5: text.erase(at); break;  // truncation
    default: {  // a line doubled (an extra sequence or quality line)
      const std::size_t b = text.rfind('\n', at);
      const std::size_t e = text.find('\n', at);
      const std::size_t from = b == std::string::npos ? 0 : b + 1;
      if (e != std::string::npos) text.insert(from, text.substr(from, e + 1 - from));
      break;
    }
  }
}

void expect_paths_agree(const std::string& text, const ReadOptions& options, const std::string& what) {
  const std::string whole = parse_all(text, 0, options);
  for (const std::size_t piece : {1, 3, 7}) ASSERT_EQ(parse_all(text, piece, options), whole) << what << " piece " << piece;
  for (const std::size_t piece : {8, 61, 256})
    ASSERT_EQ(parse_all(text, piece, options, true), whole) << what << " piece " << piece << ", read again";
}

}  // namespace

TEST(SplitPaths, clean_inputs_of_every_shape) {
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    testlib::GenOptions o;
    o.seed = seed;
    o.records = 60;
    o.min_length = seed % 3 ? 0 : 35;
    o.max_length = seed % 4 ? 40 : 300;
    o.crlf = seed % 5 == 0;
    o.plus_repeats_name = seed % 2 ? 0.4 : 0.0;
    o.header_comments = 0.5;
    o.qual_starts_special = 0.3;
    o.no_final_newline = seed % 3 == 1;
    const testlib::Generated g = testlib::generate_fastq(o);
    expect_paths_agree(g.text, {}, "seed " + std::to_string(seed));
    // The fast path must not have skipped anything: the clean records all come out.
    ASSERT_NE(parse_all(g.text, 0, {}).find("ok "), std::string::npos) << seed;
  }
}

TEST(SplitPaths, damaged_inputs_under_every_check) {
  std::mt19937_64 rng(20261127);
  ReadOptions strict;                       // ascii and sanger checks
  strict.schema = QualitySchema::sanger;
  ReadOptions lax;                          // no byte checks: the split alone decides
  lax.check_ascii = lax.check_quality = false;
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    testlib::GenOptions o;
    o.seed = rng();
    o.records = 1 + rng() % 8;
    o.max_length = rng() % 2 ? 20 : 70;
    o.crlf = rng() % 6 == 0;
    o.plus_repeats_name = 0.3;
    o.header_comments = 0.3;
    o.qual_starts_special = 0.2;
    std::string text = testlib::generate_fastq(o).text;
    const int changes = 1 + static_cast<int>(rng() % 3);
    for (int c = 0; c < changes; ++c) mutate(text, rng);
    const std::string label = "round " + std::to_string(round);
    for (const ReadOptions* options : {&strict, &lax}) expect_paths_agree(text, *options, label);
    const std::string strict_result = parse_all(text, 0, strict);
    errors += strict_result.rfind("error ", 0) != std::string::npos ||
              strict_result.find("\nerror ") != std::string::npos;
  }
  // The mutations must reach the error paths often, or this test proves little.
  EXPECT_GT(errors, 1000);
  EXPECT_GT(g_rereads, 10000u);
}

// The fast path takes a record's sequence length to be the previous record's when a '\n' lies
// there and every byte before it is printable. Lengths that repeat, then change by a little
// (the guess then lands on the '\n' of the '+' or quality line, or inside the next record),
// with and without damage: both paths must still agree, and a clean text parse in full.
TEST(SplitPaths, sequence_length_guessed_from_the_record_before) {
  std::mt19937_64 rng(150);
  static const std::size_t kLengths[] = {0, 1, 2, 3, 4, 5, 7, 150, 151};
  int guessed_right = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text;
    std::size_t len = kLengths[rng() % std::size(kLengths)];
    const int records = 2 + static_cast<int>(rng() % 12);
    for (int i = 0; i < records; ++i) {
      if (rng() % 3 == 0) len = kLengths[rng() % std::size(kLengths)];
      else guessed_right += i > 0 && len > 0;
      std::string seq, qual;
      for (std::size_t k = 0; k < len; ++k) {
        seq += "ACGTN"[rng() % 5];
        qual += static_cast<char>('!' + rng() % 41);
      }
      const std::string header = "r" + std::to_string(i) + (rng() % 4 ? "" : " c");
      text += "@" + header + "\n" + seq + (rng() % 5 ? "\n+\n" : "\n+" + header + "\n") + qual + "\n";
    }
    const std::string label = "round " + std::to_string(round);
    expect_paths_agree(text, {}, label);
    ASSERT_EQ(parse_all(text, 0, {}).find("error"), std::string::npos) << label;
    std::string damaged = text;
    mutate(damaged, rng);
    expect_paths_agree(damaged, {}, label + " damaged");
  }
  EXPECT_GT(guessed_right, 1000);
}
