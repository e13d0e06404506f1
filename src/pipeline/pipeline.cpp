// pipeline.cpp - runs one input through producers and consumers: SPMC (one Reader feeds the
// queue) or MPMC (a ChunkCoordinator's producers do); which one is decided here, per input.
#include "fqpipe/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "fqpipe/error.hpp"
#include "fastq/record_boundary.hpp"
#include "gzip/decoded_input.hpp"
#include "index/index_chunks.hpp"
#include "io/file_chunks.hpp"
#include "io/mapped_file.hpp"
#include "pipeline/batch_queue.hpp"
#include "pipeline/chunk_coordinator.hpp"

namespace fqpipe {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Adds thread-seconds from several threads.
struct TimeSum {
  std::atomic<int64_t> ns{0};
  void add(Clock::time_point t0) {
    ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  }
  double seconds() const { return static_cast<double>(ns.load()) * 1e-9; }
};

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
  info.mode = PipelineMode::spmc;
  info.producer_threads = 1;
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

// The consumer threads of a run: pop, consume, recycle, timing both.
class Consumers {
 public:
  Consumers(BatchQueue& queue, unsigned n,
            const std::function<void(unsigned, const FastqBatch&)>& consume) {
    threads_.reserve(n);
    for (unsigned w = 0; w < n; ++w) {
      threads_.emplace_back([this, &queue, &consume, w] {
        for (;;) {
          auto t0 = Clock::now();
          FastqBatch* batch = queue.pop();
          wait_.add(t0);
          if (!batch) break;
          t0 = Clock::now();
          try {
            consume(w, *batch);
          } catch (...) {
            queue.fail(std::current_exception());
          }
          work_.add(t0);
          queue.recycle(batch);
        }
      });
    }
  }
  void join(StageTimes& times) {
    for (std::thread& t : threads_) t.join();
    times.consume = work_.seconds();
    times.consumer_wait = wait_.seconds();
  }

 private:
  std::vector<std::thread> threads_;
  TimeSum work_, wait_;
};

// What an MPMC run needs: its chunks, or why there are none.
struct Plan {
  gzip::ChunkedInput input;
  unsigned producers = 1;
  std::size_t window = 0;  // chunks parsed ahead of the committed one; 0: no bound
  bool numbers_known = true;  // false for a part of a plain file after the first
  uint64_t first_record_no = 1;
  std::string how;
};

// Moves byte offset `at` of a plain file to the start of the record there (the end of the file
// if none follows), reading as far as it takes. Both neighbouring parts compute the same cut.
uint64_t record_start_at(const std::string& path, uint64_t at, uint64_t size) {
  if (at == 0 || at >= size) return std::min(at, size);
  io::FileChunks file(path, std::size_t{1} << 20, 1, at, size);
  std::string text;
  io::TextChunk chunk;
  while (file.claim(chunk, 0)) {
    file.load(chunk);
    text.append(chunk.data(), chunk.size);
    const std::size_t p = fastq::find_record_start(text, 0);
    if (p != std::string::npos) return at + p;
  }
  return size;
}

// MPMC chunks of a plain file hold about this many records: each chunk costs a seam (the record
// across it is copied and parsed by the committer) and, in reduce(), a partial result as long
// as its longest read. With 12.6 kb reads in 1 MiB chunks that was a tenth of `stats -t 2`'s
// time (bench/compare.sh, long.fastq: 0.075 s with 1 MiB chunks, 0.068 s with 3.6 MiB ones).
constexpr uint64_t kRecordsPerChunk = 128;
constexpr uint64_t kMaxRecordChunk = uint64_t{8} << 20;

// The chunk size for a plain file under automatic chunking: `chunk`, raised to hold about
// kRecordsPerChunk records of the mean size in the file's first MiB, but leaving at least 8
// chunks per producer. The MiB is read through a mapping of the page cache: a buffer for it
// (256 fresh pages to fault in and zero, then a copy) was 0.6 ms of a 19 ms `count` of
// long.fastq, timed from fork to the producers' start.
std::size_t chunk_for_records(const std::string& path, uint64_t size, std::size_t chunk, unsigned producers) {
  const io::MappedFile file(path);
  const std::span<const uint8_t> bytes = file.bytes();
  const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(bytes.size(), std::size_t{1} << 20));
  if (n == 0) return chunk;  // an empty file maps nothing
  const char* first = reinterpret_cast<const char*>(bytes.data());
  uint64_t lines = 0, whole = 0;  // newlines, and bytes up to the end of the last whole record
  for (const char* p = first; (p = static_cast<const char*>(std::memchr(p, '\n', first + n - p)));) {
    ++p;
    if (++lines % 4 == 0) whole = static_cast<uint64_t>(p - first);
  }
  file.check_intact();  // a file cut short under the mapping read zeros here
  const uint64_t record_bytes = lines >= 4 ? whole / (lines / 4) : n + 1;  // none whole: longer
  const uint64_t want = std::min({record_bytes * kRecordsPerChunk, kMaxRecordChunk, size / (8 * uint64_t{producers})});
  return static_cast<std::size_t>(std::max<uint64_t>(chunk, want));
}

