// fqpipe/pipeline.hpp - runs consumers on every batch of one input in several threads.
// One producer (SPMC) or several (MPMC) decode and parse; consumer threads drain a bounded queue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fqpipe/batch.hpp"
#include "fqpipe/reader.hpp"

namespace fqpipe {

/// Progress of a run, as passed to PipelineOptions::on_progress.
struct Progress {
  uint64_t input_bytes_read;  ///< bytes of the file consumed (compressed bytes for gzip)
  uint64_t input_size;        ///< file size, 0 when unknown (a pipe)
  uint64_t records;           ///< records parsed so far
};

/// Single producer, or several producers each parsing chunks of the one input.
enum class PipelineMode : uint8_t {
  automatic,  ///< MPMC with threads >= 2 for regular plain, BGZF and indexed gzip files of at
              ///< least 4 chunks, else SPMC
  spmc,       ///< one producer (plus a decode thread when threads >= 2)
  mpmc,       ///< several producers; needs a regular plain, BGZF or indexed gzip file (else the
              ///< run falls back to SPMC)
};

/// How an MPMC run cuts its input among the producers.
enum class Chunking : uint8_t {
  automatic,  ///< record
  equal,      ///< one range per producer, file size / producers bytes each (best for count)
  record,     ///< ranges of ReadOptions::chunk_bytes handed out in turn; each producer finds
              ///< its first record, the record before verifies the guess
  index,      ///< at index checkpoints (every chunk decoded with its known window, its first
              ///< record known); needs a gzip input with an index. automatic uses it whenever
              ///< a gzip input has one
};

/// How a pipeline runs.
struct PipelineOptions {
  ReadOptions read;
  /// Threads. 1 runs everything on the calling thread. SPMC with T >= 2 runs T - 1 consumer
  /// threads, the calling thread as the parser and one more thread decoding ahead of it. MPMC
  /// runs `producers` producer threads (the calling thread one of them) and the consumers.
  /// reduce() and run() need no consumer threads unless `consumers` asks for them.
  unsigned threads = 1;
  PipelineMode mode = PipelineMode::automatic;
  Chunking chunking = Chunking::automatic;
  /// MPMC producers; 0 picks `threads`.
  unsigned producers = 0;
  /// Consumer threads; 0 picks max(1, threads - 1) for for_each_batch(), and none for
  /// reduce() and run(), whose producers then consume their own batches.
  unsigned consumers = 0;
  /// Process only part `part` (1-based) of `parts` record-aligned ranges of the input, so that
  /// separate runs (machines) can share one file and merge their results exactly. Plain files
  /// are cut at equal byte offsets, each cut moved to the next record start (the same one for
  /// both neighbours, so the parts tile the file); compressed input needs an index. Record
  /// numbers then count from the part's first record, and errors name byte offsets only.
  unsigned part = 1;
  unsigned parts = 1;
  /// Batches in flight (queued or being consumed); 0 picks 2 * threads + 2. Memory is bounded
  /// by queue_depth * batch_bytes (plus, with MPMC, 2 * producers chunks parsed ahead).
  std::size_t queue_depth = 0;
  /// Called after each batch (SPMC) or chunk (MPMC) by the thread that queued it, never by two
  /// threads at once; keep it cheap. May be empty.
  std::function<void(const Progress&)> on_progress;
  /// Called once, on the calling thread, before the first batch reaches a consumer, with what
  /// the run will read (path, format, mode, plan, first_record_no); may be empty.
  std::function<void(const struct RunInfo&)> on_start;
};

/// Thread-seconds a run spent per stage, summed over the threads of the stage: where time goes.
struct StageTimes {
  double decode = 0;         ///< reading and decoding (MPMC: loading chunks)
  double parse = 0;          ///< framing and parsing (SPMC: decoding included when inline)
  double commit = 0;         ///< MPMC: seams, numbering, handing batches over in order
  double consume = 0;        ///< consumers' work
  double producer_wait = 0;  ///< producers waiting: for free batches, or too far ahead
  double consumer_wait = 0;  ///< consumers waiting for batches
};

/// What a finished run saw of its input.
struct RunInfo {
  std::string path;
  InputFormat format = InputFormat::plain;
  std::string decoder;  ///< the decoder that ran, in words
  QualitySchema detected_schema = QualitySchema::generic;
  uint64_t records = 0;
  uint64_t batches = 0;
  /// Number of the first record read: 1, or where a part (PipelineOptions::part) starts when
  /// that is known (gzip with an index); a part of a plain file counts from 1.
  uint64_t first_record_no = 1;
  PipelineMode mode = PipelineMode::spmc;  ///< the mode that ran
  std::string plan;                        ///< why, and how it was cut, in words (for -v)
  unsigned producer_threads = 1;
  unsigned consumer_threads = 0;
  StageTimes times;
};

/// Calls `consume(worker, batch)` for every batch of `path`, worker in [0, consumer threads).
/// Each worker index is used by one thread only, so per-worker state needs no locking. Batches
/// reach the workers in no particular order (batch.first_record_no() says where they belong).
/// Throws the first Error of any thread after stopping all of them; no batch is consumed twice.
RunInfo for_each_batch(const std::string& path, const PipelineOptions& options,
                       const std::function<void(unsigned worker, const FastqBatch&)>& consume);

/// Reads and bases of one input.
struct RecordCount {
  uint64_t records = 0;
  uint64_t bases = 0;
};

/// Counts the records and bases of `path` without building batches: the fastest full pass.
/// Structure is checked as always; byte checks as options.read says. SPMC with threads >= 2
/// decodes on a second thread while this one counts; MPMC counts on `producers` threads.
RecordCount count_records(const std::string& path, const PipelineOptions& options,
                          RunInfo* info = nullptr);

/// The number of consumer workers a run with these options uses (`consumers`, or else
/// max(1, threads - 1)).
unsigned consumer_count(const PipelineOptions& options) noexcept;

/// A partial result over some records that merges exactly into another of its kind: what
/// reduce() needs to consume records where they are parsed. run() wraps any Worker in one.
class Reduction {
 public:
  virtual ~Reduction() = default;
  /// A new, empty partial result of the same kind. Called from any thread, often (once per
  /// chunk of the input), so keep it cheap.
  virtual std::unique_ptr<Reduction> make() const = 0;
  /// Adds every record of `batch`. One thread at a time per object.
  virtual void consume(const FastqBatch& batch) = 0;
  /// Adds this partial result into `total`, an object from the same make().
  virtual void merge_into(Reduction& total) const = 0;
  /// Empties this partial result for reuse, keeping its memory; false when it cannot (then a
  /// new one is made for each chunk).
  virtual bool clear() { return false; }
  /// Whether consume() reads record numbers (FastqBatch::first_record_no(),
  /// FastqRecord::record_no). Only a reduction that does not may consume batches before the
  /// records in front of them are counted (see reduce()).
  virtual bool needs_record_numbers() const { return true; }
  /// Whether consume() reads headers (names). One that does not gets batches with empty
  /// headers (ReadOptions::keep_headers = false; the header lines are still checked).
  virtual bool needs_headers() const { return true; }
};

/// Adds every record of `path` into `total`, on options.threads threads, and says how it ran.
///  - MPMC, when total.needs_record_numbers() is false and options.consumers == 0: each
///    producer consumes its own records while they are in its cache. Every chunk goes into a
///    partial result from total.make(), merged into `total` in chunk order once the chunk's
///    guessed first record is verified, or dropped (with any exception it threw) when the guess
///    was wrong and the chunk is parsed again. Such batches are consumed before the records in
///    front of them are counted: their record numbers count from their chunk's first record
///    (decoded_byte is exact).
///  - SPMC with options.consumers == 0: the parsing thread consumes each batch itself while
///    decoding runs ahead on the other threads; record numbers are exact.
///  - otherwise, as for_each_batch(), with one partial result per consumer thread; record
///    numbers are exact.
/// When total.needs_headers() is false, options.read.keep_headers is taken as false.
/// No record is consumed twice or lost; the first Error (or a reduction's own exception, as
/// thrown) in file order is rethrown after every thread stopped, and `total` is then incomplete.
RunInfo reduce(const std::string& path, const PipelineOptions& options, Reduction& total);

namespace detail {
/// A Worker (consume(const FastqBatch&), merge(const Worker&)) as a Reduction.
template <class Worker, class Make>
class ReductionOf final : public Reduction {
 public:
  explicit ReductionOf(const Make& make) : worker(make()), make_(&make) {}
  std::unique_ptr<Reduction> make() const override { return std::make_unique<ReductionOf>(*make_); }
  void consume(const FastqBatch& batch) override { worker.consume(batch); }
  void merge_into(Reduction& total) const override {
    static_cast<ReductionOf&>(total).worker.merge(worker);
  }
  bool clear() override {
    if constexpr (requires(Worker& w) { w.clear(); }) {
      worker.clear();
      return true;
    } else {
      return false;
    }
  }
  bool needs_record_numbers() const override {
    if constexpr (requires { Worker::needs_record_numbers; }) {
      return Worker::needs_record_numbers;
    } else {
      return true;
    }
  }
  bool needs_headers() const override {
    if constexpr (requires { Worker::needs_headers; }) {
      return Worker::needs_headers;
    } else {
      return true;
    }
  }
  Worker worker;

