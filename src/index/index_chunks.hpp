// index_chunks.hpp - IndexChunks, a gzip file with an index as chunks every thread can decode.
// Each chunk starts at a checkpoint (known window), so all producers run the fast ISA-L path.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fqpipe/index.hpp"
#include "gzip/isal_inflater.hpp"
#include "io/chunk_source.hpp"

namespace fqpipe::index {

/// Decompressed bytes [begin, end) of `path` (clipped to its size) in chunks cut at the index's
/// checkpoints, merged up to about `chunk_bytes`, never across a gzip member start. load()
/// decodes a chunk from its checkpoint with that checkpoint's window straight into the chunk
/// (ISA-L), on the caller's thread, from its compressed bytes read with pread.
/// Where the index knows record starts, each chunk carries the first one (record_start).
///
/// CRC32 and ISIZE: over the whole file (begin 0, end = size) with an fqpipe index, every
/// chunk's CRC is computed where it is decoded and, once all chunks of a member are in, the
/// CRCs are combined and checked against the member's trailer; a mismatch is thrown by the
/// load() that completed the member. GZIDX and .gzi indexes do not mark member starts, and a
/// range is not whole members: those runs are not CRC-checked (DEFLATE and the FASTQ checks
/// still are). A single member followed by zero padding cannot be checked either.
class IndexChunks final : public io::ChunkSource {
 public:
  /// Throws Error as IndexedGzipReader does when the index does not fit the file.
  IndexChunks(const std::string& path, const GzipIndex& index, std::size_t chunk_bytes,
              uint64_t begin = 0, uint64_t end = UINT64_MAX);
  ~IndexChunks() override;

  bool claim(io::TextChunk& chunk, unsigned lane) override;
  void load(io::TextChunk& chunk) override;
  uint64_t input_bytes_read() const noexcept override;
  uint64_t input_size() const noexcept override { return comp_size_; }
  std::string describe() const override;
  /// Decompressed bytes of the range.
  uint64_t decoded_size() const noexcept { return end_ - begin_; }

 private:
  struct Piece {
    uint64_t begin, end;     // decompressed range
    uint64_t comp_byte;      // compressed offset of its checkpoint (progress, first byte read)
    uint64_t comp_end;       // compressed bytes read end here
    std::size_t checkpoint;  // where decoding starts (at or before begin)
    std::size_t member;      // index into members_
    std::size_t record_start = static_cast<std::size_t>(-1);  // chunk-relative, npos unknown
  };
  struct Member {
    std::size_t first_piece = 0, pieces = 0;
    uint64_t trailer = 0;    // compressed offset of its CRC32/ISIZE
    uint64_t decoded = 0;    // its decompressed size
    std::size_t loaded = 0;
    std::vector<uint32_t> crcs;  // per piece, in order
    std::vector<char> seen;      // per piece: its CRC is in
    bool checkable = false;
    bool checked = false;
  };
  std::unique_ptr<gzip::IsalInflater> take_inflater();
  void give_back(std::unique_ptr<gzip::IsalInflater> inflater);
  [[noreturn]] void fail(const std::string& reason, uint64_t decoded_byte, uint64_t comp_byte) const;
  void check_member(const Member& m, std::size_t number) const;

  std::string path_;
  GzipIndex index_;
  uint64_t comp_size_ = 0, begin_ = 0, end_ = 0;
  std::vector<Piece> pieces_;
  std::vector<Member> members_;
  std::vector<uint8_t> trailers_;  // 8 bytes per checkable member, read up front
  std::size_t next_ = 0;
  uint64_t claimed_comp_ = 0;
  int fd_ = -1;
  mutable std::mutex mutex_;       // inflaters_ and members_' progress
  std::vector<std::unique_ptr<gzip::IsalInflater>> inflaters_;
};

}  // namespace fqpipe::index
