// output_file.cpp - OutputFile: stdio underneath, one fwrite per block of text, a temporary
// name for files, and EPIPE told apart from real write errors.
#include "cli/output_file.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include <unistd.h>

#include "fqpipe/error.hpp"

namespace fqpipe::cli {

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    // Without this a closed pipe kills the process with SIGPIPE, status 141, before any cleanup.
    std::signal(SIGPIPE, SIG_IGN);
    file_ = stdout;
    return;
  }
  tmp_ = path_ + ".fqpipe-tmp." + std::to_string(::getpid());
  remove_on_interrupt_.arm(tmp_);  // before the file exists, so no moment leaves it unguarded
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (!file_) {
    remove_on_interrupt_.release();
    ErrorPosition at;
    at.file = path_;
    throw Error(ErrorKind::io, std::string("cannot create: ") + std::strerror(errno), at);
  }
}

OutputFile::~OutputFile() {
  if (tmp_.empty()) return;
  if (file_) std::fclose(file_);
  std::remove(tmp_.c_str());
  remove_on_interrupt_.release();  // only now: until the file is gone, an interrupt removes it
}

void OutputFile::write(std::string_view text) {
  if (text.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) fail("write failed");
}

void OutputFile::commit() {
  if (std::fflush(file_) != 0) fail("write failed");
  if (tmp_.empty()) return;
  std::FILE* f = std::exchange(file_, nullptr);
  if (std::fclose(f) != 0) fail("write failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename the finished output");
  remove_on_interrupt_.release();  // after the rename: an interrupt before it removes the file
  tmp_.clear();
}

void OutputFile::fail(const std::string& what) {
  const int err = errno;
  if (err == EPIPE) throw OutputClosed{};
  ErrorPosition at;
  at.file = path_;
  throw Error(ErrorKind::io, what + ": " + std::strerror(err), at);
}

}  // namespace fqpipe::cli
