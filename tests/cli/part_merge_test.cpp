// `fqpipe stats/count/validate/cat --part i/N` and `fqpipe merge`, as separate processes.
// What would break: parts that overlap or leave a gap at a cut (a cut inside a record, or the
// two neighbours moving one cut to different record starts, e.g. at quality lines starting
// with '@' or '+'); merged statistics that differ from the whole-file run in any number (the
// parts may detect different schemas); a merge that accepts a missing or repeated part.
// The whole-file run of the same binary is the reference, and the record count comes from the
// generator.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testlib/fastq_gen.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe::testlib;

namespace {

class PartMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
  }
  CommandResult fq(const std::string& args) const { return run_shell(shell_quote(bin_) + " " + args); }
  std::string q(const std::string& s) const { return shell_quote(s); }

  // Runs `command --json --part i/n FILE` for every part and merges them; returns the merge.
  CommandResult merged(const std::string& command, const std::string& file, unsigned n,
                       const std::string& extra = "") {
    std::string inputs;
    for (unsigned i = 1; i <= n; ++i) {
      const CommandResult r = fq(command + " --json -q " + extra + " --part " + std::to_string(i) + "/" +
                                 std::to_string(n) + " " + q(file));
      EXPECT_EQ(r.exit_code, 0) << command << " part " << i << "/" << n << ": " << r.err;
      inputs += " " + q(dir_.write("part" + std::to_string(i) + ".json", r.out));
    }
    return fq("merge --json" + inputs);
  }

  std::string bin_;
  TempDir dir_;
};

Generated nasty(std::size_t records, uint64_t seed) {
  return generate_fastq({.seed = seed,
                         .records = records,
                         .min_length = 0,
                         .max_length = 300,
                         .plus_repeats_name = 0.3,
                         .qual_starts_special = 0.5,
                         .header_comments = 0.5});
}

TEST_F(PartMerge, merged_parts_equal_the_whole_file) {
  for (const uint64_t seed : {1, 2}) {
    const Generated g = nasty(3000, seed);
    const std::string file = dir_.write("reads.fq", g.text);
    const CommandResult whole_stats = fq("stats --json -q " + q(file));
    const CommandResult whole_count = fq("count --json -q " + q(file));
    ASSERT_EQ(whole_stats.exit_code, 0) << whole_stats.err;
    for (const unsigned n : {1u, 2u, 3u, 7u, 64u}) {
      SCOPED_TRACE("parts " + std::to_string(n));
      const CommandResult s = merged("stats", file, n, n % 2 ? "-t 2" : "-t 1 --chunk-size 1024");
      ASSERT_EQ(s.exit_code, 0) << s.err;
      EXPECT_EQ(s.out, whole_stats.out);
      const CommandResult c = merged("count", file, n);
      ASSERT_EQ(c.exit_code, 0) << c.err;
      EXPECT_EQ(c.out, whole_count.out);
      EXPECT_NE(c.out.find("\"reads\": " + std::to_string(g.records.size())), std::string::npos) << c.out;
    }
  }
}

TEST_F(PartMerge, parts_of_cat_concatenate_to_the_whole) {
  const Generated g = nasty(2000, 7);
  const std::string file = dir_.write("reads.fq", g.text);
  const CommandResult whole = fq("cat -q " + q(file));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (const unsigned n : {2u, 5u}) {
    std::string joined;
    uint64_t records = 0;
    for (unsigned i = 1; i <= n; ++i) {
      const std::string part = std::to_string(i) + "/" + std::to_string(n);
      const CommandResult r = fq("cat -q -t 2 --part " + part + " " + q(file));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      joined += r.out;
      const CommandResult v = fq("validate -q --part " + part + " " + q(file));
      ASSERT_EQ(v.exit_code, 0) << v.err;
      records += std::stoull(v.out.substr(v.out.find("OK: ") + 4));
    }
    EXPECT_EQ(joined, whole.out) << n << " parts";
    EXPECT_EQ(records, g.records.size());
  }
}

TEST_F(PartMerge, a_part_with_bad_data_names_a_byte_offset_and_fails) {
  // A line of garbage before a record, near a cut: whichever part owns it must fail (the cut
  // moves past the garbage, so the part before the cut meets it), never both succeed.
  for (const double where : {0.25, 0.5, 0.75}) {
    Generated g = nasty(1000, 3);
    const std::size_t line = g.text.find("\n@", static_cast<std::size_t>(g.text.size() * where)) + 1;
    g.text.insert(line, "garbage\n");
    const std::string file = dir_.write("bad.fq", g.text);
    int failures = 0;
    for (int i = 1; i <= 4; ++i) {
      const CommandResult r = fq("count -q --part " + std::to_string(i) + "/4 " + q(file));
      if (r.exit_code == 0) continue;
      ++failures;
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("byte "), std::string::npos) << r.err;
      if (i > 1) {
        EXPECT_EQ(r.err.find("record "), std::string::npos) << "part " << i << " cannot know record numbers: " << r.err;
      }
    }
    EXPECT_GE(failures, 1) << "garbage at byte " << line << " went unnoticed";
  }
}

TEST_F(PartMerge, bad_part_arguments_are_usage_errors) {
  const std::string file = dir_.write("reads.fq", nasty(100, 4).text);
  for (const char* part : {"0/3", "4/3", "1/0", "x", "1/2/3", "2"}) {
    const CommandResult r = fq(std::string("count -q --part ") + part + " " + q(file));
    EXPECT_EQ(r.exit_code, 2) << part << ": " << r.err;
    EXPECT_NE(r.err.find("--part"), std::string::npos) << r.err;
  }
  const std::string gz = dir_.write("reads.fq.gz", gzip_member(nasty(100, 4).text));
  const CommandResult r = fq("count -q --part 1/2 " + q(gz));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("index"), std::string::npos) << r.err;
}

