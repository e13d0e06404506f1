// chunk_coordinator.cpp - ChunkCoordinator: claim, load, guess, parse ahead; commit in order.
// The committing thread is whichever producer parks the next result while no one else commits.
#include "pipeline/chunk_coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "fastq/parser.hpp"
#include "fastq/record_boundary.hpp"
#include "fqpipe/error.hpp"

namespace fqpipe {
namespace {

using Clock = std::chrono::steady_clock;

int64_t since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// Up to two spans of text in decoded order, handed to a parser as its buffers.
class SpanText final : public io::TextSource {
 public:
  SpanText(const io::TextBuffer* spans, std::size_t n) : spans_(spans), n_(n) {}
  const io::TextBuffer* next() override {
    while (i_ < n_ && spans_[i_].size == 0) ++i_;
    return i_ < n_ ? &spans_[i_++] : nullptr;
  }
  uint64_t input_bytes_read() const noexcept override { return 0; }

 private:
  const io::TextBuffer* spans_;
  std::size_t n_, i_ = 0;
};

// A chunk from a source that reads any part of a chunk (a plain file) is read in pieces of a
// quarter of it, at most this much: a piece is parsed while it is in the cache (L2 is 2 MiB
// on the development VM), and the pieces of a small chunk exercise the same path in tests.
constexpr std::size_t kMaxPieceBytes = std::size_t{512} << 10;

// The text of a chunk from `from` on: the `loaded` bytes already in its buffer, then the rest
// read piece by piece into the same buffer, each piece parsed while it is in the cache. A
// record that runs past a piece is read again from its start with the next one (next_from),
// not copied together. A chunk of several MiB thus needs no buffer that large: fresh pages
// to fault in (and zero) weigh on a short run, and the parser meets its text in the cache.
class PieceText final : public io::TextSource {
 public:
  PieceText(io::ChunkSource& source, io::TextChunk& chunk, std::size_t piece, std::size_t from,
            std::size_t loaded)
      : source_(source), chunk_(chunk), piece_(piece), start_(from), loaded_(loaded) {}
  const io::TextBuffer* next() override {
    if (!started_) {  // the first piece, from the first record on
      started_ = true;
      buffer_ = {chunk_.data() + start_, loaded_ - start_, chunk_.decoded_offset + start_};
      return &buffer_;
    }
    return read_from(loaded_);
  }
  const io::TextBuffer* next_from(uint64_t from) override {
    const uint64_t at = from - chunk_.decoded_offset;
    // Only a record shorter than half a piece: the new piece then adds as much again.
    if (!started_ || loaded_ >= chunk_.size || at < start_ || at >= loaded_ || loaded_ - at > piece_ / 2)
      return nullptr;
    return read_from(static_cast<std::size_t>(at));
  }
  uint64_t input_bytes_read() const noexcept override { return 0; }

  int64_t load_ns = 0;  // in load_range()

 private:
  const io::TextBuffer* read_from(std::size_t at) {
    if (at >= chunk_.size) return nullptr;
    const std::size_t n = std::min(piece_, chunk_.size - at);
    const auto t0 = Clock::now();
    source_.load_range(chunk_, at, n, chunk_.bytes.data());
    load_ns += since(t0);
    buffer_ = {chunk_.data(), n, chunk_.decoded_offset + at};
    start_ = at;
    loaded_ = at + n;
    return &buffer_;
  }

