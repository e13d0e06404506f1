// fqidx_format.cpp - fqpipe's own index format, version 1 (layout: docs/index-format.md).
// Why its own: GZIDX stores each 32 KiB window raw (8 MB for a 1 GB file, 2.5 % of a short-read
// .gz) and knows nothing about records. Here windows are raw DEFLATE (~1/3 the size), each
// checkpoint carries its record number, and a checksum of the gzip file's ends plus a CRC-32
// of the index itself turn a stale or damaged index into an error.
#include <isa-l/crc.h>

#include <cstring>

#include "index/index_formats.hpp"
#include "index/le_bytes.hpp"

namespace fqpipe::index {
namespace {

constexpr uint8_t kMagic[8] = {'F', 'Q', 'I', 'D', 'X', '\r', '\n', 0x1a};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kFlagRecords = 1;
constexpr std::size_t kHeaderBytes = 56;
constexpr std::size_t kCheckpointBytes = 40;
constexpr std::size_t kCrcBytes = 4;

uint32_t le32(std::span<const uint8_t> b, std::size_t pos) {
  return static_cast<uint32_t>(b[pos]) | (b[pos + 1] << 8) | (b[pos + 2] << 16) |
         (static_cast<uint32_t>(b[pos + 3]) << 24);
}

}  // namespace

bool is_fqidx(std::span<const uint8_t> file) noexcept {
  return file.size() >= sizeof kMagic && std::memcmp(file.data(), kMagic, sizeof kMagic) == 0;
}

std::vector<uint8_t> write_fqidx(const GzipIndex& index) {
  std::vector<std::vector<uint8_t>> windows;
  windows.reserve(index.checkpoints.size());
  for (const IndexCheckpoint& c : index.checkpoints) windows.push_back(c.window.deflated());
  std::vector<uint8_t> out;
  LeWriter w(out);
  w.bytes(kMagic);
  w.u32(kVersion);
  w.u32(index.has_records ? kFlagRecords : 0);
  w.u64(index.comp_size);
  w.u64(index.decoded_size);
  w.u64(index.spacing);
  w.u64(index.has_records ? index.record_count : 0);
  w.u32(index.file_checksum);
  w.u32(static_cast<uint32_t>(index.checkpoints.size()));
  for (std::size_t i = 0; i < index.checkpoints.size(); ++i) {
    const IndexCheckpoint& c = index.checkpoints[i];
    w.u64(c.comp_bit);
    w.u64(c.decoded_byte);
    w.u64(index.has_records ? c.record_no : 0);
    w.u64(index.has_records ? c.record_byte : 0);
    w.u32(c.window.size());
    w.u32(static_cast<uint32_t>(windows[i].size()));
  }
  for (const auto& win : windows) w.bytes(win);
  w.u32(crc32_gzip_refl(0, out.data(), out.size()));
  return out;
}

GzipIndex read_fqidx(std::span<const uint8_t> file, const std::string& path) {
  if (!is_fqidx(file)) throw_index_error(path, "not an fqpipe index (bad magic bytes)");
  LeReader r(file, path);
  r.seek(sizeof kMagic);
  const uint32_t version = r.u32();
  if (version != kVersion)
    throw_index_error(path, "unsupported fqpipe index version " + std::to_string(version) + " (expected 1)");
  const uint32_t flags = r.u32();
  if (flags & ~kFlagRecords) throw_index_error(path, "unknown flag bits " + std::to_string(flags));
  GzipIndex index;
  index.format = IndexFormat::fqpipe;
  index.path = path;
  index.has_records = (flags & kFlagRecords) != 0;
  index.has_checksum = true;
  index.comp_size = r.u64();
  index.decoded_size = r.u64();
  index.spacing = r.u64();
  index.record_count = r.u64();
  index.file_checksum = r.u32();
  const uint64_t count = r.u32();
  // The file's length must be exactly what the counts say; check before reading further.
  const uint64_t table_end = kHeaderBytes + count * kCheckpointBytes;
  if (file.size() < table_end + kCrcBytes)
    throw_index_error(path, "truncated index: " + std::to_string(count) + " checkpoints need at least " +
                                std::to_string(table_end + kCrcBytes) + " bytes, the file has " +
                                std::to_string(file.size()));
  uint64_t windows_bytes = 0;
  for (uint64_t i = 0; i < count; ++i) windows_bytes += le32(file, kHeaderBytes + i * kCheckpointBytes + 36);
  if (file.size() != table_end + windows_bytes + kCrcBytes)
    throw_index_error(path, "index is " + std::to_string(file.size()) + " bytes, its counts say " +
                                std::to_string(table_end + windows_bytes + kCrcBytes) + " (truncated or padded)");
  const std::size_t body = file.size() - kCrcBytes;
  const uint32_t stored_crc = le32(file, body);
  const uint32_t crc = crc32_gzip_refl(0, file.data(), body);
  if (crc != stored_crc)
    throw_index_error(path, "index crc32 mismatch (damaged index): stored " + std::to_string(stored_crc) +
                                ", computed " + std::to_string(crc));
  std::size_t window_pos = table_end;
  index.checkpoints.resize(count);
  for (IndexCheckpoint& c : index.checkpoints) {
    c.comp_bit = r.u64();
    c.decoded_byte = r.u64();
    c.record_no = r.u64();
    c.record_byte = r.u64();
    const uint32_t size = r.u32();
    const uint32_t stored = r.u32();
    if (size > 32768 || (size == 0) != (stored == 0))
      throw_index_error(path, "checkpoint window of " + std::to_string(size) + " bytes stored in " +
                                  std::to_string(stored) + " (expected at most 32768, stored empty only when empty)");
    const auto packed = file.subspan(window_pos, stored);
    c.window = CheckpointWindow::from_deflated({packed.begin(), packed.end()}, size);
    window_pos += stored;
  }
  check_index_shape(index);
  return index;
}

}  // namespace fqpipe::index
