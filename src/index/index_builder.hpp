// index_builder.hpp - IndexBuilder collects checkpoints and record numbers from any pass that
// decodes a gzip file in order: build_index() drives one, and a decoding pipeline can feed one
// from its decoded chunks (DESIGN.md §6: checkpoints come for free with any full pass).
//
//   IndexBuilder b(4 << 20);
//   for each decoded piece, in order:
//     if (b.due(decoded_byte) && at a block boundary) b.add_checkpoint(bit, decoded_byte, window);
//     b.note_text(decoded_byte, bytes);
//   GzipIndex index = b.finish(comp_size, decoded_size, file_checksum(comp));
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "fqpipe/index.hpp"

namespace fqpipe::index {

/// Not thread-safe: one pass feeds it in order.
class IndexBuilder {
 public:
  /// `spacing`: decompressed bytes wanted between checkpoints. `records`: number FASTQ records
  /// by counting lines in note_text() (4 per record).
  explicit IndexBuilder(uint64_t spacing, bool records = true);

  /// True when a checkpoint at `decoded_byte` would be the first or at least `spacing` after
  /// the last one.
  bool due(uint64_t decoded_byte) const noexcept {
    return checkpoints_.empty() || decoded_byte >= checkpoints_.back().decoded_byte + spacing_;
  }

  /// The decompressed offset from which due() is true.
  uint64_t next_due() const noexcept {
    return checkpoints_.empty() ? 0 : checkpoints_.back().decoded_byte + spacing_;
  }

  /// Adds a checkpoint: DEFLATE block (or member) start at `comp_bit`, producing decompressed byte
  /// `decoded_byte`, preceded in its member by `window` (its last 32 KiB are kept; empty at a
  /// member start). Checkpoints come in order, and none before the text noted so far ends.
  void add_checkpoint(uint64_t comp_bit, uint64_t decoded_byte, std::span<const uint8_t> window);

  /// Passes decompressed text [decoded_byte, decoded_byte + text.size()), contiguous with the
  /// text passed before. Counts lines, so pending checkpoints learn the first record at or after
  /// them; a record start that is not '@' marks the data as not FASTQ (no record numbers then).
  void note_text(uint64_t decoded_byte, std::span<const uint8_t> text);

  /// The finished index for a file of `comp_size` compressed and `decoded_size` decompressed
  /// bytes with `checksum` (file_checksum()). Record numbers are kept only when the text was
  /// 4-line FASTQ throughout.
  GzipIndex finish(uint64_t comp_size, uint64_t decoded_size, uint32_t checksum);

 private:
  bool at_record_start() const noexcept;
  void resolve(uint64_t record_byte);

  uint64_t spacing_;
  bool records_ok_;
  std::vector<IndexCheckpoint> checkpoints_;
  std::deque<std::size_t> pending_;  // checkpoints still waiting for their first record
  uint64_t text_end_ = 0;            // decompressed bytes noted so far
  uint64_t lines_ = 0;               // '\n' in [0, text_end_)
  bool last_was_newline_ = false;    // text_end_ follows a '\n'
  uint64_t check_at_ = UINT64_MAX;   // a record start whose '@' is in text not noted yet
};

}  // namespace fqpipe::index