// The byte range of part `part` of `parts` of a plain file.
std::pair<uint64_t, uint64_t> part_range(const std::string& path, uint64_t size, unsigned part,
                                         unsigned parts) {
  const auto cut = [&](unsigned i) {
    // size * i / parts without overflowing 64 bits
    return record_start_at(path, size / parts * i + size % parts * i / parts, size);
  };
  return {cut(part - 1), part == parts ? size : cut(part)};
}

gzip::DecoderOptions index_options(const ReadOptions& read) {
  gzip::DecoderOptions d;
  d.index_path = read.index_path;
  d.use_index = read.use_index;
  return d;
}

// A part always runs MPMC (one producer or more): the coordinator handles a range that starts
// inside the file. Plain files are cut at byte offsets moved to record starts; gzip files
// with an index with record numbers at checkpoints, whose first records are known exactly.
bool plan_part(const std::string& path, const PipelineOptions& options, Plan& plan) {
  ErrorPosition at;
  at.file = path;
  if (options.part < 1 || options.part > options.parts)
    throw Error(ErrorKind::usage, "--part " + std::to_string(options.part) + "/" +
                                      std::to_string(options.parts) + ": part must lie in 1.." +
                                      std::to_string(options.parts), at);
  plan.producers = options.producers ? options.producers : std::max(1u, options.threads);
  plan.window = 2 * static_cast<std::size_t>(plan.producers);
  const std::size_t chunk = std::max<std::size_t>(options.read.chunk_bytes, 1);
  const std::string which = std::to_string(options.part) + "/" + std::to_string(options.parts);
  gzip::ChunkedInput probe = gzip::open_chunked(path, 1);
  if (probe.format == InputFormat::gzip) {
    const std::optional<GzipIndex> index = gzip::find_index(path, index_options(options.read));
    if (!index || !index->has_records)
      throw Error(ErrorKind::usage, "--part of gzip input needs an fqpipe index with record numbers (" +
                                        std::string(index ? "the index has none" : "none found") +
                                        "; fqpipe index FILE makes one)", at);
    // Parts start at checkpoints' first records, spread evenly over the checkpoints.
    const auto& cps = index->checkpoints;
    const auto cut = [&](unsigned i) -> std::pair<uint64_t, uint64_t> {  // (record byte, number)
      if (i == 0) return {0, 1};
      if (i == options.parts) return {UINT64_MAX, index->record_count + 1};
      const std::size_t k = cps.size() * i / options.parts;
      return {cps[k].record_byte, cps[k].record_no};
    };
    const auto [begin, first] = cut(options.part - 1);
    const auto [end, after] = cut(options.part);
    auto chunks = std::make_unique<index::IndexChunks>(path, *index, chunk, begin, end);
    plan.input.format = InputFormat::gzip;
    plan.input.file_size = chunks->decoded_size();
    plan.input.chunks = std::move(chunks);
    plan.first_record_no = first;
    plan.how = "mpmc: part " + which + " = records " + std::to_string(first) + ".." + std::to_string(after - 1) +
               ", " + plan.input.chunks->describe();
    return true;
  }
  if (probe.format != InputFormat::plain)
    throw Error(ErrorKind::usage, "--part of " + std::string(format_name(probe.format)) +
                                      " input is not supported yet (run the whole file: its blocks "
                                      "are decoded on all threads)", at);
  if (!probe.chunks) throw Error(ErrorKind::usage, "--part needs a regular file (" + probe.why + ")", at);
  const auto [begin, end] = part_range(path, probe.file_size, options.part, options.parts);
  plan.input.format = InputFormat::plain;
  plan.input.file_size = end - begin;
  plan.input.chunks = std::make_unique<io::FileChunks>(path, chunk, 1, begin, end);
  plan.numbers_known = options.part == 1;
  plan.how = "mpmc: part " + which + " = bytes " + std::to_string(begin) + ".." + std::to_string(end) + ", " +
             plan.input.chunks->describe();
  return true;
}

