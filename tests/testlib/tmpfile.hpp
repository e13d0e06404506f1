// testlib/tmpfile.hpp - temporary directories, files, shell commands and external compressors
// for tests. Every test writes its data into its own TempDir, which is removed afterwards.
#pragma once

#include <string>
#include <string_view>

namespace fqpipe::testlib {

/// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  /// path() + "/" + name (the file need not exist).
  std::string file(std::string_view name) const;
  /// Writes `content` to file(name), replacing it; returns the path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

/// What a shell command did.
struct CommandResult {
  int exit_code = -1;  ///< exit status, or 128 + signal when killed by one
  std::string out;     ///< standard output
  std::string err;     ///< standard error
};

/// Runs `command` with /bin/sh -c, standard input from /dev/null unless the command redirects
/// it, and captures standard output and error.
CommandResult run_shell(const std::string& command);

/// Quotes `s` for /bin/sh (single quotes).
std::string shell_quote(std::string_view s);

/// Compresses file `input` with an external tool into `output`; `tool` is "gzip", "pigz",
/// "bgzip" or "igzip", `args` extra flags (e.g. "-9"). Throws std::runtime_error on failure.
void compress_with(const std::string& tool, const std::string& input, const std::string& output,
                   const std::string& args = "");

/// gzip-compresses `text` in memory with zlib (one member, level 6), for tests that must not
/// depend on external tools.
std::string gzip_member(std::string_view text, int level = 6);
/// The same as raw DEFLATE (RFC 1951), without gzip header and trailer.
std::string deflate_raw(std::string_view text, int level = 6);

/// The fqpipe CLI binary: $FQPIPE_BIN (set by ctest); empty when unset.
std::string fqpipe_bin();

/// True when the command exits 0 (e.g. "python3 -c 'import Bio'").
bool command_succeeds(const std::string& command);

}  // namespace fqpipe::testlib
