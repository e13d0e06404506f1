// build_index.cpp - build_index(): one sequential ISA-L pass over every member of a gzip file,
// verifying CRC-32 and ISIZE, with checkpoints at DEFLATE block boundaries (DESIGN.md §6).
//
// ISA-L cannot stop at a block boundary by itself, but IsalInflater says when it rests on one:
// when the input it was given ends inside the next block's header. So the pass feeds large
// steps while no checkpoint is due, then 32-byte steps, which land inside a dynamic-Huffman
// header (~60-100 bytes for FASTQ) of nearly every block. A fixed-Huffman successor can hide a
// boundary; the search then simply goes on to the next one.
#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/isal_inflater.hpp"
#include "index/index_builder.hpp"
#include "io/mapped_file.hpp"

namespace fqpipe {
namespace {

constexpr uint64_t kSearchStep = 32;                      // compressed bytes per step near a checkpoint
constexpr uint64_t kMinStep = 4 << 10, kMaxStep = 1 << 20;  // compressed bytes per bulk step
constexpr std::size_t kKeepOutput = 4 << 20;              // decoded bytes held before compacting
constexpr uint64_t kReleaseStep = 32 << 20;               // compressed bytes between page releases

class IndexPass {
 public:
  IndexPass(const std::string& path, const IndexBuildOptions& options)
      : path_(path), file_(path), comp_(file_.bytes()), builder_(options.spacing, options.records),
        on_text_(options.on_text) {}

  GzipIndex run();

 private:
  // Damage found in a file that shrank under the mapping is the shrinking (io/mapped_file.hpp).
  [[noreturn]] void fail(const std::string& reason, uint64_t comp_byte) const {
    file_.check_intact();
    ErrorPosition at;
    at.file = path_;
    at.comp_byte = static_cast<int64_t>(comp_byte);
    at.decoded_byte = static_cast<int64_t>(decoded_);
    throw Error(ErrorKind::data, reason, at);
  }
  uint64_t member(uint64_t pos);
  uint64_t next_member_or_end(uint64_t pos) const;
  void take_output();

