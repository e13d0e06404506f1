// Signals (issue 6, item 5): the reader of standard output going away, and Ctrl-C / SIGTERM /
// SIGHUP while fqpipe writes a file. What would break: `fqpipe decompress big.gz | head`
// ending with an error message or a non-zero status; an interrupted `-o OUT` leaving OUT, or
// its temporary name, behind (a partial file that looks complete, or litter); threads that
// keep running (or block) after the signal, so the process does not die promptly; the exit
// status hiding the signal (a shell must see 128 + N); a signal the parent chose to ignore
// (nohup) being caught anyway. See src/cli/interrupt.hpp for the design.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "testlib/child.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe::testlib;
using Args = std::vector<std::string>;

namespace {

// A block of FASTQ records that may be repeated any number of times.
std::string fastq_block(std::size_t records, uint64_t seed) {
  return generate_fastq({.seed = seed, .records = records, .min_length = 50, .max_length = 250})
      .text;
}

// Streams an endless gzip member of `block` repeated into the child's standard input until the
// child stops reading (it died), compressing as it goes, so the test holds no large buffer.
void feed_endless_gzip(Child& child, const std::string& block) {
  z_stream zs{};
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
  std::string out(1 << 16, '\0');
  bool open = true;
  while (open) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    zs.avail_in = static_cast<uInt>(block.size());
    while (open && zs.avail_in > 0) {
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      deflate(&zs, Z_NO_FLUSH);
      open = child.feed(std::string_view(out.data(), out.size() - zs.avail_out));
    }
  }
  deflateEnd(&zs);
}

class Signals : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
  }

  // Names in the test directory other than `keep`.
  std::vector<std::string> others(const std::vector<std::string>& keep) const {
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      const std::string name = e.path().filename().string();
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) found.push_back(name);
    }
    return found;
  }

  // Waits (up to 20 s) until OUT's temporary file holds at least `bytes`; false if it never does
  // or the child ends first.
  bool wait_for_temporary(Child& child, const std::string& out, uintmax_t bytes) const {
    const std::string tmp = out + ".fqpipe-tmp." + std::to_string(child.pid());
    for (int i = 0; i < 20000 && child.running(); ++i) {
      std::error_code ec;
      const uintmax_t size = std::filesystem::file_size(tmp, ec);
      if (!ec && size >= bytes) return true;
      ::usleep(1000);
    }
    return false;
  }

  // Starts `fqpipe ARGS` (stdin a pipe fed by `feed` on a thread; the pipe stays open, so a
  // feed that returns leaves fqpipe waiting for more), sends `sig` once OUT's temporary holds
  // `bytes`, and checks that fqpipe died of `sig` within `seconds` and left
  // neither OUT nor the temporary.
  void interrupt(const Args& args, const std::string& out, int sig, uintmax_t bytes,
                 const std::function<void(Child&)>& feed,
                 const std::vector<std::string>& keep = {}) {
    SCOPED_TRACE("signal " + std::to_string(sig) + " to fqpipe " + [&] {
      std::string s;
      for (const std::string& a : args) s += a + " ";
      return s;
    }());
    Args argv{bin_};
    argv.insert(argv.end(), args.begin(), args.end());
    Child child(argv, {.stdin_pipe = true});
    std::thread writer([&] { feed(child); });  // returns, leaving the pipe open, or ends at EPIPE
    const bool started = wait_for_temporary(child, out, bytes);
    const auto sent = std::chrono::steady_clock::now();
    child.kill(sig);
    const ChildResult r = child.wait(20, /*keep_stdin=*/true);
    const double after =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
    writer.join();
    ASSERT_TRUE(started) << "the temporary output never appeared: " << r.describe() << "\n"
                         << r.err;
    EXPECT_FALSE(r.timed_out) << "still running 20 s after the signal";
    EXPECT_EQ(r.signal, sig) << r.describe() << "\n" << r.err;
    EXPECT_LT(after, 5.0) << "took " << after << " s to stop";
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(others(keep), std::vector<std::string>{}) << "output or temporary left behind";
  }

  std::string bin_;
  TempDir dir_;
};

}  // namespace

