// read_at.hpp - read_at, pread(2) until done: the one way chunk sources read a file range.
// Short reads and EINTR are retried; only the end of the file stops it early.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fqpipe::io {

/// Reads `n` bytes at `offset` of `fd` into `dst`; returns fewer only at the end of the file.
/// Throws Error (io) naming `file` and the offset on a read error.
std::size_t read_at(int fd, void* dst, std::size_t n, uint64_t offset, const std::string& file);

}  // namespace fqpipe::io
