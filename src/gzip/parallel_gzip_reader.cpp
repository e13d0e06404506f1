// parallel_gzip_reader.cpp - the front + speculative schedule of DESIGN.md §3.
// Invariant: the front's pos_bit is always an exact block (or member) boundary of the stream;
// a speculative chunk becomes output only if it starts exactly there.
#include "gzip/parallel_gzip_reader.hpp"

#include <isa-l/crc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fqpipe/error.hpp"
#include "gzip/block_finder.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/isal_inflater.hpp"
#include "gzip/marker_window.hpp"

namespace fqpipe::gzip {

struct ParallelGzipReader::Slot {
  enum class State { working, done, front_owns, abandoned };
  State state = State::working;
  std::optional<uint64_t> start;        // the block start found after the guess, once known
  std::unique_ptr<DeflateChunk> chunk;  // set once done and a start was found and decoded
  std::chrono::steady_clock::time_point began;  // when its thread took it
  std::atomic<bool> cancel{false};      // abandoned while working: its decoder stops early

  // No longer wanted while its thread works on it: that thread stops at its next block and
  // drops it.
  void abandon() {
    state = State::abandoned;
    cancel.store(true, std::memory_order_relaxed);
  }
};

struct ParallelGzipReader::OutputItem {
  enum class Kind { data, member_end, end, error };
  Kind kind = Kind::data;
  std::unique_ptr<DeflateChunk> chunk;  // data from a speculative chunk (markers resolved against `window`)
  std::unique_ptr<ByteChunk> bytes;     // data decoded by the front, or the chunk's markers replaced
  std::vector<uint8_t> window;          // data from a speculative chunk: the preceding window
  // Guarded by mutex_: markers to replace (`bytes` not yet filled); a speculative thread is
  // replacing them (it reads `chunk` and `window` meanwhile); the consumer is done with the item
  // while that thread still reads it, so that thread recycles and deletes it.
  bool speculative = false;
  bool resolving = false;
  bool orphaned = false;
  DeflateStatus resolve_status = DeflateStatus::ok;
  uint32_t stored_crc = 0, stored_isize = 0;  // member_end: the trailer
  uint64_t member_no = 0, comp_byte = 0;
  std::exception_ptr error;
};

namespace {

// The last <= 32 KiB of `window` followed by `bytes`.
void slide_window(std::vector<uint8_t>& window, std::span<const uint8_t> bytes) {
  if (bytes.size() >= deflate_window_size) {
    window.assign(bytes.end() - deflate_window_size, bytes.end());
    return;
  }
  window.insert(window.end(), bytes.begin(), bytes.end());
  if (window.size() > deflate_window_size)
    window.erase(window.begin(), window.end() - deflate_window_size);
}

}  // namespace

ParallelGzipReader::ParallelGzipReader(const std::string& path, std::string file, unsigned threads,
                                       std::size_t chunk_bytes)
    : mapped_(path), comp_(mapped_.bytes()), file_(std::move(file)),
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1 << 10)),
      ahead_(std::max(2u, threads) + 2),
      max_ready_(std::max(2u, threads) + 2) {
  // Speculative threads only take chunks after the first: a file of one chunk is the front's
  // alone (an idle thread per small file cost fuzz_gzip_stream about a third of its time).
  const uint64_t later_chunks = comp_.empty() ? 0 : (comp_.size() - 1) / chunk_bytes_;
  const auto speculative = static_cast<unsigned>(std::min<uint64_t>(std::max(2u, threads) - 1, later_chunks));
  threads_.emplace_back([this] { front_loop(); });
  for (unsigned i = 0; i < speculative; ++i) threads_.emplace_back([this] { speculate_loop(); });
}

ParallelGzipReader::~ParallelGzipReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [g, slot] : slots_) slot->cancel.store(true, std::memory_order_relaxed);  // no chunk to finish
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::string ParallelGzipReader::describe() const {
  const ParallelGzipCounters c = counters();
  double ratio;
  {
    std::lock_guard lock(mutex_);
    ratio = speed_ratio();
  }
  char speeds[64];
  std::snprintf(speeds, sizeof speeds, " (speculative decoding %.2fx slower)", ratio);
  return "front decoded " + std::to_string(c.front_chunks) + " chunks with ISA-L, adopted " +
         std::to_string(c.adopted_chunks) + " speculative chunks, wasted " +
         std::to_string(c.wasted_chunks) + " (" + std::to_string(c.cancelled_chunks) + " cancelled unfinished)" + speeds;
}

