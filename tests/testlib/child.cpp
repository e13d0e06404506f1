// testlib/child.cpp - Child: posix_spawn with redirections, a wait with a deadline (pidfd), and
// wait4's rusage for the peak RSS.
#include "testlib/child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "testlib/reference.hpp"

namespace fqpipe::testlib {
namespace {

double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int open_or_throw(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

std::string ChildResult::describe() const {
  if (timed_out) return "timed out (killed)";
  if (signal) return "signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exit " + std::to_string(exit_code);
}

Child::Child(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) throw std::runtime_error("Child: empty argv");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  out_path_ = options.stdout_path.empty() ? dir_.file("stdout") : "";
  err_path_ = options.stderr_path.empty() ? dir_.file("stderr") : "";
  const int wr = O_WRONLY | O_CREAT | O_TRUNC;
  int in_fd = -1;
  if (options.stdin_pipe) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    in_fd = fds[0];
    stdin_fd_ = fds[1];
    std::signal(SIGPIPE, SIG_IGN);  // feed() sees EPIPE instead of dying
  } else {
    in_fd = open_or_throw(options.stdin_path.empty() ? "/dev/null" : options.stdin_path, O_RDONLY);
  }
  const int out_fd = open_or_throw(out_path_.empty() ? options.stdout_path : out_path_, wr);
  const int err_fd = open_or_throw(err_path_.empty() ? options.stderr_path : err_path_, wr);

  // posix_spawn (vfork underneath) rather than fork: no copy of the test process's page tables,
  // which under ASan are large, so a run costs little more than the child's own start-up.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) sigaddset(&defaults, sig);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  start_ = now_seconds();
  const int spawn_error = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  if (spawn_error != 0) {
    pid_ = -1;
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(spawn_error));
  }
}

Child::~Child() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool Child::feed(std::string_view bytes) {
  while (!bytes.empty() && stdin_fd_ >= 0) {
    const ssize_t n = ::write(stdin_fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // EPIPE: the child closed its input (or died)
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return bytes.empty();
}

void Child::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void Child::kill(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool Child::running() {
  if (reaped_) return false;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return false;
  return info.si_pid == 0;
}

ChildResult Child::wait(double seconds, bool keep_stdin) {
  if (!keep_stdin) close_stdin();
  ChildResult r;
  if (reaped_) throw std::runtime_error("Child::wait called twice");
  const double deadline = now_seconds() + seconds;
  int status = 0;
  rusage usage{};
  // A pidfd becomes readable when the child exits, so poll() sleeps exactly as long as needed;
  // without one (Linux < 5.3) the loop naps 1 ms at a time.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  for (;;) {
    const pid_t got = ::wait4(pid_, &status, WNOHANG, &usage);
    if (got == pid_) break;
    if (got < 0 && errno != EINTR) throw std::runtime_error("wait4 failed");
    const double left = deadline - now_seconds();
    if (left <= 0 && !r.timed_out) {
      r.timed_out = true;
      ::kill(pid_, SIGKILL);
    }
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, r.timed_out ? 100 : static_cast<int>(std::min(left, 1.0) * 1000) + 1);
    } else {
      ::usleep(1000);
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  reaped_ = true;
  r.seconds = now_seconds() - start_;
  r.max_rss_kib = usage.ru_maxrss;
  if (WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    r.signal = WTERMSIG(status);
  if (!out_path_.empty()) r.out = read_file(out_path_);
  if (!err_path_.empty()) r.err = read_file(err_path_);
  return r;
}

ChildResult run_child(const std::vector<std::string>& argv, double seconds,
                      const ChildOptions& options) {
  Child child(argv, options);
  return child.wait(seconds);
}

}  // namespace fqpipe::testlib
