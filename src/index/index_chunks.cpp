// index_chunks.cpp - IndexChunks: pieces planned once from the checkpoints; each load takes a
// reader from a small pool, seeks, decodes; member CRCs combine as their pieces come in.
#include "index/index_chunks.hpp"

#include <isa-l/crc.h>
#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "fqpipe/error.hpp"
#include "gzip/gzip_header.hpp"
#include "index/index_error.hpp"
#include "io/read_at.hpp"
#include "io/mapped_file.hpp"

namespace fqpipe::index {
namespace {

// A checkpoint with an empty window after the first is a member start: at its header (a byte
// holding 0x1f, as .gzi and rapidgzip mark them) or at its DEFLATE data (fqpipe's builder puts
// one at every member). Returns the compressed offset of the member's header, or npos when no
// gzip header ends exactly there (then the members around it are not CRC-checked).
uint64_t member_header(const IndexCheckpoint& c, std::span<const uint8_t> bytes) {
  constexpr uint64_t npos = UINT64_MAX;
  if (c.comp_bit % 8 != 0) return npos;
  const uint64_t at = c.comp_bit / 8;
  if (at < bytes.size() && bytes[at] == 0x1f) return at;
  // The header before the data: the nearest start whose header parses to end exactly here.
  for (uint64_t back = 10; back <= at && back <= (uint64_t{1} << 16); ++back) {
    const uint64_t p = at - back;
    if (bytes[p] != 0x1f || bytes[p + 1] != 0x8b) continue;
    const gzip::GzipHeader h = gzip::parse_gzip_header(bytes.data() + p, bytes.size() - p);
    if (h.status == gzip::HeaderStatus::ok && h.size == back) return p;
  }
  return npos;
}

}  // namespace

IndexChunks::IndexChunks(const std::string& path, const GzipIndex& index, std::size_t chunk_bytes,
                         uint64_t begin, uint64_t end)
    : path_(path), index_(index) {
  // A reader checks that the index fits the file (size, checksum) before anything is planned.
  const uint64_t size = IndexedGzipReader(path, index_).size();
  // Planning reads headers and trailers through a mapping; chunks are read with pread.
  const io::MappedFile file(path);
  comp_size_ = file.bytes().size();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    ErrorPosition at;
    at.file = path;
    throw Error(ErrorKind::io, std::string("cannot open: ") + std::strerror(errno), at);
  }
  end_ = std::min(end, size);
  begin_ = std::min(begin, end_);
  chunk_bytes = std::max<std::size_t>(chunk_bytes, 1);

