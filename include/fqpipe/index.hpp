// fqpipe/index.hpp - random access into gzip files: checkpoint indexes, their file formats, and a
// reader that seeks by decompressed byte or by record number (DESIGN.md §6).
//
// A gzip member is one DEFLATE stream, so byte N can only be reached by decoding everything
// before it. An index remembers, every few MiB of decompressed data, where a DEFLATE block
// starts (a bit offset), what it decodes to (a byte offset) and the 32 KiB of output before it
// (the window its back-references may reach). Decoding can then start at the nearest
// checkpoint instead of at the start of the file.
//
//   fqpipe::GzipIndex index = fqpipe::build_index("reads.fq.gz");
//   fqpipe::save_index(index, "reads.fq.gz.fqidx", fqpipe::IndexFormat::fqpipe);
//   ...
//   fqpipe::IndexedGzipReader reader("reads.fq.gz", fqpipe::load_index("reads.fq.gz.fqidx"));
//   reader.seek_record(1'000'000);  // the '@' of record 1,000,000
//   char buf[4096];
//   std::size_t n = reader.read(buf, sizeof buf);
//
// Every function throws fqpipe::Error: kind io when a file cannot be read or written, kind
// data when an index or a gzip file is damaged, truncated, stale (made for other content) or
// not an index at all, kind usage for a bad argument. A bad index is always an error, never
// wrong data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace fqpipe {

/// The decompressed data that precedes a checkpoint: up to 32 KiB (RFC 1951 §3.2.5 lets a
/// back-reference reach that far), empty at the start of a gzip member. Held either raw or
/// DEFLATE-compressed, the way the index file stored it, so that opening an index does not
/// decompress windows it will never use. A value type; copies are independent.
class CheckpointWindow {
 public:
  /// The empty window (a member start).
  CheckpointWindow() = default;
  /// A window given as its bytes; at most 32768 of them (Error usage otherwise).
  static CheckpointWindow from_bytes(std::vector<uint8_t> bytes);
  /// A window stored as raw DEFLATE (RFC 1951) data that decodes to exactly `size` bytes.
  /// Nothing is checked until bytes() decodes it.
  static CheckpointWindow from_deflated(std::vector<uint8_t> deflated, uint32_t size);

  /// Length of the window in bytes (0..32768).
  uint32_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// The window's bytes, decompressed if needed. Throws Error (data, naming no file: the caller
  /// adds it) when the stored DEFLATE data is damaged or does not decode to size() bytes.
  std::vector<uint8_t> bytes() const;
  /// The window as raw DEFLATE data (compressed now if it was held raw), for writing.
  std::vector<uint8_t> deflated() const;

 private:
  std::vector<uint8_t> data_;  // raw bytes, or DEFLATE data when packed_
  uint32_t size_ = 0;          // decoded length
  bool packed_ = false;
};

/// One place where decoding can start.
struct IndexCheckpoint {
  /// Bit offset in the compressed file (from its first byte, bit 0 = least significant bit of
  /// byte 0, as DEFLATE reads bits) of a DEFLATE block header, or of a gzip member header when
  /// the window is empty and the offset is a byte boundary holding 0x1f (a DEFLATE stream can
  /// never start with that byte: it would be a block of reserved type 3).
  uint64_t comp_bit = 0;
  /// Decompressed offset (from the start of all members' output) that decoding from here
  /// produces first.
  uint64_t decoded_byte = 0;
  /// 1-based number of the first FASTQ record that starts at or after decoded_byte; 0 when
  /// unknown (GZIDX and .gzi indexes, or a file that is not 4-line FASTQ). A checkpoint after
  /// the last record start holds record_count + 1 and the decompressed size.
  uint64_t record_no = 0;
  /// Decompressed offset of that record's '@' (meaningful only when record_no != 0).
  uint64_t record_byte = 0;
  /// The output before decoded_byte within the same gzip member.
  CheckpointWindow window;
};

/// The index file formats fqpipe knows (docs/index-format.md has the byte layouts).
enum class IndexFormat : uint8_t {
  fqpipe,  ///< fqpipe's own (.fqidx): compressed windows, record numbers, file checksum; read and write
  gzidx,   ///< GZIDX v1 of indexed_gzip and rapidgzip (version 0 is read too); read and write
  gzi,     ///< bgzip's .gzi (BGZF block starts only); read only
};

/// "fqpipe", "gzidx" or "gzi".
const char* index_format_name(IndexFormat format) noexcept;

/// Checkpoints of one gzip file and what is known about that file.
struct GzipIndex {
  IndexFormat format = IndexFormat::fqpipe;  ///< the format it was read from (fqpipe when built)
  std::string path;                          ///< the index file it was read from, "" when built; named in errors
  /// Size of the compressed file in bytes; 0 when the format does not record it (.gzi).
  uint64_t comp_size = 0;
  /// Size of all decompressed data; 0 when the format does not record it (.gzi; see
  /// IndexedGzipReader::size()).
  uint64_t decoded_size = 0;
  bool sizes_known = true;  ///< false for .gzi: comp_size and decoded_size are unknown
  /// Decompressed bytes between checkpoints that the builder aimed at (informational).
  uint64_t spacing = 0;
  /// CRC-32 of the compressed file's first min(1024, size) bytes followed by its last
  /// min(1024, size) bytes (file_checksum()); only fqpipe's format records it.
  uint32_t file_checksum = 0;
  bool has_checksum = false;
  /// Record numbers are known: every checkpoint's record_no is set and record_count is the
  /// number of FASTQ records in the file.
  bool has_records = false;
  uint64_t record_count = 0;
  /// Ordered by comp_bit and by decoded_byte, both non-decreasing. The first one is at offset 0
  /// of the decompressed data.
  std::vector<IndexCheckpoint> checkpoints;
};