// Seconds per compressed bit of speculative decoding over ISA-L's, from what was measured so
// far (2 before both have run: the marker decoder's usual cost on FASTQ).
double ParallelGzipReader::speed_ratio() const {
  if (front_time_.bits < (1u << 23) || speculative_time_.bits < (1u << 23)) return 2.0;
  return speculative_time_.per_bit() / front_time_.per_bit();
}

ParallelGzipCounters ParallelGzipReader::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void ParallelGzipReader::fail(const std::string& reason, uint64_t comp_byte) const {
  ErrorPosition at;
  at.file = file_;
  at.comp_byte = static_cast<int64_t>(comp_byte);
  at.decoded_byte = static_cast<int64_t>(produced_bytes_);
  throw Error(ErrorKind::data, reason, at);
}

std::unique_ptr<DeflateChunk> ParallelGzipReader::take_chunk() {
  std::lock_guard lock(mutex_);
  if (pool_.empty()) return std::make_unique<DeflateChunk>();
  auto chunk = std::move(pool_.back());
  pool_.pop_back();
  return chunk;
}

// Blocks while max_ready_ items wait for the consumer. Throws nothing; a stop just drops it.
void ParallelGzipReader::push(std::unique_ptr<OutputItem> item) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || ready_.size() < max_ready_; });
  if (stopping_) return;
  ready_.push_back(std::move(item));
  changed_.notify_all();
}

// Speculative threads: claim the next guess ahead of the front, find a block start after it,
// decode with an unknown window to the first boundary at or after the next guess.
void ParallelGzipReader::speculate_loop() {
#if defined(__linux__)
  (void)pthread_setname_np(pthread_self(), "fqpipe-spec");  // for top -H, perf, gdb
  // Speculative decoding is optional work: it should only use a core that nothing else wants,
  // since the front is the critical path and the parser and consumers are not optional either.
  // SCHED_IDLE does that (and the kernel places a waking thread on a core running only
  // SCHED_IDLE threads as on an idle one). bench/compare.sh, reads_1.fastq.gz, `stats -t 2`,
  // the nice +5 build as FQPIPE_BEFORE: 0.619 -> 0.579 s over 11 rounds (igzip -dc 0.795 s),
  // though a 7-round run minutes earlier read 0.657 -> 0.679 s: on two cores the gain is
  // about the VM's drift. Beside busy processes the front simply decodes more itself.
  // An unprivileged thread cannot leave SCHED_IDLE again (RLIMIT_NICE), and under load it may
  // not run for a long time: so nothing waits on a speculative thread without a bound (see
  // slot_start, adopt and next). Where SCHED_IDLE is refused, nice +5 as before.
  sched_param idle{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle) != 0) {
    const auto tid = static_cast<id_t>(gettid());
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(nice + 5, 19));
  }