// Decides SPMC or MPMC for one input. `counting`: no batches are built, so equal ranges, whose
// later parts wait for the earlier ones, cost no memory. `kept`: the producers keep their
// records (count, reduce), so chunks of long reads may grow (chunk_for_records); batches
// handed to consumers, and put in order for `cat`, would wait longer and in larger numbers
// (long.fastq `cat -t 2`: 0.060 -> 0.085 s, 21 -> 60 MiB with grown chunks).
bool plan_mpmc(const std::string& path, const PipelineOptions& options, bool counting, bool kept, Plan& plan) {
  if (options.parts > 1) return plan_part(path, options, plan);
  if (options.mode == PipelineMode::spmc) return false;
  if (options.read.build_index) {  // the index is built by one sequential pass
    plan.how = "spmc: building the index";
    return false;
  }
  if (options.mode == PipelineMode::automatic && options.threads < 2 && options.chunking != Chunking::index)
    return false;
  plan.producers = options.producers ? options.producers : std::max(1u, options.threads);
  const std::size_t chunk = std::max<std::size_t>(options.read.chunk_bytes, 1);
  const bool equal = options.chunking == Chunking::equal && counting && plan.producers > 1;
  plan.input = gzip::open_chunked(path, chunk, equal ? plan.producers : 1, index_options(options.read));
  if (options.chunking == Chunking::index && !dynamic_cast<index::IndexChunks*>(plan.input.chunks.get())) {
    ErrorPosition at;
    at.file = path;
    throw Error(ErrorKind::usage, "--chunking index needs a gzip input with an index (fqpipe index FILE, "
                                  "or --index PATH); use record or equal", at);
  }
  if (!plan.input.chunks) {
    plan.how = "spmc: " + plan.input.why;
    return false;
  }
  if (options.mode == PipelineMode::automatic && options.chunking != Chunking::index &&
      plan.input.file_size < 4 * static_cast<uint64_t>(chunk)) {
    plan.how = "spmc: input smaller than 4 chunks";
    return false;
  }
  if (kept && plan.input.format == InputFormat::plain && options.chunking == Chunking::automatic) {
    const std::size_t wide = chunk_for_records(path, plan.input.file_size, chunk, plan.producers);
    if (wide > chunk) plan.input.chunks = std::make_unique<io::FileChunks>(path, wide, 1);
  }
  const bool lanes = plan.input.chunks->lanes() > 1;
  plan.window = lanes ? 0 : 2 * static_cast<std::size_t>(plan.producers);
  plan.how = "mpmc: " + plan.input.chunks->describe();
  if (options.chunking == Chunking::equal && !lanes)
    plan.how += counting ? " (equal ranges: plain files only)"
                         : " (equal ranges only when counting: batches of later ranges would wait in memory)";
  return true;
}

RunInfo mpmc_info(const std::string& path, const Plan& plan, const ChunkCoordinator& coord,
                  unsigned consumers) {
  RunInfo info;
  info.path = path;
  info.format = plan.input.format;
  info.decoder = plan.input.chunks->describe();
  info.detected_schema = detect_schema(coord.quality_lo(), coord.quality_hi());
  info.records = coord.records();
  info.batches = coord.batches();
  info.mode = PipelineMode::mpmc;
  info.plan = plan.how + "; " + std::to_string(coord.chunks()) + " chunks, " +
              std::to_string(coord.chunks_reframed()) + " parsed on in order";
  info.producer_threads = plan.producers;
  info.consumer_threads = consumers;
  info.first_record_no = plan.first_record_no;
  const ChunkCoordinator::Times t = coord.times();
  info.times.decode = t.load;
  info.times.parse = t.parse;
  info.times.commit = t.commit;
  info.times.producer_wait = t.wait;
  info.times.consume = t.consume;  // a reducing run's; for_each_batch sets its consumers'
  return info;
}

