// Hostile input through the command line (issue 6, item 3): a corruption corpus generated here
// (truncations, bit flips, CRC/ISIZE damage, trailing garbage, gzip header flags, malformed
// FASTQ in plain, gzip and BGZF files) run through stats, count, validate, cat and decompress,
// one and two threads, one producer and several, the sequential and the parallel gzip decoder.
// What would break: a damaged input reported as success (the worst outcome: wrong numbers, or
// an output file that looks complete), a crash or a hang on some byte, an error that does not
// name the file and a position, or the wrong exit status. Unusable files and input cut short
// while being read are in hostile_files_test.cpp.
//
// Every failing run must meet Hostile::expect_failed (hostile_support.hpp): exit 1 (bad data),
// not by a signal, within 20 s; a first stderr line "fqpipe: FILE: " with a position; no raw
// input bytes on stderr; nothing on stdout; neither the -o file nor its temporary left. The
// sweeps (every cut, a stride of bit flips) give each case one variant in turn, so together
// they cover all variants; FQPIPE_HOSTILE_STRIDE=1 and FQPIPE_HOSTILE_ALL_VARIANTS=1 make a
// long local run of every byte with every variant.
#include <gtest/gtest.h>

#include "cli/hostile_support.hpp"

using namespace fqpipe::testlib;
using namespace fqpipe::testlib::hostile;

// ---- gzip container damage ----------------------------------------------------------------

TEST_F(Hostile, truncated_gzip_at_every_point) {
  // Breaks when a .gz cut short anywhere (header, DEFLATE blocks, trailer) is counted as a
  // shorter valid file, crashes a decoder, or hangs the parallel decoder waiting for a chunk.
  const Generated g = sample(150, 601);
  const std::string gz = gzip_with(g.text, {});
  const std::vector<Args> vs = variants(gzip_flavours(), false);
  const std::size_t stride =
      env_size("FQPIPE_HOSTILE_STRIDE", std::max<std::size_t>(1, gz.size() / 48));
  std::vector<std::size_t> cuts;
  for (std::size_t c = 1; c < gz.size(); ++c)
    if (c < 64 || c >= gz.size() - 64 || c % stride == 0) cuts.push_back(c);
  std::size_t k = 0;
  for (const std::size_t cut : cuts) {
    ASSERT_THROW(gunzip(gz.substr(0, cut)), ReferenceError) << cut;
    const std::string file = dir_.write("cut.gz", gz.substr(0, cut));
    for (std::size_t n = 0; n < (all_variants() ? vs.size() : 1); ++n) {
      const Args& a = vs[k++ % vs.size()];
      // One byte is not a gzip magic: decompress copies a non-gzip input as it is (plain).
      if (cut < 2 && a[0] == "decompress") continue;
      expect_failed(fq(a, file), a, file, 1, kAnyPosition, "cut at " + std::to_string(cut));
    }
  }
}

TEST_F(Hostile, truncated_bgzf_at_many_points) {
  // Breaks when a BGZF file cut inside a block is accepted by the block-parallel decoder or
  // its MPMC chunks, or a cut between blocks makes one path report text the file lacks.
  const Generated g = sample(300, 602);
  const std::string bz = bgzf(g.text, 2048);
  const std::vector<Args> vs = variants(plain_flavours(), false);
  // A cut between two blocks leaves valid BGZF without its EOF block, which fqpipe accepts
  // (htslib does too, with a warning): there a run may succeed, decompress always and the
  // FASTQ commands when the text ends with a whole record, and must then give that text.
  std::set<std::size_t> cuts, boundaries;
  for (std::size_t at = 0; at + 18 <= bz.size();
       at += 1 + static_cast<uint8_t>(bz[at + 16]) + 256u * static_cast<uint8_t>(bz[at + 17]))
    if (at > 0) boundaries.insert(at);
  const std::size_t stride =
      env_size("FQPIPE_HOSTILE_STRIDE", std::max<std::size_t>(1, bz.size() / 48));
  for (std::size_t cut = 2; cut < bz.size() - 28; cut += cut < 40 ? 1 : stride) cuts.insert(cut);
  cuts.insert(boundaries.begin(), boundaries.end());  // the last one is the EOF block's start
  std::size_t k = 0;
  for (const std::size_t cut : cuts) {
    const std::string file = dir_.write("cut.bgz", bz.substr(0, cut));
    std::string text;  // what the cut keeps, when it is whole blocks
    bool whole_records = false;
    if (boundaries.count(cut)) {
      text = gunzip(bz.substr(0, cut));
      try {
        split_fastq(text);
        whole_records = true;
      } catch (const ReferenceError&) {
      }
    }
    for (std::size_t n = 0; n < (all_variants() ? vs.size() : 1); ++n) {
      const Args& a = vs[k++ % vs.size()];
      const ChildResult r = fq(a, file);
      const bool may_succeed = boundaries.count(cut) && (whole_records || a[0] == "decompress");
      if (may_succeed && r.exit_code == 0 && r.signal == 0 && !r.timed_out) {
        if (a[0] == "decompress") {
          EXPECT_TRUE(read_file(output()) == text) << "cut at " << cut;
        }
        take_outputs();
        continue;
      }
      expect_failed(r, a, file, 1, kAnyPosition, "bgzf cut at " + std::to_string(cut));
    }
  }
}