TEST_F(PartMerge, merge_refuses_missing_repeated_or_damaged_parts) {
  const std::string file = dir_.write("reads.fq", nasty(500, 5).text);
  std::vector<std::string> parts;
  for (int i = 1; i <= 3; ++i) {
    const CommandResult r = fq("stats --json -q --part " + std::to_string(i) + "/3 " + q(file));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    parts.push_back(dir_.write("p" + std::to_string(i) + ".json", r.out));
  }
  const CommandResult missing = fq("merge " + q(parts[0]) + " " + q(parts[2]));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("part 2/3 is missing"), std::string::npos) << missing.err;
  const CommandResult twice = fq("merge " + q(parts[0]) + " " + q(parts[1]) + " " + q(parts[1]) + " " + q(parts[2]));
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("given twice"), std::string::npos) << twice.err;
  EXPECT_EQ(fq("merge " + q(dir_.write("junk.json", "{not json"))).exit_code, 1);
  // A counter that contradicts the others (one more read than the histogram holds).
  std::string text = read_file(parts[1]);
  const std::size_t pos = text.find("\"counters\": {\"reads\": ");
  ASSERT_NE(pos, std::string::npos);
  const std::size_t num = pos + std::string("\"counters\": {\"reads\": ").size();
  text.insert(num, "1");
  const CommandResult damaged = fq("merge " + q(parts[0]) + " " + q(dir_.write("p2bad.json", text)) + " " + q(parts[2]));
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("contradict"), std::string::npos) << damaged.err;
  const CommandResult all = fq("merge " + q(parts[0]) + " " + q(parts[1]) + " " + q(parts[2]));
  EXPECT_EQ(all.exit_code, 0) << all.err;
}

}  // namespace

namespace {

TEST_F(PartMerge, head_skip_seeks_with_an_index_and_says_so_without_one) {
  const Generated g = nasty(4000, 9);
  const std::string gz = dir_.write("r.fq.gz", gzip_member(g.text));
  const std::string plain = dir_.write("r.fq", g.text);
  // The expected records, normalised as head writes them, straight from the generator.
  auto expect = [&](std::size_t skip, std::size_t n) {
    std::string out;
    for (std::size_t i = skip; i < std::min(skip + n, g.records.size()); ++i)
      out += "@" + g.records[i].header + "\n" + g.records[i].sequence + "\n+\n" + g.records[i].quality + "\n";
    return out;
  };
  const CommandResult no_index = fq("head -n 3 --skip 2500 " + q(gz));
  EXPECT_EQ(no_index.exit_code, 0) << no_index.err;
  EXPECT_EQ(no_index.out, expect(2500, 3));
  EXPECT_NE(no_index.err.find("fqpipe index"), std::string::npos) << no_index.err;
  ASSERT_EQ(fq("index --spacing 32768 " + q(gz)).exit_code, 0);
  for (const std::size_t skip : {0ul, 1ul, 2499ul, 3997ul, 3999ul, 4000ul, 10000ul}) {
    const CommandResult r = fq("head -n 3 --skip " + std::to_string(skip) + " " + q(gz));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, expect(skip, 3)) << "skip " << skip;
    EXPECT_EQ(r.err, "") << "with an index head seeks silently";
    const CommandResult p = fq("head -n 3 --skip " + std::to_string(skip) + " " + q(plain));
    EXPECT_EQ(p.out, expect(skip, 3)) << "plain, skip " << skip;
  }
  // --index names another file's index: a clear error, not wrong records.
  const std::string other = dir_.write("o.fq.gz", gzip_member(nasty(100, 10).text));
  ASSERT_EQ(fq("index -o " + q(dir_.file("o.fqidx")) + " " + q(other)).exit_code, 0);
  const CommandResult stale = fq("head -n 1 --skip 10 --index " + q(dir_.file("o.fqidx")) + " " + q(gz));
  EXPECT_NE(stale.exit_code, 0);
  EXPECT_NE(stale.err.find("stale"), std::string::npos) << stale.err;
}

}  // namespace

namespace {

TEST_F(PartMerge, chunking_index_needs_an_indexed_gzip_and_matches_the_plain_run) {
  const Generated g = nasty(3000, 21);
  const std::string gz = dir_.write("r.fq.gz", gzip_member(g.text));
  const std::string plain = dir_.write("r.fq", g.text);
  EXPECT_EQ(fq("count --chunking index " + q(plain)).exit_code, 2);
  EXPECT_EQ(fq("count --chunking index " + q(gz)).exit_code, 2) << "no index yet";
  ASSERT_EQ(fq("index --spacing 32768 " + q(gz)).exit_code, 0);
  const CommandResult whole = fq("stats --json -q --no-index " + q(gz));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  for (const char* t : {"1", "2", "3"}) {
    const CommandResult r = fq(std::string("stats --json -q -v --chunking index -t ") + t + " " + q(gz));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, whole.out) << "-t " << t;
    EXPECT_NE(r.err.find("mpmc: indexed gzip"), std::string::npos) << r.err;
    EXPECT_EQ(fq(std::string("cat -q -t ") + t + " " + q(gz)).out, fq("cat -q " + q(plain)).out);
  }
}

}  // namespace
