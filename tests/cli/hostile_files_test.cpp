// Hostile files through the command line (issue 6, item 3): files that cannot be used (a
// directory, no read permission), an empty one, and input cut short while it is being read (a
// named pipe whose writer stops mid-member, a regular file truncated under the reader). What
// would break: an unusable file reported as bad data or as success, a reader that waits forever
// for bytes that will not come, a crash (SIGBUS from a mapping of a file that shrank), or a
// shortened file reported as success with fewer records than it had. Every failure must meet
// Hostile::expect_failed (hostile_support.hpp): exit 1 or 2, a first stderr line naming the
// file, nothing on stdout, no output file left, within 20 s.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli/hostile_support.hpp"

using namespace fqpipe::testlib;
using namespace fqpipe::testlib::hostile;

// ---- unusable files -----------------------------------------------------------------------

TEST_F(Hostile, empty_file_is_zero_records) {
  // A 0-byte file is a valid empty FASTQ (README, "Checks and errors"; cli_commands
  // empty_file_is_zero_records): every command agrees on zero records and none crashes. Breaks
  // when one command treats it differently, or a producer waits for data that never comes.
  const std::string file = dir_.write("empty.fq", "");
  for (const Args& a : variants(plain_flavours(), false)) {
    SCOPED_TRACE("fqpipe " + join(a));
    const ChildResult r = fq(a, file);
    ASSERT_EQ(r.exit_code, 0) << r.describe() << "\n" << r.err;
    if (a[0] == "validate") {
      EXPECT_EQ(r.out, "OK: 0 records\n");
    }
    if (writes_file(a)) {
      EXPECT_EQ(read_file(output()), "");
    }
    take_outputs();
  }
}

TEST_F(Hostile, directory_exits_2) {
  // Breaks when a directory is read as an empty file (success) or as bad data (exit 1).
  const std::string d = dir_.file("a_directory");
  std::filesystem::create_directory(d);
  for (const Args& a : variants(plain_flavours(), false))
    expect_failed(fq(a, d), a, d, 2, ".+", "directory");
  for (const Args& a : variants(gzip_flavours(), false))
    expect_failed(fq(a, d), a, d, 2, ".+", "directory");
}

TEST_F(Hostile, unreadable_file_exits_2) {
  // Breaks when a file without read permission is reported as bad data or success.
  const std::string file = dir_.write("secret.fq.gz", gzip_with(sample(10, 608).text, {}));
  ASSERT_EQ(::chmod(file.c_str(), 0), 0);
  if (::access(file.c_str(), R_OK) == 0)
    GTEST_SKIP() << "running as root: chmod 000 does not stop reading";
  for (const Args& a : variants(gzip_flavours(), false))
    expect_failed(fq(a, file), a, file, 2, ".*[Pp]ermission denied.*", "unreadable");
}

TEST_F(Hostile, named_pipe_closed_inside_a_gzip_member) {
  // Breaks when the end of a pipe that stops mid-member (a writer that died, a download cut
  // off) is taken for the end of the data, or a reader waits forever for more.
  const Generated g = sample(150, 609);
  const std::string gz = gzip_with(g.text, {});
  const std::string plain_cut = g.text.substr(0, g.records[100].decoded_byte + 7);
  const std::string fifo = dir_.file("pipe.gz");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::size_t k = 0;
  for (const Args& a : variants(gzip_flavours(), false)) {
    for (const bool gzip : {true, false}) {
      if (!gzip && a[0] == "decompress") continue;  // plain text cut short is still plain text
      if (!gzip && k++ % 2) continue;  // half the plain runs: they repeat the SPMC path
      Args argv{bin_};
      argv.insert(argv.end(), a.begin(), a.end());
      if (writes_file(a)) argv.insert(argv.end(), {"-o", output()});
      argv.push_back(fifo);
      Child child(argv);
      // Open the writing end once fqpipe has opened the reading end (ENXIO until then).
      int fd = -1;
      for (int tries = 0; fd < 0 && tries < 4000 && child.running(); ++tries) {
        fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) ::usleep(1000);
      }
      ASSERT_GE(fd, 0) << "fqpipe " << join(a) << " never opened the pipe";
      ASSERT_EQ(::fcntl(fd, F_SETFL, 0), 0);
      const std::string part = gzip ? gz.substr(0, gz.size() / 2) : plain_cut;
      std::size_t done = 0;
      while (done < part.size()) {
        const ssize_t n = ::write(fd, part.data() + done, part.size() - done);
        if (n <= 0) break;  // fqpipe gave up early: its status says why
        done += static_cast<std::size_t>(n);
      }
      ::close(fd);
      const ChildResult r = child.wait(kDeadlineSeconds);
      expect_failed(r, a, fifo, 1, gzip ? std::string(kAnyPosition) : record_position(101),
                    gzip ? "gzip through a pipe" : "fastq through a pipe");
    }
  }
}

