// output_file.hpp - OutputFile, where cat, head and decompress write: standard output, or a
// file that appears under its name only once complete, so a failed or interrupted run never
// leaves a complete-looking file.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "cli/interrupt.hpp"

namespace fqpipe::cli {

/// Thrown by OutputFile when the reader of a pipe has gone (EPIPE, as after `| head`): the
/// command should stop quietly and exit 0, like cat(1) does.
struct OutputClosed {};

/// Standard output ("-") or a file written as PATH.fqpipe-tmp.PID and renamed to PATH by
/// commit(). Standard output ignores SIGPIPE from then on, so a closed pipe is reported as
/// OutputClosed instead of killing the process. The temporary file is removed when the object
/// is destroyed uncommitted, and by the signal handler on Ctrl-C or SIGTERM (interrupt.hpp).
/// Not thread-safe.
class OutputFile {
 public:
  /// Opens `path`; throws Error (kind io) "cannot create: ..." when the temporary file cannot be.
  explicit OutputFile(std::string path);
  /// Closes and removes a temporary file that was never committed.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Writes all of `text` with one fwrite. Throws OutputClosed on EPIPE, Error (kind io)
  /// "write failed: ..." on any other failure.
  void write(std::string_view text);
  /// Flushes; a file is closed and renamed to its final name. Throws as write(), or Error (kind
  /// io) "cannot rename the finished output: ...".
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  std::string tmp_;  // empty for standard output
  RemoveOnInterrupt remove_on_interrupt_;  // armed while tmp_ exists under its temporary name
  std::FILE* file_;
};

}  // namespace fqpipe::cli
