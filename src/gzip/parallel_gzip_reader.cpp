// parallel_gzip_reader.cpp - the front + speculative schedule of DESIGN.md §3.
// Invariant: the front's pos_bit is always an exact block (or member) boundary of the stream;
// a speculative chunk becomes output only if it starts exactly there.
#include "gzip/parallel_gzip_reader.hpp"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fqpipe/error.hpp"
#include "gzip/block_finder.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/marker_window.hpp"

namespace fqpipe::gzip {

struct ParallelGzipReader::Slot {
  enum class State { working, done, front_owns, abandoned };
  State state = State::working;
  std::unique_ptr<DeflateChunk> chunk;  // set once done and a start was found and decoded
};

struct ParallelGzipReader::OutputItem {
  enum class Kind { data, member_end, end, error };
  Kind kind = Kind::data;
  std::unique_ptr<DeflateChunk> chunk;  // data: the output (markers resolved against `window`)
  std::vector<uint8_t> window;          // data from a speculative chunk: the preceding window
  bool speculative = false;
  uint32_t stored_crc = 0, stored_isize = 0;  // member_end: the trailer
  uint64_t member_no = 0, comp_byte = 0;
  std::exception_ptr error;
};

namespace {

uint32_t le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

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
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 32 << 10)),
      ahead_(std::max(2u, threads) + 1), max_ready_(std::max(2u, threads) + 2) {
  threads_.emplace_back([this] { front_loop(); });
  for (unsigned i = 1; i < std::max(2u, threads); ++i) threads_.emplace_back([this] { speculate_loop(); });
}

ParallelGzipReader::~ParallelGzipReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
  if (std::getenv("FQPIPE_DEBUG"))
    std::fprintf(stderr, "parallel gzip: front %llu, adopted %llu, wasted %llu chunks\n",
                 static_cast<unsigned long long>(counters_.front_chunks),
                 static_cast<unsigned long long>(counters_.adopted_chunks),
                 static_cast<unsigned long long>(counters_.wasted_chunks));
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
  DeflateDecoder decoder;
  const uint64_t comp_bits = comp_.size() * 8;
  for (;;) {
    uint64_t g;
    {
      std::unique_lock lock(mutex_);
      auto free_guess = [&]() -> uint64_t {
        // Never the chunk right after the front's: the front decodes that one itself while
        // the speculative threads work further ahead, so neither waits for the other.
        for (uint64_t k = front_g_ + 2; k <= front_g_ + 1 + ahead_ && guess_bit(k) < comp_bits; ++k)
          if (!slots_.count(k)) return k;
        return 0;
      };
      changed_.wait(lock, [&] { return stopping_ || free_guess() != 0; });
      if (stopping_) return;
      g = free_guess();
      slots_[g] = std::make_unique<Slot>();
    }
    std::unique_ptr<DeflateChunk> chunk = take_chunk();
    bool decoded = false;
    BlockFinder finder(comp_);
    const uint64_t until = std::min(guess_bit(g + 1), comp_bits);
    DecodeLimits limits;
    limits.stop_bit = guess_bit(g + 1);
    limits.max_output = 8 * static_cast<uint64_t>(chunk_bytes_) + (1u << 20);
    for (uint64_t from = guess_bit(g); from < until && !decoded;) {
      const std::optional<BlockCandidate> start = finder.find(from, until);
      if (!start) break;
      decoded = decoder.decode_unknown_window(comp_, start->comp_bit, limits, *chunk) == DeflateStatus::ok;
      from = start->comp_bit + 1;
    }
    std::lock_guard lock(mutex_);
    Slot& slot = *slots_[g];
    if (slot.state == Slot::State::abandoned || !decoded) {
      if (slot.state == Slot::State::abandoned) slots_.erase(g);
      else slot.state = Slot::State::done;
      pool_.push_back(std::move(chunk));
      ++counters_.wasted_chunks;
    } else {
      slot.chunk = std::move(chunk);
      slot.state = Slot::State::done;
    }
    changed_.notify_all();
  }
}

