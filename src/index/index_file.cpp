// index_file.cpp - load_index() and save_index(): whole index files in and out of memory.
// The format is recognised by content, never by name (GZIDX and fqpipe by magic; .gzi has no
// magic, only a count that must match the length). Writes go to a temporary name first, so a
// failed or interrupted write never leaves a complete-looking index behind.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fqpipe/error.hpp"
#include "index/index_error.hpp"
#include "index/index_formats.hpp"

namespace fqpipe {
namespace {

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  ErrorPosition at;
  at.file = path;
  throw Error(ErrorKind::io, what + ": " + std::strerror(errno), at);
}

std::vector<uint8_t> read_whole(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) io_error(path, "cannot open index");
  std::vector<uint8_t> data;
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode)) data.reserve(static_cast<std::size_t>(st.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    data.insert(data.end(), buf, buf + n);
    if (n < sizeof buf) break;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) io_error(path, "cannot read index");
  return data;
}

}  // namespace

GzipIndex load_index(const std::string& index_path) {
  const std::vector<uint8_t> file = read_whole(index_path);
  if (index::is_fqidx(file)) return index::read_fqidx(file, index_path);
  if (index::is_gzidx(file)) return index::read_gzidx(file, index_path);
  if (index::looks_like_gzi(file)) return index::read_gzi(file, index_path);
  index::throw_index_error(index_path, "not an index file: no fqpipe or GZIDX magic bytes, and not a .gzi "
                                       "(its length does not match an entry count)");
}

void save_index(const GzipIndex& index, const std::string& index_path, IndexFormat format) {
  std::vector<uint8_t> bytes;
  switch (format) {
    case IndexFormat::fqpipe: bytes = index::write_fqidx(index); break;
    case IndexFormat::gzidx: bytes = index::write_gzidx(index); break;
    case IndexFormat::gzi: throw Error(ErrorKind::usage, "writing .gzi indexes is not supported (use bgzip -r)");
  }
  const std::string tmp = index_path + ".fqpipe-tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) io_error(index_path, "cannot create index");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    const int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    io_error(index_path, "cannot write index");
  }
  if (std::rename(tmp.c_str(), index_path.c_str()) != 0) {
    const int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    io_error(index_path, "cannot rename the finished index");
  }
}

}  // namespace fqpipe
