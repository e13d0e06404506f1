// index_cli_test.cpp - `fqpipe index`, `fqpipe index --show` and `fqpipe decompress --offset
// --length` (issue #5, item 3), run as a process through $FQPIPE_BIN. What would break: the
// default FILE.fqidx not written or not found, a byte range that differs from a dd-style slice
// of the zlib reference, a stale index used silently, exit codes that call bad data a success.
#include <gtest/gtest.h>

#include "fqpipe/index.hpp"
#include "index/index_test_support.hpp"

namespace fqpipe::testing {
namespace {

using testlib::shell_quote;
using testlib::TempDir;

class IndexCli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = testlib::fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
    text_ = fastq_text(12000, 51);
    gz_ = dir_.write("reads.fq.gz", multi_member(text_, 3, 6));
  }
  testlib::CommandResult fq(const std::string& args) const {
    return testlib::run_shell(shell_quote(bin_) + " " + args);
  }
  std::string slice(uint64_t at, uint64_t n) const { return text_.substr(at, n); }

  std::string bin_, text_, gz_;
  TempDir dir_;
};

TEST_F(IndexCli, index_writes_file_fqidx_by_default) {
  const testlib::CommandResult r = fq("index --spacing 65536 " + shell_quote(gz_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const GzipIndex index = load_index(gz_ + ".fqidx");
  EXPECT_EQ(index.format, IndexFormat::fqpipe);
  EXPECT_EQ(index.spacing, 65536u);
  EXPECT_EQ(index.decoded_size, text_.size());
  // No temporary file is left behind.
  EXPECT_EQ(testlib::run_shell("ls " + shell_quote(dir_.path()) + " | grep -c tmp").out, "0\n");
}

TEST_F(IndexCli, index_output_and_gzidx_format) {
  const std::string out = dir_.file("x.gzidx");
  ASSERT_EQ(fq("index -o " + shell_quote(out) + " --format gzidx " + shell_quote(gz_)).exit_code, 0);
  EXPECT_EQ(testlib::read_file(out).substr(0, 5), "GZIDX");
  EXPECT_NE(fq("index --format zip " + shell_quote(gz_)).exit_code, 0);
}

TEST_F(IndexCli, show_prints_format_sizes_and_checkpoints) {
  ASSERT_EQ(fq("index --spacing 65536 " + shell_quote(gz_)).exit_code, 0);
  const GzipIndex index = load_index(gz_ + ".fqidx");
  const testlib::CommandResult r = fq("index --show " + shell_quote(gz_ + ".fqidx"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fqpipe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::to_string(text_.size())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("checkpoints       " + std::to_string(index.checkpoints.size())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::to_string(index.checkpoints.back().comp_bit)), std::string::npos);
  // JSON parses and has one object per checkpoint.
  if (!testlib::command_succeeds("python3 -c 'import json'")) return;
  const std::string json = dir_.write("show.json", fq("index --show --json " + shell_quote(gz_ + ".fqidx")).out);
  const testlib::CommandResult p = testlib::run_shell(
      "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d[\"checkpoints\"]), d[\"records\"])' " +
      shell_quote(json));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, std::to_string(index.checkpoints.size()) + " " + std::to_string(index.record_count) + "\n");
}

TEST_F(IndexCli, decompress_range_with_the_default_index) {
  ASSERT_EQ(fq("index --spacing 65536 " + shell_quote(gz_)).exit_code, 0);
  const uint64_t size = text_.size();
  for (uint64_t at : {uint64_t{0}, uint64_t{1}, uint64_t{123457}, size - 10, size}) {
    const testlib::CommandResult r =
        fq("decompress --offset " + std::to_string(at) + " --length 5000 " + shell_quote(gz_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == slice(at, 5000)) << "offset " << at;
    EXPECT_EQ(r.err.find("note"), std::string::npos) << r.err;
  }
  // Without --length: to the end; with -o: into a file.
  EXPECT_TRUE(fq("decompress --offset 1000 " + shell_quote(gz_)).out == slice(1000, text_.size()));
  const std::string out = dir_.file("range.txt");
  ASSERT_EQ(fq("decompress --offset 7 --length 99 -o " + shell_quote(out) + " " + shell_quote(gz_)).exit_code, 0);
  EXPECT_EQ(testlib::read_file(out), slice(7, 99));
}

TEST_F(IndexCli, decompress_range_with_an_explicit_gzidx_index) {
  const std::string idx = dir_.file("other-name.gzidx");
  ASSERT_EQ(fq("index --format gzidx -o " + shell_quote(idx) + " " + shell_quote(gz_)).exit_code, 0);
  const testlib::CommandResult r =
      fq("decompress --index " + shell_quote(idx) + " --offset 300000 --length 777 " + shell_quote(gz_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == slice(300000, 777));
}

TEST_F(IndexCli, decompress_whole_file_with_an_explicit_index_decodes_from_its_checkpoints) {
  // Breaks when --index without a range takes the one-thread seek path, or ignores the index.
  const std::string idx = dir_.file("elsewhere.gzidx");
  ASSERT_EQ(fq("index --format gzidx --spacing 65536 -o " + shell_quote(idx) + " " + shell_quote(gz_)).exit_code, 0);
  const testlib::CommandResult r = fq("decompress -t 3 -v --index " + shell_quote(idx) + " " + shell_quote(gz_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == text_);
  EXPECT_NE(r.err.find("indexed gzip"), std::string::npos) << r.err;
  // A missing index named on the command line is an error, not a silent fallback.
  const testlib::CommandResult missing = fq("decompress --index " + shell_quote(dir_.file("none.fqidx")) + " " + shell_quote(gz_));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.fqidx"), std::string::npos) << missing.err;
}

TEST_F(IndexCli, decompress_range_without_an_index_says_an_index_would_help) {
  const testlib::CommandResult r = fq("decompress --offset 200000 --length 1234 " + shell_quote(gz_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == slice(200000, 1234));
  EXPECT_NE(r.err.find("fqpipe index"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // Past the end, with and without an index: a usage error.
  const std::string past = "decompress --offset " + std::to_string(text_.size() + 1) + " " + shell_quote(gz_);
  EXPECT_EQ(fq(past).exit_code, 2);
  ASSERT_EQ(fq("index " + shell_quote(gz_)).exit_code, 0);
  EXPECT_EQ(fq(past).exit_code, 2);
}

TEST_F(IndexCli, stale_default_index_is_an_error_not_wrong_data) {
  ASSERT_EQ(fq("index " + shell_quote(gz_)).exit_code, 0);
  dir_.write("reads.fq.gz", testlib::gzip_member(fastq_text(12001, 52), 6));  // the file changed
  const testlib::CommandResult r = fq("decompress --offset 10 --length 10 " + shell_quote(gz_));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(gz_ + ".fqidx"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stale"), std::string::npos) << r.err;
}

TEST_F(IndexCli, bad_inputs_give_clear_errors) {
  const std::string plain = dir_.write("plain.fq", text_);
  EXPECT_EQ(fq("index " + shell_quote(plain)).exit_code, 1);
  const testlib::CommandResult r = fq("index --show " + shell_quote(plain));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not an index"), std::string::npos) << r.err;
  EXPECT_EQ(fq("index").exit_code, 2);
  EXPECT_EQ(fq("index --spacing 10 " + shell_quote(gz_)).exit_code, 2);
}

}  // namespace
}  // namespace fqpipe::testing
