// bgzf_scanner.cpp - BgzfScanner: the serial part of parallel BGZF decoding.
// Per block it parses the header (BSIZE from the BC field, FORMATS.md "BGZF recognition") and
// reads the trailer's ISIZE, so the decoders know each block's exact output size before they
// start. The run's compressed bytes are pread once into the run's own buffer, which the decoder
// then reads from cache. Members without a BC field (`cat a.bgzf.gz b.gz` is valid gzip) are
// inflated here with zlib, at most chunk_bytes per run, so memory stays bounded.
#include "gzip/bgzf_scanner.hpp"

#include <libdeflate.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include "fqpipe/error.hpp"
#include "gzip/bgzf_block_inflater.hpp"
#include "gzip/gzip_header.hpp"
#include "io/read_at.hpp"

namespace fqpipe::gzip {
namespace {

// A BGZF header is 18 bytes; read that much before parsing so the common case parses once.
constexpr std::size_t kBgzfHeaderBytes = 18;
// Extra compressed bytes read past a run's predicted end: the block that closes a run must be
// read whole (its ISIZE is in its trailer), and a BGZF block is at most 64 KiB.
constexpr std::size_t kReadSlack = std::size_t{64} << 10;
constexpr std::size_t kPlainInputBytes = std::size_t{256} << 10;
// A non-BGZF member's text goes out in pieces of chunk_bytes, but never more than this.
constexpr std::size_t kMaxPlainPiece = std::size_t{64} << 20;

}  // namespace

BgzfScanner::BgzfScanner(int fd, uint64_t file_size, std::string file, std::size_t chunk_bytes,
                         uint64_t start, uint64_t decoded_start, uint64_t members_before)
    : fd_(fd), file_size_(file_size), file_(std::move(file)),
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)), comp_offset_(start),
      decoded_offset_(decoded_start), members_(members_before),
      read_guess_(std::min<std::size_t>(chunk_bytes_ / 2, std::size_t{1} << 20) + kReadSlack) {}

BgzfScanner::~BgzfScanner() {
  if (plain_.active) inflateEnd(&plain_.z);
}

void BgzfScanner::fail(const std::string& reason, uint64_t comp_byte, uint64_t decoded_byte) const {
  ErrorPosition at;
  at.file = file_;
  at.comp_byte = static_cast<int64_t>(comp_byte);
  at.decoded_byte = static_cast<int64_t>(decoded_byte);
  throw Error(ErrorKind::data, reason, at);
}

std::size_t BgzfScanner::read_at(uint64_t offset, uint8_t* dst, std::size_t n) const {
  return io::read_at(fd_, dst, n, offset, file_);
}

std::size_t BgzfScanner::ensure(BgzfRun& run, std::size_t want) {
  const uint64_t left = file_size_ - run.comp_begin;
  if (want > left) want = static_cast<std::size_t>(left);
  if (run.in_size >= want) return run.in_size;
  std::size_t target = std::max(want, run.in_size == 0 ? read_guess_ : run.in_size + 2 * kReadSlack);
  if (target > left) target = static_cast<std::size_t>(left);
  run.in.grow(target, run.in_size);
  const std::size_t n = target - run.in_size;
  if (read_at(run.comp_begin + run.in_size, run.in.data() + run.in_size, n) != n) {
    ErrorPosition at;
    at.file = file_;
    at.comp_byte = static_cast<int64_t>(run.comp_begin + run.in_size);
    throw Error(ErrorKind::io, "file shrank while being read", at);
  }
  run.in_size = target;
  return target;
}

ScanResult BgzfScanner::scan(BgzfRun& run) {
  run.comp_begin = run.comp_end = comp_offset_;
  run.decoded_begin = decoded_offset_;
  run.first_member = members_ + 1;
  run.in_size = 0;
  run.blocks.clear();
  run.out_size = 0;
  run.predecoded = false;
  if (pending_) {
    done_ = true;
    std::rethrow_exception(std::exchange(pending_, nullptr));
  }
  if (done_) return ScanResult::end;
  try {
    return plain_.active ? continue_plain(run) : scan_blocks(run);
  } catch (...) {
    // Blocks collected before the damage are still decoded and delivered; the error follows.
    if (!run.predecoded && !run.blocks.empty()) {
      pending_ = std::current_exception();
      return finish_blocks(run);
    }
    done_ = true;
    throw;
  }
}

ScanResult BgzfScanner::finish_blocks(BgzfRun& run) {
  run.comp_end = comp_offset_;
  if (run.blocks.empty()) return ScanResult::end;
  read_guess_ = static_cast<std::size_t>(run.comp_end - run.comp_begin) + kReadSlack;
  run.out.grow(run.out_size);
  return ScanResult::blocks;
}