#endif
  DeflateDecoder decoder;
  const uint64_t comp_bits = comp_.size() * 8;
  for (;;) {
    uint64_t g;
    Slot* slot;
    {
      std::unique_lock lock(mutex_);
      auto free_guess = [&]() -> uint64_t {
        // The nearest free chunk this thread can decode (and resolve) before the front gets
        // there, at the measured speeds: on its way the front spends about half a chunk's
        // time on the chunk it is in, a chunk's time on each it decodes itself, and next to
        // nothing on those it adopts. Taking the very next chunk made the front wait on each
        // speculative chunk in turn (measured: ISA-L idle, 1.15 cores busy of 2); a fixed
        // interleave balanced badly. If none is far enough, the farthest free one.
        const double ratio = speed_ratio();
        const uint64_t current = front_g_ + 1;
        double front_time = 0.5;  // in chunks of front decoding
        uint64_t farthest = 0;
        for (uint64_t k = current + 1; k <= front_g_ + 1 + ahead_ && guess_bit(k) < comp_bits; ++k) {
          if (k - 1 > current) {
            const auto before = slots_.find(k - 1);
            if (before == slots_.end() || before->second->state == Slot::State::front_owns) front_time += 1;
          }
          if (slots_.count(k)) continue;
          if (front_time >= ratio) return k;
          farthest = k;
        }
        return farthest;
      };
      // Adopted chunks waiting for marker replacement come first: the consumer needs them
      // next, and doing it here keeps that work off the consumer's thread.
      auto pending = [&]() -> OutputItem* {
        for (const auto& item : ready_)
          if (item->speculative && !item->resolving) return item.get();
        return nullptr;
      };
      changed_.wait(lock, [&] { return stopping_ || pending() || free_guess() != 0; });
      if (stopping_) return;
      if (OutputItem* item = pending()) {
        item->resolving = true;
        lock.unlock();
        DeflateStatus status;
        std::unique_ptr<ByteChunk> bytes = resolve(*item, status);
        lock.lock();
        item->resolving = false;
        if (item->orphaned) {
          // The consumer replaced the markers itself and moved on: the item is this thread's.
          byte_pool_.push_back(std::move(bytes));
          recycle(*item);
          delete item;
        } else {
          install(*item, bytes, status);
        }
        changed_.notify_all();
        continue;
      }
      g = free_guess();
      auto fresh = std::make_unique<Slot>();
      slot = fresh.get();  // stays put while working: only its own thread erases it then
      slot->began = std::chrono::steady_clock::now();
      slots_[g] = std::move(fresh);
    }
    std::unique_ptr<DeflateChunk> chunk = take_chunk();
    const auto t0 = std::chrono::steady_clock::now();
    bool decoded = false;
    BlockFinder finder(comp_);
    const uint64_t until = std::min(guess_bit(g + 1), comp_bits);
    DecodeLimits limits;
    limits.stop_bit = guess_bit(g + 1);
    limits.max_output = 8 * static_cast<uint64_t>(chunk_bytes_) + (1u << 20);
    limits.cancel = &slot->cancel;
    for (uint64_t from = guess_bit(g); from < until && !decoded && !slot->cancel.load(std::memory_order_relaxed);) {
      const std::optional<BlockCandidate> start = finder.find(from, until);
      if (!start) break;
      {
        // Published before decoding, so the front can already run ISA-L up to it.
        std::lock_guard lock(mutex_);
        slot->start = start->comp_bit;
        changed_.notify_all();
      }
      decoded = decoder.decode_unknown_window(comp_, start->comp_bit, limits, *chunk) == DeflateStatus::ok;
      from = start->comp_bit + 1;
    }
    std::lock_guard lock(mutex_);
    if (decoded) {
      speculative_time_.add(std::chrono::steady_clock::now() - t0, chunk->end_bit - chunk->start_bit);
    }
    if (slot->state == Slot::State::abandoned || !decoded) {
      if (slot->state == Slot::State::abandoned) slots_.erase(g);
      else slot->state = Slot::State::done;
      pool_.push_back(std::move(chunk));
      ++counters_.wasted_chunks;
    } else {
      slot->chunk = std::move(chunk);
      slot->state = Slot::State::done;
    }
    changed_.notify_all();
  }
}

// Marks the front at guess index g: slots behind it are useless now and are dropped.
void ParallelGzipReader::advance_front(uint64_t g) {
  std::lock_guard lock(mutex_);
  front_g_ = g;
  for (auto it = slots_.begin(); it != slots_.end() && it->first <= g;) {
    Slot& slot = *it->second;
    if (slot.state == Slot::State::working) {
      slot.abandon();
      ++it;
      continue;
    }
    if (slot.state == Slot::State::abandoned) {
      ++it;
      continue;
    }
    if (slot.chunk) {
      pool_.push_back(std::move(slot.chunk));
      ++counters_.wasted_chunks;
    }
    it = slots_.erase(it);
  }
  changed_.notify_all();
}

