// indexed_gzip_reader.cpp - IndexedGzipReader: seek by decompressed byte or record number,
// then decode forward with ISA-L from the nearest checkpoint and its window, across members.
//
// Phases: `inflating` a member's DEFLATE data; `between_members` before a member header (or
// the end); `at_end`. A member is CRC-checked only when decoded from its header (the trailer's
// CRC covers the whole member). A checkpoint at decompressed byte 0 always restarts from the
// file's first header, so a read from the start is fully verified.
#include <algorithm>
#include <cstring>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/isal_inflater.hpp"
#include "index/index_error.hpp"
#include "io/mapped_file.hpp"

#include <isa-l/crc.h>

namespace fqpipe {
namespace {

constexpr uint64_t kFeedStep = 64 << 10;  // compressed bytes per decode step (~200 KB of FASTQ)
constexpr uint64_t kReleaseStep = 4 << 20;  // mapped input dropped behind the decoder in such steps

}  // namespace

struct IndexedGzipReader::State {
  enum class Phase { inflating, between_members, at_end };

  State(const std::string& gz_path, GzipIndex idx)
      : path(gz_path), file(gz_path), comp(file.bytes()), index(std::move(idx)) {}

  std::string path;
  io::MappedFile file;
  std::span<const uint8_t> comp;
  GzipIndex index;
  uint64_t size = 0;  // decompressed size

  Phase phase = Phase::at_end;
  gzip::IsalInflater isal;
  gzip::ByteChunk out;
  std::vector<uint8_t> window;  // of the checkpoint decoding started at (ISA-L may refer to it)
  std::size_t out_pos = 0;      // next unread byte of out
  uint64_t out_base = 0;        // decompressed offset of out's first byte
  uint64_t fed = 0;             // compressed bytes handed to the inflater
  uint64_t released = 0;        // mapped input before this was dropped (RSS stays small)
  uint64_t next_header = 0;     // between_members: where the next member (or the end) is
  uint64_t member_header = 0;   // compressed offset of the current member's header, when verify
  gzip::GzipHeader header;
  bool verify = false;          // the current member was decoded from its header
  uint32_t crc = 0;
  uint64_t member_out = 0;

  uint64_t pos() const noexcept { return out_base + out_pos; }

  // Both errors are first checked against the file having shrunk under the mapping, whose
  // vanished pages read as zeros (io/mapped_file.hpp): then that is the error.
  [[noreturn]] void data_error(const std::string& reason, uint64_t comp_byte) const {
    file.check_intact();
    ErrorPosition at;
    at.file = path;
    at.decoded_byte = static_cast<int64_t>(out_base + out.size);
    at.comp_byte = static_cast<int64_t>(comp_byte);
    throw Error(ErrorKind::data, reason, at);
  }
  [[noreturn]] void stale(const std::string& reason) const {
    file.check_intact();
    index::throw_index_error(index.path, reason + " (stale index, or one made for another file than " + path + ")");
  }

  void check_fit();
  void measure_gzi();
  void check_gzi_checkpoint(std::size_t k) const;
  void start_at(std::size_t k);
  bool fill();
  void start_member();
  void finish_member();
  void skip(uint64_t n);
  void skip_lines(uint64_t lines, uint64_t record_no);
};

void IndexedGzipReader::State::check_fit() {
  if (index.sizes_known) {
    if (index.comp_size != comp.size())
      stale("the index is for a compressed file of " + std::to_string(index.comp_size) + " bytes, " + path +
            " has " + std::to_string(comp.size()));
    if (index.has_checksum && index.file_checksum != file_checksum(comp))
      stale("checksum of the first and last KiB of " + path + " differs from the index's");
    size = index.decoded_size;
  } else {
    measure_gzi();
  }
  for (const IndexCheckpoint& c : index.checkpoints)
    if (c.comp_bit / 8 > comp.size())
      stale("a checkpoint at compressed byte " + std::to_string(c.comp_bit / 8) + " is past the end of " + path);
}

// A .gzi records no sizes: the decompressed size is the last entry's offset plus the ISIZE of
// each BGZF member from there to the end (usually one data member and the empty EOF member).
void IndexedGzipReader::State::measure_gzi() {
  const IndexCheckpoint& last = index.checkpoints.back();
  uint64_t p = last.comp_bit / 8, d = last.decoded_byte;
  while (p < comp.size()) {
    const auto rest = comp.subspan(p);
    if (std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0; })) break;  // zero padding
    const gzip::GzipHeader h = gzip::parse_gzip_header(comp.data() + p, comp.size() - p);
    if (h.status != gzip::HeaderStatus::ok || !h.bgzf || p + h.bgzf_block_size > comp.size() ||
        h.bgzf_block_size < h.size + 8)
      stale("no BGZF member at compressed byte " + std::to_string(p) + " where the .gzi leads");
    d += gzip::load_le32(comp.data() + p + h.bgzf_block_size - 4);
    p += h.bgzf_block_size;
  }
  size = d;
}

