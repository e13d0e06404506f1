// parallel_gzip_reader.hpp - ParallelGzipReader: one gzip file decoded on several threads without
// an index. A front thread decodes with the known window; the others decode ahead speculatively.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gzip/deflate_decoder.hpp"
#include "gzip/isal_inflater.hpp"
#include "io/mapped_file.hpp"
#include "io/text_source.hpp"

namespace fqpipe::gzip {

/// Counts of what the scheduler did, for -v and the benchmarks.
struct ParallelGzipCounters {
  uint64_t front_chunks = 0;    ///< chunks the front decoded itself (known window)
  uint64_t adopted_chunks = 0;  ///< speculative chunks whose start matched the front's end bit
  uint64_t wasted_chunks = 0;   ///< speculative chunks thrown away (false start, or overtaken)
  uint64_t cancelled_chunks = 0;  ///< of those, stopped unfinished: the front was faster itself
};

/// The scheme of DESIGN.md §3. The compressed file is cut into guesses every `chunk_bytes`; a
/// speculative thread finds the first block start after guess g (BlockFinder) and decodes to the
/// first block boundary at or after guess g+1 with markers for the unknown window. The front
/// thread owns the exact position: when its end bit equals the start of the speculative chunk
/// ahead, it adopts that chunk (computing only the next 32 KiB window) instead of decoding it;
/// otherwise it decodes the range itself. Markers of adopted chunks are replaced by an idle
/// speculative thread, or by the thread calling next() if none got to it first; CRC32/ISIZE
/// checks run in the thread that calls next(). Every member's trailer is verified.
/// Memory is bounded: at most `threads + 2` speculative chunks and `threads + 2` decoded chunks
/// waiting for next(), each about 4x chunk_bytes of output.
class ParallelGzipReader final : public io::TextSource {
 public:
  /// `path` must be a regular gzip file; `file` names it in errors; `threads` >= 2 decoding
  /// threads (one front, the rest speculative); `chunk_bytes` of compressed input per chunk.
  ParallelGzipReader(const std::string& path, std::string file, unsigned threads,
                     std::size_t chunk_bytes = std::size_t{1} << 20);
  ~ParallelGzipReader() override;

  const io::TextBuffer* next() override;
  uint64_t input_bytes_read() const noexcept override { return front_byte_.load(std::memory_order_relaxed); }
  ParallelGzipCounters counters() const;
  std::string describe() const override;

 private:
  struct Slot;        // one speculative chunk
  struct OutputItem;  // one decoded chunk or a member trailer, in file order

  void front_loop();
  void speculate_loop();
  void decode_member_chunks(uint64_t member_no, uint64_t& pos_bit);
  void advance_front(uint64_t g);
  std::optional<uint64_t> slot_start(uint64_t g);
  bool adopt(uint64_t g, uint64_t pos_bit, std::unique_ptr<DeflateChunk>& out);
  std::unique_ptr<ByteChunk> take_bytes();
  void push_front_bytes(uint64_t member_no, std::unique_ptr<ByteChunk>& bytes, std::vector<uint8_t>& window);
  void note_front_byte(uint64_t front_byte);
  std::unique_ptr<ByteChunk> resolve(const OutputItem& item, DeflateStatus& status);
  void install(OutputItem& item, std::unique_ptr<ByteChunk>& bytes, DeflateStatus status);
  void recycle(OutputItem& item);
  double front_seconds(double bits) const;
  void push(std::unique_ptr<OutputItem> item);
  std::unique_ptr<DeflateChunk> take_chunk();
  uint64_t guess_bit(uint64_t g) const noexcept { return g * chunk_bytes_ * 8; }
  [[noreturn]] void fail(const std::string& reason, uint64_t comp_byte) const;

  io::MappedFile mapped_;
  std::span<const uint8_t> comp_;
  std::string file_;
  std::size_t chunk_bytes_;
  unsigned ahead_;  // speculative chunks allowed beyond the front's
  // Decoding speeds, measured as it runs: which chunk a speculative thread should take.
  struct DecodeTime {
    double seconds = 0;
    uint64_t bits = 0;
    void add(std::chrono::steady_clock::duration d, uint64_t n) {
      seconds += std::chrono::duration<double>(d).count();
      bits += n;
    }
    double per_bit() const { return seconds / static_cast<double>(bits); }
  };
  DecodeTime front_time_, speculative_time_;  // guarded by mutex_
  double speed_ratio() const;  // call with mutex_ held

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, std::unique_ptr<Slot>> slots_;  // guess index -> speculative chunk
  uint64_t front_g_ = 0;                             // guess index the front is working on
  std::vector<std::unique_ptr<DeflateChunk>> pool_;
  std::vector<std::unique_ptr<ByteChunk>> byte_pool_;
  std::deque<std::unique_ptr<OutputItem>> ready_;
  std::size_t max_ready_;
  bool stopping_ = false;
  ParallelGzipCounters counters_;
  std::atomic<uint64_t> front_byte_{0};
  uint64_t produced_bytes_ = 0;  // decoded bytes the front has pushed (front thread only)
  uint64_t released_ = 0;        // compressed bytes before this are unmapped (front thread only)

  // Consumer side (the thread calling next()).
  std::unique_ptr<OutputItem> current_;
  io::TextBuffer view_;
  uint64_t decoded_offset_ = 0;
  uint32_t member_crc_ = 0;
  bool finished_ = false;          // next() returned nullptr
  std::exception_ptr error_;       // next() threw this; it throws it again
  uint64_t member_bytes_ = 0;

  std::vector<std::thread> threads_;
};

}  // namespace fqpipe::gzip