namespace {

// Bytes the process `pid` has read so far (/proc/PID/io rchar), -1 when unknown.
long long bytes_read_by(pid_t pid) {
  std::ifstream io("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  long long value = 0;
  while (io >> key >> value)
    if (key == "rchar:") return value;
  return -1;
}

// The reader must either finish before the cut, or notice it.
class ShrinkingFile : public Hostile {
 protected:
  // Runs `fqpipe validate ARGS FILE` on `bytes` and truncates FILE to `cut` bytes once fqpipe has
  // read `after` bytes, or after `max_wait_ms` (reads through a mapping are not counted). Either
  // the reader finished first and reports every record, or it saw the file shrink and fails
  // well; which one depends on timing. Returns true when it saw the truncation.
  bool truncate_under_reader(const Args& args, const std::string& file, const std::string& bytes,
                             std::size_t cut, long long after, std::size_t records,
                             int max_wait_ms = 2000) const {
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    Args argv{bin_, "validate"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(file);
    Child child(argv);
    for (int i = 0; i < max_wait_ms && child.running(); ++i) {
      const long long read = bytes_read_by(child.pid());
      if (read >= after || (read < 0 && i >= 20)) break;
      ::usleep(1000);
    }
    EXPECT_EQ(::truncate(file.c_str(), static_cast<off_t>(cut)), 0);
    const ChildResult r = child.wait(kDeadlineSeconds);
    if (r.exit_code == 0 && r.signal == 0 && !r.timed_out) {
      EXPECT_EQ(r.out, "OK: " + std::to_string(records) + " records\n")
          << "fqpipe validate " << join(args) << ": a shortened file reported as valid";
      return false;
    }
    // "file shrank while being read" is an io error (2); a record or member cut short is data (1).
    expect_failed(r, Args{"validate"}, file, r.exit_code == 2 ? 2 : 1, kAnyPosition,
                  "truncated under fqpipe validate " + join(args));
    return true;
  }

  // Runs `fqpipe ARGS FILE` with its standard output into a named pipe that is not read until
  // it is full: fqpipe then waits in a write with FILE mapped and only partly read, and FILE is
  // cut to `cut` bytes there. Then the pipe is drained. Whatever fqpipe still reads past the
  // cut is gone, at a point that does not depend on timing (unlike truncate_under_reader).
  ChildResult truncate_while_stalled(const Args& args, const std::string& file, std::size_t cut) const {
    const std::string fifo = dir_.file("stdout.fifo");
    ::unlink(fifo.c_str());
    EXPECT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // so fqpipe's open does not wait
    EXPECT_GE(rd, 0);
    Args argv{bin_};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(file);
    Child child(argv, {.stdout_path = fifo});
    const int capacity = ::fcntl(rd, F_GETPIPE_SZ);
    int queued = 0;
    for (int ms = 0; ms < 20000 && queued < capacity && child.running(); ++ms) {
      ::usleep(1000);
      if (::ioctl(rd, FIONREAD, &queued) != 0) queued = 0;
    }
    EXPECT_GE(queued, capacity) << "fqpipe " << join(args) << " never filled its output pipe";
    EXPECT_EQ(::truncate(file.c_str(), static_cast<off_t>(cut)), 0);
    std::vector<char> sink(1 << 16);
    for (int waited_ms = 0; waited_ms < 20000;) {
      const ssize_t n = ::read(rd, sink.data(), sink.size());
      if (n == 0) break;  // fqpipe closed its output
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) break;
        ::usleep(1000);
        ++waited_ms;
      }
    }
    ::close(rd);
    return child.wait(kDeadlineSeconds);
  }

  // The run must have failed well with the io error of a file that shrank while being read
  // (its output went to the pipe, so expect_failed's empty stdout holds).
  void expect_shrank(const ChildResult& r, const Args& args, const std::string& file, std::size_t cut) const {
    const std::string what = "cut to " + std::to_string(cut) + " bytes";
    expect_failed(r, args, file, 2, kAnyPosition, what);
    EXPECT_NE(first_line(r.err).find("file shrank while being read"), std::string::npos)
        << what << ": fqpipe " << join(args) << ": " << first_line(r.err);
  }
};

}  // namespace

