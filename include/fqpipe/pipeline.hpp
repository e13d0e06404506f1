// fqpipe/pipeline.hpp - runs consumers on every batch of one input in several threads.
// One producer thread decodes and parses; consumer threads drain a bounded BatchQueue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

/// How a pipeline runs.
struct PipelineOptions {
  ReadOptions read;
  /// Threads. 1 runs everything on the calling thread. T >= 2 runs T - 1 consumer threads,
  /// the calling thread as the parser, and one more thread that decodes ahead of the parser.
  unsigned threads = 1;
  /// Batches in flight (queued or being consumed); 0 picks 2 * threads + 2. Memory is bounded
  /// by queue_depth * batch_bytes.
  std::size_t queue_depth = 0;
  /// Called from the producer thread after each batch; keep it cheap. May be empty.
  std::function<void(const Progress&)> on_progress;
};

/// What a finished run saw of its input.
struct RunInfo {
  std::string path;
  InputFormat format = InputFormat::plain;
  std::string decoder;  ///< the decoder that ran, in words
  QualitySchema detected_schema = QualitySchema::generic;
  uint64_t records = 0;
  uint64_t batches = 0;
  unsigned consumer_threads = 0;
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
/// Structure is checked as always; byte checks as options.read says. With threads >= 2 the
/// input is decoded on a second thread while this one counts.
RecordCount count_records(const std::string& path, const PipelineOptions& options,
                          RunInfo* info = nullptr);

/// The number of consumer workers a run with these options uses (max(1, threads - 1)).
unsigned consumer_count(const PipelineOptions& options) noexcept;

/// Runs one Worker per consumer thread and merges them, in worker order, into the first.
/// Worker must provide `void consume(const FastqBatch&)` and `void merge(const Worker&)`;
/// `make` builds one (called on the calling thread). With integer state and an associative,
/// commutative merge the result is the same for every thread count.
///
///   auto stats = fqpipe::run<fqpipe::FastqStats>("r.fq.gz", {.threads = 2},
///                                                [] { return fqpipe::FastqStats(); });
template <class Worker, class Make>
Worker run(const std::string& path, const PipelineOptions& options, Make make,
           RunInfo* info = nullptr) {
  std::vector<Worker> workers;
  const unsigned n = consumer_count(options);
  workers.reserve(n);
  for (unsigned i = 0; i < n; ++i) workers.push_back(make());
  RunInfo seen = for_each_batch(path, options, [&](unsigned w, const FastqBatch& batch) {
    workers[w].consume(batch);
  });
  for (unsigned i = 1; i < n; ++i) workers[0].merge(workers[i]);
  if (info) *info = std::move(seen);
  return std::move(workers[0]);
}

}  // namespace fqpipe