  io::ChunkSource& source_;
  io::TextChunk& chunk_;
  std::size_t piece_;
  std::size_t start_, loaded_;  // the current buffer, chunk-relative
  bool started_ = false;
  io::TextBuffer buffer_{};
};

// Thrown inside the committing thread when the queue stopped under it.
struct QueueStopped {};

// A Reduction's own exception, passed on unchanged (never renumbered like a parse error).
struct ConsumerFailed {
  std::exception_ptr error;
};

// An error without record and line numbers (they would count from a part's start).
std::exception_ptr without_numbers(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    ErrorPosition at = e.position();
    at.record_no = 0;
    at.line_no = 0;
    return std::make_exception_ptr(Error(e.kind(), e.reason(), at));
  } catch (...) {
    return std::current_exception();
  }
}

// A producer's error, renumbered once the records before its chunk are counted.
std::exception_ptr renumbered(std::exception_ptr error, uint64_t records_before) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    ErrorPosition at = e.position();
    if (at.record_no) at.record_no += records_before;
    if (at.line_no) at.line_no += 4 * records_before;
    return std::make_exception_ptr(Error(e.kind(), e.reason(), at));
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace

struct ChunkCoordinator::Result {
  io::TextChunk chunk;                 // claim()'s fields only: the text is not kept
  std::string head;                    // the text before the guess (all of it without one)
  std::string tail;                    // the text after the last whole record
  std::string text;                    // all of it, for a chunk that cannot be loaded again
  std::size_t start = 0;               // guessed first record, chunk-relative; npos: none
  std::vector<std::unique_ptr<FastqBatch>> batches;
  std::unique_ptr<Reduction> partial;  // with a Reduction: this chunk's records...
  uint64_t reduced_batches = 0;        // ...in this many batches
  uint64_t records = 0, bases = 0;     // of the records in `batches` (or counted, or reduced)
  uint64_t unfinished = 0;             // decoded offset of the text after the last record
  std::exception_ptr load_error;       // the chunk could not be read or decoded
  std::exception_ptr parse_error;      // the parse from `start` failed (chunk-local numbers)
  std::exception_ptr consume_error;    // the partial result threw on this chunk's records
  uint8_t qual_lo = 255, qual_hi = 0;
};

ChunkCoordinator::ChunkCoordinator(io::ChunkSource& source, const ReadOptions& options,
                                   std::string file, BatchQueue* queue, std::size_t window,
                                   Reduction* total)
    : source_(source), options_(options), file_(std::move(file)), queue_(queue),
      window_(window), total_(total) {
  if (total_) options_.batch_bytes = std::min(options_.batch_bytes, kReduceBatchBytes);
}

ChunkCoordinator::~ChunkCoordinator() = default;

bool ChunkCoordinator::stopped() const {
  return stopped_.load(std::memory_order_acquire) || (queue_ && queue_->stopped());
}

void ChunkCoordinator::stop(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (error && !error_) error_ = error;
    stopped_.store(true, std::memory_order_release);
  }
  progress_.notify_all();
  if (queue_) {
    if (error) queue_->fail(error);
    else queue_->cancel();
  }
}

