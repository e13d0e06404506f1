// decoded_input.cpp - magic-byte detection: gzip (BGZF if the first member says so) or plain.
// Other compressors are named in the error rather than parsed as garbage FASTQ.
#include "gzip/decoded_input.hpp"

#include <cstring>
#include <optional>

#include "fqpipe/error.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/bgzf_chunks.hpp"
#include "gzip/bgzf_reader.hpp"
#include "gzip/gzip_source.hpp"
#include "gzip/parallel_gzip_reader.hpp"
#include "io/mapped_file.hpp"
#include "io/buffer_source.hpp"
#include "index/index_chunks.hpp"
#include "index/indexing_text.hpp"
#include "io/chunk_text.hpp"
#include "io/file_chunks.hpp"
#include "io/file_source.hpp"

namespace fqpipe::gzip {
namespace {

const char* other_compressor(const std::vector<uint8_t>& head) {
  auto starts = [&](const char* magic, std::size_t n) {
    return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
  };
  if (starts("BZh", 3)) return "bzip2";
  if (starts("\xfd" "7zXZ", 5)) return "xz";
  if (starts("\x28\xb5\x2f\xfd", 4)) return "zstd";
  if (starts("\x04\x22\x4d\x18", 4)) return "lz4";
  return nullptr;
}

}  // namespace

// The owner of a decoder and of the sequential text source reading from it.
class SequentialText final : public io::TextSource {
 public:
  SequentialText(std::unique_ptr<io::ByteSource> bytes, bool read_ahead)
      : bytes_(std::move(bytes)), buffers_(*bytes_, read_ahead) {}
  const io::TextBuffer* next() override { return buffers_.next(); }
  uint64_t input_bytes_read() const noexcept override { return buffers_.input_bytes_read(); }

 private:
  std::unique_ptr<io::ByteSource> bytes_;
  io::BufferSource buffers_;
};

namespace {

// The container of an input, from its first bytes (after the checks open_decoded makes).
InputFormat sniff_format(const std::string& path, io::FileSource& file) {
  const std::vector<uint8_t>& head = file.peek(std::size_t{1} << 16);
  if (has_gzip_magic(head.data(), head.size())) {
    const GzipHeader h = parse_gzip_header(head.data(), head.size());
    return h.status == HeaderStatus::ok && h.bgzf ? InputFormat::bgzf : InputFormat::gzip;
  }
  if (const char* name = other_compressor(head)) {
    ErrorPosition at;
    at.file = path;
    throw Error(ErrorKind::data, std::string(name) + "-compressed input is not supported (decompress it first)", at);
  }
  return InputFormat::plain;
}

}  // namespace

std::optional<GzipIndex> find_index(const std::string& path, const DecoderOptions& options) {
  if (!options.use_index) return std::nullopt;
  const std::string idx = options.index_path.empty() ? default_index_path(path) : options.index_path;
  if (options.index_path.empty() && !io::is_regular_file(idx)) return std::nullopt;
  return load_index(idx);
}

ChunkedInput open_chunked(const std::string& path, std::size_t chunk_bytes, unsigned lanes,
                          const DecoderOptions& options) {
  ChunkedInput in;
  if (!io::is_regular_file(path)) {
    in.why = path == "-" ? "standard input is read once, in order" : "not a regular file";
    return in;
  }
  io::FileSource file(path);
  in.file_size = file.size();
  in.format = sniff_format(path, file);
  if (in.format == InputFormat::gzip) {
    if (std::optional<GzipIndex> index = find_index(path, options)) {
      in.chunks = std::make_unique<index::IndexChunks>(path, *index, chunk_bytes);
      return in;
    }
    in.why = "gzip input without an index is decoded by one producer (fqpipe index FILE makes one)";
    return in;
  }
  if (in.format == InputFormat::bgzf) {  // one lane: equal ranges would need a scan first
    in.chunks = std::make_unique<BgzfChunks>(path, path, chunk_bytes);
    return in;
  }
  in.chunks = std::make_unique<io::FileChunks>(path, chunk_bytes, lanes);
  return in;
}

DecodedInput open_decoded(const std::string& path, const DecoderOptions& options) {
  auto file = std::make_unique<io::FileSource>(path);
  DecodedInput in;
  in.file_size = file->size();
  // 64 KiB covers any realistic header with FEXTRA, so BGZF is recognised up front.
  const std::vector<uint8_t>& head = file->peek(std::size_t{1} << 16);
  if (has_gzip_magic(head.data(), head.size())) {
    const GzipHeader h = parse_gzip_header(head.data(), head.size());
    in.format = h.status == HeaderStatus::ok && h.bgzf ? InputFormat::bgzf : InputFormat::gzip;
    // Building an index: one sequential pass that records checkpoints as it goes.
    if (!options.build_index_path.empty() && io::is_regular_file(path)) {
      in.text = std::make_unique<index::IndexingText>(path, options.build_index_path, IndexBuildOptions{}.spacing);
      in.decoder = "sequential ISA-L, building the index";
      return in;
    }
    // With an index every thread decodes its own chunks from their checkpoints.
    if (in.format == InputFormat::gzip && options.bgzf_threads >= 2 && io::is_regular_file(path)) {
      if (std::optional<GzipIndex> index = find_index(path, options)) {
        in.text = std::make_unique<io::ChunkText>(
            std::make_unique<index::IndexChunks>(path, *index, options.chunk_bytes), options.bgzf_threads);
        in.decoder = "indexed gzip";
        return in;
      }
    }
    // BGZF blocks are independent: decoding them on every thread is always the faster path.
    if (in.format == InputFormat::bgzf && options.bgzf_threads >= 2 && io::is_regular_file(path)) {
      in.text = std::make_unique<BgzfReader>(path, path, options.bgzf_threads);
      in.decoder = "parallel BGZF";
      return in;
    }
    const bool large = in.file_size >= DecoderOptions::parallel_min_chunks * options.chunk_bytes;
    if (in.format == InputFormat::gzip && options.parallel_threads >= 2 && (large || !options.parallel_only_large) &&
        io::is_regular_file(path)) {
      in.text = std::make_unique<ParallelGzipReader>(path, path, options.parallel_threads, options.chunk_bytes);
      in.decoder = "parallel gzip (front + speculative)";
      return in;
    }
    in.text = std::make_unique<SequentialText>(std::make_unique<GzipSource>(std::move(file), path),
                                               options.read_ahead);
    in.decoder = "sequential ISA-L";
    return in;
  }
  if (const char* name = other_compressor(head)) {
    ErrorPosition at;
    at.file = path;
    throw Error(ErrorKind::data, std::string(name) + "-compressed input is not supported (decompress it first)", at);
  }
  in.text = std::make_unique<SequentialText>(std::move(file), options.read_ahead);
  in.decoder = "read(2)";
  return in;
}

}  // namespace fqpipe::gzip
