// read_at.cpp - read_at: the pread loop, and the error that names where it failed.
#include "io/read_at.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fqpipe/error.hpp"

namespace fqpipe::io {

std::size_t read_at(int fd, void* dst, std::size_t n, uint64_t offset, const std::string& file) {
  auto* out = static_cast<char*>(dst);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out + got, n - got, static_cast<off_t>(offset + got));
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      ErrorPosition at;
      at.file = file;
      at.comp_byte = static_cast<int64_t>(offset + got);
      throw Error(ErrorKind::io, std::string("read failed: ") + std::strerror(errno), at);
    }
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace fqpipe::io
