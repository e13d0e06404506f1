// fqpipe/reader.hpp - the single-threaded pull API: open any FASTQ input, read batches or records.
// Format (plain, gzip, BGZF) is found from the first bytes, never from the file name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fqpipe/batch.hpp"
#include "fqpipe/schema.hpp"

namespace fqpipe {

/// The container of an input, found from its magic bytes.
enum class InputFormat : uint8_t {
  plain,  ///< uncompressed FASTQ
  gzip,   ///< gzip, one or more members (RFC 1952)
  bgzf,   ///< gzip whose members carry the BGZF 'BC' extra field (bgzip, samtools)
};

/// "plain", "gzip" or "bgzf".
std::string_view format_name(InputFormat format) noexcept;

/// Which decoder reads a gzip (non-BGZF) input.
enum class GzipMode : uint8_t {
  automatic,   ///< parallel with decode_threads >= 2 on regular files of >= 8 chunks, else sequential
  sequential,  ///< ISA-L on one thread
  parallel,    ///< front + speculative decoding on decode_threads threads (regular files only)
};

/// How records are cut into batches and what is checked while parsing.
struct ReadOptions {
  /// A batch ends after this many records...
  std::size_t batch_records = 8192;
  /// ...or once its header, sequence and quality bytes reach this many, whichever comes first.
  std::size_t batch_bytes = std::size_t{2} << 20;
  /// Every header, sequence and quality byte must be printable ASCII (33..126; the header may
  /// also hold spaces and tabs).
  bool check_ascii = true;
  /// Every quality byte must lie in the range of `schema`.
  bool check_quality = true;
  /// The schema checked against when check_quality is set.
  QualitySchema schema = QualitySchema::generic;
  /// False leaves every record's header empty in its batch (the header line is still read and
  /// checked): for consumers that never look at names, such as FastqStats, one copy less per
  /// record (bench/compare.sh, reads_1.fastq `stats -t 2`: 0.084 -> 0.082 s).
  bool keep_headers = true;
  /// Largest record (all four lines) accepted, in bytes; a longer one is an error rather than
  /// unbounded memory growth.
  std::size_t max_record_bytes = std::size_t{1} << 30;
  /// Decode (or read) on a thread of its own, up to 4 MiB ahead of parsing.
  bool read_ahead = false;
  /// The gzip decoder, and the threads and compressed chunk size of the parallel one.
  GzipMode gzip_mode = GzipMode::automatic;
  unsigned decode_threads = 1;
  std::size_t chunk_bytes = std::size_t{1} << 20;
  /// An index of a gzip input (fqpipe, GZIDX or .gzi format; see fqpipe/index.hpp): with
  /// decode_threads >= 2 every thread decodes its own chunks from the index's checkpoints.
  /// Empty: the input's path + ".fqidx" when that file exists. A stale index is an error.
  std::string index_path{};
  /// False ignores any index.
  bool use_index = true;
  /// Build the index of a gzip input during this pass (sequential decoding with checkpoints,
  /// see fqpipe/index.hpp) and write it to the input's path + ".fqidx" once every record was
  /// read; a run that fails or stops early writes none.
  bool build_index = false;
};

/// Reads one input from start to end on the calling thread. Gzip members are decoded
/// sequentially with ISA-L, and every member's CRC32 and ISIZE are verified.
///
///   fqpipe::Reader reader("reads.fq.gz");
///   for (const fqpipe::FastqRecord& rec : reader) use(rec.sequence);
///
/// Not thread-safe: one Reader per thread. Every method may throw fqpipe::Error.
class Reader {
 public:
  /// Opens `path` ("-" reads standard input). Throws Error (kind io) when it cannot be opened
  /// and (kind data) when its first bytes are neither FASTQ nor gzip.
  explicit Reader(std::string path, ReadOptions options = {});
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  /// Fills `batch` (cleared first) with the next records. Returns false, with `batch` empty,
  /// once the input is exhausted. Throws Error on malformed or truncated input.
  bool next_batch(FastqBatch& batch);

  /// Counts up to `max_records` further records without copying them (the same checks as
  /// next_batch()); adds their sequence bytes to `bases`. Returns the number counted, 0 at the end.
  uint64_t count_next(uint64_t max_records, uint64_t& bases);

  /// The path as given.
  const std::string& path() const noexcept;
  /// The container format, known from construction on.
  InputFormat format() const noexcept;
  /// The decoder that runs, in words ("sequential ISA-L", "parallel gzip ...", "read(2)"),
  /// with what it did so far where it has something to say.
  std::string decoder() const;
  /// Bytes of the file consumed so far (compressed bytes for gzip), for progress reports.
  uint64_t input_bytes_read() const noexcept;
  /// The file's size in bytes, or 0 when unknown (a pipe).
  uint64_t input_size() const noexcept;
  /// The most specific schema consistent with every quality byte read so far.
  QualitySchema detected_schema() const noexcept;
  /// Number of records read so far.
  uint64_t records_read() const noexcept;

  /// Record-by-record iteration (an input iterator; each record's views stay valid until the
  /// iterator advances past the end of its batch).
  class iterator {
   public:
    using value_type = FastqRecord;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(Reader* reader);
    const FastqRecord& operator*() const noexcept { return record_; }
    const FastqRecord* operator->() const noexcept { return &record_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(const iterator& o) const noexcept { return reader_ == o.reader_; }

   private:
    Reader* reader_ = nullptr;
    std::size_t index_ = 0;
    FastqRecord record_{};
  };
  /// Starts iteration at the current position; begin() may be called once.
  iterator begin() { return iterator(this); }
  iterator end() noexcept { return {}; }

 private:
  friend class iterator;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  FastqBatch iter_batch_;
};

}  // namespace fqpipe