// Adds whole blocks to the run until it holds chunk_bytes_ of output (at least one block), the
// input ends, or a member that is not a plain BGZF block comes up.
ScanResult BgzfScanner::scan_blocks(BgzfRun& run) {
  for (;;) {
    const uint64_t at = comp_offset_;
    if (at == file_size_) {
      if (members_ == 0) fail("truncated gzip header", at, decoded_offset_);  // an empty file
      done_ = true;
      break;
    }
    const std::size_t off = static_cast<std::size_t>(at - run.comp_begin);
    std::size_t have = ensure(run, off + kBgzfHeaderBytes) - off;
    if (members_ > 0 && run.in.data()[off] != 0x1f) {  // after the last member (as GzipSource)
      check_trailing_bytes(at);
      done_ = true;
      break;
    }
    GzipHeader h = parse_gzip_header(run.in.data() + off, have);
    while (h.status == HeaderStatus::need_more) {
      if (at + have >= file_size_) fail("truncated gzip header", at, decoded_offset_);
      have = ensure(run, off + have + 4096) - off;
      h = parse_gzip_header(run.in.data() + off, have);
    }
    if (h.status == HeaderStatus::invalid) fail(h.reason, at, decoded_offset_);
    if (!h.bgzf) {
      if (!run.blocks.empty()) break;
      start_plain(h.size, 0);
      return continue_plain(run);
    }
    const uint32_t block_size = h.bgzf_block_size;
    if (block_size < h.size + 8) {
      fail("invalid bgzf block size " + std::to_string(block_size) + " in gzip member " +
               std::to_string(members_ + 1) + " (smaller than its " + std::to_string(h.size) +
               "-byte header and 8-byte trailer)",
           at, decoded_offset_);
    }
    if (block_size > file_size_ - at) {
      fail("truncated bgzf block in gzip member " + std::to_string(members_ + 1) +
               ": its size field says " + std::to_string(block_size) + " bytes, the file has " +
               std::to_string(file_size_ - at) + " left",
           at, decoded_offset_);
    }
    ensure(run, off + block_size);
    const uint32_t isize = load_le32(run.in.data() + off + block_size - 4);
    if (isize > kMaxBgzfIsize) {  // not what a BGZF writer makes: inflate it as plain gzip
      if (!run.blocks.empty()) break;
      start_plain(h.size, block_size);
      return continue_plain(run);
    }
    if (!run.blocks.empty() && run.out_size + isize > chunk_bytes_) break;
    run.blocks.push_back({off, static_cast<uint32_t>(h.size), block_size, isize});
    run.out_size += isize;
    comp_offset_ += block_size;
    decoded_offset_ += isize;
    ++members_;
  }
  return finish_blocks(run);
}

// After the last member only zero bytes may follow (tape padding, as gzip accepts).
void BgzfScanner::check_trailing_bytes(uint64_t at) const {
  uint8_t buf[1 << 16];
  while (at < file_size_) {
    const std::size_t n = read_at(at, buf, static_cast<std::size_t>(
                                               std::min<uint64_t>(sizeof buf, file_size_ - at)));
    if (n == 0) return;
    for (std::size_t i = 0; i < n; ++i)
      if (buf[i] != 0)
        fail("trailing garbage after gzip member " + std::to_string(members_), at + i,
             decoded_offset_);
    at += n;
  }
}

void BgzfScanner::start_plain(std::size_t header_size, uint32_t bgzf_size) {
  Plain& p = plain_;
  p.z = z_stream{};
  if (inflateInit2(&p.z, -15) != Z_OK) throw std::bad_alloc();
  p.active = true;
  p.start = comp_offset_;
  p.decoded_start = decoded_offset_;
  p.decoded = 0;
  p.crc = 0;
  p.bgzf_size = bgzf_size;
  // No more than the rest of the file: zero-filling 256 KiB per member showed for small files.
  p.in.resize(static_cast<std::size_t>(std::min<uint64_t>(kPlainInputBytes, file_size_ - comp_offset_)));
  p.in_file_offset = comp_offset_ + header_size;
  p.z.next_in = p.in.data();
  p.z.avail_in = 0;
}

// Inflates the current non-BGZF member into run.out, up to chunk_bytes_ or the member's end.
ScanResult BgzfScanner::continue_plain(BgzfRun& run) {
  Plain& p = plain_;
  z_stream& z = p.z;
  run.predecoded = true;
  const std::size_t room = std::min(chunk_bytes_, kMaxPlainPiece);
  // The buffer grows with the output up to `room`, from the input buffer's size: a small member
  // need not cost a chunk_bytes allocation (4 MiB by default) per run.
  run.out.grow(std::min(room, kPlainInputBytes));
  std::size_t produced = 0;
  const auto give_room = [&] {
    const std::size_t capacity = std::min(room, run.out.capacity());
    z.next_out = reinterpret_cast<Bytef*>(run.out.data() + produced);
    z.avail_out = static_cast<uInt>(capacity - produced);
  };
  give_room();
  auto position = [&] { return p.in_file_offset + static_cast<uint64_t>(z.next_in - p.in.data()); };
  bool member_ended = false;
  while (produced < room) {
    if (z.avail_out == 0) {
      run.out.grow(std::min(room, 2 * run.out.capacity()), produced);
      give_room();
    }
    if (z.avail_in == 0) {
      p.in_file_offset = position();
      z.next_in = p.in.data();
      z.avail_in = static_cast<uInt>(read_at(p.in_file_offset, p.in.data(), p.in.size()));
      if (z.avail_in == 0)
        fail("truncated gzip member (compressed data ends before the final deflate block)",
             p.in_file_offset, decoded_offset_ + produced);
    }
    const int rc = inflate(&z, Z_NO_FLUSH);
    produced = static_cast<std::size_t>(reinterpret_cast<char*>(z.next_out) - run.out.data());
    if (rc == Z_STREAM_END) {
      member_ended = true;
      break;
    }
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail(std::string("invalid deflate data") + (z.msg ? std::string(" (") + z.msg + ")" : ""),
           position(), decoded_offset_ + produced);
    }
  }
  run.out_size = produced;
  p.crc = libdeflate_crc32(p.crc, run.out.data(), run.out_size);
  p.decoded += run.out_size;
  decoded_offset_ += run.out_size;
  run.comp_end = position();
  if (member_ended) {
    finish_plain();
    run.comp_end = comp_offset_;
  }
  return ScanResult::predecoded;
}