TEST_F(Hostile, bit_flips_across_the_stream) {
  // Breaks when a flipped bit anywhere (header, Huffman tables, data, trailer) yields a crash,
  // a hang, or a success whose output differs from the intact file's. A success is legal only
  // where the flip changes nothing that is checked (MTIME, XFL, OS, FTEXT, padding bits).
  const Generated g = sample(150, 603);
  const std::string gz = gzip_with(g.text, {});
  const std::vector<Args> vs = variants(gzip_flavours(), false);
  // What each variant prints for the intact file at the same path.
  const std::string file = dir_.file("flip.gz");
  std::vector<std::string> want;
  dir_.write("flip.gz", gz);
  for (const Args& a : vs) {
    const ChildResult r = fq(a, file);
    ASSERT_EQ(r.exit_code, 0) << join(a) << "\n" << r.err;
    want.push_back(r.out);
    if (writes_file(a)) {
      ASSERT_TRUE(read_file(output()) == (a[0] == "cat" ? to_fastq(g.records) : g.text));
    }
    take_outputs();
  }
  const std::size_t stride =
      env_size("FQPIPE_HOSTILE_STRIDE", std::max<std::size_t>(1, gz.size() / 100));
  const bool every_bit = all_variants() || env_size("FQPIPE_HOSTILE_STRIDE", 0) != 0;
  std::size_t k = 0, accepted = 0, flips = 0;
  // Every bit of header bytes 2-9 (method, flags, and MTIME, XFL, OS, which may change
  // harmlessly), then one bit per position: the magic, and a stride over the rest.
  for (std::size_t pos = 0; pos < gz.size(); pos += pos < 10 ? 1 : stride) {
    for (int bit = 0; bit < 8; ++bit) {
      const bool header = pos >= 2 && pos < 10;
      if (!header && !every_bit && bit != static_cast<int>((pos * 5) % 8)) continue;
      std::string bad = gz;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
      dir_.write("flip.gz", bad);
      ++flips;
      for (std::size_t n = 0; n < (all_variants() ? vs.size() : 1); ++n) {
        const std::size_t v = k++ % vs.size();
        const Args& a = vs[v];
        const ChildResult r = fq(a, file);
        if (pos < 2 && a[0] == "decompress") {  // no gzip magic: decompress copies it as plain text
          take_outputs();
          continue;
        }
        const std::string what =
            "flip of bit " + std::to_string(bit) + " at " + std::to_string(pos);
        if (r.exit_code == 0 && r.signal == 0 && !r.timed_out) {
          ++accepted;
          SCOPED_TRACE(what + ": fqpipe " + join(a) + " succeeded");
          EXPECT_TRUE(r.out == want[v]) << r.out;
          if (writes_file(a)) {
            EXPECT_TRUE(read_file(output()) == (a[0] == "cat" ? to_fastq(g.records) : g.text));
            take_outputs();
          }
          continue;
        }
        expect_failed(r, a, file, 1, kAnyPosition, what);
      }
    }
  }
  std::printf("%zu flips, %zu runs succeeded with the intact output\n", flips, accepted);
}

TEST_F(Hostile, crc_and_isize_damage) {
  // Breaks when the CRC32 or ISIZE of a member, each byte of them, is not compared, in the
  // sequential or the parallel decoder, in the only member or in the second of two.
  const Generated g = sample(200, 604);
  const std::string gz = gzip_with(g.text, {});
  const std::vector<Args> vs = variants(gzip_flavours(), false);
  std::size_t k = 0;
  for (std::size_t back = 1; back <= 8; ++back) {  // ISIZE: 1..4 from the end, CRC32: 5..8
    std::string bad = gz;
    bad[bad.size() - back] ^= 0x04;
    const std::string file = dir_.write("trailer.gz", bad);
    const std::string what =
        (back <= 4 ? "isize" : "crc32") + std::string(" byte ") + std::to_string(back);
    for (std::size_t n = 0; n < (back == 8 || all_variants() ? vs.size() : 3); ++n) {
      const Args& a = vs[k++ % vs.size()];
      expect_failed(fq(a, file), a, file, 1, kAnyPosition, what);
    }
  }
  const std::size_t half = g.records[100].decoded_byte;
  std::string second = gzip_with(g.text.substr(half), {});
  second[second.size() - 6] ^= 0x10;
  expect_all_fail("second.gz", gzip_with(g.text.substr(0, half), {}) + second, vs, 1, kAnyPosition);
}

