// `fqpipe cat` and the ordered path `head` shares with it, run as a separate process through
// $FQPIPE_BIN. What would break: records written out of file order or twice when consumer
// threads finish batches out of order; '\r' or the repeated '+name' kept; FASTA that is not
// ">header\nseq\n"; files merged in the wrong order; `cat | head` ending with a message or an
// error status (SIGPIPE/EPIPE not handled); -o leaving a partial or temporary file after an
// error; head reading (and failing on) the whole file when it needs only its first records.
// Expected text is built from the generator's records (testlib), never from fqpipe.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe::testlib;

namespace {

class Cat : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
  }

  CommandResult fq(const std::string& args) const { return run_shell(shell_quote(bin_) + " " + args); }

  // Runs `fqpipe ARGS | head -c 100` under bash; returns fqpipe's exit status and its stderr.
  CommandResult into_closed_pipe(const std::string& args) const {
    const std::string err = dir_.file("pipe.err");
    const std::string script = shell_quote(bin_) + " " + args + " 2>" + shell_quote(err) +
                               " | head -c 100 >/dev/null\necho \"${PIPESTATUS[0]}\"\n";
    const CommandResult r = run_shell("bash " + shell_quote(dir_.write("pipe.sh", script)));
    return {r.exit_code == 0 ? std::stoi(r.out) : -1, "", read_file(err)};
  }

  // Names in the test directory other than `keep` (a leftover temporary file shows up here).
  std::vector<std::string> others(const std::vector<std::string>& keep) const {
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      const std::string name = e.path().filename().string();
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) found.push_back(name);
    }
    return found;
  }

  std::string bin_;
  TempDir dir_;
};

Generated sample(std::size_t records, uint64_t seed, bool crlf = false) {
  return generate_fastq({.seed = seed,
                         .records = records,
                         .min_length = 0,
                         .max_length = 200,
                         .crlf = crlf,
                         .plus_repeats_name = 0.3,
                         .qual_starts_special = 0.1,
                         .header_comments = 0.3});
}

std::string to_fasta(const std::vector<RefRecord>& records) {
  std::string out;
  for (const RefRecord& r : records) out += ">" + r.header + "\n" + r.sequence + "\n";
  return out;
}

// `text` with a record whose quality is one byte short appended: a data error at the end.
std::string with_bad_last_record(const std::string& text) {
  return text + "@bad\nACGT\n+\nIII\n";
}

}  // namespace

TEST_F(Cat, output_is_input_normalised_for_threads_and_batch_sizes) {
  // Breaks when consumer threads write batches in the order they finish instead of file order,
  // or a batch is written twice or not at all (batch size 1 gives thousands of batches).
  const Generated g = sample(4000, 81);
  const std::string path = dir_.write("r.fq", g.text);
  const std::string want = to_fastq(g.records);
  for (const int threads : {1, 2, 3, 5}) {
    for (const int batch : {1, 7, 1000}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + " batch " + std::to_string(batch));
      const CommandResult r = fq("cat -t " + std::to_string(threads) + " --batch-size " +
                                 std::to_string(batch) + " " + shell_quote(path));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.err, "");
      ASSERT_EQ(r.out.size(), want.size());
      EXPECT_TRUE(r.out == want);
    }
  }
}

TEST_F(Cat, output_is_input_normalised_with_several_producers) {
  // Breaks when batches from several producers, which reach the consumers in no order at all,
  // are written in arrival order. Runs where the CLI has --mode (the MPMC pipeline).
  if (fq("cat --help").out.find("--mode") == std::string::npos) GTEST_SKIP() << "no --mode option";
  const Generated g = sample(8000, 95);
  const std::string path = dir_.write("r.fq", g.text);
  const std::string want = to_fastq(g.records);
  for (const std::string chunking : {"record", "equal"}) {
    for (const int threads : {2, 5}) {
      SCOPED_TRACE(chunking + " threads " + std::to_string(threads));
      const CommandResult r = fq("cat --mode mpmc --chunking " + chunking + " --chunk-size 32768 -t " +
                                 std::to_string(threads) + " --batch-size 7 " + shell_quote(path));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_TRUE(r.out == want);
    }
  }
}

TEST_F(Cat, crlf_and_repeated_plus_name_are_normalised) {
  // Breaks when a '\r' reaches the output or the '+' line keeps the repeated name.
  const Generated g = sample(3000, 82, true);
  const std::string path = dir_.write("crlf.fq", g.text);
  for (const int threads : {1, 3}) {
    const CommandResult r = fq("cat -t " + std::to_string(threads) + " " + shell_quote(path));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\r'), std::string::npos);
    EXPECT_TRUE(r.out == to_fastq(g.records));
  }
}

TEST_F(Cat, fasta_is_header_and_sequence) {
  // Breaks when --fasta keeps the quality, uses '@', or loses the header comment.
  const Generated g = sample(3000, 83);
  const std::string path = dir_.write("r.fq", g.text);
  for (const int threads : {1, 3}) {
    const CommandResult r = fq("cat --fasta -t " + std::to_string(threads) + " --batch-size 7 " +
                               shell_quote(path));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == to_fasta(g.records));
  }
}

