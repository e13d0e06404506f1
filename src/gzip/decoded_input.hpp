// decoded_input.hpp - opens an input and picks its decoder from the first bytes (never the name).
// The boundary between io/ (raw bytes) and everything that wants decompressed text.
#pragma once

#include <memory>
#include <string>

#include "fqpipe/reader.hpp"
#include "io/byte_source.hpp"

namespace fqpipe::gzip {

struct DecodedInput {
  std::unique_ptr<io::ByteSource> bytes;  ///< the decompressed text
  InputFormat format = InputFormat::plain;
  uint64_t file_size = 0;                 ///< 0 when unknown (a pipe)
};

/// Opens `path` ("-" = stdin). Throws Error (io) when unreadable, (data) for a compression
/// format fqpipe does not read (bzip2, xz, zstd), naming it.
DecodedInput open_decoded(const std::string& path);

}  // namespace fqpipe::gzip