// The start bit of speculative slot g; nullopt if the front owns g (no speculative thread took
// it), no start was found, or its block finder has not finished: the front then decodes the
// region itself rather than wait for a thread that may not get a core (speculative threads run
// SCHED_IDLE). Speculative threads take chunks well ahead, so that last case is rare.
std::optional<uint64_t> ParallelGzipReader::slot_start(uint64_t g) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(g);
  if (it == slots_.end()) {
    auto slot = std::make_unique<Slot>();
    slot->state = Slot::State::front_owns;
    slots_[g] = std::move(slot);
    return std::nullopt;
  }
  Slot* slot = it->second.get();
  if (slot->state == Slot::State::front_owns) return std::nullopt;
  if (slot->state == Slot::State::working && !slot->start) {
    slot->abandon();
    ++counters_.cancelled_chunks;
  }
  return slot->start;
}

// Seconds ISA-L would take on `bits` of compressed input here, at the speed measured so far
// (before any measurement, 400 MB/s of compressed input: ISA-L on FASTQ). Call with mutex_ held.
double ParallelGzipReader::front_seconds(double bits) const {
  return bits * (front_time_.bits != 0 ? front_time_.per_bit() : 1.0 / (8 * 400e6));
}

// Takes the decoded speculative chunk g if it starts at pos_bit, waiting while it is decoded
// if that ends sooner than ISA-L would take to decode it here (at the speeds measured so far),
// and never longer than that: a speculative thread may get no core at all for a while (it runs
// SCHED_IDLE, behind the parser and the consumers, and behind other processes). Otherwise the
// chunk is cancelled and false returned: the front decodes the region itself.
bool ParallelGzipReader::adopt(uint64_t g, uint64_t pos_bit, std::unique_ptr<DeflateChunk>& out) {
  std::unique_lock lock(mutex_);
  auto it = slots_.find(g);
  if (it == slots_.end() || it->second->state == Slot::State::abandoned) return false;
  Slot* slot = it->second.get();
  if (slot->state == Slot::State::working) {
    const double bits = static_cast<double>(guess_bit(g + 1) - std::min(guess_bit(g + 1), pos_bit));
    const double own = front_seconds(bits);
    bool hopeless = false;
    if (speculative_time_.bits >= (1u << 23) && front_time_.bits >= (1u << 23)) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - slot->began).count();
      hopeless = bits * speculative_time_.per_bit() - elapsed > own;
    }
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(own));
    if (hopeless || !changed_.wait_until(lock, deadline, [&] { return stopping_ || slot->state == Slot::State::done; })) {
      slot->abandon();
      ++counters_.cancelled_chunks;
      return false;
    }
  }
  if (stopping_) return false;
  const bool match = slot->chunk && slot->chunk->start_bit == pos_bit;
  if (match) {
    out = std::move(slot->chunk);
    ++counters_.adopted_chunks;
  } else if (slot->chunk) {
    pool_.push_back(std::move(slot->chunk));
    ++counters_.wasted_chunks;
  }
  slot->state = Slot::State::front_owns;  // erased once the front moves past g
  return match;
}

std::unique_ptr<ByteChunk> ParallelGzipReader::take_bytes() {
  std::lock_guard lock(mutex_);
  if (byte_pool_.empty()) return std::make_unique<ByteChunk>();
  auto chunk = std::move(byte_pool_.back());
  byte_pool_.pop_back();
  chunk->size = 0;
  return chunk;
}

// Hands the front's decoded bytes to the consumer and slides the window over them.
void ParallelGzipReader::push_front_bytes(uint64_t member_no, std::unique_ptr<ByteChunk>& bytes,
                                          std::vector<uint8_t>& window) {
  if (bytes->size == 0) return;
  slide_window(window, bytes->bytes());
  produced_bytes_ += bytes->size;
  auto item = std::make_unique<OutputItem>();
  item->member_no = member_no;
  item->bytes = std::move(bytes);
  push(std::move(item));
  bytes = take_bytes();
  std::lock_guard lock(mutex_);
  ++counters_.front_chunks;
}

