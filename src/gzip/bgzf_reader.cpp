// bgzf_reader.cpp - BgzfReader: claim a run, scan it (serial), decode it (parallel), hand out
// in order. The only serial step is the scan (headers + one pread per run, about 3 % of a
// run's decode time), taken by whichever thread claims next, so no thread exists just to
// schedule. One mutex guards the bookkeeping; it is never held while scanning or inflating.
#include "gzip/bgzf_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "fqpipe/error.hpp"
#include "gzip/gzip_header.hpp"

namespace fqpipe::gzip {
namespace {

// Thrown inside a worker to give up a run nobody will read (destructor, or an earlier failure).
struct Cancelled {};

[[noreturn]] void fail_io(const std::string& file, const std::string& what) {
  ErrorPosition at;
  at.file = file;
  throw Error(ErrorKind::io, what, at);
}

}  // namespace

BgzfReader::BgzfReader(const std::string& path, std::string file, unsigned threads,
                       std::size_t chunk_bytes)
    : file_(std::move(file)) {
  threads = std::max(threads, 1u);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail_io(file_, std::string("cannot open: ") + std::strerror(errno));
  try {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail_io(file_, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail_io(file_, "not a regular file (parallel bgzf decoding reads with pread)");
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    file_size_ = static_cast<uint64_t>(st.st_size);
    scanner_ = std::make_unique<BgzfScanner>(fd_, file_size_, file_, chunk_bytes);
    // 2T + 2 runs in flight: T being decoded, T finished ahead of the consumer, one it holds
    // and one being scanned. One thread needs only the run it holds and the one it decodes.
    slots_ = std::vector<Slot>(threads == 1 ? 2 : 2 * std::size_t{threads} + 2);
    engine_ = BlockInflater::engine_from_environment();
    consumer_inflater_ = std::make_unique<BlockInflater>(engine_);
    for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
  } catch (...) {
    stop_workers();
    ::close(fd_);
    throw;
  }
}

BgzfReader::~BgzfReader() {
  stop_workers();
  ::close(fd_);
}

void BgzfReader::stop_workers() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_.store(true, std::memory_order_relaxed);
  changed_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

bool BgzfReader::can_claim() const noexcept {
  return !scanning_ && !scan_done_ && !stopping_ && scan_seq_ < released_ + slots_.size();
}

void BgzfReader::record_failure(uint64_t seq, std::exception_ptr error) {
  Slot& s = slot(seq);
  s.state = SlotState::failed;
  s.error = std::move(error);
  scan_done_ = true;
  if (seq < failed_seq_.load(std::memory_order_relaxed))
    failed_seq_.store(seq, std::memory_order_relaxed);
}

// Scans the next run into its slot and, unless the scan already produced its text, decodes it.
// Called with `lock` held; returns with it held.
void BgzfReader::claim_and_work(std::unique_lock<std::mutex>& lock, BlockInflater& inflater) {
  const uint64_t seq = scan_seq_;
  Slot& s = slot(seq);
  s.state = SlotState::busy;
  s.error = nullptr;
  scanning_ = true;
  lock.unlock();
  ScanResult result = ScanResult::end;
  std::exception_ptr error;
  try {
    result = scanner_->scan(s.run);
  } catch (...) {
    error = std::current_exception();
  }
  const bool input_ended = scanner_->done();
  lock.lock();
  scanning_ = false;
  if (error) {
    ++scan_seq_;
    record_failure(seq, error);
  } else if (result == ScanResult::end) {
    s.state = SlotState::empty;
    scan_done_ = true;
  } else {
    ++scan_seq_;
    if (input_ended) scan_done_ = true;
    s.view = {s.run.out.data(), s.run.out_size, s.run.decoded_begin};
    if (result == ScanResult::predecoded) s.state = SlotState::ready;
  }
  changed_.notify_all();  // the next run may be scanned now, or this one is done
  if (s.state != SlotState::busy) return;

  lock.unlock();
  bool cancelled = false;
  try {
    decode_run(s.run, seq, inflater);
  } catch (const Cancelled&) {
    cancelled = true;
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  if (cancelled) {  // nobody will read this run: an earlier run failed, or the reader is closing
    s.state = SlotState::failed;
    s.error = std::make_exception_ptr(Error(ErrorKind::data, "decoding cancelled", {}));
  } else if (error) {
    record_failure(seq, error);
  } else {
    s.state = SlotState::ready;
  }
  changed_.notify_all();
}

// Inflates every block of the run into its place in run.out and checks it against its trailer.
void BgzfReader::decode_run(BgzfRun& run, uint64_t seq, BlockInflater& inflater) {
  const bool done = decode_bgzf_run(run, run.out.data(), inflater, file_, [&] {
    return cancel_.load(std::memory_order_relaxed) || seq > failed_seq_.load(std::memory_order_relaxed);
  });
  if (!done) throw Cancelled{};
}

void BgzfReader::worker_main() {
  std::unique_ptr<BlockInflater> inflater;
  try {
    inflater = std::make_unique<BlockInflater>(engine_);
  } catch (...) {  // reported at the next run, in order
  }
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || scan_done_ || can_claim(); });
    if (!can_claim()) return;  // stopping, or every run has been scanned
    if (!inflater) {
      record_failure(scan_seq_++, std::make_exception_ptr(std::bad_alloc()));
      changed_.notify_all();
      return;
    }
    claim_and_work(lock, *inflater);
  }
}

const io::TextBuffer* BgzfReader::next() {
  std::unique_lock lock(mutex_);
  if (holding_) {
    holding_ = false;
    slot(next_seq_ - 1).state = SlotState::empty;
    ++released_;
    changed_.notify_all();
  }
  for (;;) {
    if (next_seq_ < scan_seq_) {
      Slot& s = slot(next_seq_);
      if (s.state == SlotState::failed) std::rethrow_exception(s.error);
      if (s.state == SlotState::ready) {
        ++next_seq_;
        input_bytes_read_.store(s.run.comp_end, std::memory_order_relaxed);
        if (s.view.size > 0) {
          holding_ = true;
          return &s.view;
        }
        s.state = SlotState::empty;  // an empty run (EOF block, empty member): skip it
        ++released_;
        changed_.notify_all();
        continue;
      }
    } else if (scan_done_ && !scanning_) {
      input_bytes_read_.store(file_size_, std::memory_order_relaxed);  // padding included
      return nullptr;
    }
    if (can_claim()) {
      claim_and_work(lock, *consumer_inflater_);
      continue;
    }
    changed_.wait(lock);
  }
}

}  // namespace fqpipe::gzip
