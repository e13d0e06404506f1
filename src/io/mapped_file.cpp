// mapped_file.cpp - MappedFile: open, fstat, mmap; the kernel pages the file in on demand.
// MADV_SEQUENTIAL because decoders walk the file forward, even when several do it at once.
// The descriptor stays open: fstat on it, not stat on the path, tells whether this file shrank.
#include "io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fqpipe/error.hpp"

namespace fqpipe::io {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  ErrorPosition at;
  at.file = path;
  throw Error(ErrorKind::io, what + ": " + std::strerror(errno), at);
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    errno = EINVAL;
    fail(path, "cannot map (not a regular file)");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail(path, "cannot map");
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const uint8_t*>(p);
    guard_.emplace(data_, size_);
  }
  fd_ = fd;
}

MappedFile::~MappedFile() {
  guard_.reset();  // before the range can be mapped again by anyone
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  ::close(fd_);
}

void MappedFile::check_intact() const {
  if (size_ == 0) return;
  struct stat st {};
  const bool shorter = ::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) < size_;
  if (!shorter && !guard_->damaged()) return;
  ErrorPosition at;
  at.file = path_;
  at.comp_byte = shorter ? static_cast<int64_t>(st.st_size) : static_cast<int64_t>(guard_->first_fault());
  throw Error(ErrorKind::io, "file shrank while being read (expected " + std::to_string(size_) + " bytes)", at);
}

void MappedFile::release(std::size_t begin, std::size_t end) noexcept {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  begin = (begin + page - 1) / page * page;
  end = std::min(end, size_) / page * page;
  if (end > begin) ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace fqpipe::io