  const auto& cps = index_.checkpoints;
  const bool whole = begin_ == 0 && end_ == size;
  // Members: the file's start, and every checkpoint at a member header (fqpipe's indexes put
  // one at each member start; the others cannot be told apart from a block start).
  std::vector<std::size_t> member_cps = {0};
  std::vector<uint64_t> headers = {0};
  for (std::size_t k = 1; k < cps.size(); ++k) {
    if (!cps[k].window.empty()) continue;
    member_cps.push_back(k);
    headers.push_back(member_header(cps[k], file.bytes()));
  }
  for (std::size_t m = 0; m < member_cps.size(); ++m) {
    Member member;
    const uint64_t decoded_begin = cps[member_cps[m]].decoded_byte;
    const uint64_t decoded_end = m + 1 < member_cps.size() ? cps[member_cps[m + 1]].decoded_byte : size;
    member.decoded = decoded_end - decoded_begin;
    const bool last = m + 1 == member_cps.size();
    const uint64_t next_header = last ? comp_size_ : headers[m + 1];
    member.checkable = whole && index_.format == IndexFormat::fqpipe && next_header != UINT64_MAX &&
                       headers[m] != UINT64_MAX && next_header >= 8;
    member.trailer = member.checkable ? next_header - 8 : 0;
    members_.push_back(std::move(member));
  }
  // Pieces: checkpoint intervals merged up to chunk_bytes, cut at member starts, clipped.
  std::size_t m = 0;
  for (std::size_t k = 0; k < cps.size(); ++k) {
    while (m + 1 < member_cps.size() && member_cps[m + 1] <= k) ++m;
    const uint64_t from = cps[k].decoded_byte;
    const uint64_t to = k + 1 < cps.size() ? cps[k + 1].decoded_byte : size;
    const uint64_t lo = std::max(from, begin_), hi = std::min(to, end_);
    if (lo >= hi) continue;
    const bool new_member = member_cps[m] == k;
    // The compressed bytes a decoder of this interval reads: to the next checkpoint (its
    // partial byte included) and a little more, which ISA-L may look at in its bit buffer.
    const uint64_t comp_end = std::min(comp_size_, (k + 1 < cps.size() ? cps[k + 1].comp_bit / 8 + 1 : comp_size_) + 4096);
    if (!pieces_.empty() && !new_member && pieces_.back().member == m &&
        pieces_.back().end == lo && pieces_.back().end - pieces_.back().begin < chunk_bytes) {
      pieces_.back().end = hi;  // merge into the previous piece
      pieces_.back().comp_end = comp_end;
      continue;
    }
    Piece p{lo, hi, cps[k].comp_bit / 8, comp_end, k, m};
    if (index_.has_records && cps[k].record_no != 0 && cps[k].record_byte >= lo && cps[k].record_byte < hi)
      p.record_start = static_cast<std::size_t>(cps[k].record_byte - lo);
    pieces_.push_back(p);
  }
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    Member& mem = members_[pieces_[i].member];
    if (mem.pieces == 0) mem.first_piece = i;
    ++mem.pieces;
  }
  trailers_.assign(8 * members_.size(), 0);
  for (std::size_t i = 0; i < members_.size(); ++i) {
    Member& mem = members_[i];
    mem.crcs.assign(mem.pieces, 0);
    mem.seen.assign(mem.pieces, 0);
    if (!mem.checkable || mem.trailer + 8 > comp_size_) {
      mem.checkable = false;
      continue;
    }
    std::copy_n(file.bytes().data() + mem.trailer, 8, trailers_.data() + 8 * i);
    // A single last member may be followed by zero padding, which moves its trailer: then its
    // ISIZE does not match and the file ends in zeros, and it cannot be checked.
    const uint32_t isize = gzip::load_le32(trailers_.data() + 8 * i + 4);
    if (i + 1 == members_.size() && isize != static_cast<uint32_t>(mem.decoded) && file.bytes().back() == 0)
      mem.checkable = false;
  }
  file.check_intact();  // headers and trailers read as zeros would plan wrong checks
}

IndexChunks::~IndexChunks() { ::close(fd_); }

bool IndexChunks::claim(io::TextChunk& chunk, unsigned lane) {
  if (lane != 0 || next_ >= pieces_.size()) return false;
  const Piece& p = pieces_[next_];
  chunk.index = next_;
  chunk.input_offset = p.begin;
  chunk.input_size = p.end - p.begin;
  chunk.input_unit = next_;
  chunk.decoded_offset = p.begin;
  chunk.last = next_ + 1 == pieces_.size();
  chunk.reloadable = true;
  chunk.record_start = p.record_start;
  chunk.size = 0;
  claimed_comp_ = p.comp_byte;
  ++next_;
  return true;
}

std::unique_ptr<gzip::IsalInflater> IndexChunks::take_inflater() {
  {
    std::lock_guard lock(mutex_);
    if (!inflaters_.empty()) {
      std::unique_ptr<gzip::IsalInflater> r = std::move(inflaters_.back());
      inflaters_.pop_back();
      return r;
    }
  }
  return std::make_unique<gzip::IsalInflater>();
}

void IndexChunks::give_back(std::unique_ptr<gzip::IsalInflater> inflater) {
  std::lock_guard lock(mutex_);
  inflaters_.push_back(std::move(inflater));
}

void IndexChunks::fail(const std::string& reason, uint64_t decoded_byte, uint64_t comp_byte) const {
  ErrorPosition at;
  at.file = path_;
  at.decoded_byte = static_cast<int64_t>(decoded_byte);
  at.comp_byte = static_cast<int64_t>(comp_byte);
  throw Error(ErrorKind::data, reason, at);
}

void IndexChunks::check_member(const Member& m, std::size_t number) const {
  uint32_t crc = 0;
  for (std::size_t i = 0; i < m.pieces; ++i) {
    const Piece& p = pieces_[m.first_piece + i];
    crc = static_cast<uint32_t>(crc32_combine(crc, m.crcs[i], static_cast<z_off_t>(p.end - p.begin)));
  }
  const uint8_t* t = trailers_.data() + 8 * number;
  ErrorPosition at;
  at.file = path_;
  at.comp_byte = static_cast<int64_t>(m.trailer);
  const std::string member = "gzip member " + std::to_string(number + 1);
  if (gzip::load_le32(t) != crc) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "crc32 mismatch in %s: stored %08x, computed %08x", member.c_str(),
                  gzip::load_le32(t), crc);
    throw Error(ErrorKind::data, msg, at);
  }
  if (gzip::load_le32(t + 4) != static_cast<uint32_t>(m.decoded))
    throw Error(ErrorKind::data, "isize mismatch in " + member + ": stored " + std::to_string(gzip::load_le32(t + 4)) +
                                     ", decoded " + std::to_string(static_cast<uint32_t>(m.decoded)) + " (mod 2^32)", at);
}

