// byte_source.cpp - helpers shared by every ByteSource.
// read() may return short counts (pipes); read_full() loops for callers that need a fixed size.
#include "io/byte_source.hpp"

namespace fqpipe::io {

std::size_t read_full(ByteSource& source, uint8_t* dst, std::size_t capacity) {
  std::size_t got = 0;
  while (got < capacity) {
    const std::size_t n = source.read(dst + got, capacity - got);
    if (n == 0) break;
    got += n;
  }
  return got;
}

}  // namespace fqpipe::io
