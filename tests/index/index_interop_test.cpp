// index_interop_test.cpp - GZIDX both ways with indexed_gzip (Debian's python3-indexed-gzip,
// issue #5 item 2): its exported index must seek correctly here, and ours must seek correctly
// there. What would break: a field order or bit convention that differs from zran's, windows
// padded on the wrong side, member-start checkpoints it cannot start from. Skipped only when
// python3 or the module is missing.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "fqpipe/index.hpp"
#include "index/index_test_support.hpp"

namespace fqpipe::testing {
namespace {

using testlib::shell_quote;
using testlib::TempDir;

class Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    py_ = python_with_indexed_gzip();
    if (py_.empty()) GTEST_SKIP() << "python3 with indexed_gzip is not installed (python3-indexed-gzip)";
  }

  testlib::CommandResult python(const std::string& script, const std::string& args) const {
    const std::string path = dir_.write("script.py", script);
    return testlib::run_shell(py_ + " " + shell_quote(path) + " " + args);
  }

  std::vector<Sample> samples() const {
    const std::string text = fastq_text(15000, 41);
    return {{"single", dir_.write("single.gz", testlib::gzip_member(text, 6)), text},
            {"members", dir_.write("members.gz", multi_member(text, 4, 9)), text}};
  }

  std::string py_;
  TempDir dir_;
};

TEST_F(Interop, index_exported_by_indexed_gzip_seeks_here) {
  const char* script =
      "import indexed_gzip, sys\n"
      "f = indexed_gzip.IndexedGzipFile(sys.argv[1], spacing=int(sys.argv[3]))\n"
      "f.build_full_index()\n"
      "f.export_index(sys.argv[2])\n";
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    const std::string idx = dir_.file(s.name + ".py.gzidx");
    const testlib::CommandResult r = python(script, shell_quote(s.path) + " " + shell_quote(idx) + " 262144");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const GzipIndex index = load_index(idx);
    EXPECT_EQ(index.format, IndexFormat::gzidx);
    ASSERT_GE(index.checkpoints.size(), 4u);
    std::size_t windows = 0;
    for (const IndexCheckpoint& c : index.checkpoints) windows += !c.window.empty();
    EXPECT_GE(windows, 2u);
    IndexedGzipReader reader(s.path, index);
    EXPECT_EQ(reader.size(), s.text.size());
    std::mt19937_64 rng(5);
    for (int i = 0; i < 300; ++i) {
      const uint64_t at = rng() % (s.text.size() + 1);
      const std::size_t n = rng() % 5000;
      reader.seek(at);
      std::string got(n, '\0');
      got.resize(reader.read(got.data(), n));
      ASSERT_EQ(got, s.text.substr(at, n)) << "at " << at;
    }
  }
}

TEST_F(Interop, our_gzidx_seeks_in_indexed_gzip) {
  // Python reads `count` bytes at each offset and writes them all, in order, to the output.
  const char* script =
      "import indexed_gzip, sys\n"
      "f = indexed_gzip.IndexedGzipFile(sys.argv[1])\n"
      "f.import_index(sys.argv[2])\n"
      "out = open(sys.argv[4], 'wb')\n"
      "for line in open(sys.argv[3]):\n"
      "    at, n = map(int, line.split())\n"
      "    f.seek(at)\n"
      "    out.write(f.read(n))\n";
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    IndexBuildOptions o;
    o.spacing = 128 << 10;
    const GzipIndex index = build_index(s.path, o);
    ASSERT_GE(index.checkpoints.size(), 5u);
    const std::string idx = dir_.file(s.name + ".ours.gzidx");
    save_index(index, idx, IndexFormat::gzidx);
    std::mt19937_64 rng(6);
    std::ostringstream plan;
    std::string expected;
    for (int i = 0; i < 200; ++i) {
      const uint64_t at = rng() % s.text.size();
      const std::size_t n = rng() % 3000;
      plan << at << ' ' << n << '\n';
      expected += s.text.substr(at, n);
    }
    const std::string plan_path = dir_.write(s.name + ".plan", plan.str());
    const std::string out = dir_.file(s.name + ".out");
    const testlib::CommandResult r = python(
        script, shell_quote(s.path) + " " + shell_quote(idx) + " " + shell_quote(plan_path) + " " + shell_quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(testlib::read_file(out) == expected) << "indexed_gzip read other bytes through our index";
  }
}

}  // namespace
}  // namespace fqpipe::testing
