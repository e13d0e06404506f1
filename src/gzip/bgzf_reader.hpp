// bgzf_reader.hpp - BgzfReader: a BGZF file decoded on several threads, handed out in order.
// BGZF blocks are independent gzip members of at most 64 KiB, so every thread runs the fast
// whole-buffer path (ISA-L stateless) with no window to propagate (DESIGN.md §1, §3 last line).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gzip/bgzf_block_inflater.hpp"
#include "gzip/bgzf_scanner.hpp"
#include "io/text_source.hpp"

namespace fqpipe::gzip {

/// The decoded text of a gzip file, decoded in parallel where it is BGZF.
///
/// One serial scan cuts the file into runs of consecutive blocks of about `chunk_bytes` decoded
/// bytes; decoding threads claim runs, inflate each block straight into its place in the
/// run's output buffer (the ISIZEs of the blocks before it give it) and verify its CRC32 and ISIZE.
/// Blocks are inflated with ISA-L (or libdeflate, see BlockInflater).
/// next() hands the runs out strictly in file order. At most `slots()` runs are in flight, with
/// their buffers recycled, so memory is bounded by about slots() × (chunk_bytes + its
/// compressed size), whatever the input size.
///
/// Threads: `threads` counts every thread that decodes, the caller of next() included. The
/// reader starts `threads - 1` workers; next() decodes a run itself whenever the one it must
/// return is not ready and a run is free to claim, so a consumer that outpaces decoding lends
/// its core, and one that is slower never decodes. threads == 1 starts no thread at all.
///
/// Input: any gzip file (a regular file, read with pread(2)). Members without the BC field, or
/// whose ISIZE exceeds 64 KiB, are inflated serially by the scan with zlib, in pieces of at most
/// chunk_bytes; a missing BGZF EOF block is accepted; zero bytes after the last member are
/// accepted (as gzip); any other trailing byte is an error.
///
/// Errors: fqpipe::Error, kind data for damaged input (truncation, bad header, block size past
/// the end of the file or disagreeing with the deflate data, invalid deflate data, CRC32 or
/// ISIZE mismatch, trailing garbage), kind io for open/read failures. For a BGZF block,
/// position().comp_byte is the file offset of the block's header and decoded_byte the decoded
/// offset of its first byte; none of its text has been returned. A non-BGZF member is returned
/// as it inflates, so its errors carry the positions GzipSource gives: the offset reached (the
/// trailer, for CRC32/ISIZE) and the text decoded so far. Trailing garbage: its first byte. The
/// member number (1-based, every BGZF block counts) is in the message. next() throws only after
/// every buffer before the damaged run has been returned, and keeps throwing the same error.
///
/// Example:
///   BgzfReader reader("reads.bgzf.gz", "reads.bgzf.gz", 4);
///   while (const io::TextBuffer* b = reader.next()) consume(b->data, b->size);
class BgzfReader final : public io::TextSource {
 public:
  static constexpr std::size_t kDefaultChunkBytes = std::size_t{4} << 20;

  /// Opens `path` (must be a regular file); `file` names it in errors; `threads` >= 1 (0 is
  /// taken as 1); `chunk_bytes` is the target decoded size of one buffer (a run of whole
  /// blocks: a run exceeds it only when one block alone does). Throws fqpipe::Error (io) when
  /// the file cannot be opened or is not a regular file. Decoding starts at once.
  BgzfReader(const std::string& path, std::string file, unsigned threads,
             std::size_t chunk_bytes = kDefaultChunkBytes);
  /// Stops the workers (they give up their current run between blocks) and joins them.
  ~BgzfReader() override;
  BgzfReader(const BgzfReader&) = delete;
  BgzfReader& operator=(const BgzfReader&) = delete;

  /// The next non-empty buffer of decoded text, valid until the following call or destruction;
  /// nullptr at the end. Call from one thread at a time.
  const io::TextBuffer* next() override;
  /// Compressed bytes up to the end of the last buffer returned (the file size once next()
  /// has returned nullptr). Callable from any thread.
  uint64_t input_bytes_read() const noexcept override {
    return input_bytes_read_.load(std::memory_order_relaxed);
  }

  /// Runs in flight at most (each has an input and an output buffer).
  std::size_t slots() const noexcept { return slots_.size(); }

 private:
  enum class SlotState { empty, busy, ready, failed };
  struct Slot {
    BgzfRun run;
    io::TextBuffer view;
    SlotState state = SlotState::empty;
    std::exception_ptr error;
  };
  Slot& slot(uint64_t seq) noexcept { return slots_[seq % slots_.size()]; }
  bool can_claim() const noexcept;
  void claim_and_work(std::unique_lock<std::mutex>& lock, BlockInflater& inflater);
  void decode_run(BgzfRun& run, uint64_t seq, BlockInflater& inflater);
  void stop_workers() noexcept;
  void worker_main();
  void record_failure(uint64_t seq, std::exception_ptr error);

  std::string file_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::unique_ptr<BgzfScanner> scanner_;  // used only by the thread that set scanning_
  std::vector<Slot> slots_;               // run `seq` lives in slots_[seq % size]

  // Shared state, guarded by mutex_. Invariants: released_ <= next_seq_ <= scan_seq_ and
  // scan_seq_ < released_ + slots_.size() + 1, i.e. no run overwrites one the consumer still needs.
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t scan_seq_ = 0;   // runs scanned (the next one to scan)
  uint64_t next_seq_ = 0;   // the next run next() returns
  uint64_t released_ = 0;   // runs whose slots are free again
  bool holding_ = false;    // the consumer holds run next_seq_ - 1
  bool scanning_ = false;   // a thread is in scanner_->scan()
  bool scan_done_ = false;  // no more runs will be scanned (end of input or an error)
  bool stopping_ = false;   // the destructor runs

  std::atomic<bool> cancel_{false};                 // stop decoding now (destructor)
  std::atomic<uint64_t> failed_seq_{UINT64_MAX};    // the first run that failed; later runs stop
  std::atomic<uint64_t> input_bytes_read_{0};
  BlockInflater::Engine engine_ = BlockInflater::Engine::isal;
  std::unique_ptr<BlockInflater> consumer_inflater_;  // for runs next() decodes itself
  std::vector<std::thread> workers_;
};

}  // namespace fqpipe::gzip
