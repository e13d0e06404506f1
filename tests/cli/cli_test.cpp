// The fqpipe command line (issue 2, items 5 and 9), run as a separate process through
// $FQPIPE_BIN. What would break: wrong exit codes (a damaged file reported as success, or as a
// usage error), an error message without its position or offending line, JSON that is not JSON
// or lacks fields, numbers that differ from the reference, `head` printing more or other
// records, stdin not read, progress noise on a non-terminal stderr, several files merged.
// Expected numbers come from the zlib reference and testlib/ref_stats, never from fqpipe.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/ref_stats.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe::testlib;

namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
    if (!command_succeeds("python3 -c 'import json'")) GTEST_SKIP() << "python3 is missing";
  }

  CommandResult fq(const std::string& args) const { return run_shell(shell_quote(bin_) + " " + args); }

  // Parses a JSON array of flat objects with python3 and returns, per object, its scalar fields
  // as strings ("file" -> "x.fq", "reads" -> "12"). Fails the test on invalid JSON.
  std::vector<std::map<std::string, std::string>> parse_json(const std::string& json) const {
    const std::string path = dir_.write("out.json", json);
    const std::string script =
        "import json,sys\n"
        "a = json.load(open(sys.argv[1]))\n"
        "assert isinstance(a, list), 'not an array'\n"
        "for o in a:\n"
        "    assert isinstance(o, dict), 'not an object'\n"
        "    for k, v in o.items():\n"
        "        if isinstance(v, (str, int)) and not isinstance(v, bool):\n"
        "            print(k + '\\t' + str(v))\n"
        "    print('--')\n";
    const std::string py = dir_.write("parse.py", script);
    const CommandResult r = run_shell("python3 " + shell_quote(py) + " " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 0) << "invalid JSON:\n" << json << "\n" << r.err;
    std::vector<std::map<std::string, std::string>> out(1);
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line == "--") {
        out.emplace_back();
        continue;
      }
      const std::size_t tab = line.find('\t');
      out.back()[line.substr(0, tab)] = line.substr(tab + 1);
    }
    out.pop_back();
    return out;
  }

  std::string bin_;
  TempDir dir_;
};

Generated sample(std::size_t records = 3000, uint64_t seed = 51, char qlo = '!', char qhi = 'J') {
  GenOptions o;
  o.records = records;
  o.seed = seed;
  o.min_length = 0;
  o.max_length = 200;
  o.qual_lo = qlo;
  o.qual_hi = qhi;
  o.lowercase_fraction = 0.1;
  o.header_comments = 0.3;
  return generate_fastq(o);
}

// The schema name DESIGN.md §5 / schema.hpp's rule gives for the byte range [lo, hi],
// written out independently of fqpipe's detect_schema.
std::string expected_schema(int lo, int hi) {
  if (lo > hi || lo < 33 || hi > 126) return "generic";
  if (lo >= 66) return "illumina-1.5";
  if (lo >= 64) return "illumina-1.3";
  if (lo >= 59) return "solexa";
  return hi <= 74 ? "illumina-1.8" : "sanger";
}

void expect_stats_object(const std::map<std::string, std::string>& o, const std::string& file,
                         const std::string& format, const std::vector<RefRecord>& records) {
  RefStats probe = reference_stats(records, 0);
  const std::string schema = expected_schema(probe.qual_lo, probe.qual_hi);
  const int offset = (schema == "solexa" || schema == "illumina-1.3" || schema == "illumina-1.5") ? 64 : 33;
  const RefStats s = reference_stats(records, offset);
  const std::map<std::string, std::string> want = {
      {"file", file},
      {"format", format},
      {"schema", schema},
      {"reads", std::to_string(s.reads)},
      {"bases", std::to_string(s.bases)},
      {"min_length", std::to_string(s.min_len)},
      {"max_length", std::to_string(s.max_len)},
      {"a", std::to_string(s.a)},
      {"c", std::to_string(s.c)},
      {"g", std::to_string(s.g)},
      {"t", std::to_string(s.t)},
      {"n", std::to_string(s.n)},
      {"q20_bases", std::to_string(s.q20)},
      {"q30_bases", std::to_string(s.q30)},
      {"quality_sum", std::to_string(s.qual_sum)},
  };
  for (const auto& [key, value] : want) {
    ASSERT_TRUE(o.count(key)) << "missing field " << key;
    EXPECT_EQ(o.at(key), value) << "field " << key;
  }
}

}  // namespace