void ParallelGzipReader::note_front_byte(uint64_t front_byte) {
  front_byte_.store(front_byte, std::memory_order_relaxed);
  // Compressed bytes behind the front are never read again: keep RSS independent of file size.
  if (front_byte > released_ + (std::size_t{16} << 20)) {
    released_ = front_byte - (std::size_t{1} << 20);
    mapped_.release_before(released_);
  }
}

// Decodes one member's deflate stream from pos_bit to just past its final block. ISA-L streams
// through the regions no speculative thread took; at a speculative chunk's start it is fed
// exactly up to that bit, and if it rests on a block boundary there the chunk is adopted.
void ParallelGzipReader::decode_member_chunks(uint64_t member_no, uint64_t& pos_bit) {
  IsalInflater isal;
  std::vector<uint8_t> window, next;
  auto bytes = take_bytes();
  isal.start(comp_, pos_bit, window);
  uint64_t approx_bit = pos_bit;  // exact only right after start()
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // Slot j's start lies in [guess j, guess j + 1): the first slot still ahead of the front is
    // the one of the region the front is in, unless its start is already behind.
    uint64_t target_g = approx_bit / guess_bit(1);
    advance_front(target_g == 0 ? 0 : target_g - 1);
    std::optional<uint64_t> start = slot_start(target_g);
    if (start && *start < approx_bit) start = slot_start(++target_g);
    // Decode up to the speculative start, or through region target_g when no thread took it.
    const bool aim = start && *start >= approx_bit;
    const uint64_t end_byte = aim ? (*start + 7) / 8 : guess_bit(target_g + 1) / 8;
    // The output is handed on every 2 chunks' worth, so a gzip bomb (a region that expands a
    // thousandfold) never sits in memory whole.
    // ISA-L's speed for the chunk choice: decoding time only, not the waits in push().
    auto t0 = std::chrono::steady_clock::now();
    uint64_t from_bit = approx_bit;
    const auto time_front = [&] {
      const uint64_t at_bit = isal.consumed_bits();
      std::lock_guard lock(mutex_);
      front_time_.add(std::chrono::steady_clock::now() - t0, at_bit - std::min(at_bit, from_bit));
      from_bit = at_bit;
    };
    DeflateStatus s;
    while ((s = isal.feed_until(end_byte, *bytes, chunk_bytes_ * 2)) == DeflateStatus::ok &&
           bytes->size >= chunk_bytes_ * 2 && !isal.finished()) {
      time_front();
      push_front_bytes(member_no, bytes, window);
      t0 = std::chrono::steady_clock::now();
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    time_front();
    if (s == DeflateStatus::truncated_input)
      fail("truncated gzip member (compressed data ends before the final deflate block)", comp_.size());
    if (s != DeflateStatus::ok) fail("invalid deflate data: " + std::string(to_string(s)), end_byte);
    note_front_byte(std::min<uint64_t>(end_byte, comp_.size()));
    if (isal.finished()) {
      push_front_bytes(member_no, bytes, window);
      pos_bit = *isal.boundary_bit();
      return;
    }
    // Past the speculative start now, whatever happens: never aim at the same start twice.
    approx_bit = aim ? std::max(end_byte * 8, *start + 1) : end_byte * 8;
    std::unique_ptr<DeflateChunk> chunk;
    if (aim && isal.boundary_bit() == start && adopt(target_g, *start, chunk)) {
      push_front_bytes(member_no, bytes, window);
      auto item = std::make_unique<OutputItem>();
      item->member_no = member_no;
      item->speculative = true;
      item->window = window;
      const DeflateStatus ws = next_window(*chunk, window, next);
      if (ws != DeflateStatus::ok) fail("invalid deflate data: " + std::string(to_string(ws)), *start / 8);
      window.swap(next);
      const bool last = chunk->final_block_seen;
      pos_bit = chunk->end_bit;
      produced_bytes_ += chunk->decoded_size();
      item->chunk = std::move(chunk);
      push(std::move(item));
      note_front_byte(std::min<uint64_t>(pos_bit / 8, comp_.size()));
      if (last) return;
      isal.start(comp_, pos_bit, window);
      approx_bit = pos_bit;
      continue;
    }
    // No adoption: ISA-L goes on from where it is (possibly mid-block).
    if (bytes->size >= chunk_bytes_ * 2) push_front_bytes(member_no, bytes, window);
  }
}