void IndexChunks::load(io::TextChunk& chunk) {
  const Piece& p = pieces_[chunk.input_unit];
  const IndexCheckpoint& c = index_.checkpoints[p.checkpoint];
  const std::size_t size = static_cast<std::size_t>(p.end - p.begin);
  const std::size_t skip = static_cast<std::size_t>(p.begin - c.decoded_byte);  // a part's first piece
  // The piece's compressed bytes, read with pread: a file that shrinks meanwhile is an error
  // here, where a mapping would fault (SIGBUS).
  thread_local std::vector<uint8_t> input;
  input.resize(static_cast<std::size_t>(p.comp_end - p.comp_byte));
  const std::size_t got = io::read_at(fd_, input.data(), input.size(), p.comp_byte, path_);
  if (got < input.size()) {
    ErrorPosition at;
    at.file = path_;
    at.comp_byte = static_cast<int64_t>(p.comp_byte + got);
    throw Error(ErrorKind::io, "file shrank while being read (expected " + std::to_string(comp_size_) + " bytes)", at);
  }
  const std::span<const uint8_t> comp(input);
  uint64_t bit = c.comp_bit - 8 * p.comp_byte;  // relative to input[0]
  if (c.window.empty() && bit % 8 == 0 && bit / 8 < comp.size() && comp[bit / 8] == 0x1f) {
    // A checkpoint at a member header (.gzi, rapidgzip): its DEFLATE data follows the header.
    const gzip::GzipHeader h = gzip::parse_gzip_header(comp.data() + bit / 8, comp.size() - bit / 8);
    if (h.status != gzip::HeaderStatus::ok) fail("invalid gzip header at an index checkpoint", p.begin, p.comp_byte);
    bit += 8 * uint64_t{h.size};
  }
  std::vector<uint8_t> window;
  try {
    window = c.window.bytes();
  } catch (const Error& e) {
    throw_index_error(index_.path, "checkpoint " + std::to_string(p.checkpoint + 1) + ": " + e.reason());
  }
  chunk.bytes.grow(skip + size);
  auto* out = reinterpret_cast<uint8_t*>(chunk.bytes.data());
  std::size_t produced = 0;
  std::unique_ptr<gzip::IsalInflater> inflater = take_inflater();
  inflater->start(comp, bit, window);
  const gzip::DeflateStatus s = inflater->feed_into(comp.size(), out, skip + size, produced);
  give_back(std::move(inflater));
  if (s != gzip::DeflateStatus::ok && s != gzip::DeflateStatus::truncated_input)
    fail("invalid deflate data after an index checkpoint", c.decoded_byte + produced, p.comp_byte);
  if (produced != skip + size)
    fail("the data ends before the " + std::to_string(p.end) + " decompressed bytes the index promises here "
         "(stale index?)", c.decoded_byte + produced, p.comp_byte);
  if (skip) std::memmove(out, out + skip, size);
  chunk.size = size;
  Member& m = members_[p.member];
  if (!m.checkable) return;
  const uint32_t crc = crc32_gzip_refl(0, reinterpret_cast<const uint8_t*>(chunk.data()), size);
  bool complete = false;
  {
    std::lock_guard lock(mutex_);
    const std::size_t i = chunk.input_unit - m.first_piece;
    if (!m.seen[i]) {  // a piece loaded again brings the same CRC
      m.seen[i] = 1;
      m.crcs[i] = crc;
      ++m.loaded;
    }
    complete = m.loaded == m.pieces && !m.checked;
    if (complete) m.checked = true;
  }
  if (complete) check_member(m, p.member);
}

uint64_t IndexChunks::input_bytes_read() const noexcept { return claimed_comp_; }

std::string IndexChunks::describe() const {
  return "indexed gzip (" + std::string(index_format_name(index_.format)) + " index, " +
         std::to_string(index_.checkpoints.size()) + " checkpoints) decoded by the producers with ISA-L";
}

}  // namespace fqpipe::index
