// byte_source.hpp - ByteSource, the one interface every later stage reads bytes through.
// A plain file, a pipe and a gzip decoder all look alike to the parser (kseq's idea).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fqpipe::io {

/// A sequential stream of (decompressed) bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to `capacity` bytes into `dst`; returns 0 only at the end of the input.
  /// Throws fqpipe::Error on a read failure or damaged data.
  virtual std::size_t read(uint8_t* dst, std::size_t capacity) = 0;
  /// Bytes of the underlying file consumed so far (compressed bytes for a decoder).
  virtual uint64_t input_bytes_read() const noexcept = 0;
};

/// Reads `capacity` bytes unless the input ends first; returns the number read.
std::size_t read_full(ByteSource& source, uint8_t* dst, std::size_t capacity);

}  // namespace fqpipe::io