TEST_F(Cli, stats_json_matches_reference_plain_gzip_bgzf) {
  // Breaks when stats --json is not valid JSON, lacks a documented field, or any number or the
  // format/schema differs from the reference.
  const Generated g = sample();
  const std::string plain = dir_.write("r.fastq", g.text);
  const std::string gz = dir_.write("r.fastq.gz", gzip_member(g.text));
  compress_with("bgzip", plain, dir_.file("r.bgz"));
  const CommandResult r =
      fq("stats --json " + shell_quote(plain) + " " + shell_quote(gz) + " " + shell_quote(dir_.file("r.bgz")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto objects = parse_json(r.out);
  ASSERT_EQ(objects.size(), 3u) << r.out;
  expect_stats_object(objects[0], plain, "plain", g.records);
  expect_stats_object(objects[1], gz, "gzip", g.records);
  expect_stats_object(objects[2], dir_.file("r.bgz"), "bgzf", g.records);
}

TEST_F(Cli, stats_json_phred64_schema_detected) {
  // Breaks when a Phred+64 file is scored with offset 33 or its schema is misreported.
  const Generated g = sample(2000, 52, 'B', 'h');
  const std::string path = dir_.write("p64.fq", g.text);
  const CommandResult r = fq("stats --json " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto objects = parse_json(r.out);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].at("schema"), "illumina-1.5");
  expect_stats_object(objects[0], path, "plain", g.records);
}

TEST_F(Cli, stats_identical_for_any_thread_count) {
  // Breaks when the CLI's result depends on -t.
  const Generated g = sample(20000, 53);
  const std::string path = dir_.write("t.fq.gz", gzip_member(g.text));
  const CommandResult one = fq("stats --json -t 1 " + shell_quote(path));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  expect_stats_object(parse_json(one.out).at(0), path, "gzip", g.records);
  for (int t : {2, 3, 8}) {
    const CommandResult r = fq("stats --json --batch-size 50 -t " + std::to_string(t) + " " + shell_quote(path));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, one.out) << "threads " << t;
  }
}

TEST_F(Cli, stats_tsv_header_and_one_row_per_file) {
  // Breaks when --tsv has no header, repeats it per file, or merges files into one row.
  const Generated g1 = sample(100, 54), g2 = sample(250, 55);
  const std::string a = dir_.write("a.fq", g1.text), b = dir_.write("b.fq.gz", gzip_member(g2.text));
  const CommandResult r = fq("stats --tsv " + shell_quote(a) + " " + shell_quote(b));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', pos);
      cells.push_back(line.substr(pos, tab == std::string::npos ? std::string::npos : tab - pos));
      if (tab == std::string::npos) break;
      pos = tab + 1;
    }
    rows.push_back(cells);
  }
  ASSERT_EQ(rows.size(), 3u) << r.out;
  EXPECT_EQ(rows[0][0], "file");
  std::size_t reads_col = rows[0].size();
  for (std::size_t c = 0; c < rows[0].size(); ++c)
    if (rows[0][c] == "reads") reads_col = c;
  ASSERT_LT(reads_col, rows[0].size()) << "no reads column: " << r.out;
  for (std::size_t i = 1; i < 3; ++i) ASSERT_EQ(rows[i].size(), rows[0].size());
  EXPECT_EQ(rows[1][0], a);
  EXPECT_EQ(rows[2][0], b);
  EXPECT_EQ(rows[1][reads_col], "100");
  EXPECT_EQ(rows[2][reads_col], "250");
}

TEST_F(Cli, count_stdin_plain_and_gzip) {
  // Breaks when "-" does not read standard input (a pipe: no size, no pread).
  const Generated g = sample(5000, 56);
  uint64_t bases = 0;
  for (const RefRecord& rec : g.records) bases += rec.sequence.size();
  const std::string plain = dir_.write("s.fq", g.text);
  const std::string gz = dir_.write("s.fq.gz", gzip_member(g.text));
  for (const std::string& f : {plain, gz}) {
    const CommandResult r = run_shell("cat " + shell_quote(f) + " | " + shell_quote(bin_) + " count -");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\b5000\\b"))) << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("\\b" + std::to_string(bases) + "\\b"))) << r.out;
    const CommandResult j = run_shell("cat " + shell_quote(f) + " | " + shell_quote(bin_) + " stats --json -");
    ASSERT_EQ(j.exit_code, 0) << j.err;
    expect_stats_object(parse_json(j.out).at(0), "-", f == gz ? "gzip" : "plain", g.records);
  }
}

TEST_F(Cli, count_json_several_files) {
  // Breaks when several files are summed into one object or their order is lost.
  const Generated g1 = sample(10, 57), g2 = sample(20, 58);
  const std::string a = dir_.write("a.fq", g1.text), b = dir_.write("b.fq", g2.text);
  const CommandResult r = fq("count --json " + shell_quote(a) + " " + shell_quote(b));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto objects = parse_json(r.out);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].at("file"), a);
  EXPECT_EQ(objects[0].at("reads"), "10");
  EXPECT_EQ(objects[1].at("file"), b);
  EXPECT_EQ(objects[1].at("reads"), "20");
}

