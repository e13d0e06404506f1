// parallel_gzip_reader.cpp - the front + speculative schedule of DESIGN.md §3.
// Invariant: the front's pos_bit is always an exact block (or member) boundary of the stream;
// a speculative chunk becomes output only if it starts exactly there.
#include "gzip/parallel_gzip_reader.hpp"

#include <isa-l/crc.h>
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
  std::unique_ptr<ByteChunk> bytes;     // data decoded by the front
  std::vector<uint8_t> window;          // data from a speculative chunk: the preceding window
  bool speculative = false;             // markers to replace: `bytes` not yet filled
  bool resolving = false;               // a thread is replacing the markers (guarded by mutex_)
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

void ParallelGzipReader::give_back(std::unique_ptr<DeflateChunk> chunk) {
  if (!chunk) return;
  std::lock_guard lock(mutex_);
  pool_.push_back(std::move(chunk));
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
  // Speculative decoding is optional work: when cores are short, the front, the parser and the
  // consumers should get them first (Linux gives each thread its own nice value). Measured on
  // 2 cores, reads_1.fastq.gz, `stats -t 2`, interleaved medians: nice +5 0.712 -> 0.680 s (7
  // rounds) and 0.688 -> 0.681 s (9 rounds, nice +3..+19 all within 1 % of it); together with
  // adopt() no longer waiting on starved chunks, 0.765 -> 0.680 s.
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(nice + 5, 19));
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
        resolve(*item);
        lock.lock();
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

// The start bit of speculative slot g, waiting while its block finder runs; nullopt if the
// front owns g (no speculative thread took it) or no start was found.
std::optional<uint64_t> ParallelGzipReader::slot_start(uint64_t g) {
  std::unique_lock lock(mutex_);
  auto it = slots_.find(g);
  if (it == slots_.end()) {
    auto slot = std::make_unique<Slot>();
    slot->state = Slot::State::front_owns;
    slots_[g] = std::move(slot);
    return std::nullopt;
  }
  Slot* slot = it->second.get();
  if (slot->state == Slot::State::front_owns) return std::nullopt;
  changed_.wait(lock, [&] { return stopping_ || slot->start || slot->state == Slot::State::done; });
  return slot->start;
}

// Takes the decoded speculative chunk g if it starts at pos_bit, waiting while it is decoded
// if that ends sooner than ISA-L would take to decode it here (at the speeds measured so far).
// Otherwise the chunk is cancelled and false returned: the front decodes the region itself. A
// front that waited for a speculative thread starved of CPU (by the parser and the consumers,
// whose work is not optional) lost more than the speculative decoding saved.
bool ParallelGzipReader::adopt(uint64_t g, uint64_t pos_bit, std::unique_ptr<DeflateChunk>& out) {
  std::unique_lock lock(mutex_);
  auto it = slots_.find(g);
  if (it == slots_.end()) return false;
  Slot* slot = it->second.get();
  if (slot->state == Slot::State::working && speculative_time_.bits >= (1u << 23) &&
      front_time_.bits >= (1u << 23)) {
    const double bits = static_cast<double>(guess_bit(g + 1) - std::min(guess_bit(g + 1), pos_bit));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - slot->began).count();
    const double remaining = bits * speculative_time_.per_bit() - elapsed;
    if (remaining > bits * front_time_.per_bit()) {
      slot->abandon();
      ++counters_.cancelled_chunks;
      return false;
    }
  }
  changed_.wait(lock, [&] { return stopping_ || slot->state == Slot::State::done; });
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

// Replaces an adopted chunk's markers into a byte buffer. Called with item.resolving set by
// the caller (so no other thread touches the item); clears `speculative` when done.
void ParallelGzipReader::resolve(OutputItem& item) {
  const auto t0 = std::chrono::steady_clock::now();
  auto bytes = take_bytes();
  const DeflateChunk& chunk = *item.chunk;
  const auto symbols = chunk.symbols();
  bytes->data.grow(chunk.decoded_size() + 1);
  item.resolve_status = replace_markers(symbols, item.window, {bytes->data.data(), symbols.size()});
  if (!chunk.bytes().empty())
    std::memcpy(bytes->data.data() + symbols.size(), chunk.bytes().data(), chunk.bytes().size());
  bytes->size = chunk.decoded_size();
  std::lock_guard lock(mutex_);
  speculative_time_.add(std::chrono::steady_clock::now() - t0, 0);  // part of a speculative chunk's cost
  item.bytes = std::move(bytes);
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
    if (current_) {
      give_back(std::move(current_->chunk));
      if (current_->bytes) {
        std::lock_guard lock(mutex_);
        byte_pool_.push_back(std::move(current_->bytes));
      }
      current_.reset();
    }
    bool resolve_here = false;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !ready_.empty(); });
      current_ = std::move(ready_.front());
      ready_.pop_front();
      changed_.notify_all();
      OutputItem& head = *current_;
      if (head.speculative && !head.resolving) {
        head.resolving = true;  // nobody took it yet: replace the markers here
        resolve_here = true;
      } else {
        changed_.wait(lock, [&] { return !head.speculative; });
      }
    }
    if (resolve_here) resolve(*current_);
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
