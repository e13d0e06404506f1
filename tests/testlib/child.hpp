// testlib/child.hpp - runs a program as a child process without a shell, for tests that need
// what run_shell cannot give: a deadline after which the child is killed (a hang fails the
// test instead of the suite), its exact fate (exit status or signal), its peak RSS (wait4),
// standard input fed by the test through a pipe, and signals sent while it runs.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "testlib/tmpfile.hpp"

namespace fqpipe::testlib {

/// Where a child's standard streams go.
struct ChildOptions {
  std::string stdin_path = {};   ///< "" = /dev/null, unless stdin_pipe
  bool stdin_pipe = false;       ///< standard input is a pipe the test writes with Child::feed()
  std::string stdout_path = {};  ///< "" = captured (ChildResult::out); "/dev/null" discards it
  std::string stderr_path = {};  ///< "" = captured (ChildResult::err)
};

/// How a child ended.
struct ChildResult {
  int exit_code = -1;      ///< the status it exited with, -1 when killed by a signal
  int signal = 0;          ///< the signal that killed it, 0 when it exited
  bool timed_out = false;  ///< still running at the deadline: killed with SIGKILL by wait()
  long max_rss_kib = 0;    ///< peak resident set, KiB (wait4's ru_maxrss; see Child)
  double seconds = 0;      ///< wall time from start to exit
  std::string out, err;    ///< captured standard output / error (empty when redirected)

  /// "exit 1", "signal 11 (Segmentation fault)" or "timed out", for failure messages.
  std::string describe() const;
};

/// One running child, started with posix_spawn(argv[0]), never through a shell. The child
/// starts with SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGPIPE at their default actions and no
/// signal blocked, whatever the test process does. About max_rss_kib: the kernel reports the
/// larger of the child's own peak and the test process's peak RSS so far (the child begins as
/// a vfork of the test), so tests that measure keep their own memory small and stream big
/// inputs instead of holding them. A Child destroyed while running is killed and reaped.
class Child {
 public:
  /// Starts `argv` (argv[0] is a path, not searched in PATH). Throws std::runtime_error when a
  /// redirection cannot be opened or the program cannot be started.
  explicit Child(const std::vector<std::string>& argv, const ChildOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Writes all of `bytes` to the child's standard input (stdin_pipe only). Returns false once
  /// the child has closed its end (EPIPE); SIGPIPE is ignored in the test process for this.
  bool feed(std::string_view bytes);
  /// Closes the writing end of the standard input pipe: the child sees end of input.
  void close_stdin();
  /// Sends `sig` to the child.
  void kill(int sig);
  /// True while the child has not exited (does not reap it).
  bool running();
  /// Waits for the child to exit; if it still runs `seconds` after this call, it is killed with
  /// SIGKILL and reported as timed out. Closes the standard input pipe first unless
  /// `keep_stdin`. Call once.
  ChildResult wait(double seconds, bool keep_stdin = false);

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;  // writing end of the stdin pipe, -1 when closed or not a pipe
  bool reaped_ = false;
  double start_ = 0;
  std::string out_path_, err_path_;  // captured streams, empty when redirected
  TempDir dir_;                      // holds the captured streams
};

/// Runs `argv` to completion with a deadline of `seconds` (see Child).
ChildResult run_child(const std::vector<std::string>& argv, double seconds,
                      const ChildOptions& options = {});

}  // namespace fqpipe::testlib
