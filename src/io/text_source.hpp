// text_source.hpp - TextSource, decoded text handed out buffer by buffer, in input order.
// The parser reads through it; a sequential reader and the parallel decoders both provide one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fqpipe::io {

/// A view of one buffer of decoded text: bytes [data, data + size) at decoded offset
/// `decoded_offset` of the whole input.
struct TextBuffer {
  const char* data = nullptr;
  std::size_t size = 0;
  uint64_t decoded_offset = 0;
};

/// Successive buffers of an input's decoded text. Not thread-safe on the consumer side.
class TextSource {
 public:
  virtual ~TextSource() = default;
  /// The next non-empty buffer, valid until the following call; nullptr at the end of input.
  /// Throws fqpipe::Error for damaged or unreadable input, after every buffer before the damage.
  virtual const TextBuffer* next() = 0;
  /// Like next(), but the buffer starts at decoded offset `from`, inside the current buffer,
  /// for a source that can read its text again: a record that runs past the current buffer
  /// is then read whole instead of copied together from two. nullptr, with nothing changed,
  /// where the source cannot (the default) or the new buffer would add too little to it.
  virtual const TextBuffer* next_from(uint64_t /*from*/) { return nullptr; }
  /// Bytes of the file consumed so far (compressed bytes for gzip), for progress reports.
  /// Callable from the consumer's thread while decoding runs elsewhere.
  virtual uint64_t input_bytes_read() const noexcept = 0;
  /// What the decoder did so far, in words, for -v (empty when there is nothing to say).
  virtual std::string describe() const { return {}; }
};

}  // namespace fqpipe::io
