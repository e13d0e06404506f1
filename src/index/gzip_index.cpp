// gzip_index.cpp - the index data model: checkpoint windows (held raw or as raw DEFLATE), the
// file checksum that ties an index to its gzip file, and the shape rules all formats share.
// Windows are packed with libdeflate (level 6: 8 MB of windows for a 1 GB file in ~50 ms) and
// unpacked only when a seek uses them, so opening an index stays cheap.
#include <libdeflate.h>

#include <isa-l/crc.h>

#include <algorithm>
#include <memory>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "index/index_error.hpp"
#include "index/index_formats.hpp"

namespace fqpipe {
namespace {

constexpr uint32_t kMaxWindow = 32768;  // RFC 1951 §3.2.5: distances reach 32 KiB back
constexpr int kWindowLevel = 6;

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
};
struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
};

}  // namespace

namespace index {

void throw_index_error(const std::string& index_path, const std::string& reason) {
  ErrorPosition at;
  at.file = index_path.empty() ? "(index)" : index_path;
  throw Error(ErrorKind::data, reason, at);
}

void check_index_shape(const GzipIndex& index) {
  const auto& cps = index.checkpoints;
  auto fail = [&](std::size_t i, const std::string& what) {
    throw_index_error(index.path, "checkpoint " + std::to_string(i + 1) + " of " +
                                      std::to_string(cps.size()) + ": " + what);
  };
  if (cps.empty()) throw_index_error(index.path, "index has no checkpoints");
  if (cps.front().decoded_byte != 0)
    fail(0, "starts at decompressed byte " + std::to_string(cps.front().decoded_byte) + ", expected 0");
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const IndexCheckpoint& c = cps[i];
    if (i > 0 && c.comp_bit < cps[i - 1].comp_bit)
      fail(i, "compressed bit offset " + std::to_string(c.comp_bit) + " is before the previous one (" +
                  std::to_string(cps[i - 1].comp_bit) + ")");
    if (i > 0 && c.decoded_byte < cps[i - 1].decoded_byte)
      fail(i, "decompressed offset " + std::to_string(c.decoded_byte) + " is before the previous one (" +
                  std::to_string(cps[i - 1].decoded_byte) + ")");
    if (index.sizes_known && c.comp_bit / 8 + (c.comp_bit % 8 != 0) > index.comp_size)
      fail(i, "compressed bit offset " + std::to_string(c.comp_bit) + " is past the file's end (" +
                  std::to_string(index.comp_size) + " bytes)");
    if (index.sizes_known && c.decoded_byte > index.decoded_size)
      fail(i, "decompressed offset " + std::to_string(c.decoded_byte) + " is past the decompressed size " +
                  std::to_string(index.decoded_size));
    if (c.window.size() > kMaxWindow)
      fail(i, "window of " + std::to_string(c.window.size()) + " bytes, at most 32768 expected");
    if (c.window.size() > c.decoded_byte)
      fail(i, "window of " + std::to_string(c.window.size()) + " bytes but only " +
                  std::to_string(c.decoded_byte) + " bytes precede it");
    if (!index.has_records) continue;
    if (c.record_no == 0 || c.record_no > index.record_count + 1)
      fail(i, "record number " + std::to_string(c.record_no) + " outside 1.." +
                  std::to_string(index.record_count + 1));
    if (c.record_byte < c.decoded_byte || c.record_byte > index.decoded_size)
      fail(i, "record offset " + std::to_string(c.record_byte) + " outside " + std::to_string(c.decoded_byte) +
                  ".." + std::to_string(index.decoded_size));
    if ((c.record_no == index.record_count + 1) != (c.record_byte == index.decoded_size))
      fail(i, "record " + std::to_string(c.record_no) + " at byte " + std::to_string(c.record_byte) +
                  " disagrees with " + std::to_string(index.record_count) + " records in " +
                  std::to_string(index.decoded_size) + " bytes");
    if (i > 0 && (c.record_no < cps[i - 1].record_no || c.record_byte < cps[i - 1].record_byte))
      fail(i, "record number or offset is before the previous checkpoint's");
  }
}

}  // namespace index

CheckpointWindow CheckpointWindow::from_bytes(std::vector<uint8_t> bytes) {
  if (bytes.size() > kMaxWindow)
    throw Error(ErrorKind::usage, "a window holds at most 32768 bytes, got " + std::to_string(bytes.size()));
  CheckpointWindow w;
  w.size_ = static_cast<uint32_t>(bytes.size());
  w.data_ = std::move(bytes);
  return w;
}

CheckpointWindow CheckpointWindow::from_deflated(std::vector<uint8_t> deflated, uint32_t size) {
  CheckpointWindow w;
  w.size_ = size;
  w.data_ = std::move(deflated);
  w.packed_ = size != 0;
  return w;
}

std::vector<uint8_t> CheckpointWindow::bytes() const {
  if (!packed_) return data_;
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(libdeflate_alloc_decompressor());
  if (!d) throw std::bad_alloc();
  std::vector<uint8_t> out(size_);
  std::size_t got = 0;
  const libdeflate_result r = libdeflate_deflate_decompress(d.get(), data_.data(), data_.size(), out.data(),
                                                            out.size(), &got);
  if (r != LIBDEFLATE_SUCCESS || got != size_)
    throw Error(ErrorKind::data, "checkpoint window does not decompress to its " + std::to_string(size_) +
                                     " bytes (damaged index)");
  return out;
}

std::vector<uint8_t> CheckpointWindow::deflated() const {
  if (packed_ || size_ == 0) return packed_ ? data_ : std::vector<uint8_t>{};
  thread_local std::unique_ptr<libdeflate_compressor, CompressorDeleter> c(libdeflate_alloc_compressor(kWindowLevel));
  if (!c) throw std::bad_alloc();
  std::vector<uint8_t> out(libdeflate_deflate_compress_bound(c.get(), data_.size()));
  const std::size_t n = libdeflate_deflate_compress(c.get(), data_.data(), data_.size(), out.data(), out.size());
  out.resize(n);  // the bound guarantees n > 0
  return out;
}

const char* index_format_name(IndexFormat format) noexcept {
  switch (format) {
    case IndexFormat::fqpipe: return "fqpipe";
    case IndexFormat::gzidx: return "gzidx";
    case IndexFormat::gzi: return "gzi";
  }
  return "?";
}

uint32_t file_checksum(std::span<const uint8_t> file) noexcept {
  const std::size_t n = std::min<std::size_t>(1024, file.size());
  uint32_t crc = crc32_gzip_refl(0, file.data(), n);
  return crc32_gzip_refl(crc, file.data() + file.size() - n, n);
}

std::string default_index_path(const std::string& gz_path) { return gz_path + ".fqidx"; }

}  // namespace fqpipe