// A .gzi entry must sit on a BGZF member header whose ISIZE reaches the next entry.
void IndexedGzipReader::State::check_gzi_checkpoint(std::size_t k) const {
  const IndexCheckpoint& c = index.checkpoints[k];
  const uint64_t p = c.comp_bit / 8;
  const gzip::GzipHeader h =
      p < comp.size() ? gzip::parse_gzip_header(comp.data() + p, comp.size() - p) : gzip::GzipHeader{};
  if (h.status != gzip::HeaderStatus::ok || !h.bgzf || p + h.bgzf_block_size > comp.size() ||
      h.bgzf_block_size < h.size + 8)
    stale("entry " + std::to_string(k) + " (compressed byte " + std::to_string(p) + ") is not a BGZF member header");
  if (k + 1 == index.checkpoints.size()) return;
  const IndexCheckpoint& next = index.checkpoints[k + 1];
  const uint64_t isize = gzip::load_le32(comp.data() + p + h.bgzf_block_size - 4);
  if (next.comp_bit / 8 < p + h.bgzf_block_size ||
      (next.comp_bit / 8 == p + h.bgzf_block_size && next.decoded_byte != c.decoded_byte + isize))
    stale("entry " + std::to_string(k + 1) + " (compressed byte " + std::to_string(next.comp_bit / 8) +
          ", decompressed " + std::to_string(next.decoded_byte) + ") does not follow the BGZF member before it");
}

void IndexedGzipReader::State::start_at(std::size_t k) {
  const IndexCheckpoint& c = index.checkpoints[k];
  out.size = out_pos = 0;
  out_base = c.decoded_byte;
  const uint64_t byte = c.comp_bit / 8;
  if (c.decoded_byte == 0) {  // from the very first header: every member verified
    out_base = 0;
    next_header = 0;
    phase = Phase::between_members;
    return;
  }
  if (c.decoded_byte >= size) {
    out_base = size;
    phase = Phase::at_end;
    return;
  }
  if (index.format == IndexFormat::gzi) check_gzi_checkpoint(k);
  // A DEFLATE stream never starts with byte 0x1f (block type 3), so this is a member header.
  if (c.window.empty() && c.comp_bit % 8 == 0 && byte < comp.size() && comp[byte] == 0x1f) {
    next_header = byte;
    phase = Phase::between_members;
    return;
  }
  try {
    window = c.window.bytes();
  } catch (const Error& e) {
    index::throw_index_error(index.path, "checkpoint " + std::to_string(k + 1) + ": " + e.reason());
  }
  isal.start(comp, c.comp_bit, window);
  fed = byte;
  verify = false;
  phase = Phase::inflating;
}

void IndexedGzipReader::State::start_member() {
  const uint64_t p = next_header;
  header = gzip::parse_gzip_header(comp.data() + p, comp.size() - p);
  if (header.status == gzip::HeaderStatus::invalid) data_error(header.reason, p);
  if (header.status == gzip::HeaderStatus::need_more) data_error("truncated gzip header", p);
  member_header = p;
  window.clear();
  isal.start(comp, (p + header.size) * 8, {});
  fed = p + header.size;
  verify = true;
  crc = 0;
  member_out = 0;
  phase = Phase::inflating;
}