void ChunkCoordinator::rethrow_error() const {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

std::unique_ptr<FastqBatch> ChunkCoordinator::spare_batch() {
  std::lock_guard lock(mutex_);
  if (spare_batches_.empty()) return std::make_unique<FastqBatch>();
  std::unique_ptr<FastqBatch> b = std::move(spare_batches_.back());
  spare_batches_.pop_back();
  return b;
}

std::unique_ptr<Reduction> ChunkCoordinator::spare_partial() {
  {
    std::lock_guard lock(mutex_);
    if (!spare_partials_.empty()) {
      std::unique_ptr<Reduction> p = std::move(spare_partials_.back());
      spare_partials_.pop_back();
      return p;
    }
  }
  return total_->make();
}

std::unique_ptr<io::TextChunk> ChunkCoordinator::spare_chunk() {
  std::lock_guard lock(mutex_);
  if (spare_chunks_.empty()) return std::make_unique<io::TextChunk>();
  std::unique_ptr<io::TextChunk> c = std::move(spare_chunks_.back());
  spare_chunks_.pop_back();
  return c;
}

void ChunkCoordinator::run_producer(unsigned lane) {
  std::unique_ptr<io::TextChunk> buffer = spare_chunk();
  FastqBatch own;  // with a Reduction: parsed into, consumed, reused
  for (;;) {
    std::unique_ptr<Result> r = std::make_unique<Result>();
    {
      std::unique_lock lock(mutex_);
      const auto t0 = Clock::now();
      progress_.wait(lock, [&] { return stopped() || window_ == 0 || claimed_ < next_commit_ + window_; });
      wait_ns_ += since(t0);
      if (stopped()) break;
      bool claimed = false;
      try {
        claimed = source_.claim(*buffer, lane);
      } catch (...) {
        // Damage found while cutting the input: it takes the next place in order, so the
        // records before it (and their errors) come first.
        r->chunk.index = claimed_++;
        r->load_error = std::current_exception();
      }
      if (!claimed && !r->load_error) break;
      if (claimed) ++claimed_;
    }
    if (r->load_error) {
      deposit(std::move(r));
      break;
    }
    process(*buffer, own, *r);
    deposit(std::move(r));
  }
  {
    std::lock_guard lock(mutex_);
    spare_chunks_.push_back(std::move(buffer));
  }
  if (queue_) queue_->producer_done();
}

// Load the chunk, guess its first record, parse ahead with chunk-local record numbers. A large
// chunk of a plain file is read in pieces (PieceText) once its first piece shows a record start.
void ChunkCoordinator::process(io::TextChunk& chunk, FastqBatch& own, Result& r) {
  r.chunk.index = chunk.index;
  r.chunk.input_offset = chunk.input_offset;
  r.chunk.input_size = chunk.input_size;
  const auto piece = static_cast<std::size_t>(std::clamp<uint64_t>(chunk.input_size / 4, 1, kMaxPieceBytes));
  bool pieces = source_.loads_ranges() && chunk.input_size > 2 * piece;
  auto t0 = Clock::now();
  try {
    if (pieces) {
      chunk.size = static_cast<std::size_t>(chunk.input_size);  // the file's own bytes
      chunk.bytes.grow(piece);
      source_.load_range(chunk, 0, piece, chunk.bytes.data());
    } else {
      source_.load(chunk);
    }
  } catch (...) {
    r.load_error = std::current_exception();
    load_ns_ += since(t0);
    return;
  }
  load_ns_ += since(t0);
  t0 = Clock::now();
  // Chunk 0 starts at a record; an index may know where one starts; else guess. Either way
  // the seam verifies it.
  const auto first_record = [&](std::string_view text) {
    return chunk.index == 0                                        ? 0
           : chunk.record_start != static_cast<std::size_t>(-1) ? chunk.record_start
                                                                 : fastq::find_record_start(text, 0);
  };
  r.start = first_record(std::string_view(chunk.data(), pieces ? piece : chunk.size));
  if (pieces && (r.start == std::string_view::npos || r.start >= piece)) {
    pieces = false;  // no record start in the first piece: records this long are read whole
    const auto t1 = Clock::now();
    try {
      source_.load(chunk);
    } catch (...) {
      r.load_error = std::current_exception();
      return;
    }
    load_ns_ += since(t1);
    t0 += Clock::now() - t1;
    r.start = first_record(std::string_view(chunk.data(), chunk.size));
  }
  r.chunk.decoded_offset = chunk.decoded_offset;
  r.chunk.size = chunk.size;
  r.chunk.last = chunk.last;
  r.chunk.input_unit = chunk.input_unit;
  r.chunk.reloadable = chunk.reloadable;
  // The text loaded: in pieces the first one, whose record start was found above.
  const std::string_view text(chunk.data(), pieces ? piece : chunk.size);
  if (r.start == std::string_view::npos || r.start >= text.size()) {
    r.start = std::string_view::npos;
    r.head.assign(text);
    parse_ns_ += since(t0);
    return;
  }
  r.head.assign(text.substr(0, r.start));
  if (!chunk.reloadable) r.text.assign(text);
  const io::TextBuffer span{chunk.data() + r.start, chunk.size - r.start, chunk.decoded_offset + r.start};
  SpanText whole(&span, 1);
  PieceText piecewise(source_, chunk, piece, r.start, piece);
  int64_t consume_ns = 0;
  fastq::FastqParser parser(pieces ? static_cast<io::TextSource&>(piecewise) : whole, options_, file_, 1);
  parser.set_open_end();
  try {
    if (total_) {
      r.partial = spare_partial();
      r.reduced_batches = parse_into(parser, *r.partial, own, r.bases, consume_ns);
      r.records = parser.records();  // numbered from 1 in the chunk
    } else if (queue_) {
      for (;;) {
        std::unique_ptr<FastqBatch> b = spare_batch();
        if (!parser.next_batch(*b)) {
          std::lock_guard lock(mutex_);
          spare_batches_.push_back(std::move(b));
          break;
        }
        r.records += b->size();
        r.bases += b->sequence_bytes();
        r.batches.push_back(std::move(b));
        if (stopped()) break;
      }
    } else {
      uint64_t bases = 0;
      r.records = parser.count(std::numeric_limits<uint64_t>::max(), bases);
      r.bases = bases;
    }
    r.unfinished = parser.unfinished_offset();
    const std::size_t from = static_cast<std::size_t>(r.unfinished - chunk.decoded_offset);
    if (pieces) {  // the piece that held the tail may be overwritten: read it again
      r.tail.resize(chunk.size - from);
      source_.load_range(chunk, from, r.tail.size(), r.tail.data());
    } else {
      r.tail.assign(text.substr(from));
    }
  } catch (const ConsumerFailed& f) {
    r.consume_error = f.error;
  } catch (...) {
    // A read error in a later piece lands here too: like a parse error it is reported once
    // the guess is verified, after every record before it.
    r.parse_error = std::current_exception();
  }
  r.qual_lo = parser.quality_lo();
  r.qual_hi = parser.quality_hi();
  load_ns_ += piecewise.load_ns;
  parse_ns_ += since(t0) - consume_ns - piecewise.load_ns;
}

void ChunkCoordinator::deposit(std::unique_ptr<Result> r) {
  std::unique_lock lock(mutex_);
  const uint64_t index = r->chunk.index;
  done_.emplace(index, std::move(r));
  if (committing_) return;  // the committing thread will find it
  committing_ = true;
  for (;;) {
    auto it = done_.find(next_commit_);
    if (stopped()) {
      progress_.notify_all();  // the queue may have stopped under us: wake the waiting producers
      break;
    }
    if (it == done_.end()) break;
    std::unique_ptr<Result> next = std::move(it->second);
    done_.erase(it);
    lock.unlock();
    const auto t0 = Clock::now();
    const int64_t consumed_before = commit_consume_ns_;
    try {
      commit(*next);
    } catch (const QueueStopped&) {
      stop(nullptr);
    } catch (const ConsumerFailed& f) {
      stop(f.error);
    } catch (...) {
      stop(record_numbers_known ? std::current_exception() : without_numbers(std::current_exception()));
    }
    commit_ns_ += since(t0) - (commit_consume_ns_ - consumed_before);  // consume counts it
    if (on_commit && !stopped()) on_commit();
    lock.lock();
    ++next_commit_;
    for (auto& b : next->batches)
      if (b) spare_batches_.push_back(std::move(b));
    if (next->partial && next->partial->clear()) spare_partials_.push_back(std::move(next->partial));
    progress_.notify_all();
  }
  committing_ = false;
}

// Parses `spans` from the committed position (a true record start) with global numbers.
// Open-ended unless `closed`: the text after the last whole record becomes the new tail.
void ChunkCoordinator::parse_in_order(const io::TextBuffer* spans, std::size_t n, bool closed) {
  uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += spans[i].size;
  if (total == 0) return;
  SpanText text(spans, n);
  fastq::FastqParser parser(text, options_, file_, first_record_no + records_);
  if (!closed) parser.set_open_end();
  if (total_) {
    batches_ += parse_into(parser, *total_, commit_batch_, bases_, commit_consume_ns_);
  } else if (queue_) {
    for (;;) {
      FastqBatch* b = queue_->acquire();
      if (!b) throw QueueStopped{};
      if (!parser.next_batch(*b)) {
        queue_->recycle(b);
        break;
      }
      bases_ += b->sequence_bytes();
      ++batches_;
      if (!queue_->push(b)) throw QueueStopped{};
    }
  } else {
    uint64_t bases = 0;
    parser.count(std::numeric_limits<uint64_t>::max(), bases);
    bases_ += bases;
  }
  records_ = parser.records() - (first_record_no - 1);
  qual_lo_ = std::min(qual_lo_, parser.quality_lo());
  qual_hi_ = std::max(qual_hi_, parser.quality_hi());
  if (closed) {
    tail_.clear();
    return;
  }
  // The new tail: the spans' bytes from the parser's unfinished offset on.
  const uint64_t from = parser.unfinished_offset();
  std::string tail;
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t end = spans[i].decoded_offset + spans[i].size;
    if (end <= from) continue;
    const uint64_t skip = from > spans[i].decoded_offset ? from - spans[i].decoded_offset : 0;
    tail.append(spans[i].data + skip, spans[i].size - skip);
  }
  tail_ = std::move(tail);
  tail_offset_ = from;
}