TEST_F(Cli, validate_prints_ok_with_record_count) {
  // Breaks when validate prints anything but "OK: N records" for a good file.
  const Generated g = sample(1234, 59);
  const CommandResult r = fq("validate " + shell_quote(dir_.write("v.fq.gz", gzip_member(g.text))));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK: 1234 records\n");
  EXPECT_EQ(r.err, "") << "no progress output when stderr is not a terminal";
}

TEST_F(Cli, head_prints_exactly_first_records_normalised) {
  // Breaks when head prints more or fewer records, keeps '\r' or the '+name' repetition, or
  // changes the header.
  GenOptions o;
  o.records = 50;
  o.crlf = true;
  o.plus_repeats_name = 1.0;
  o.header_comments = 1.0;
  o.seed = 60;
  const Generated g = generate_fastq(o);
  const std::string path = dir_.write("h.fq", g.text);
  const CommandResult r = fq("head -n 3 " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<RefRecord> first3(g.records.begin(), g.records.begin() + 3);
  EXPECT_EQ(r.out, to_fastq(first3));
  const CommandResult all = fq("head -n 1000 " + shell_quote(path));
  EXPECT_EQ(all.out, to_fastq(g.records));
  const CommandResult none = fq("head -n 0 " + shell_quote(path));
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
}

TEST_F(Cli, bad_data_exit_1_with_position_and_line) {
  // Breaks when a malformed file exits 0 or 2, or the message lacks the documented form
  // "fqpipe: FILE: record R (line L, byte B): reason" followed by the offending line.
  const Generated g = sample(1233, 61);
  const std::string bad_qual(149, 'I');
  const std::string text = g.text + "@r\n" + std::string(150, 'A') + "\n+\n" + bad_qual + "\n";
  const uint64_t byte = g.text.size() + 3 + 151 + 2;
  const std::string path = dir_.write("bad.fq", text);
  for (const std::string cmd : {"stats", "count", "validate", "head -n 100000"}) {
    SCOPED_TRACE(cmd);
    const CommandResult r = fq(cmd + " " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, "fqpipe: " + path + ": record 1234 (line 4936, byte " + std::to_string(byte) +
                         "): quality length 149 != sequence length 150\n" + bad_qual + "\n");
  }
}

TEST_F(Cli, damaged_gzip_exit_1) {
  // Breaks when a truncated or corrupt .gz reports partial numbers with exit 0.
  const Generated g = sample(3000, 62);
  const std::string gz = gzip_member(g.text);
  const std::string cut = dir_.write("cut.fq.gz", gz.substr(0, gz.size() / 2));
  std::string crc = gz;
  crc[crc.size() - 7] ^= 1;
  const std::string bad_crc = dir_.write("crc.fq.gz", crc);
  for (const std::string& f : {cut, bad_crc}) {
    for (const std::string cmd : {"stats", "count", "validate"}) {
      const CommandResult r = fq(cmd + " " + shell_quote(f));
      EXPECT_EQ(r.exit_code, 1) << cmd << " " << f << "\n" << r.err;
      EXPECT_EQ(r.err.rfind("fqpipe: " + f + ": ", 0), 0u) << r.err;
      EXPECT_EQ(r.out.find("OK"), std::string::npos);
    }
  }
}

TEST_F(Cli, usage_errors_exit_2) {
  // Breaks when an unknown flag, a missing file or an unknown schema exits 0 or 1.
  const std::string good = dir_.write("g.fq", sample(10, 63).text);
  const CommandResult flag = fq("stats --no-such-flag " + shell_quote(good));
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  const CommandResult missing = fq("stats " + shell_quote(dir_.file("missing.fq")));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find(dir_.file("missing.fq")), std::string::npos) << missing.err;
  const CommandResult schema = fq("stats --schema illumina-9 " + shell_quote(good));
  EXPECT_EQ(schema.exit_code, 2) << schema.err;
  const CommandResult nocmd = fq("");
  EXPECT_EQ(nocmd.exit_code, 2) << nocmd.err;
  const CommandResult nofile = fq("stats");
  EXPECT_EQ(nofile.exit_code, 2) << nofile.err;
}