// The front: members one after another, each header and trailer read here.
void ParallelGzipReader::front_loop() {
#if defined(__linux__)
  (void)pthread_setname_np(pthread_self(), "fqpipe-front");
#endif
  try {
    uint64_t pos_byte = 0;
    for (uint64_t member_no = 1;; ++member_no) {
      const GzipHeader h = parse_gzip_header(comp_.data() + pos_byte, comp_.size() - pos_byte);
      if (h.status == HeaderStatus::invalid) {
        if (member_no > 1) fail("trailing garbage after gzip member " + std::to_string(member_no - 1), pos_byte);
        fail(h.reason, pos_byte);
      }
      if (h.status == HeaderStatus::need_more) fail("truncated gzip header", pos_byte);
      uint64_t pos_bit = (pos_byte + h.size) * 8;
      decode_member_chunks(member_no, pos_bit);
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      const uint64_t trailer = (pos_bit + 7) / 8;
      if (trailer + 8 > comp_.size())
        fail("truncated gzip trailer (stream ends inside the crc32/isize)", std::min<uint64_t>(trailer, comp_.size()));
      auto end = std::make_unique<OutputItem>();
      end->kind = OutputItem::Kind::member_end;
      end->stored_crc = load_le32(comp_.data() + trailer);
      end->stored_isize = load_le32(comp_.data() + trailer + 4);
      end->member_no = member_no;
      end->comp_byte = trailer;
      const std::string size_error = check_bgzf_block_size(h, member_no, trailer + 8 - pos_byte);
      if (!size_error.empty()) fail(size_error, pos_byte);
      push(std::move(end));
      pos_byte = trailer + 8;
      // After a member: another member, the end, or zero padding up to the end (as gzip).
      const auto rest = comp_.subspan(pos_byte);
      if (std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0; })) break;
      if (!has_gzip_magic(rest.data(), rest.size()))
        fail("trailing garbage after gzip member " + std::to_string(member_no),
             pos_byte + static_cast<uint64_t>(std::find_if(rest.begin(), rest.end(),
                                                           [](uint8_t b) { return b != 0; }) - rest.begin()));
    }
    auto end = std::make_unique<OutputItem>();
    end->kind = OutputItem::Kind::end;
    push(std::move(end));
  } catch (...) {
    auto item = std::make_unique<OutputItem>();
    item->kind = OutputItem::Kind::error;
    item->error = std::current_exception();
    push(std::move(item));
  }
}

// An adopted chunk's output with its markers replaced, in a new byte buffer. Reads only the
// item's chunk and window, which stay unchanged once it is queued: a speculative thread and the
// consumer may both run it on the same item (see next()).
std::unique_ptr<ByteChunk> ParallelGzipReader::resolve(const OutputItem& item, DeflateStatus& status) {
  const auto t0 = std::chrono::steady_clock::now();
  auto bytes = take_bytes();
  const DeflateChunk& chunk = *item.chunk;
  const auto symbols = chunk.symbols();
  bytes->data.grow(chunk.decoded_size() + 1);
  status = replace_markers(symbols, item.window, {bytes->data.data(), symbols.size()});
  if (!chunk.bytes().empty())
    std::memcpy(bytes->data.data() + symbols.size(), chunk.bytes().data(), chunk.bytes().size());
  bytes->size = chunk.decoded_size();
  std::lock_guard lock(mutex_);
  speculative_time_.add(std::chrono::steady_clock::now() - t0, 0);  // part of a speculative chunk's cost
  return bytes;
}

// Returns an item's buffers to the pools. Call with mutex_ held.
void ParallelGzipReader::recycle(OutputItem& item) {
  if (item.chunk) pool_.push_back(std::move(item.chunk));
  if (item.bytes) byte_pool_.push_back(std::move(item.bytes));
}

