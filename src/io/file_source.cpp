// file_source.cpp - FileSource: open(2)/read(2) with EINTR retry and a peek buffer.
// Errors name the file and the errno text, as a user would want to read them.
#include "io/file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fqpipe/error.hpp"

namespace fqpipe::io {
namespace {

[[noreturn]] void fail_io(const std::string& path, const std::string& what) {
  ErrorPosition at;
  at.file = path;
  throw Error(ErrorKind::io, what, at);
}

}  // namespace

FileSource::FileSource(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_io(path_, std::string("cannot open: ") + std::strerror(errno));
    owns_fd_ = true;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail_io(path_, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    owns_fd_ = false;
    fail_io(path_, "is a directory");
  }
  if (S_ISREG(st.st_mode)) {
    size_ = static_cast<uint64_t>(st.st_size);
    // The whole file is read front to back once: tell the kernel to read ahead aggressively.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
}

FileSource::~FileSource() {
  if (owns_fd_) ::close(fd_);
}

std::size_t FileSource::read_raw(uint8_t* dst, std::size_t capacity) {
  for (;;) {
    const ssize_t n = ::read(fd_, dst, capacity);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    fail_io(path_, std::string("read failed: ") + std::strerror(errno));
  }
}

const std::vector<uint8_t>& FileSource::peek(std::size_t n) {
  // A regular file has no more to give: a small one is peeked whole without zero-filling (and
  // then shrinking) a 64 KiB buffer twice, which showed in fuzz_gzip_stream.
  if (size_ != 0) n = static_cast<std::size_t>(std::min<uint64_t>(n, size_));
  while (peeked_.size() < n) {
    const std::size_t have = peeked_.size();
    peeked_.resize(n);
    const std::size_t got = read_raw(peeked_.data() + have, n - have);
    peeked_.resize(have + got);
    if (got == 0) break;
  }
  return peeked_;
}

std::size_t FileSource::read(uint8_t* dst, std::size_t capacity) {
  std::size_t n;
  if (peeked_pos_ < peeked_.size()) {
    n = std::min(capacity, peeked_.size() - peeked_pos_);
    std::memcpy(dst, peeked_.data() + peeked_pos_, n);
    peeked_pos_ += n;
  } else {
    n = read_raw(dst, capacity);
  }
  consumed_ += n;
  return n;
}

}  // namespace fqpipe::io