TEST_F(Signals, decompress_into_closed_pipe_ends_quietly) {
  // Breaks when `fqpipe decompress big.gz | head` prints "write failed: Broken pipe", exits
  // non-zero, is killed by SIGPIPE, or hangs with decoder threads blocked on a full queue.
  const std::string block = fastq_block(20000, 701);
  const std::string text = block + block + block;
  const std::string plain = dir_.write("big.fq", text);
  const std::string gz = dir_.write("big.fq.gz", gzip_member(text, 1));
  compress_with("bgzip", plain, dir_.file("big.bgz"));
  const std::string bgz = dir_.file("big.bgz");
  const std::vector<std::string> runs = {
      "decompress -t 1 " + shell_quote(gz),
      "decompress -t 2 " + shell_quote(gz),
      "decompress -t 2 --gzip-decoder parallel --chunk-size 65536 " + shell_quote(gz),
      "decompress -t 2 " + shell_quote(bgz),
      "decompress -t 2 " + shell_quote(plain),
      "decompress -t 2 - < " + shell_quote(gz),
      "cat -t 2 " + shell_quote(gz),
      "cat -t 2 --gzip-decoder parallel --chunk-size 65536 " + shell_quote(gz),
  };
  const std::string err = dir_.file("pipe.err");
  for (const std::string& args : runs) {
    SCOPED_TRACE(args);
    const std::string script = "timeout 20 " + shell_quote(bin_) + " " + args + " 2>" +
                               shell_quote(err) +
                               " | head -c 100 >/dev/null\necho \"${PIPESTATUS[0]}\"\n";
    const CommandResult r = run_shell("bash " + shell_quote(dir_.write("pipe.sh", script)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(std::stoi(r.out), 0) << "124 is a hang, 141 SIGPIPE";
    EXPECT_EQ(read_file(err), "");
  }
}

TEST_F(Signals, interrupt_while_reading_a_pipe_removes_the_temporary) {
  // Breaks when Ctrl-C, SIGTERM or SIGHUP, arriving while every thread waits for input, leaves
  // OUT.fqpipe-tmp.PID (or OUT) behind, or is caught and turned into an ordinary exit status.
  const std::string block = fastq_block(2000, 702);
  const std::string gz = gzip_member(block + block);
  const std::string out = dir_.file("out.fq");
  const auto half_then_stall = [&](const std::string& bytes) {
    return
        [&bytes](Child& child) { child.feed(std::string_view(bytes).substr(0, bytes.size() / 2)); };
  };
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    interrupt({"decompress", "-t", "2", "-o", out, "-"}, out, sig, 0, half_then_stall(gz));
    interrupt({"cat", "-t", "1", "-o", out, "-"}, out, sig, 0, half_then_stall(block));
    interrupt({"cat", "-t", "3", "-o", out, "-"}, out, sig, 0, half_then_stall(gz));
  }
}

TEST_F(Signals, interrupt_while_threads_are_busy_stops_promptly) {
  // Breaks when threads that are decoding, parsing and writing (an endless input) survive the
  // signal or delay the exit, or a half-written temporary stays on disk.
  const std::string block = fastq_block(3000, 703);
  const std::string out = dir_.file("out.fq");
  const auto endless_plain = [&](Child& child) {
    while (child.feed(block)) {
    }
  };
  const auto endless_gzip = [&](Child& child) { feed_endless_gzip(child, block); };
  interrupt({"decompress", "-t", "2", "-o", out, "-"}, out, SIGINT, 1 << 20, endless_gzip);
  interrupt({"cat", "-t", "2", "--batch-size", "64", "-o", out, "-"}, out, SIGTERM, 1 << 20,
            endless_plain);
  interrupt({"cat", "-t", "3", "--fasta", "-o", out, "-"}, out, SIGINT, 1 << 20, endless_gzip);
}

TEST_F(Signals, interrupt_with_several_producers_on_a_file) {
  // Breaks when the MPMC producers and consumers of a regular file keep the process alive after
  // SIGTERM, or its temporary output survives. The file is large and batches tiny, so the run
  // is still writing when the signal comes.
  const std::string block = fastq_block(3000, 704);
  const std::string in = dir_.file("in.fq");
  {
    std::ofstream f(in, std::ios::binary);
    for (int i = 0; i < 64 && f; ++i)
      f.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  const std::string out = dir_.file("out.fq");
  interrupt({"cat", "-t", "2", "--mode", "mpmc", "--batch-size", "1", "-o", out, in}, out, SIGTERM,
            1 << 16, [](Child&) {}, {"in.fq"});
}

TEST_F(Signals, ignored_interrupt_stays_ignored) {
  // Breaks when fqpipe installs its handler over a SIGINT its parent ignored (nohup, `cmd &` in
  // a script): the run must go on and finish its output.
  const std::string block = fastq_block(2000, 705);
  const std::string in = dir_.write("in.fq", block);
  const std::string out = dir_.file("out.fq");
  const std::string script = "trap '' INT\nexec " + shell_quote(bin_) + " cat -t 2 -o " +
                             shell_quote(out) + " - < " + shell_quote(dir_.file("fifo")) + "\n";
  ASSERT_EQ(::mkfifo(dir_.file("fifo").c_str(), 0600), 0);
  Child child({"/bin/sh", "-c", script});
  int fd = -1;  // ENXIO until fqpipe's shell has opened the reading end
  for (int i = 0; fd < 0 && i < 20000 && child.running(); ++i) {
    fd = ::open(dir_.file("fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) ::usleep(1000);
  }
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fcntl(fd, F_SETFL, 0), 0);
  ASSERT_TRUE(wait_for_temporary(child, out, 0));
  child.kill(SIGINT);
  ::usleep(100000);
  EXPECT_TRUE(child.running()) << "SIGINT was ignored by the parent, yet it ended fqpipe";
  ASSERT_EQ(::write(fd, block.data(), block.size()), static_cast<ssize_t>(block.size()));
  ::close(fd);
  const ChildResult r = child.wait(20);
  EXPECT_EQ(r.exit_code, 0) << r.describe() << "\n" << r.err;
  EXPECT_TRUE(read_file(out) == block);
}