  std::string path_;
  io::MappedFile file_;
  std::span<const uint8_t> comp_;
  index::IndexBuilder builder_;
  std::function<void(uint64_t, std::span<const uint8_t>)> on_text_;
  gzip::IsalInflater isal_;
  gzip::ByteChunk out_;       // out_[0, done_) is this member's latest output already noted
  std::size_t done_ = 0;
  uint64_t decoded_ = 0;      // decompressed bytes of all members so far
  uint64_t member_out_ = 0;   // ... of the current member
  uint32_t crc_ = 0;
  uint64_t members_ = 0;
  uint64_t released_ = 0;     // compressed bytes whose pages were dropped from the mapping
};

// Notes the output decoded since the last call, and keeps out_ from growing without bound (the
// last 32 KiB stay: the window of a checkpoint that may come next).
void IndexPass::take_output() {
  const std::span<const uint8_t> fresh(out_.data.data() + done_, out_.size - done_);
  if (on_text_ && !fresh.empty()) file_.check_intact();  // text handed on must be the file's
  crc_ = crc32_gzip_refl(crc_, fresh.data(), fresh.size());
  builder_.note_text(decoded_, fresh);
  if (on_text_ && !fresh.empty()) on_text_(decoded_, fresh);
  decoded_ += fresh.size();
  member_out_ += fresh.size();
  done_ = out_.size;
  if (out_.size > kKeepOutput) {
    std::memmove(out_.data.data(), out_.data.data() + out_.size - 32768, 32768);
    out_.size = done_ = 32768;
  }
}

// Decodes the member whose header starts at byte `pos`; returns the byte after its trailer.
uint64_t IndexPass::member(uint64_t pos) {
  const gzip::GzipHeader h = gzip::parse_gzip_header(comp_.data() + pos, comp_.size() - pos);
  if (h.status == gzip::HeaderStatus::invalid) fail(h.reason, pos);
  if (h.status == gzip::HeaderStatus::need_more) fail("truncated gzip header", pos);
  const uint64_t body = pos + h.size;
  // Every member start is a checkpoint (empty window): readers that decode chunks in parallel
  // find the members there, and so which chunks' CRCs combine into which trailer.
  builder_.add_checkpoint(body * 8, decoded_, {});
  isal_.start(comp_, body * 8, {});
  out_.size = done_ = 0;
  member_out_ = 0;
  crc_ = 0;
  uint64_t fed = body;
  while (!isal_.finished()) {
    if (fed >= comp_.size())
      fail("truncated gzip member (compressed data ends before the final deflate block)", comp_.size());
    // Bulk steps of about 1/8 of the decoded bytes left before the next checkpoint is due
    // (FASTQ compresses 3-4x, so each step covers ~40 % of them); search steps once it is due.
    const uint64_t step = builder_.due(decoded_)
                              ? kSearchStep
                              : std::clamp<uint64_t>((builder_.next_due() - decoded_) / 8, kMinStep, kMaxStep);
    fed = std::min<uint64_t>(fed + step, comp_.size());
    const gzip::DeflateStatus s = isal_.feed_until(fed, out_);
    take_output();
    if (s == gzip::DeflateStatus::truncated_input)
      fail("truncated gzip member (compressed data ends before the final deflate block)", comp_.size());
    if (s != gzip::DeflateStatus::ok) fail("invalid deflate data in gzip member " + std::to_string(members_ + 1), fed);
    if (fed > released_ + kReleaseStep) {  // keep the resident part of the mapping small
      released_ = fed - kReleaseStep / 2;
      file_.release_before(static_cast<std::size_t>(released_));
    }
    if (isal_.finished() || !builder_.due(decoded_)) continue;
    if (const std::optional<uint64_t> bit = isal_.boundary_bit()) {
      const std::size_t w = static_cast<std::size_t>(std::min<uint64_t>(member_out_, 32768));
      builder_.add_checkpoint(*bit, decoded_, {out_.data.data() + out_.size - w, w});
    }
  }
  const uint64_t trailer = (*isal_.boundary_bit() + 7) / 8;
  if (trailer + 8 > comp_.size()) fail("truncated gzip trailer (stream ends inside the crc32/isize)", trailer);
  const gzip::TrailerCheck check = gzip::check_gzip_trailer(comp_.data() + trailer, members_ + 1, crc_, member_out_);
  if (!check.ok()) fail(check.reason, trailer + check.offset_in_trailer);
  const std::string size_error = gzip::check_bgzf_block_size(h, members_ + 1, trailer + 8 - pos);
  if (!size_error.empty()) fail(size_error, pos);
  ++members_;
  return trailer + 8;
}

// After a member: the next member's header, or the end (zero padding up to it is accepted, as
// gzip does). Returns comp_.size() at the end.
uint64_t IndexPass::next_member_or_end(uint64_t pos) const {
  if (pos >= comp_.size() || comp_[pos] == 0x1f) return pos;
  for (uint64_t i = pos; i < comp_.size(); ++i)
    if (comp_[i] != 0) fail("trailing garbage after gzip member " + std::to_string(members_), i);
  return comp_.size();
}

GzipIndex IndexPass::run() {
  if (!gzip::has_gzip_magic(comp_.data(), comp_.size()))
    fail("not a gzip file (an index is only needed for gzip; plain files seek directly)", 0);
  for (uint64_t pos = 0; (pos = next_member_or_end(pos)) < comp_.size();) pos = member(pos);
  const uint32_t checksum = file_checksum(comp_);
  file_.check_intact();  // after the last read: the index describes what was there
  return builder_.finish(comp_.size(), decoded_, checksum);
}

}  // namespace

GzipIndex build_index(const std::string& gz_path, const IndexBuildOptions& options) {
  if (options.spacing < 32768)
    throw Error(ErrorKind::usage, "index spacing must be at least 32768 bytes, got " + std::to_string(options.spacing));
  return IndexPass(gz_path, options).run();
}

}  // namespace fqpipe
