// bgzf_chunks.cpp - BgzfChunks: claim = take the run scanned ahead and scan the next one;
// load = inflate the run's blocks into the chunk (or rescan its range when loaded again).
#include "gzip/bgzf_chunks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "fqpipe/error.hpp"

namespace fqpipe::gzip {
namespace {

// Each producer thread keeps one inflater for all the chunks it loads.
BlockInflater& thread_inflater(BlockInflater::Engine engine) {
  thread_local std::unique_ptr<BlockInflater> inflater;
  thread_local BlockInflater::Engine made_for = BlockInflater::Engine::isal;
  if (!inflater || made_for != engine) {
    inflater = std::make_unique<BlockInflater>(engine);
    made_for = engine;
  }
  return *inflater;
}

}  // namespace

BgzfChunks::BgzfChunks(const std::string& path, std::string file, std::size_t chunk_bytes)
    : file_(std::move(file)), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)),
      engine_(BlockInflater::engine_from_environment()) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ErrorPosition at;
  at.file = file_;
  if (fd_ < 0) throw Error(ErrorKind::io, std::string("cannot open: ") + std::strerror(errno), at);
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(ErrorKind::io, "cannot read in chunks: not a regular file", at);
  }
  file_size_ = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  scanner_ = std::make_unique<BgzfScanner>(fd_, file_size_, file_, chunk_bytes_);
}

BgzfChunks::~BgzfChunks() { ::close(fd_); }

std::unique_ptr<BgzfRun> BgzfChunks::spare_run() {
  std::lock_guard lock(mutex_);
  if (spare_runs_.empty()) return std::make_unique<BgzfRun>();
  std::unique_ptr<BgzfRun> run = std::move(spare_runs_.back());
  spare_runs_.pop_back();
  return run;
}

void BgzfChunks::scan_ahead() {
  ahead_ = spare_run();
  try {
    ahead_result_ = scanner_->scan(*ahead_);
    scanned_bytes_.store(ahead_->comp_end, std::memory_order_relaxed);
  } catch (...) {
    ahead_error_ = std::current_exception();
    ahead_.reset();  // the scan is over: nothing is claimed after the error
  }
}

bool BgzfChunks::claim(io::TextChunk& chunk, unsigned lane) {
  if (lane != 0) return false;
  if (!started_) {
    started_ = true;
    scan_ahead();
  }
  if (ahead_error_) std::rethrow_exception(std::exchange(ahead_error_, nullptr));
  if (!ahead_ || ahead_result_ == ScanResult::end) return false;
  std::unique_ptr<BgzfRun> run = std::move(ahead_);
  chunk.index = next_index_++;
  chunk.input_offset = run->comp_begin;
  chunk.input_size = run->comp_end - run->comp_begin;
  chunk.input_unit = run->first_member - 1;
  chunk.decoded_offset = run->decoded_begin;
  chunk.reloadable = !run->predecoded;
  chunk.size = 0;
  scan_ahead();
  // The last chunk: nothing follows, and no error waits either (that would come next).
  chunk.last = !ahead_error_ && ahead_result_ == ScanResult::end;
  std::lock_guard lock(mutex_);
  runs_[chunk.index] = std::move(run);
  return true;
}

void BgzfChunks::load(io::TextChunk& chunk) {
  std::unique_ptr<BgzfRun> run;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(chunk.index);
    if (it != runs_.end()) {
      run = std::move(it->second);
      runs_.erase(it);
    }
  }
  if (!run) {  // loaded before: scan the chunk's range again, on its own
    if (!chunk.reloadable) throw std::logic_error("BgzfChunks: chunk cannot be loaded twice");
    run = spare_run();
    BgzfScanner again(fd_, chunk.input_offset + chunk.input_size, file_,
                      std::numeric_limits<std::size_t>::max(), chunk.input_offset,
                      chunk.decoded_offset, chunk.input_unit);
    if (again.scan(*run) != ScanResult::blocks) throw std::logic_error("BgzfChunks: rescan found no blocks");
  }
  chunk.bytes.grow(run->out_size);
  if (run->predecoded) {
    std::memcpy(chunk.bytes.data(), run->out.data(), run->out_size);
  } else {
    decode_bgzf_run(*run, chunk.bytes.data(), thread_inflater(engine_), file_, {});
  }
  chunk.size = run->out_size;
  std::lock_guard lock(mutex_);
  spare_runs_.push_back(std::move(run));
}

uint64_t BgzfChunks::input_bytes_read() const noexcept {
  return scanned_bytes_.load(std::memory_order_relaxed);
}

std::string BgzfChunks::describe() const {
  return std::string("BGZF blocks inflated by the producers (") +
         (engine_ == BlockInflater::Engine::isal ? "ISA-L" : "libdeflate") + "), " +
         std::to_string(chunk_bytes_ >> 10) + " KiB chunks";
}

}  // namespace fqpipe::gzip
