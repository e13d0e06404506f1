// file_chunks.cpp - FileChunks: open and fstat once, then pread per chunk on any thread.
// A file that shrinks under us is an error, never a silently short input.
#include "io/file_chunks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fqpipe/error.hpp"
#include "io/read_at.hpp"

namespace fqpipe::io {
namespace {

[[noreturn]] void fail(const std::string& path, ErrorKind kind, const std::string& what,
                       int64_t offset = -1) {
  ErrorPosition at;
  at.file = path;
  at.decoded_byte = offset;
  throw Error(kind, what, at);
}

}  // namespace

FileChunks::FileChunks(const std::string& path, std::size_t chunk_bytes, unsigned lanes,
                       uint64_t begin, uint64_t end)
    : path_(path), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, ErrorKind::io, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path, ErrorKind::io, "cannot read in chunks: not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  end_ = std::min(end, size_);
  begin_ = std::min(begin, end_);
  const uint64_t chunks = (end_ - begin_ + chunk_bytes_ - 1) / chunk_bytes_;
  lanes = std::max(1u, lanes);
  chunks_per_lane_ = lanes == 1 ? chunks : (chunks + lanes - 1) / lanes;
  for (unsigned i = 0; i < lanes; ++i) next_.push_back(i * chunks_per_lane_);
}

FileChunks::~FileChunks() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileChunks::claim(TextChunk& chunk, unsigned lane) {
  if (lane >= next_.size()) return false;
  const uint64_t index = next_[lane];
  const uint64_t offset = begin_ + index * chunk_bytes_;
  if (offset >= end_ || (next_.size() > 1 && index >= (lane + 1) * chunks_per_lane_)) return false;
  chunk.index = next_[lane]++;
  chunk.input_offset = offset;
  chunk.input_size = std::min<uint64_t>(chunk_bytes_, end_ - offset);
  chunk.decoded_offset = offset;
  chunk.last = offset + chunk.input_size == end_;
  chunk.size = 0;
  claimed_.fetch_add(chunk.input_size, std::memory_order_relaxed);
  return true;
}

void FileChunks::load(TextChunk& chunk) {
  const std::size_t want = static_cast<std::size_t>(chunk.input_size);
  chunk.bytes.grow(want);
  read(chunk.input_offset, want, chunk.bytes.data());
  chunk.size = want;
}

void FileChunks::load_range(const TextChunk& chunk, uint64_t from, std::size_t n, char* dst) {
  read(chunk.input_offset + from, n, dst);
}

void FileChunks::read(uint64_t offset, std::size_t n, char* dst) const {
  const std::size_t got = read_at(fd_, dst, n, offset, path_);
  if (got < n)
    fail(path_, ErrorKind::io, "file shrank while being read (expected " + std::to_string(size_) + " bytes)",
         static_cast<int64_t>(offset + got));
}

std::string FileChunks::describe() const {
  std::string d = "pread, " + std::to_string(chunk_bytes_ >> 10) + " KiB chunks";
  if (next_.size() > 1) d += " in " + std::to_string(next_.size()) + " equal ranges";
  return d;
}

}  // namespace fqpipe::io
