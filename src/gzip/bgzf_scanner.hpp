// bgzf_scanner.hpp - BgzfScanner: cuts a BGZF file into runs of whole blocks for parallel decoding.
// It reads only what it must (header, BSIZE, the trailer's ISIZE), so one serial thread keeps
// many decoders busy; members that are not BGZF are inflated here, serially, in bounded pieces.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/grow_buffer.hpp"

namespace fqpipe::gzip {

/// One BGZF block of a run: where it lies in the run's input and what its trailer promises.
struct BgzfBlock {
  std::size_t in_offset = 0; ///< offset of the block's header in BgzfRun::in
  uint32_t header_size = 0;  ///< gzip header bytes; the deflate data follows
  uint32_t block_size = 0;   ///< BSIZE + 1: header, deflate data and 8-byte trailer
  uint32_t isize = 0;        ///< decoded bytes (the trailer's ISIZE, at most kMaxBgzfIsize)
};

/// A run of consecutive gzip members, in file order, that becomes one output buffer.
/// Either `blocks` (BGZF blocks still to decode from `in`) or, when `predecoded`, a piece of a
/// non-BGZF member that the scanner already inflated into `out`.
struct BgzfRun {
  uint64_t comp_begin = 0;      ///< file offset of in[0] (the first block's header)
  uint64_t comp_end = 0;        ///< file offset just past the run's compressed bytes
  uint64_t decoded_begin = 0;   ///< decoded offset of out[0] in the whole input
  uint64_t first_member = 0;    ///< 1-based number of the run's first gzip member (block)
  io::GrowBuffer<uint8_t> in;       ///< compressed bytes from comp_begin (maybe a little more)
  std::size_t in_size = 0;      ///< valid bytes in `in`
  std::vector<BgzfBlock> blocks;
  io::GrowBuffer<char> out;         ///< decoded text; out_size bytes are (or will be) valid
  std::size_t out_size = 0;
  bool predecoded = false;
};

/// What scan() produced.
enum class ScanResult {
  blocks,      ///< a run of BGZF blocks to decode (blocks non-empty, out sized to out_size)
  predecoded,  ///< decoded text of a non-BGZF member (out_size may be 0)
  end,         ///< no more members: the run is empty
};

/// The largest ISIZE decoded in parallel. BGZF writers never exceed 64 KiB per block; a member
/// with a BC field that claims more goes through the streaming path, so a damaged trailer can
/// never make a run's buffer huge.
inline constexpr uint32_t kMaxBgzfIsize = 65536;

/// Walks a gzip file block by block. Not thread-safe: one thread at a time calls scan(), and
/// the reader orders those calls. Errors are fqpipe::Error (data for damaged input, io for
/// failed reads); a scan that meets an error after collecting blocks returns those blocks first
/// and throws on the following call, so everything before the damage is still delivered.
class BgzfScanner {
 public:
  /// `fd` is a regular file of `file_size` bytes (not owned); `file` names it in errors;
  /// runs hold about `chunk_bytes` decoded bytes (at least one block). Scanning starts at file
  /// offset `start`, a member start at decoded offset `decoded_start` with `members_before`
  /// members before it (0, 0, 0: the whole file).
  BgzfScanner(int fd, uint64_t file_size, std::string file, std::size_t chunk_bytes,
              uint64_t start = 0, uint64_t decoded_start = 0, uint64_t members_before = 0);
  ~BgzfScanner();
  BgzfScanner(const BgzfScanner&) = delete;
  BgzfScanner& operator=(const BgzfScanner&) = delete;

  /// Fills `run` with the next run; see ScanResult.
  ScanResult scan(BgzfRun& run);
  /// True once the end of input (or an error) has been reached: scan() returns no more runs.
  bool done() const noexcept { return done_ && !pending_; }

 private:
  std::size_t ensure(BgzfRun& run, std::size_t want);  // bytes of run.in available, <= want
  std::size_t read_at(uint64_t offset, uint8_t* dst, std::size_t n) const;
  ScanResult scan_blocks(BgzfRun& run);
  ScanResult finish_blocks(BgzfRun& run);
  void check_trailing_bytes(uint64_t at) const;
  void start_plain(std::size_t header_size, uint32_t bgzf_size);
  ScanResult continue_plain(BgzfRun& run);
  void finish_plain();
  [[noreturn]] void fail(const std::string& reason, uint64_t comp_byte, uint64_t decoded_byte) const;

  const int fd_;
  const uint64_t file_size_;
  const std::string file_;
  const std::size_t chunk_bytes_;
  uint64_t comp_offset_ = 0;     // file offset of the next member to scan
  uint64_t decoded_offset_ = 0;  // decoded offset of that member's first byte
  uint64_t members_ = 0;         // members scanned completely
  std::size_t read_guess_;       // compressed bytes the next run probably needs
  bool done_ = false;
  std::exception_ptr pending_;   // an error found after a run's blocks, thrown by the next scan

  // A non-BGZF member being inflated with zlib (raw deflate; header and trailer are ours).
  struct Plain {
    bool active = false;
    z_stream z{};
    uint64_t start = 0;          // file offset of its header
    uint64_t decoded_start = 0;
    uint64_t decoded = 0;        // bytes it has produced
    uint32_t crc = 0;
    uint32_t bgzf_size = 0;      // BSIZE + 1 when it carries a BC field, else 0
    std::vector<uint8_t> in;
    uint64_t in_file_offset = 0; // file offset of in[0]
  } plain_;
};

class BlockInflater;

/// Inflates every block of a BgzfScanner run (ScanResult::blocks) into out[0, run.out_size)
/// and checks each against its trailer (ISIZE, CRC32, BSIZE); `file` names the input in
/// errors. Before each block `cancelled()` is asked; true abandons the run (returns false).
/// Throws Error (data) naming the member and offsets of the first bad block.
bool decode_bgzf_run(const BgzfRun& run, char* out, BlockInflater& inflater, const std::string& file,
                     const std::function<bool()>& cancelled);

}  // namespace fqpipe::gzip