TEST_F(Hostile, garbage_after_the_last_member) {
  // Breaks when bytes after the last member that are not zero padding are ignored: FASTQ
  // text, a lone magic byte, a bare magic, zeros then a byte, a member header cut short.
  const Generated g = sample(100, 605);
  const std::string gz = gzip_with(g.text, {});
  const std::vector<Args> vs = variants(gzip_flavours(), false);
  const std::vector<std::string> tails = {"@r\nACGT\n+\nIIII\n",
                                          std::string("\x1f", 1),
                                          std::string("\x1f\x8b", 2),
                                          std::string("\0\0\0x", 4),
                                          std::string("\x1f\x8b\x08\0\0\0", 6),
                                          "\x7f"
                                          "ELF\x02\x01\x01"};
  std::size_t k = 0;
  for (std::size_t t = 0; t < tails.size(); ++t) {
    const std::string file = dir_.write("tail.gz", gz + tails[t]);
    for (std::size_t n = 0; n < (t == 0 || all_variants() ? vs.size() : 3); ++n) {
      const Args& a = vs[k++ % vs.size()];
      expect_failed(fq(a, file), a, file, 1, kAnyPosition, "tail " + std::to_string(t));
    }
  }
}

TEST_F(Hostile, gzip_header_flags_valid) {
  // Breaks when a member with FTEXT, FEXTRA, FNAME, FCOMMENT or FHCRC (RFC 1952 §2.3.1), alone
  // or all together, is refused or its fields are taken for DEFLATE data.
  const Generated g = sample(120, 606);
  const std::string extra = std::string("XY\x04\0abcd", 8) + std::string("ZZ\0\0", 4);
  const std::vector<std::pair<std::string, HeaderFields>> cases = {
      {"ftext", {.text = true}},
      {"fextra", {.extra = extra}},
      {"fname", {.name = "reads.fastq"}},
      {"fcomment", {.comment = "made by the hostile input test"}},
      {"fhcrc", {.header_crc = true}},
      {"all", {.text = true, .extra = extra, .name = "r.fq", .comment = "c", .header_crc = true}},
  };
  for (const auto& [name, fields] : cases) {
    const std::string file = dir_.write(name + ".gz", gzip_with(g.text, fields));
    ASSERT_EQ(gunzip(read_file(file)), g.text) << name;
    for (const Args& f : gzip_flavours()) {
      for (const char* cmd : {"validate", "decompress"}) {
        Args a{cmd};
        a.insert(a.end(), f.begin(), f.end());
        SCOPED_TRACE(name + ": fqpipe " + join(a));
        const ChildResult r = fq(a, file);
        ASSERT_EQ(r.exit_code, 0) << r.describe() << "\n" << r.err;
        if (a[0] == "validate") {
          EXPECT_EQ(r.out, "OK: 120 records\n");
        } else {
          EXPECT_TRUE(read_file(output()) == g.text);
        }
        take_outputs();
      }
    }
  }
}

TEST_F(Hostile, gzip_header_flags_invalid) {
  // Breaks when a wrong header CRC16 is not checked, or a header that ends inside its extra
  // field, file name or comment is read past its end; reserved flags or a method other than
  // deflate are accepted.
  const Generated g = sample(120, 607);
  const std::vector<Args> vs = variants(gzip_flavours(), false);
  std::string bad_hcrc = gzip_with(g.text, {.name = "r.fq", .header_crc = true});
  bad_hcrc[10 + 5] ^= 0x01;  // the CRC16 after "r.fq\0"
  const std::string with_extra = gzip_with(g.text, {.extra = std::string(300, 'x')});
  std::string long_xlen = gzip_with("", {.extra = "abcd"});
  long_xlen[10] = '\xff';  // XLEN 0xff04: far past the end of the file
  long_xlen[11] = '\xff';
  const std::string named = gzip_with(g.text, {.name = std::string(200, 'n')});
  std::string reserved = gzip_with(g.text, {});
  reserved[3] = '\x20';
  std::string method = gzip_with(g.text, {});
  method[2] = '\x07';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad_hcrc", bad_hcrc},      {"cut_extra", with_extra.substr(0, 12 + 100)},
      {"long_xlen", long_xlen},    {"cut_name", named.substr(0, 10 + 150)},
      {"reserved_flag", reserved}, {"method_7", method}};
  // The first case runs every variant, the others a third of them in turn.
  std::size_t k = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::string file = dir_.write(cases[c].first + ".gz", cases[c].second);
    for (std::size_t n = 0; n < (c == 0 || all_variants() ? vs.size() : vs.size() / 3); ++n) {
      const Args& a = vs[k++ % vs.size()];
      expect_failed(fq(a, file), a, file, 1, kAnyPosition, cases[c].first);
    }
  }
}

