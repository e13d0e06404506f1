// pipeline.cpp - the single-producer pipeline: the calling thread decodes and parses into a
// BatchQueue, consumer threads drain it. With one thread everything runs inline, no queue.
#include "fqpipe/pipeline.hpp"

#include <thread>

#include "pipeline/batch_queue.hpp"

namespace fqpipe {
namespace {

void report(const PipelineOptions& options, const Reader& reader) {
  if (options.on_progress)
    options.on_progress({reader.input_bytes_read(), reader.input_size(), reader.records_read()});
}

RunInfo finish(const Reader& reader, uint64_t batches, unsigned consumers) {
  RunInfo info;
  info.path = reader.path();
  info.format = reader.format();
  info.decoder = reader.decoder();
  info.detected_schema = reader.detected_schema();
  info.records = reader.records_read();
  info.batches = batches;
  info.consumer_threads = consumers;
  return info;
}

// With two threads or more, decoding runs ahead of parsing, on as many threads as allowed.
ReadOptions read_options(const PipelineOptions& options) {
  ReadOptions read = options.read;
  read.read_ahead = read.read_ahead || options.threads >= 2;
  if (read.decode_threads <= 1) read.decode_threads = options.threads;
  return read;
}

}  // namespace

unsigned consumer_count(const PipelineOptions& options) noexcept {
  return options.threads <= 1 ? 1 : options.threads - 1;
}

RunInfo for_each_batch(const std::string& path, const PipelineOptions& options,
                       const std::function<void(unsigned, const FastqBatch&)>& consume) {
  const ReadOptions read = read_options(options);
  Reader reader(path, read);
  const unsigned consumers = consumer_count(options);
  uint64_t batches = 0;

  if (options.threads <= 1) {
    FastqBatch batch;
    while (reader.next_batch(batch)) {
      consume(0, batch);
      ++batches;
      report(options, reader);
    }
    return finish(reader, batches, consumers);
  }

  BatchQueue queue(options.queue_depth ? options.queue_depth : 2 * options.threads + 2);
  queue.add_producers(1);
  std::vector<std::thread> workers;
  workers.reserve(consumers);
  for (unsigned w = 0; w < consumers; ++w) {
    workers.emplace_back([&queue, &consume, w] {
      while (FastqBatch* batch = queue.pop()) {
        try {
          consume(w, *batch);
        } catch (...) {
          queue.fail(std::current_exception());
        }
        queue.recycle(batch);
      }
    });
  }

  // The producer is this thread: decode and parse, hand batches over.
  try {
    while (FastqBatch* batch = queue.acquire()) {
      if (!reader.next_batch(*batch)) {
        queue.recycle(batch);
        break;
      }
      ++batches;
      if (!queue.push(batch)) break;
      report(options, reader);
    }
  } catch (...) {
    queue.fail(std::current_exception());
  }
  queue.producer_done();
  for (std::thread& t : workers) t.join();
  queue.rethrow_error();
  return finish(reader, batches, consumers);
}

RecordCount count_records(const std::string& path, const PipelineOptions& options, RunInfo* info) {
  const ReadOptions read = read_options(options);
  Reader reader(path, read);
  RecordCount total;
  uint64_t batches = 0;
  // Count in steps of a batch so progress reports keep coming.
  while (const uint64_t n = reader.count_next(read.batch_records, total.bases)) {
    total.records += n;
    ++batches;
    report(options, reader);
  }
  if (info) *info = finish(reader, batches, 0);
  return total;
}

}  // namespace fqpipe
