// Quality schemas (issue 2, item 4; DESIGN.md §5): the valid byte range of each schema at its
// edges, check_quality on and off, and detection of the most specific schema. What would break:
// an off-by-one range ('~' = 126 rejected, or 58 accepted for solexa), a check that only looks
// at the first quality byte, or detection that ignores the lowest/highest byte.
// Expected values are written out from the ranges in DESIGN.md §5 and schema.hpp.
#include <gtest/gtest.h>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

struct SchemaCase {
  QualitySchema schema;
  const char* name;
  int lo, hi, offset;
};

// DESIGN.md §5: generic/sanger 33-126, solexa 59-126, illumina-1.3 64-126, illumina-1.5 66-126,
// illumina-1.8 33-126; Phred+64 for solexa and illumina 1.3/1.5.
const SchemaCase kSchemas[] = {
    {QualitySchema::generic, "generic", 33, 126, 33},
    {QualitySchema::sanger, "sanger", 33, 126, 33},
    {QualitySchema::solexa, "solexa", 59, 126, 64},
    {QualitySchema::illumina_1_3, "illumina-1.3", 64, 126, 64},
    {QualitySchema::illumina_1_5, "illumina-1.5", 66, 126, 64},
    {QualitySchema::illumina_1_8, "illumina-1.8", 33, 126, 33},
};

// Three records; the second's quality holds `byte` at position 3 (others are 'h' = 104).
std::string with_quality_byte(int byte) {
  std::string q = "hhhhh";
  q[2] = static_cast<char>(byte);
  return "@r1\nACGTA\n+\nhhhhh\n@r2\nACGTA\n+\n" + q + "\n@r3\nACGTA\n+\nhhhhh\n";
}

}  // namespace

TEST(QualitySchema, ranges_offsets_and_names) {
  // Breaks when a range, offset or CLI name drifts from DESIGN.md §5.
  for (const SchemaCase& s : kSchemas) {
    EXPECT_EQ(quality_range(s.schema).lo, s.lo) << s.name;
    EXPECT_EQ(quality_range(s.schema).hi, s.hi) << s.name;
    EXPECT_EQ(quality_offset(s.schema), s.offset) << s.name;
    EXPECT_EQ(schema_name(s.schema), s.name);
    ASSERT_TRUE(parse_schema(s.name).has_value()) << s.name;
    EXPECT_EQ(*parse_schema(s.name), s.schema);
  }
  EXPECT_FALSE(parse_schema("illumina-1.9").has_value());
  EXPECT_FALSE(parse_schema("").has_value());
  EXPECT_FALSE(parse_schema("Sanger").has_value());
}

TEST(QualitySchema, check_quality_edges_per_schema) {
  // Breaks on an off-by-one at either end of any schema's range: lo and '~' (126) valid,
  // lo - 1 and 127 invalid. check_ascii is off so only check_quality can reject.
  for (const SchemaCase& s : kSchemas) {
    TempDir dir;
    for (int byte : {s.lo, s.lo + 1, 125, 126}) {
      const std::string path = dir.write("ok.fq", with_quality_byte(byte));
      EXPECT_NO_THROW(read_all(path, {.check_ascii = false, .schema = s.schema}))
          << s.name << " byte " << byte;
    }
    for (int byte : {s.lo - 1, 127, 0, 255}) {
      const std::string text = with_quality_byte(byte);
      const std::string path = dir.write("bad.fq", text);
      const Error e = expect_error(
          [&] { read_all(path, {.check_ascii = false, .schema = s.schema}); });
      SCOPED_TRACE(std::string(s.name) + " byte " + std::to_string(byte));
      // Record 2, its quality line (line 8), which starts after 3 + 4 + 6 + 2 bytes... computed:
      expect_position(e, path, 2, 8, static_cast<int64_t>(LineIndex(text).line_start(8)));
    }
  }
}

TEST(QualitySchema, out_of_range_byte_anywhere_in_the_line) {
  // Breaks when only part of the quality line is checked (e.g. a vectorised check that skips
  // the tail shorter than a vector).
  for (std::size_t len : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 63u, 64u, 65u, 150u}) {
    for (std::size_t pos : {std::size_t{0}, len / 2, len - 1}) {
      std::string q(len, 'h');
      q[pos] = 'A';  // 65: valid for 1.3, invalid for 1.5
      const std::string text = "@r1\n" + std::string(len, 'C') + "\n+\n" + q + "\n";
      TempDir dir;
      const std::string path = dir.write("p.fq", text);
      EXPECT_NO_THROW(read_all(path, {.schema = QualitySchema::illumina_1_3}));
      const Error e =
          expect_error([&] { read_all(path, {.schema = QualitySchema::illumina_1_5}); });
      EXPECT_EQ(e.position().record_no, 1u) << len << "/" << pos;
      EXPECT_EQ(e.position().line_no, 4u);
    }
  }
}