void IndexedGzipReader::State::finish_member() {
  const uint64_t trailer = (*isal.boundary_bit() + 7) / 8;
  if (trailer + 8 > comp.size()) data_error("truncated gzip trailer (stream ends inside the crc32/isize)", trailer);
  if (verify) {
    const std::string where = "gzip member at compressed byte " + std::to_string(member_header);
    const uint32_t stored_crc = gzip::load_le32(comp.data() + trailer);
    const uint32_t stored_isize = gzip::load_le32(comp.data() + trailer + 4);
    if (stored_crc != crc)
      data_error("crc32 mismatch in " + where + ": stored " + std::to_string(stored_crc) + ", computed " +
                     std::to_string(crc), trailer);
    if (stored_isize != static_cast<uint32_t>(member_out))
      data_error("isize mismatch in " + where + ": stored " + std::to_string(stored_isize) + ", decoded " +
                     std::to_string(static_cast<uint32_t>(member_out)) + " (mod 2^32)", trailer + 4);
    if (header.bgzf && header.bgzf_block_size != trailer + 8 - member_header)
      data_error("bgzf block size field of " + where + " says " + std::to_string(header.bgzf_block_size) +
                     " bytes, the member takes " + std::to_string(trailer + 8 - member_header), member_header);
  }
  next_header = trailer + 8;
  phase = Phase::between_members;
}

// Decodes the next output into `out` (which must be fully read); false at the end.
bool IndexedGzipReader::State::fill() {
  out_base += out.size;
  out.size = out_pos = 0;
  for (;;) {
    switch (phase) {
      case Phase::at_end: return false;
      case Phase::between_members: {
        const uint64_t p = next_header;
        if (p < comp.size() && comp[p] == 0x1f) {
          start_member();
          break;
        }
        for (uint64_t i = p; i < comp.size(); ++i)
          if (comp[i] != 0) data_error("trailing garbage after a gzip member", i);
        phase = Phase::at_end;
        if (out_base != size)
          stale("the index records " + std::to_string(size) + " decompressed bytes, the file has " +
                std::to_string(out_base));
        file.check_intact();
        return false;
      }
      case Phase::inflating: {
        fed = std::min<uint64_t>(fed + kFeedStep, comp.size());
        if (fed < released) released = fed / kFeedStep * kFeedStep;  // after a seek back
        if (fed > released + kReleaseStep) {  // ISA-L never reads input it has passed again
          file.release(static_cast<std::size_t>(released), static_cast<std::size_t>(fed - kFeedStep));
          released = fed - kFeedStep;
        }
        const gzip::DeflateStatus s = isal.feed_until(fed, out);
        if (s == gzip::DeflateStatus::truncated_input)
          data_error("truncated gzip member (compressed data ends before the final deflate block)", comp.size());
        if (s != gzip::DeflateStatus::ok) data_error("invalid deflate data", fed);
        if (verify) {
          crc = crc32_gzip_refl(crc, out.data.data(), out.size);
          member_out += out.size;
        }
        if (out_base + out.size > size)
          stale("the file decompresses past the " + std::to_string(size) + " bytes the index records");
        if (isal.finished()) finish_member();
        if (out.size > 0) {
          file.check_intact();  // before any of it is handed on
          return true;
        }
        break;
      }
    }
  }
}

void IndexedGzipReader::State::skip(uint64_t n) {
  while (n > 0) {
    if (out_pos == out.size && !fill())
      stale("the file ends at decompressed byte " + std::to_string(pos()) + ", the index records " +
            std::to_string(size));
    const uint64_t take = std::min<uint64_t>(n, out.size - out_pos);
    out_pos += static_cast<std::size_t>(take);
    n -= take;
  }
}