TEST_F(ShrinkingFile, regular_file_truncated_while_being_read) {
  // Breaks when a file that shrinks under a running reader (a download restarted, a copy
  // overwritten) crashes it, hangs a producer waiting for a chunk that will never be read, or
  // yields success with the records up to the cut. Plain (one producer and several), gzip
  // (sequential decoder) and BGZF (blocks on all threads).
  const Generated g =
      generate_fastq({.seed = 611, .records = 30000, .min_length = 100, .max_length = 300});
  const std::string gz = gzip_with(g.text, {});
  const std::string bz = bgzf(g.text, 65280);
  const std::size_t plain_cut =
      g.records[g.records.size() / 2].decoded_byte + 5;  // inside a record
  struct Run {
    Args args;
    const std::string* bytes;
    std::size_t cut;
  };
  const std::vector<Run> runs = {
      {{"-t", "1", "--mode", "spmc"}, &g.text, plain_cut},
      {{"-t", "2", "--mode", "spmc"}, &g.text, plain_cut},
      {{"-t", "2", "--mode", "mpmc"}, &g.text, plain_cut},
      {{"-t", "1"}, &gz, gz.size() / 2},
      {{"-t", "2"}, &gz, gz.size() / 2},
      {{"-t", "2", "--mode", "spmc"}, &bz, bz.size() / 2},
      {{"-t", "2", "--mode", "mpmc"}, &bz, bz.size() / 2},
  };
  int seen = 0;
  for (const Run& run : runs)
    seen += truncate_under_reader(run.args, dir_.file("shrinking"), *run.bytes, run.cut, 1 << 20,
                                  g.records.size());
  std::printf("%d of %zu runs saw the file shrink (the others had read it all first)\n", seen,
              runs.size());
}

TEST_F(ShrinkingFile, parallel_gzip_file_truncated_while_being_read) {
  // Breaks when a gzip file that shrinks under --gzip-decoder parallel, which reads it through a
  // mapping (io::MappedFile), kills fqpipe with SIGBUS (status 135 before issue #6 was fixed), or
  // when the zeros its vanished pages then read as are passed on as data. Cut ahead of the
  // decoders (their checks find the file shorter) and behind them (the next read faults).
  const Generated g =
      generate_fastq({.seed = 612, .records = 30000, .min_length = 100, .max_length = 300});
  const std::string gz = gzip_with(g.text, {});
  const std::string file = dir_.file("shrinking.gz");
  const Args args{"decompress", "-t", "2", "--gzip-decoder", "parallel", "--chunk-size", "65536"};
  for (const std::size_t cut : {gz.size() / 2, std::size_t{8192}}) {
    dir_.write("shrinking.gz", gz);
    expect_shrank(truncate_while_stalled(args, file, cut), args, file, cut);
  }
}

TEST_F(ShrinkingFile, indexed_gzip_file_truncated_while_being_read) {
  // Breaks when a gzip file that shrinks under the seeking reader (IndexedGzipReader, a mapping:
  // decompress --offset and head --skip with an index) kills fqpipe with SIGBUS, or when the
  // zeros of its vanished pages are passed on as data. Cuts as in the parallel case above.
  const Generated g =
      generate_fastq({.seed = 613, .records = 30000, .min_length = 100, .max_length = 300});
  const std::string gz = gzip_with(g.text, {});
  const std::string file = dir_.write("shrinking.gz", gz);
  const ChildResult indexed =
      run_child({bin_, "index", "--spacing", "65536", "-o", file + ".fqidx", file}, kDeadlineSeconds);
  ASSERT_EQ(indexed.exit_code, 0) << indexed.describe() << "\n" << indexed.err;
  const std::vector<Args> runs = {
      {"decompress", "--offset", std::to_string(g.text.size() / 4)},
      {"head", "-n", "20000", "--skip", "5000"},
  };
  for (const Args& args : runs) {
    for (const std::size_t cut : {gz.size() / 2, std::size_t{8192}}) {
      dir_.write("shrinking.gz", gz);  // the same bytes again: the index still fits
      expect_shrank(truncate_while_stalled(args, file, cut), args, file, cut);
    }
  }
}