TEST_F(Cat, gzip_and_plain_files_concatenate_in_argument_order) {
  // Breaks when a gzip input is written compressed or undecoded, or several files are merged
  // out of order (each file's records restart at 1, so a shared sequencer would mix them).
  const Generated a = sample(2000, 84), b = sample(1500, 85);
  const std::string gz = dir_.write("a.fq.gz", gzip_member(a.text));
  const std::string plain = dir_.write("b.fq", b.text);
  const CommandResult r = fq("cat -t 3 --batch-size 100 " + shell_quote(gz) + " " + shell_quote(plain) +
                             " " + shell_quote(gz));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == to_fastq(a.records) + to_fastq(b.records) + to_fastq(a.records));
}

TEST_F(Cat, standard_input) {
  // Breaks when "-" is not read as standard input.
  const Generated g = sample(500, 86);
  const std::string path = dir_.write("r.fq", g.text);
  const CommandResult r = fq("cat -t 2 - < " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == to_fastq(g.records));
}

TEST_F(Cat, closed_pipe_ends_quietly_with_status_0) {
  // Breaks when `fqpipe cat big.fq | head` is killed by SIGPIPE (status 141), reports the
  // EPIPE as a write error, or hangs with consumer threads blocked.
  const std::string path = dir_.write("big.fq", sample(30000, 87).text);
  for (const std::string args : {"cat -t 1 ", "cat -t 3 ", "cat --fasta -t 5 --batch-size 50 ",
                                 "head -n 30000 ", "head -n 30000 -t 3 "}) {
    SCOPED_TRACE(args);
    const CommandResult r = into_closed_pipe(args + shell_quote(path));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
  }
}

TEST_F(Cat, output_file_is_complete_and_no_temporary_remains) {
  // Breaks when -o writes to standard output too, leaves its temporary file, or is short.
  const Generated g = sample(3000, 88);
  const std::string path = dir_.write("r.fq", g.text);
  const std::string out = dir_.file("out.fq");
  const CommandResult r = fq("cat -t 3 -o " + shell_quote(out) + " " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(read_file(out) == to_fastq(g.records));
  EXPECT_EQ(others({"r.fq", "out.fq"}), std::vector<std::string>{});
}

TEST_F(Cat, bad_record_exits_1_and_leaves_no_output_file) {
  // Breaks when a data error after records were already written leaves a complete-looking
  // (or temporary) output file, or exits with another status.
  const Generated g = sample(3000, 89);
  const std::string path = dir_.write("bad.fq", with_bad_last_record(g.text));
  const std::string out = dir_.file("out.fq");
  for (const int threads : {1, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const CommandResult r = fq("cat --batch-size 100 -t " + std::to_string(threads) + " -o " +
                               shell_quote(out) + " " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("fqpipe: " + path + ": record 3001 ", 0), 0u) << r.err;
    EXPECT_EQ(others({"bad.fq"}), std::vector<std::string>{});
  }
}

TEST_F(Cat, unwritable_output_exits_2) {
  // Breaks when an output that cannot be created is reported as bad data or ignored.
  const std::string path = dir_.write("r.fq", sample(10, 90).text);
  const CommandResult r =
      fq("cat -o " + shell_quote(dir_.file("no/such/dir/out.fq")) + " " + shell_quote(path));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot create"), std::string::npos) << r.err;
}

TEST_F(Cat, full_device_exits_2_with_write_failed) {
  // Breaks when a failed write (ENOSPC) is ignored, or mistaken for a closed pipe (exit 0).
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::string path = dir_.write("r.fq", sample(3000, 91).text);
  const CommandResult r = fq("cat " + shell_quote(path) + " > /dev/full");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("write failed"), std::string::npos) << r.err;
}

TEST_F(Cat, head_stops_after_n_records_of_a_large_file) {
  // Breaks when head prints more or fewer than N records, or reads on past them: the file ends
  // in a damaged record, which only a full read would report.
  const Generated g = sample(100000, 92);
  const std::string path = dir_.write("big_bad.fq", with_bad_last_record(g.text));
  const std::vector<RefRecord> first5(g.records.begin(), g.records.begin() + 5);
  for (const std::string threads : {"1", "4"}) {
    const CommandResult r = fq("head -n 5 -t " + threads + " " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, to_fastq(first5));
  }
  // The same file in full is an error: the check above is not vacuous.
  EXPECT_EQ(fq("cat " + shell_quote(path) + " >/dev/null").exit_code, 1);
}

TEST_F(Cat, head_n_per_file_across_batches) {
  // Breaks when head cuts inside the wrong batch (N is not a multiple of the batch size) or
  // carries its count from one file to the next.
  const Generated a = sample(500, 93), b = sample(40, 94);
  const std::string pa = dir_.write("a.fq", a.text), pb = dir_.write("b.fq", b.text);
  const CommandResult r = fq("head -n 123 --batch-size 10 " + shell_quote(pa) + " " + shell_quote(pb));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<RefRecord> a123(a.records.begin(), a.records.begin() + 123);
  EXPECT_TRUE(r.out == to_fastq(a123) + to_fastq(b.records));
}