void IndexedGzipReader::State::skip_lines(uint64_t lines, uint64_t record_no) {
  while (lines > 0) {
    if (out_pos == out.size && !fill())
      stale("the data ends before record " + std::to_string(record_no) + " that the index promises");
    const uint8_t* from = out.data.data() + out_pos;
    const void* nl = std::memchr(from, '\n', out.size - out_pos);
    if (!nl) {
      out_pos = out.size;
      continue;
    }
    out_pos += static_cast<std::size_t>(static_cast<const uint8_t*>(nl) - from) + 1;
    --lines;
  }
}

IndexedGzipReader::IndexedGzipReader(const std::string& gz_path, GzipIndex index)
    : state_(std::make_unique<State>(gz_path, std::move(index))) {
  state_->check_fit();
  state_->start_at(0);
}

IndexedGzipReader::~IndexedGzipReader() = default;
IndexedGzipReader::IndexedGzipReader(IndexedGzipReader&&) noexcept = default;
IndexedGzipReader& IndexedGzipReader::operator=(IndexedGzipReader&&) noexcept = default;

void IndexedGzipReader::seek(uint64_t decoded_byte) {
  State& s = *state_;
  if (decoded_byte > s.size)
    throw Error(ErrorKind::usage, "cannot seek to decompressed byte " + std::to_string(decoded_byte) + ": " +
                                      s.path + " has " + std::to_string(s.size));
  const auto& cps = s.index.checkpoints;
  const auto after = std::upper_bound(cps.begin(), cps.end(), decoded_byte,
                                      [](uint64_t b, const IndexCheckpoint& c) { return b < c.decoded_byte; });
  const std::size_t k = static_cast<std::size_t>(after - cps.begin()) - 1;
  // Going on from here is no more work than restarting at the checkpoint.
  if (s.pos() > decoded_byte || s.pos() < cps[k].decoded_byte) s.start_at(k);
  s.skip(decoded_byte - s.pos());
}

void IndexedGzipReader::seek_record(uint64_t record_no) {
  State& s = *state_;
  if (!s.index.has_records)
    throw Error(ErrorKind::usage, "the index " + (s.index.path.empty() ? std::string("in use") : s.index.path) +
                                      " has no record numbers (a " + index_format_name(s.index.format) +
                                      " index; `fqpipe index` builds one that has)");
  if (record_no == 0 || record_no > s.index.record_count)
    throw Error(ErrorKind::usage, "no record " + std::to_string(record_no) + ": " + s.path + " has records 1.." +
                                      std::to_string(s.index.record_count));
  const auto& cps = s.index.checkpoints;
  const auto after = std::upper_bound(cps.begin(), cps.end(), record_no,
                                      [](uint64_t n, const IndexCheckpoint& c) { return n < c.record_no; });
  const IndexCheckpoint& c = *(after - 1);
  seek(c.record_byte);
  s.skip_lines(4 * (record_no - c.record_no), record_no);
  if ((s.out_pos == s.out.size && !s.fill()) || s.out.data.data()[s.out_pos] != '@')
    s.stale("record " + std::to_string(record_no) + " does not start with '@' at decompressed byte " +
            std::to_string(s.pos()));
}

std::size_t IndexedGzipReader::read(void* buffer, std::size_t capacity) {
  State& s = *state_;
  auto* dst = static_cast<uint8_t*>(buffer);
  std::size_t done = 0;
  while (done < capacity) {
    if (s.out_pos == s.out.size && !s.fill()) break;
    const std::size_t take = std::min(capacity - done, s.out.size - s.out_pos);
    std::memcpy(dst + done, s.out.data.data() + s.out_pos, take);
    s.out_pos += take;
    done += take;
  }
  return done;
}

uint64_t IndexedGzipReader::tell() const noexcept { return state_->pos(); }
uint64_t IndexedGzipReader::size() const noexcept { return state_->size; }
const GzipIndex& IndexedGzipReader::index() const noexcept { return state_->index; }

}  // namespace fqpipe
