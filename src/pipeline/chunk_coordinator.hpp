// chunk_coordinator.hpp - ChunkCoordinator, several producers parsing chunks of one input.
// Owns record framing across chunks: guesses, verified seams, global record numbers, order.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fqpipe/batch.hpp"
#include "fqpipe/pipeline.hpp"
#include "fqpipe/reader.hpp"
#include "io/chunk_source.hpp"
#include "io/text_source.hpp"
#include "pipeline/batch_queue.hpp"

namespace fqpipe {

namespace fastq {
class FastqParser;
}

/// The largest batch a thread that consumes its own batches parses at once (reduce()): small
/// enough to stay in the core's L2 cache between parsing and consuming.
inline constexpr std::size_t kReduceBatchBytes = std::size_t{256} << 10;

/// Producers claim chunks of one input, guess each chunk's first record
/// (fastq::find_record_start), parse from there and park the result. Results are committed
/// strictly in chunk order, by whichever producer finds the next one ready:
///
///  - the seam: the previous chunk's unfinished bytes plus this chunk's bytes before its guess
///    are parsed; they must end exactly at the guess. Then the guess is verified and the
///    chunk's batches are numbered (counts of everything before are known now) and queued.
///  - otherwise (a wrong guess, which valid input never produces, or no guess at all: one
///    record spans the whole chunk) the chunk's own parse is thrown away and the committing
///    thread parses the chunk on from the true position.
///
/// Every record thus comes out once, in file order, with its global number, exactly as one
/// parser over the whole input would produce it; an error is reported only once the chunk it
/// is in is verified, so the first error in file order wins, with its true record number.
/// A parked result keeps its batches (or counts, or partial result) and only the text before
/// its guess and after its last whole record; a wrong guess loads the chunk again. Memory is
/// bounded: at most `window` chunks are claimed but not committed (0: no bound, for counting
/// runs only).
class ChunkCoordinator {
 public:
  /// Where records go: batches to `queue` (one registered producer per run_producer()
  /// thread); or, with `total`, into a partial result per chunk (total->make()) on the
  /// producer that parses it, merged into `total` at the chunk's commit; with neither they are
  /// only counted.
  ChunkCoordinator(io::ChunkSource& source, const ReadOptions& options, std::string file,
                   BatchQueue* queue, std::size_t window, Reduction* total = nullptr);
  ~ChunkCoordinator();

  /// Called after each commit by the committing thread (never two at once); may be empty.
  std::function<void()> on_commit;
  /// False when the source starts inside the input (a part of it): records are numbered from
  /// the part's first, so errors name byte offsets but no record or line numbers.
  bool record_numbers_known = true;
  /// The number of the source's first record (a part that starts at a known record).
  uint64_t first_record_no = 1;

  /// One producer's loop over the chunks of source lane `lane` (0 for a one-lane source),
  /// until they are exhausted or the run stops. Does not throw: errors stop the run (the queue
  /// fails) and are kept for rethrow_error().
  void run_producer(unsigned lane);
  /// After every producer returned: rethrows the run's first error, if any.
  void rethrow_error() const;

  /// Totals of the committed records (complete once the run ended without error); records()
  /// counts them, whatever first_record_no is.
  uint64_t records() const noexcept { return records_.load(std::memory_order_relaxed); }
  uint64_t bases() const noexcept { return bases_; }
  uint64_t batches() const noexcept { return batches_; }
  uint64_t chunks() const noexcept { return next_commit_; }
  /// Chunks parsed on from the true position by the committing thread (no guess, or a wrong one).
  uint64_t chunks_reframed() const noexcept { return reframed_; }
  uint8_t quality_lo() const noexcept { return qual_lo_; }
  uint8_t quality_hi() const noexcept { return qual_hi_; }

  /// Thread-seconds spent per stage, summed over threads.
  struct Times {
    double load = 0;     ///< reading or decoding chunks
    double parse = 0;    ///< framing and parsing chunks (producers)
    double commit = 0;   ///< seams, numbering and queueing, waits for free batches included
    double wait = 0;     ///< producers idle: too many chunks ahead of the committed one
    double consume = 0;  ///< with a Reduction: consuming batches and merging partial results
  };
  Times times() const;

 private:
  struct Result;
  void process(io::TextChunk& chunk, FastqBatch& own, Result& r);
  void deposit(std::unique_ptr<Result> r);
  void commit(Result& r);
  void parse_in_order(const io::TextBuffer* spans, std::size_t n, bool closed);
  void emit(std::vector<std::unique_ptr<FastqBatch>>& batches);
  uint64_t parse_into(fastq::FastqParser& parser, Reduction& into, FastqBatch& batch,
                      uint64_t& bases, int64_t& consume_ns);
  void stop(std::exception_ptr error);
  bool stopped() const;
  std::unique_ptr<FastqBatch> spare_batch();
  std::unique_ptr<io::TextChunk> spare_chunk();
  std::unique_ptr<Reduction> spare_partial();

  io::ChunkSource& source_;
  ReadOptions options_;  // with a Reduction, batch_bytes at most kReduceBatchBytes
  std::string file_;
  BatchQueue* queue_;
  std::size_t window_;
  Reduction* total_;

  mutable std::mutex mutex_;
  std::condition_variable progress_;  // a commit happened, or the run stopped
  uint64_t claimed_ = 0;
  bool committing_ = false;
  std::atomic<bool> stopped_{false};
  std::exception_ptr error_;
  std::map<uint64_t, std::unique_ptr<Result>> done_;
  std::vector<std::unique_ptr<FastqBatch>> spare_batches_;
  std::vector<std::unique_ptr<io::TextChunk>> spare_chunks_;  // load buffers, one per thread
  std::vector<std::unique_ptr<Reduction>> spare_partials_;    // merged and cleared

  // Committer state: only the thread holding `committing_` touches it.
  uint64_t next_commit_ = 0;
  std::string tail_;           // text after the last complete record, not yet owned
  uint64_t tail_offset_ = 0;   // its decoded offset
  std::atomic<uint64_t> records_{0};
  uint64_t bases_ = 0, batches_ = 0, reframed_ = 0;
  uint8_t qual_lo_ = 255, qual_hi_ = 0;
  FastqBatch commit_batch_;         // with a Reduction: the batch the committer parses into
  int64_t commit_consume_ns_ = 0;   // and the time it spent consuming and merging

  std::atomic<int64_t> load_ns_{0}, parse_ns_{0}, commit_ns_{0}, wait_ns_{0}, consume_ns_{0};
};

}  // namespace fqpipe