// Runs `coord`'s producers on `n` threads, the calling thread one of them; producer i takes
// lane i of a source with several lanes.
void run_producers(ChunkCoordinator& coord, unsigned n, unsigned lanes) {
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i)
    threads.emplace_back([&coord, i, lanes] { coord.run_producer(lanes > 1 ? i : 0); });
  coord.run_producer(0);
  for (std::thread& t : threads) t.join();
}

void progress_hook(ChunkCoordinator& coord, const PipelineOptions& options, const Plan& plan) {
  if (!options.on_progress) return;
  coord.on_commit = [&coord, &options, &plan] {
    options.on_progress({plan.input.chunks->input_bytes_read(), plan.input.file_size, coord.records()});
  };
}

RunInfo for_each_batch_mpmc(const std::string& path, const PipelineOptions& options, Plan& plan,
                            const std::function<void(unsigned, const FastqBatch&)>& consume) {
  const unsigned consumers = consumer_count(options);
  BatchQueue queue(options.queue_depth ? options.queue_depth : 2 * options.threads + 2);
  queue.add_producers(plan.producers);
  ChunkCoordinator coord(*plan.input.chunks, options.read, path, &queue, plan.window);
  coord.record_numbers_known = plan.numbers_known;
  coord.first_record_no = plan.first_record_no;
  progress_hook(coord, options, plan);
  if (options.on_start) options.on_start(mpmc_info(path, plan, coord, consumers));
  Consumers workers(queue, consumers, consume);
  run_producers(coord, plan.producers, plan.input.chunks->lanes());
  StageTimes consumer_times;
  workers.join(consumer_times);
  queue.rethrow_error();
  coord.rethrow_error();
  RunInfo info = mpmc_info(path, plan, coord, consumers);
  info.times.consume = consumer_times.consume;
  info.times.consumer_wait = consumer_times.consumer_wait;
  return info;
}

// The producers consume their own chunks into partial results (see reduce()).
RunInfo reduce_mpmc(const std::string& path, const PipelineOptions& options, Plan& plan, Reduction& total) {
  ChunkCoordinator coord(*plan.input.chunks, options.read, path, nullptr, plan.window, &total);
  coord.record_numbers_known = plan.numbers_known;
  coord.first_record_no = plan.first_record_no;
  progress_hook(coord, options, plan);
  plan.how += "; producers consume their own chunks";
  if (options.on_start) options.on_start(mpmc_info(path, plan, coord, 0));
  run_producers(coord, plan.producers, plan.input.chunks->lanes());
  coord.rethrow_error();
  return mpmc_info(path, plan, coord, 0);
}

// One thread parses and consumes every batch; with threads >= 2 the Reader decodes ahead on
// the others.
RunInfo consume_inline(Reader& reader, const PipelineOptions& options, unsigned consumers,
                       const std::function<void(unsigned, const FastqBatch&)>& consume) {
  FastqBatch batch;
  StageTimes times;
  uint64_t batches = 0;
  for (;;) {
    auto t0 = Clock::now();
    if (!reader.next_batch(batch)) break;
    times.parse += seconds_since(t0);
    t0 = Clock::now();
    consume(0, batch);
    times.consume += seconds_since(t0);
    ++batches;
    report(options, reader);
  }
  RunInfo info = finish(reader, batches, consumers);
  info.times = times;
  return info;
}

}  // namespace

unsigned consumer_count(const PipelineOptions& options) noexcept {
  if (options.consumers) return options.consumers;
  return options.threads <= 1 ? 1 : options.threads - 1;
}