// ---- malformed FASTQ, in plain, gzip and BGZF files ---------------------------------------

namespace {

// A FASTQ text whose record `record_no` is damaged.
struct FastqCase {
  std::string name;
  std::string text;
  uint64_t record_no;
  bool byte_check;  // found by the byte checks only (count does not run them)
};

std::vector<FastqCase> fastq_cases() {
  const Generated g = sample(120, 610);
  const std::string head = g.text.substr(0, g.records[60].decoded_byte);  // records 1..60
  const std::string tail = g.text.substr(g.records[61].decoded_byte);     // records 62..
  std::string garbage;
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 3000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    garbage += static_cast<char>(x >> 56);
  }
  garbage[0] = '\x8b';     // not '@', not a compression magic
  std::string three_line;  // records without their '+' line
  for (const RefRecord& r : g.records)
    three_line += "@" + r.header + "\n" + r.sequence + "\n" + r.quality + "\n";
  return {
      {"no_plus", head + "@r61\nACGT\nIIII\n@r62\nACGT\n+\nIIII\n" + tail, 61, false},
      {"three_line_records", three_line, 1, false},
      {"header_without_at", head + "r61\nACGT\n+\nIIII\n" + tail, 61, false},
      {"quality_shorter", head + "@r61\nACGTACGT\n+\nIIIIIII\n" + tail, 61, false},
      {"quality_longer", head + "@r61\nACGT\n+\nIIIIIIIII\n" + tail, 61, false},
      {"non_ascii_in_sequence", head + "@r61\nAC\xc3\xa9GT\n+\nIIIIII\n" + tail, 61, true},
      {"escape_sequence_in_sequence", head + "@r61\nAC\x1b[2JGT\n+\nIIIIIIII\n" + tail, 61, true},
      {"nul_in_quality", head + "@r61\nACGT\n+\nII" + std::string(1, '\0') + "I\n" + tail, 61,
       true},
      {"nul_in_header", head + "@r6" + std::string(1, '\0') + "1\nACGT\n+\nIIII\n" + tail, 61,
       true},
      {"binary_garbage", garbage, 1, false},
      {"garbage_after_records", head + garbage, 61, false},
  };
}

}  // namespace

TEST_F(Hostile, malformed_fastq_plain) {
  // Breaks when a malformed record is skipped, resynchronised past, or reported at another
  // record by one of the paths (one producer, several producers whose chunks start anywhere).
  for (const FastqCase& c : fastq_cases())
    expect_all_fail(c.name + ".fq", c.text, variants(plain_flavours(), true, c.byte_check), 1,
                    record_position(c.record_no));
}

TEST_F(Hostile, malformed_fastq_gzip_and_bgzf) {
  // Breaks when the same damage is found in plain text but not behind a decoder, or the record
  // number is counted per member, per BGZF block or per chunk instead of per file.
  std::size_t k = 0;
  for (const FastqCase& c : fastq_cases()) {
    const std::vector<Args> gz = variants(gzip_flavours(), true, c.byte_check);
    const std::vector<Args> bz = variants(plain_flavours(), true, c.byte_check);
    const std::string gz_file = dir_.write(c.name + ".gz", gzip_with(c.text, {}));
    const std::string bz_file = dir_.write(c.name + ".bgz", bgzf(c.text, 1024));
    for (std::size_t n = 0; n < (all_variants() ? gz.size() : 4); ++n) {
      const Args& a = gz[(k + n) % gz.size()];
      expect_failed(fq(a, gz_file), a, gz_file, 1, record_position(c.record_no), c.name + " gzip");
    }
    for (std::size_t n = 0; n < (all_variants() ? bz.size() : 6); ++n) {
      const Args& a = bz[(k + n) % bz.size()];
      expect_failed(fq(a, bz_file), a, bz_file, 1, record_position(c.record_no), c.name + " bgzf");
    }
    k += 7;
  }
}