TEST(QualitySchema, check_quality_off_accepts_out_of_range) {
  // Breaks when check_quality=false still enforces the schema's range.
  TempDir dir;
  const std::string path = dir.write("q.fq", "@r\nACGT\n+\n!#AI\n");
  EXPECT_THROW(read_all(path, {.schema = QualitySchema::illumina_1_5}), Error);
  const ReadResult got =
      read_all(path, {.check_quality = false, .schema = QualitySchema::illumina_1_5});
  ASSERT_EQ(got.records.size(), 1u);
  EXPECT_EQ(got.records[0].quality, "!#AI");
}

TEST(QualitySchema, detect_schema_table) {
  // Breaks when detection does not pick the narrowest range consistent with [lo, hi]
  // (schema.hpp: 1.5 before 1.3 before solexa; below 59, illumina-1.8 if hi <= 74 ('J'),
  // else sanger; generic outside 33..126 or when nothing was seen).
  struct Row { int lo, hi; QualitySchema want; };
  const Row rows[] = {
      {255, 0, QualitySchema::generic},        {80, 70, QualitySchema::generic},
      {66, 104, QualitySchema::illumina_1_5},  {66, 66, QualitySchema::illumina_1_5},
      {126, 126, QualitySchema::illumina_1_5}, {65, 104, QualitySchema::illumina_1_3},
      {64, 126, QualitySchema::illumina_1_3},  {63, 104, QualitySchema::solexa},
      {59, 126, QualitySchema::solexa},        {58, 74, QualitySchema::illumina_1_8},
      {33, 74, QualitySchema::illumina_1_8},   {35, 73, QualitySchema::illumina_1_8},
      {33, 75, QualitySchema::sanger},         {33, 126, QualitySchema::sanger},
      {58, 104, QualitySchema::sanger},        {32, 70, QualitySchema::generic},
      {33, 127, QualitySchema::generic},       {66, 127, QualitySchema::generic},
      {0, 255, QualitySchema::generic},
  };
  for (const Row& r : rows)
    EXPECT_EQ(detect_schema(static_cast<uint8_t>(r.lo), static_cast<uint8_t>(r.hi)), r.want)
        << r.lo << ".." << r.hi << " gave " << schema_name(detect_schema(r.lo, r.hi));
}

TEST(QualitySchema, reader_detects_schema_from_every_byte) {
  // Breaks when detection samples only the first records/bytes: one low byte in the last record
  // changes the answer.
  struct Row { char lo, hi; char last_byte; QualitySchema want; };
  const Row rows[] = {
      {'B', 'h', 'B', QualitySchema::illumina_1_5},   // 66..104
      {'B', 'h', '@', QualitySchema::illumina_1_3},   // one '@' (64) at the very end
      {'B', 'h', ';', QualitySchema::solexa},         // one ';' (59)
      {'#', 'J', 'J', QualitySchema::illumina_1_8},   // 35..74
      {'#', 'J', 'K', QualitySchema::sanger},         // one 'K' (75)
      {'!', '~', '~', QualitySchema::sanger},         // 33..126
  };
  for (const Row& r : rows) {
    GenOptions o;
    o.records = 3000;
    o.min_length = 1;
    o.qual_lo = r.lo;
    o.qual_hi = r.hi;
    Generated g = generate_fastq(o);
    g.text += std::string("@last\nA\n+\n") + r.last_byte + "\n";
    TempDir dir;
    const std::string path = dir.write("d.fq", g.text);
    const ReadResult got = read_all(path, {.batch_records = 100, .check_quality = false});
    EXPECT_EQ(got.detected, r.want) << r.lo << ".." << r.hi << " + " << r.last_byte << " gave "
                                    << schema_name(got.detected);
  }
}

TEST(QualitySchema, detected_schema_before_reading_and_for_empty_reads) {
  // Breaks when an input without quality bytes (no reads, or only empty reads) is reported
  // as a specific schema instead of generic.
  TempDir dir;
  {
    Reader reader(dir.write("e.fq", "@r1\n\n+\n\n@r2\n\n+\n\n"));
    EXPECT_EQ(reader.detected_schema(), QualitySchema::generic);
    FastqBatch b;
    while (reader.next_batch(b)) {}
    EXPECT_EQ(reader.detected_schema(), QualitySchema::generic);
  }
  EXPECT_EQ(read_all(dir.write("empty.fq", "")).detected, QualitySchema::generic);
}

TEST(QualitySchema, check_quality_error_after_many_records) {
  // Breaks when the schema check's record/line number drifts across batches.
  GenOptions o;
  o.records = 5000;
  o.qual_lo = 'B';
  o.qual_hi = 'h';
  Generated g = generate_fastq(o);
  const std::string text = g.text + "@bad\nACGT\n+\nhhAh\n";
  TempDir dir;
  const std::string path = dir.write("s.fq", text);
  EXPECT_NO_THROW(read_all(path, {.schema = QualitySchema::illumina_1_3}));
  const Error e = expect_error(
      [&] { read_all(path, {.batch_records = 33, .schema = QualitySchema::illumina_1_5}); });
  expect_position(e, path, 5001, 20004, static_cast<int64_t>(LineIndex(text).line_start(20004)));
}