namespace {

// SPMC: this thread reads and parses (inline with the consumer when threads <= 1).
RunInfo for_each_batch_spmc(const std::string& path, const PipelineOptions& options, const Plan& plan,
                            const std::function<void(unsigned, const FastqBatch&)>& consume) {
  const ReadOptions read = read_options(options);
  Reader reader(path, read);
  const unsigned consumers = consumer_count(options);
  uint64_t batches = 0;
  if (options.on_start) options.on_start(finish(reader, 0, consumers));

  if (options.threads <= 1 && !options.consumers) {
    RunInfo info = consume_inline(reader, options, consumers, consume);
    info.plan = plan.how.empty() ? "spmc: one thread" : plan.how;
    return info;
  }

  BatchQueue queue(options.queue_depth ? options.queue_depth : 2 * options.threads + 2);
  queue.add_producers(1);
  Consumers workers(queue, consumers, consume);

  // The producer is this thread: decode and parse, hand batches over.
  StageTimes times;
  try {
    for (;;) {
      auto t0 = Clock::now();
      FastqBatch* batch = queue.acquire();
      times.producer_wait += seconds_since(t0);
      if (!batch) break;
      t0 = Clock::now();
      const bool more = reader.next_batch(*batch);
      times.parse += seconds_since(t0);
      if (!more) {
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
  workers.join(times);
  queue.rethrow_error();
  RunInfo info = finish(reader, batches, consumers);
  info.plan = plan.how.empty() ? "spmc" : plan.how;
  info.times = times;
  return info;
}

}  // namespace

RunInfo for_each_batch(const std::string& path, const PipelineOptions& options,
                       const std::function<void(unsigned, const FastqBatch&)>& consume) {
  Plan plan;
  if (plan_mpmc(path, options, false, false, plan)) return for_each_batch_mpmc(path, options, plan, consume);
  return for_each_batch_spmc(path, options, plan, consume);
}

RunInfo reduce(const std::string& path, const PipelineOptions& given, Reduction& total) {
  PipelineOptions options = given;
  if (!total.needs_headers()) options.read.keep_headers = false;
  Plan plan;
  // Queued: consumer threads asked for, or an MPMC run whose speculative batches would carry
  // chunk-relative numbers to a reduction that reads them (SPMC numbers are exact anyway).
  const bool may_speculate = !options.consumers && !total.needs_record_numbers();
  const bool mpmc = plan_mpmc(path, options, false, may_speculate, plan);
  if (options.consumers || (mpmc && !may_speculate)) {
    // Consumer threads, each filling its own partial result from the queue.
    std::vector<std::unique_ptr<Reduction>> parts;
    for (unsigned w = 0; w < consumer_count(options); ++w) parts.push_back(total.make());
    const auto consume = [&parts](unsigned w, const FastqBatch& batch) { parts[w]->consume(batch); };
    RunInfo info = mpmc ? for_each_batch_mpmc(path, options, plan, consume)
                        : for_each_batch_spmc(path, options, plan, consume);
    for (const auto& part : parts) part->merge_into(total);
    return info;
  }
  if (mpmc) return reduce_mpmc(path, options, plan, total);
  ReadOptions read = read_options(options);
  read.batch_bytes = std::min(read.batch_bytes, kReduceBatchBytes);
  Reader reader(path, read);
  if (options.on_start) options.on_start(finish(reader, 0, 0));
  RunInfo info = consume_inline(reader, options, 0, [&total](unsigned, const FastqBatch& batch) {
    total.consume(batch);
  });
  info.plan = plan.how.empty() ? "spmc: the parsing thread consumes" : plan.how + "; the parsing thread consumes";
  return info;
}

RecordCount count_records(const std::string& path, const PipelineOptions& options, RunInfo* info) {
  Plan plan;
  if (plan_mpmc(path, options, true, true, plan)) {
    ChunkCoordinator coord(*plan.input.chunks, options.read, path, nullptr, plan.window);
    coord.record_numbers_known = plan.numbers_known;
    coord.first_record_no = plan.first_record_no;
    progress_hook(coord, options, plan);
    run_producers(coord, plan.producers, plan.input.chunks->lanes());
    coord.rethrow_error();
    if (info) *info = mpmc_info(path, plan, coord, 0);
    return {coord.records(), coord.bases()};
  }
  const ReadOptions read = read_options(options);
  Reader reader(path, read);
  RecordCount total;
  uint64_t batches = 0;
  const auto t0 = Clock::now();
  // Count in steps of a batch so progress reports keep coming.
  while (const uint64_t n = reader.count_next(read.batch_records, total.bases)) {
    total.records += n;
    ++batches;
    report(options, reader);
  }
  if (info) {
    *info = finish(reader, batches, 0);
    info->plan = plan.how.empty() ? "spmc" : plan.how;
    info->times.parse = seconds_since(t0);
  }
  return total;
}

}  // namespace fqpipe