// Checks the trailer of the plain member that just ended (RFC 1952 §2.3.1) and moves past it.
void BgzfScanner::finish_plain() {
  Plain& p = plain_;
  const uint64_t trailer = p.in_file_offset + static_cast<uint64_t>(p.z.next_in - p.in.data());
  inflateEnd(&p.z);
  p.active = false;
  const std::string member = "gzip member " + std::to_string(members_ + 1);
  // Positions as GzipSource gives them: its text may already be out, so the error points at
  // the trailer and at the end of the member's text.
  uint8_t t[8];
  if (read_at(trailer, t, 8) != 8)
    fail("truncated gzip trailer (stream ends inside the crc32/isize)", trailer, decoded_offset_);
  const TrailerCheck check = check_gzip_trailer(t, members_ + 1, p.crc, p.decoded);
  if (!check.ok()) fail(check.reason, trailer + check.offset_in_trailer, decoded_offset_);
  if (p.bgzf_size != 0 && trailer + 8 != p.start + p.bgzf_size) {
    fail("bgzf block size field of " + member + " says " + std::to_string(p.bgzf_size) +
             " bytes, its deflate data and trailer take " + std::to_string(trailer + 8 - p.start),
         p.start, p.decoded_start);
  }
  comp_offset_ = trailer + 8;
  ++members_;
}

namespace {

[[noreturn]] void fail_block(const std::string& file, const BgzfRun& run, std::size_t block,
                             uint64_t decoded_byte, const std::string& reason) {
  ErrorPosition at;
  at.file = file;
  at.comp_byte = static_cast<int64_t>(run.comp_begin + run.blocks[block].in_offset);
  at.decoded_byte = static_cast<int64_t>(decoded_byte);
  throw Error(ErrorKind::data, reason, at);
}

}  // namespace

bool decode_bgzf_run(const BgzfRun& run, char* out, BlockInflater& inflater, const std::string& file,
                     const std::function<bool()>& cancelled) {
  std::size_t out_offset = 0;
  for (std::size_t i = 0; i < run.blocks.size(); ++i) {
    if (cancelled && cancelled()) return false;
    const BgzfBlock& b = run.blocks[i];
    const uint8_t* block = run.in.data() + b.in_offset;
    const std::size_t deflate_size = b.block_size - b.header_size - 8;
    const InflateResult r = inflater.inflate(block + b.header_size, deflate_size, out + out_offset, b.isize);
    if (r.status == InflateStatus::ok && r.out_size == b.isize && r.in_used == deflate_size &&
        r.crc == load_le32(block + b.block_size - 8)) {
      out_offset += b.isize;
      continue;
    }
    // Something is wrong with this block: say what, in the order a reader would check it.
    const uint64_t decoded_byte = run.decoded_begin + out_offset;
    const std::string member = "gzip member " + std::to_string(run.first_member + i);
    if (r.status == InflateStatus::output_overflow) {
      fail_block(file, run, i, decoded_byte,
                 "isize mismatch in " + member + ": stored " + std::to_string(b.isize) + ", decoded more");
    }
    if (r.status != InflateStatus::ok) fail_block(file, run, i, decoded_byte, "invalid deflate data in " + member);
    if (r.out_size != b.isize) {
      fail_block(file, run, i, decoded_byte,
                 "isize mismatch in " + member + ": stored " + std::to_string(b.isize) + ", decoded " +
                     std::to_string(r.out_size) + " (mod 2^32)");
    }
    if (r.in_used != deflate_size) {
      fail_block(file, run, i, decoded_byte,
                 "bgzf block size field of " + member + " says " + std::to_string(b.block_size) +
                     " bytes, its deflate data ends " + std::to_string(deflate_size - r.in_used) +
                     " bytes before the trailer");
    }
    char msg[128];
    std::snprintf(msg, sizeof msg, "crc32 mismatch in %s: stored %08x, computed %08x",
                  member.c_str(), load_le32(block + b.block_size - 8), r.crc);
    fail_block(file, run, i, decoded_byte, msg);
  }
  return true;
}

}  // namespace fqpipe::gzip
