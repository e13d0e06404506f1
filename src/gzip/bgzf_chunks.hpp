// bgzf_chunks.hpp - BgzfChunks, a BGZF file as chunks of whole blocks for several producers.
// The scan (headers, sizes) is serial under the caller's lock; inflating runs on the producers.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gzip/bgzf_block_inflater.hpp"
#include "gzip/bgzf_scanner.hpp"
#include "io/chunk_source.hpp"

namespace fqpipe::gzip {

/// Chunks of about `chunk_bytes` decoded bytes, each a run of whole BGZF blocks (BgzfScanner),
/// inflated and checked (CRC32, ISIZE) in load() on the producer's thread. Members without a BC
/// field are inflated by the scanner itself, serially, and cannot be loaded twice. One lane.
class BgzfChunks final : public io::ChunkSource {
 public:
  /// Opens `path`, a regular file; `file` names it in errors. Throws Error (io).
  BgzfChunks(const std::string& path, std::string file, std::size_t chunk_bytes);
  ~BgzfChunks() override;
  BgzfChunks(const BgzfChunks&) = delete;
  BgzfChunks& operator=(const BgzfChunks&) = delete;

  bool claim(io::TextChunk& chunk, unsigned lane) override;
  void load(io::TextChunk& chunk) override;
  uint64_t input_bytes_read() const noexcept override;
  uint64_t input_size() const noexcept override { return file_size_; }
  std::string describe() const override;

 private:
  void scan_ahead();
  std::unique_ptr<BgzfRun> spare_run();

  std::string file_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::size_t chunk_bytes_;
  std::unique_ptr<BgzfScanner> scanner_;
  BlockInflater::Engine engine_;

  // claim() side, serialised by the caller: the run after the one handed out, so that a chunk
  // knows whether it is the last; or the error the scan met, for the next claim.
  std::unique_ptr<BgzfRun> ahead_;
  ScanResult ahead_result_ = ScanResult::end;
  std::exception_ptr ahead_error_;
  bool started_ = false;
  uint64_t next_index_ = 0;
  std::atomic<uint64_t> scanned_bytes_{0};

  std::mutex mutex_;  // guards runs_ and spare_runs_ (claim and load run on different threads)
  std::map<uint64_t, std::unique_ptr<BgzfRun>> runs_;  // claimed, not yet loaded, by index
  std::vector<std::unique_ptr<BgzfRun>> spare_runs_;
};

}  // namespace fqpipe::gzip
