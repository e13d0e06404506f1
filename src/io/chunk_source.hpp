// chunk_source.hpp - ChunkSource, an input's decoded text cut into chunks for several producers.
// Chunks are claimed in input order under one lock, then loaded (read, decoded) in parallel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "io/grow_buffer.hpp"

namespace fqpipe::io {

/// One chunk of decoded text: bytes [decoded_offset, decoded_offset + size) of the input.
/// A producer keeps one TextChunk and reuses its buffer for every chunk it loads.
struct TextChunk {
  uint64_t index = 0;           ///< 0, 1, 2, ... in input order
  uint64_t decoded_offset = 0;  ///< where the chunk's text starts in the decoded input
  std::size_t size = 0;         ///< bytes of text (valid after load())
  bool last = false;            ///< no chunk follows
  uint64_t input_offset = 0;    ///< the source's own bookkeeping (file range to read or decode)
  uint64_t input_size = 0;
  uint64_t input_unit = 0;      ///< more of it (BGZF: members before the chunk)
  bool reloadable = true;       ///< load() can load this chunk again (after others)
  /// Where a record is known to start, chunk-relative (an index knows some); npos: unknown.
  std::size_t record_start = static_cast<std::size_t>(-1);
  GrowBuffer<char> bytes;       ///< the text, bytes.data()[0, size)

  const char* data() const noexcept { return bytes.data(); }
};

/// Cuts one input into chunks. claim() hands out chunks (the caller serialises it); load()
/// fills a claimed chunk and may run on many threads at once. A source with one lane hands
/// chunks out in input order; with several, lane i walks the i-th of that many equal ranges.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// Claims the next chunk of `lane`: sets index (the chunk's place in input order), input
  /// range and, where known already, decoded_offset and last. False when the lane is done.
  /// Cheap; called under the caller's lock.
  virtual bool claim(TextChunk& chunk, unsigned lane) = 0;
  /// Reads or decodes the claimed chunk into chunk.bytes and sets size (and decoded_offset,
  /// last where claim() could not). Thread-safe. A chunk marked reloadable may be loaded
  /// again later, into another TextChunk given claim()'s fields. Throws fqpipe::Error for
  /// damaged or unreadable input.
  virtual void load(TextChunk& chunk) = 0;
  /// Whether load_range() works: the chunk's text is the input's own bytes (a plain file), so
  /// any part of a claimed chunk can be read on its own, and a large chunk streamed through a
  /// small buffer. Such a source's claim() sets decoded_offset and last; the chunk's text is
  /// input_size bytes.
  virtual bool loads_ranges() const noexcept { return false; }
  /// Reads bytes [from, from + n) of the claimed chunk's text into `dst`, from + n <= the
  /// chunk's input_size; only where loads_ranges(). Thread-safe. Throws as load() does.
  virtual void load_range(const TextChunk& /*chunk*/, uint64_t /*from*/, std::size_t /*n*/, char* /*dst*/) {
    throw std::logic_error("ChunkSource::load_range: this source loads whole chunks only");
  }
  /// Lanes (see above); producers beyond that number find nothing to claim.
  virtual unsigned lanes() const noexcept { return 1; }
  /// Bytes of the file claimed so far, for progress reports. Thread-safe.
  virtual uint64_t input_bytes_read() const noexcept = 0;
  /// The file's size in bytes.
  virtual uint64_t input_size() const noexcept = 0;
  /// How the chunks are made, in words, for -v.
  virtual std::string describe() const = 0;
};

}  // namespace fqpipe::io