TEST_F(Cli, byte_sizes_take_binary_suffixes) {
  // Breaks when "64K" is refused or read as anything but 65536, or when a malformed size is
  // not a usage error: the suffixed and the plain option must choose the same chunks.
  const std::string good = dir_.write("g.fq", sample(2000, 7).text);
  const auto chunks = [&](const std::string& size) {
    const CommandResult r = fq("count -v -t 2 --mode mpmc --chunking record --chunk-size " + size + " " +
                               shell_quote(good));
    EXPECT_EQ(r.exit_code, 0) << size << ": " << r.err;
    return r.err.find("pread, 64 KiB chunks") != std::string::npos;
  };
  EXPECT_TRUE(chunks("65536"));
  EXPECT_TRUE(chunks("64K"));
  EXPECT_TRUE(chunks("64KiB"));
  EXPECT_TRUE(chunks("64kb"));
  EXPECT_FALSE(chunks("32K"));
  const CommandResult max = fq("count --max-record-size 1M " + shell_quote(good));
  EXPECT_EQ(max.exit_code, 0) << max.err;
  for (const std::string bad : {"12Q", "K", "-5M", "2G"}) {  // 2G: above the 1 GiB limit
    const CommandResult r = fq("count --chunk-size " + bad + " " + shell_quote(good));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
  }
}

TEST_F(Cli, every_subcommand_takes_the_shared_options) {
  // The shared options are built only for the subcommand named first on the command line.
  // Breaks when one of them loses its options (or a name no longer matches), or when the
  // top-level help stops listing a subcommand.
  const std::string good = dir_.write("g.fq", sample(20, 9).text);
  for (const std::string cmd : {"stats", "count", "validate", "head", "cat"}) {
    const CommandResult help = fq(cmd + " --help");
    EXPECT_EQ(help.exit_code, 0) << cmd;
    for (const char* option : {"--threads", "--chunk-size", "--mode", "--max-record-size", "--quiet"})
      EXPECT_NE(help.out.find(option), std::string::npos) << cmd << " --help lacks " << option;
    const CommandResult run = fq(cmd + " -t 2 --mode mpmc --chunk-size 1K -q " + shell_quote(good));
    EXPECT_EQ(run.exit_code, 0) << cmd << ": " << run.err;
    EXPECT_EQ(fq(cmd + " --no-such-option " + shell_quote(good)).exit_code, 2) << cmd;
  }
  const CommandResult top = fq("--help");
  for (const char* cmd : {"stats", "count", "validate", "head", "cat", "merge", "decompress", "index"})
    EXPECT_NE(top.out.find(std::string("\n  ") + cmd + " "), std::string::npos) << cmd;
}

TEST_F(Cli, missing_file_among_several_exit_2) {
  // Breaks when an unreadable second file is skipped and the run exits 0.
  const std::string good = dir_.write("g.fq", sample(10, 64).text);
  const CommandResult r = fq("count " + shell_quote(good) + " " + shell_quote(dir_.file("nope.fq")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(Cli, several_files_one_bad_exit_1) {
  // Breaks when an error in a later file is lost because an earlier file succeeded.
  const std::string good = dir_.write("g.fq", sample(10, 66).text);
  const std::string bad = dir_.write("b.fq", "@r\nACGT\n+\nIII\n");
  for (const std::string cmd : {"stats", "count", "validate"}) {
    const CommandResult r = fq(cmd + " " + shell_quote(good) + " " + shell_quote(bad));
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find("fqpipe: " + bad + ": record 1 (line 4, byte 10): "), std::string::npos) << r.err;
  }
}

TEST_F(Cli, schema_flag_and_no_check_quality) {
  // Breaks when --schema does not change the check, or --no-check-quality does not disable it.
  const std::string path = dir_.write("q.fq", "@r\nACGT\n+\n#5AB\n");
  EXPECT_EQ(fq("validate " + shell_quote(path)).exit_code, 0);
  const CommandResult strict = fq("validate --schema illumina-1.5 " + shell_quote(path));
  EXPECT_EQ(strict.exit_code, 1) << strict.err;
  EXPECT_EQ(strict.err.rfind("fqpipe: " + path + ": record 1 (line 4, byte 10): ", 0), 0u) << strict.err;
  const CommandResult off = fq("validate --schema illumina-1.5 --no-check-quality " + shell_quote(path));
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.out, "OK: 1 records\n");
}

TEST_F(Cli, empty_file_is_zero_records) {
  // Breaks when an empty file is an error or prints garbage numbers (min_length of no reads).
  const std::string path = dir_.write("empty.fq", "");
  const CommandResult r = fq("validate " + shell_quote(path));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "OK: 0 records\n");
  const CommandResult j = fq("stats --json " + shell_quote(path));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  expect_stats_object(parse_json(j.out).at(0), path, "plain", {});
}

TEST_F(Cli, no_progress_on_non_terminal_stderr) {
  // Breaks when the progress meter writes '\r' lines into logs and pipes.
  const std::string path = dir_.write("p.fq.gz", gzip_member(sample(20000, 65).text));
  for (const std::string cmd : {"stats", "count", "stats --json", "count --tsv"}) {
    const CommandResult r = fq(cmd + " " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "") << cmd;
  }
}