// Hands a verified chunk's batches to the queue: the queue's free batch takes the parked
// batch's contents, the parked one goes back to the spares with the free one's memory.
void ChunkCoordinator::emit(std::vector<std::unique_ptr<FastqBatch>>& batches) {
  for (auto& parked : batches) {
    FastqBatch* b = queue_->acquire();
    if (!b) throw QueueStopped{};
    std::swap(*b, *parked);
    b->renumber(first_record_no + records_);
    records_ += b->size();
    bases_ += b->sequence_bytes();
    ++batches_;
    if (!queue_->push(b)) throw QueueStopped{};
  }
}

// Parses batches into `batch` and consumes each into `into` (the producer's own records,
// while they are in its cache); adds their bases to `bases`. Returns the number of batches;
// adds the time spent consuming to `consume_ns` (and to consume_ns_).
uint64_t ChunkCoordinator::parse_into(fastq::FastqParser& parser, Reduction& into, FastqBatch& batch,
                                      uint64_t& bases, int64_t& consume_ns) {
  const int64_t before = consume_ns;
  uint64_t batches = 0;
  while (parser.next_batch(batch)) {
    ++batches;
    bases += batch.sequence_bytes();
    const auto t0 = Clock::now();
    try {
      into.consume(batch);
    } catch (...) {
      throw ConsumerFailed{std::current_exception()};
    }
    consume_ns += since(t0);
    if (stopped()) break;
  }
  consume_ns_ += consume_ns - before;
  return batches;
}