/// The checksum GzipIndex::file_checksum holds, of the compressed bytes `file`.
uint32_t file_checksum(std::span<const uint8_t> file) noexcept;

/// How build_index() works.
struct IndexBuildOptions {
  /// Decompressed bytes between checkpoints, at least 32 KiB (Error usage below). A checkpoint
  /// goes at the first DEFLATE block boundary (or member start) after each `spacing` bytes.
  /// 4 MiB keeps a .fqidx near 1 % of short-read FASTQ's .gz size; halving it doubles the
  /// index and halves the average decoding needed per seek.
  uint64_t spacing = uint64_t{4} << 20;
  /// Number the records (4-line FASTQ: every 4th newline ends one). When the data turns out not
  /// to be 4-line FASTQ, the index is built without record numbers instead of failing.
  bool records = true;
  /// Called with the decompressed text, in order, as the pass decodes it (before its member's
  /// CRC is checked): a caller can parse the data in the same pass. May be empty; what it
  /// throws ends the pass.
  std::function<void(uint64_t decoded_byte, std::span<const uint8_t> text)> on_text{};
};

/// Decodes the whole gzip file `gz_path` (every member; CRC-32 and ISIZE verified) on the
/// calling thread and returns its index. Throws Error (io) when the file cannot be read, (data)
/// when it is not gzip or is damaged, (usage) for a bad option.
GzipIndex build_index(const std::string& gz_path, const IndexBuildOptions& options = {});

/// Reads an index file and checks it throughout: magic, version, sizes (the file's length must
/// match its counts), ordered offsets, window sizes, and, for fqpipe's format, its CRC-32. The
/// format is found from the content (GZIDX and fqpipe by magic; a file whose length matches a
/// .gzi entry count is read as .gzi). Throws Error (io) when unreadable, (data) with the index's
/// path and what is wrong otherwise. Whether it fits a gzip file is checked by
/// IndexedGzipReader.
GzipIndex load_index(const std::string& index_path);

/// Writes `index` to `index_path` in `format` (fqpipe or gzidx; gzi is Error usage). The file
/// is written under a temporary name and renamed once complete. GZIDX needs the sizes (Error
/// usage for an index read from .gzi). Throws Error (io) when it cannot be written.
void save_index(const GzipIndex& index, const std::string& index_path, IndexFormat format);

/// Where fqpipe looks for the index of `gz_path` by default: gz_path + ".fqidx".
std::string default_index_path(const std::string& gz_path);

/// Reads a gzip file from any decompressed byte or record, using an index.
///
///   fqpipe::IndexedGzipReader r("reads.fq.gz", fqpipe::load_index("reads.fq.gz.fqidx"));
///   r.seek(123456789);
///   std::size_t n = r.read(buf, 4096);  // bytes 123456789.. of the decompressed data
///
/// Reading decodes forward from the nearest checkpoint at or before the position, across
/// member boundaries. CRC-32 and ISIZE are verified only for members that are decoded from
/// their first byte to their trailer; data read after a seek into the middle of a member
/// cannot be checked against its CRC (the CRC covers the whole member). Not thread-safe: one
/// reader per thread (several readers may share one file).
class IndexedGzipReader {
 public:
  /// Opens `gz_path` with `index`, and checks that the index fits the file: its compressed size
  /// (and checksum, where recorded) must match, every checkpoint must lie inside the file, and
  /// the checkpoints of a .gzi must point at BGZF member headers. Throws Error (io) when the
  /// file cannot be opened, (data) naming the index when it does not fit (stale or foreign).
  IndexedGzipReader(const std::string& gz_path, GzipIndex index);
  ~IndexedGzipReader();
  IndexedGzipReader(IndexedGzipReader&&) noexcept;
  IndexedGzipReader& operator=(IndexedGzipReader&&) noexcept;

  /// Moves to decompressed byte `decoded_byte` (0..size()). Decoding starts at the last
  /// checkpoint at or before it, or continues from the current position when that is closer.
  /// Throws Error (usage) past size(), (data) when the data is damaged.
  void seek(uint64_t decoded_byte);

  /// Moves to the first byte ('@') of record `record_no` (1-based): to the checkpoint with the
  /// last record number at or before it, then forward over 4 lines per record. Throws Error
  /// (usage) when the index has no record numbers or record_no is 0 or past the last record,
  /// (data) when the data does not have the lines the index promised.
  void seek_record(uint64_t record_no);

  /// Copies up to `capacity` decompressed bytes from the current position into `buffer` and
  /// moves past them. Returns the number copied: less than capacity only at the end, 0 there.
  /// Throws Error (data) for damaged data, or data that disagrees with the index's sizes.
  std::size_t read(void* buffer, std::size_t capacity);

  /// The current decompressed offset.
  uint64_t tell() const noexcept;
  /// The decompressed size (for a .gzi index, summed from the BGZF members' ISIZE fields).
  uint64_t size() const noexcept;
  /// The index in use.
  const GzipIndex& index() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fqpipe