 private:
  const Make* make_;
};
}  // namespace detail

/// Runs `path` through Workers and returns their merged result (see reduce()). Worker must
/// provide `void consume(const FastqBatch&)` and `void merge(const Worker&)`. It may provide
/// `void clear()` (back to empty, memory kept) so that partial results are reused, and
/// `static constexpr bool needs_record_numbers = false` when it never reads record numbers,
/// which lets the producers consume their own chunks (the fastest way; see reduce()), and
/// `static constexpr bool needs_headers = false` when it never reads headers (its batches
/// then hold empty ones: one copy less per record).
/// `make()` builds an empty Worker and is called from any thread, for chunks and consumers.
/// With integer state and an associative, commutative merge the result is the same for every
/// thread count, chunk size and mode.
///
///   auto stats = fqpipe::run<fqpipe::FastqStats>("r.fq.gz", {.threads = 2},
///                                                [] { return fqpipe::FastqStats(); });
template <class Worker, class Make>
Worker run(const std::string& path, const PipelineOptions& options, Make make,
           RunInfo* info = nullptr) {
  detail::ReductionOf<Worker, Make> total(make);
  RunInfo seen = reduce(path, options, total);
  if (info) *info = std::move(seen);
  return std::move(total.worker);
}

}  // namespace fqpipe