void ChunkCoordinator::commit(Result& r) {
  if (r.load_error) std::rethrow_exception(r.load_error);
  const io::TextChunk& chunk = r.chunk;
  const bool framed = r.start != std::string_view::npos;
  // The seam: the tail so far, then this chunk's text up to its guessed first record.
  if (tail_.empty()) tail_offset_ = chunk.decoded_offset;  // nothing pending: it starts here
  const io::TextBuffer seam[2] = {{tail_.data(), tail_.size(), tail_offset_},
                                  {r.head.data(), r.head.size(), chunk.decoded_offset}};
  parse_in_order(seam, 2, chunk.last && !framed);
  if (!framed) {
    ++reframed_;
  } else if (const uint64_t guess = chunk.decoded_offset + r.start;
             tail_.empty() && tail_offset_ == guess) {  // the guess is a true record start
    const uint64_t before = records_;
    if (r.consume_error) throw ConsumerFailed{r.consume_error};  // on true records: it counts
    if (total_) {
      const auto t0 = Clock::now();
      try {
        r.partial->merge_into(*total_);
      } catch (...) {
        throw ConsumerFailed{std::current_exception()};
      }
      const int64_t merge_ns = since(t0);
      consume_ns_ += merge_ns;
      commit_consume_ns_ += merge_ns;
      batches_ += r.reduced_batches;
      records_ += r.records;
      bases_ += r.bases;
    } else if (queue_) {
      emit(r.batches);
    } else {
      records_ += r.records;
      bases_ += r.bases;
    }
    qual_lo_ = std::min(qual_lo_, r.qual_lo);
    qual_hi_ = std::max(qual_hi_, r.qual_hi);
    if (r.parse_error) std::rethrow_exception(renumbered(r.parse_error, first_record_no - 1 + before));
    tail_ = std::move(r.tail);
    tail_offset_ = r.unfinished;
  } else {  // a wrong guess: load the chunk again and parse on from where the seam ended
    ++reframed_;
    std::unique_ptr<io::TextChunk> text = spare_chunk();
    if (chunk.reloadable) {
      text->index = chunk.index;
      text->input_offset = chunk.input_offset;
      text->input_size = chunk.input_size;
      text->input_unit = chunk.input_unit;
      text->decoded_offset = chunk.decoded_offset;
      text->last = chunk.last;
      source_.load(*text);
    } else {
      text->bytes.grow(r.text.size());
      std::memcpy(text->bytes.data(), r.text.data(), r.text.size());
      text->size = r.text.size();
    }
    const io::TextBuffer rest[2] = {{tail_.data(), tail_.size(), tail_offset_},
                                    {text->data() + r.start, text->size - r.start, guess}};
    try {
      parse_in_order(rest, 2, false);
    } catch (...) {
      std::lock_guard lock(mutex_);
      spare_chunks_.push_back(std::move(text));
      throw;
    }
    std::lock_guard lock(mutex_);
    spare_chunks_.push_back(std::move(text));
  }
  if (chunk.last) {  // the input ends: what is left must be a last record (or blank lines)
    const io::TextBuffer end[1] = {{tail_.data(), tail_.size(), tail_offset_}};
    parse_in_order(end, 1, true);
  }
}

ChunkCoordinator::Times ChunkCoordinator::times() const {
  Times t;
  t.load = static_cast<double>(load_ns_.load()) * 1e-9;
  t.parse = static_cast<double>(parse_ns_.load()) * 1e-9;
  t.commit = static_cast<double>(commit_ns_.load()) * 1e-9;
  t.wait = static_cast<double>(wait_ns_.load()) * 1e-9;
  t.consume = static_cast<double>(consume_ns_.load()) * 1e-9;
  return t;
}

}  // namespace fqpipe