// Gives the item the bytes of the first resolve() to finish; a later one's go back to the pool.
// Call with mutex_ held.
void ParallelGzipReader::install(OutputItem& item, std::unique_ptr<ByteChunk>& bytes, DeflateStatus status) {
  if (!item.speculative) {
    byte_pool_.push_back(std::move(bytes));
    return;
  }
  item.bytes = std::move(bytes);
  item.resolve_status = status;
  item.speculative = false;
}

const io::TextBuffer* ParallelGzipReader::next() {
  // After the end or an error nothing more comes from the front: say so again, don't wait.
  if (error_) std::rethrow_exception(error_);
  if (finished_) return nullptr;
  // Stops with `e`, or with the io error when the file shrank under the mapping: the decoders
  // then read zeros past its new end, and the damage they find is not in the data.
  const auto stop = [this](std::exception_ptr e) -> const io::TextBuffer* {
    try {
      mapped_.check_intact();
    } catch (const Error&) {
      e = std::current_exception();
    }
    error_ = e;
    std::rethrow_exception(error_);
  };
  for (;;) {
    bool resolve_here = false;
    {
      std::unique_lock lock(mutex_);
      if (current_) {
        if (current_->resolving) {
          current_->orphaned = true;  // its speculative thread still reads it, and will delete it
          (void)current_.release();
        } else {
          recycle(*current_);
          current_.reset();
        }
      }
      changed_.wait(lock, [&] { return !ready_.empty(); });
      current_ = std::move(ready_.front());
      ready_.pop_front();
      changed_.notify_all();
      OutputItem& head = *current_;
      if (head.speculative && head.resolving) {
        // A speculative thread is replacing the markers: wait about as long as that takes (1 ns
        // a byte is 4x the measured speed), then do it here rather than wait for a thread that
        // may get no core.
        const auto expected = std::chrono::nanoseconds(head.chunk->decoded_size());
        changed_.wait_for(lock, expected, [&] { return !head.speculative; });
      }
      resolve_here = head.speculative;
    }
    if (resolve_here) {
      DeflateStatus status;
      std::unique_ptr<ByteChunk> bytes = resolve(*current_, status);
      std::lock_guard lock(mutex_);
      install(*current_, bytes, status);
    }
    OutputItem& item = *current_;
    // Everything in the item was decoded by now, so a vanished page it was read from shows.
    try {
      mapped_.check_intact();
    } catch (const Error&) {
      error_ = std::current_exception();
      throw;
    }
    switch (item.kind) {
      case OutputItem::Kind::end:
        finished_ = true;
        return nullptr;
      case OutputItem::Kind::error:
        return stop(item.error);
      case OutputItem::Kind::member_end: {
        const TrailerCheck check = check_gzip_trailer(comp_.data() + item.comp_byte, item.member_no,
                                                      member_crc_, member_bytes_);
        if (!check.ok()) {
          ErrorPosition at;
          at.file = file_;
          at.comp_byte = static_cast<int64_t>(item.comp_byte + check.offset_in_trailer);
          at.decoded_byte = static_cast<int64_t>(decoded_offset_);
          return stop(std::make_exception_ptr(Error(ErrorKind::data, check.reason, at)));
        }
        member_crc_ = 0;
        member_bytes_ = 0;
        continue;
      }
      case OutputItem::Kind::data: break;
    }
    if (item.resolve_status != DeflateStatus::ok) {
      ErrorPosition at;
      at.file = file_;
      at.comp_byte = static_cast<int64_t>(item.chunk->start_bit / 8);
      at.decoded_byte = static_cast<int64_t>(decoded_offset_);
      return stop(std::make_exception_ptr(
          Error(ErrorKind::data, "invalid deflate data: " + std::string(to_string(item.resolve_status)), at)));
    }
    const uint8_t* data = item.bytes->data.data();
    const std::size_t size = item.bytes->size;
    if (size == 0) continue;
    member_crc_ = crc32_gzip_refl(member_crc_, data, size);
    member_bytes_ += size;
    view_.data = reinterpret_cast<const char*>(data);
    view_.size = size;
    view_.decoded_offset = decoded_offset_;
    decoded_offset_ += size;
    return &view_;
  }
}

}  // namespace fqpipe::gzip
