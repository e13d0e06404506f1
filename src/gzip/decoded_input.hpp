// decoded_input.hpp - opens an input and picks its decoder from the first bytes (never the name).
// The boundary between io/ (raw bytes) and everything that wants decompressed text.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "fqpipe/index.hpp"
#include "fqpipe/reader.hpp"
#include "io/chunk_source.hpp"
#include "io/text_source.hpp"

namespace fqpipe::gzip {

/// How the decoder of an input may run.
struct DecoderOptions {
  bool read_ahead = false;  ///< decode on a thread of its own, ahead of the consumer
  /// Threads that may decode one gzip file in parallel (front + speculative); 1 keeps the
  /// sequential ISA-L decoder. Only regular files qualify (a pipe is read once, in order).
  unsigned parallel_threads = 1;
  /// With parallel_threads >= 2: only for files of at least parallel_min_chunks chunks; a
  /// smaller one decodes sequentially, where extra threads cost more than they bring. The
  /// automatic choice; an explicit `--gzip-decoder parallel` leaves this false.
  bool parallel_only_large = false;
  static constexpr uint64_t parallel_min_chunks = 8;
  std::size_t chunk_bytes = std::size_t{1} << 20;  ///< compressed bytes per parallel chunk
  /// Threads that decode BGZF blocks (the caller of next() included), or the chunks of an
  /// indexed gzip file; 1 reads sequentially.
  unsigned bgzf_threads = 1;
  /// The index of a gzip input: path ("" = input + ".fqidx" if present), or none at all.
  std::string index_path;
  bool use_index = true;
  /// Non-empty: build the index of a gzip file during the pass and write it here at the end.
  std::string build_index_path;
};

struct DecodedInput {
  std::unique_ptr<io::TextSource> text;  ///< the decompressed text
  InputFormat format = InputFormat::plain;
  uint64_t file_size = 0;                ///< 0 when unknown (a pipe)
  const char* decoder = "";              ///< which decoder runs, for -v
};

/// Opens `path` ("-" = stdin) and picks its decoder. Throws Error (io) when unreadable, (data)
/// for a compression format fqpipe does not read (bzip2, xz, zstd), naming it.
DecodedInput open_decoded(const std::string& path, const DecoderOptions& options);

/// An input cut into chunks that several producers load at once.
struct ChunkedInput {
  std::unique_ptr<io::ChunkSource> chunks;  ///< null when the input cannot be cut (see why)
  InputFormat format = InputFormat::plain;
  uint64_t file_size = 0;
  std::string why;                          ///< when chunks is null: why not, in words
};

/// The index the options ask for: options.index_path (which must load), or else `path` +
/// ".fqidx" when that file exists; none when use_index is false. Throws Error for a damaged
/// index (whether it fits `path` is checked where it is used).
std::optional<GzipIndex> find_index(const std::string& path, const DecoderOptions& options);

/// Opens `path` for chunked reading with chunks of about `chunk_bytes` in `lanes` lanes (see
/// io::ChunkSource): a regular plain file reads ranges with pread, a BGZF file is cut into
/// runs of blocks (one lane, whatever `lanes` asks), a gzip file with an index (options) into
/// checkpoint ranges. Standard input, pipes and gzip without an index cannot be cut: chunks
/// is null. Throws Error as open_decoded() does, and when an index does not fit.
ChunkedInput open_chunked(const std::string& path, std::size_t chunk_bytes, unsigned lanes = 1,
                          const DecoderOptions& options = {});

}  // namespace fqpipe::gzip