// Takes speculative chunk g if it starts exactly at pos_bit (waiting while it is decoded).
// Otherwise marks guess g as the front's, so no thread starts it, and returns false.
bool ParallelGzipReader::adopt(uint64_t g, uint64_t pos_bit, std::unique_ptr<DeflateChunk>& out) {
  std::unique_lock lock(mutex_);
  front_g_ = g;
  // Chunks behind the front are useless now.
  for (auto it = slots_.begin(); it != slots_.end() && it->first < g;) {
    if (it->second->state == Slot::State::working) {
      it->second->state = Slot::State::abandoned;
      ++it;
      continue;
    }
    if (it->second->state == Slot::State::abandoned) { ++it; continue; }
    if (it->second->chunk) {
      pool_.push_back(std::move(it->second->chunk));
      ++counters_.wasted_chunks;
    }
    it = slots_.erase(it);
  }
  changed_.notify_all();
  auto it = slots_.find(g);
  if (it == slots_.end()) {
    slots_[g] = std::make_unique<Slot>();
    slots_[g]->state = Slot::State::front_owns;
    return false;
  }
  Slot* slot = it->second.get();
  if (slot->state == Slot::State::front_owns) return false;
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

// Decodes one member's deflate stream from pos_bit to just past its final block.
void ParallelGzipReader::decode_member_chunks(uint64_t member_no, uint64_t& pos_bit) {
  DeflateDecoder decoder;
  std::vector<uint8_t> window, next;
  const uint64_t comp_bits = comp_.size() * 8;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // The guess whose speculative chunk could start exactly here: the one at or before pos_bit
    // (a chunk starts at the first block boundary at or after its guess).
    const uint64_t g = pos_bit / guess_bit(1);
    auto item = std::make_unique<OutputItem>();
    item->member_no = member_no;
    if (pos_bit > 0 && adopt(g, pos_bit, item->chunk)) {
      item->speculative = true;
      item->window = window;
      const DeflateStatus s = next_window(*item->chunk, window, next);
      if (s != DeflateStatus::ok) fail(std::string(to_string(s)), pos_bit / 8);
      window.swap(next);
    } else {
      item->chunk = take_chunk();
      DecodeLimits limits;
      limits.stop_bit = guess_bit(g + 1);
      const DeflateStatus s = decoder.decode_known_window(comp_, pos_bit, window, limits, *item->chunk);
      if (s == DeflateStatus::truncated_input)
        fail("truncated gzip member (compressed data ends before the final deflate block)", comp_.size());
      if (s != DeflateStatus::ok) fail("invalid deflate data: " + std::string(to_string(s)), pos_bit / 8);
      slide_window(window, item->chunk->bytes());
      std::lock_guard lock(mutex_);
      ++counters_.front_chunks;
    }
    const bool last = item->chunk->final_block_seen;
    pos_bit = item->chunk->end_bit;
    produced_bytes_ += item->chunk->decoded_size();
    const uint64_t front_byte = std::min<uint64_t>(pos_bit / 8, comp_.size());
    front_byte_.store(front_byte, std::memory_order_relaxed);
    // Compressed bytes behind the front are never read again: keep RSS independent of file size.
    if (front_byte > released_ + (std::size_t{16} << 20)) {
      released_ = front_byte - (std::size_t{1} << 20);
      mapped_.release_before(released_);
    }
    push(std::move(item));
    if (last) return;
    if (pos_bit >= comp_bits)
      fail("truncated gzip member (compressed data ends before the final deflate block)", comp_.size());
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
      end->stored_crc = le32(comp_.data() + trailer);
      end->stored_isize = le32(comp_.data() + trailer + 4);
      end->member_no = member_no;
      end->comp_byte = trailer;
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

const io::TextBuffer* ParallelGzipReader::next() {
  for (;;) {
    if (current_) {
      give_back(std::move(current_->chunk));
      current_.reset();
    }
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !ready_.empty(); });
      current_ = std::move(ready_.front());
      ready_.pop_front();
      changed_.notify_all();
    }
    OutputItem& item = *current_;
    switch (item.kind) {
      case OutputItem::Kind::end: return nullptr;
      case OutputItem::Kind::error: std::rethrow_exception(item.error);
      case OutputItem::Kind::member_end: {
        if (item.stored_crc != member_crc_) {
          char msg[128];
          std::snprintf(msg, sizeof msg, "crc32 mismatch in gzip member %llu: stored %08x, computed %08x",
                        static_cast<unsigned long long>(item.member_no), item.stored_crc, member_crc_);
          ErrorPosition at;
          at.file = file_;
          at.comp_byte = static_cast<int64_t>(item.comp_byte);
          at.decoded_byte = static_cast<int64_t>(decoded_offset_);
          throw Error(ErrorKind::data, msg, at);
        }
        if (item.stored_isize != static_cast<uint32_t>(member_bytes_)) {
          ErrorPosition at;
          at.file = file_;
          at.comp_byte = static_cast<int64_t>(item.comp_byte + 4);
          at.decoded_byte = static_cast<int64_t>(decoded_offset_);
          throw Error(ErrorKind::data,
                      "isize mismatch in gzip member " + std::to_string(item.member_no) + ": stored " +
                          std::to_string(item.stored_isize) + ", decoded " +
                          std::to_string(static_cast<uint32_t>(member_bytes_)) + " (mod 2^32)", at);
        }
        member_crc_ = 0;
        member_bytes_ = 0;
        continue;
      }
      case OutputItem::Kind::data: break;
    }
    const DeflateChunk& chunk = *item.chunk;
    const uint8_t* data;
    if (!item.speculative) {
      data = chunk.bytes().data();
    } else {
      resolved_.resize(chunk.decoded_size());
      const auto symbols = chunk.symbols();
      const DeflateStatus s = replace_markers(symbols, item.window, {resolved_.data(), symbols.size()});
      if (s != DeflateStatus::ok) {
        ErrorPosition at;
        at.file = file_;
        at.comp_byte = static_cast<int64_t>(chunk.start_bit / 8);
        at.decoded_byte = static_cast<int64_t>(decoded_offset_);
        throw Error(ErrorKind::data, "invalid deflate data: " + std::string(to_string(s)), at);
      }
      if (!chunk.bytes().empty())
        std::memcpy(resolved_.data() + symbols.size(), chunk.bytes().data(), chunk.bytes().size());
      data = resolved_.data();
    }
    const std::size_t size = chunk.decoded_size();
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
