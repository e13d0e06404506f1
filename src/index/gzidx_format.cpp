// gzidx_format.cpp - GZIDX, the index format of indexed_gzip (zran) and rapidgzip's default
// export (FORMATS.md). Byte-compatible both ways: we read what they write (versions 0 and 1) and
// write version 1 as indexed_gzip 1.7 does, so `IndexedGzipFile.import_index` accepts ours.
// Windows are stored raw, 32 KiB each, padded with zeros at the front when shorter.
#include <algorithm>
#include <cstring>
#include <limits>

#include "fqpipe/error.hpp"
#include "index/index_formats.hpp"
#include "index/le_bytes.hpp"

namespace fqpipe::index {
namespace {

constexpr uint8_t kMagic[5] = {'G', 'Z', 'I', 'D', 'X'};
constexpr uint32_t kWindow = 32768;

}  // namespace

bool is_gzidx(std::span<const uint8_t> file) noexcept {
  return file.size() >= sizeof kMagic && std::memcmp(file.data(), kMagic, sizeof kMagic) == 0;
}

std::vector<uint8_t> write_gzidx(const GzipIndex& index) {
  if (!index.sizes_known)
    throw Error(ErrorKind::usage, "cannot write GZIDX: the index does not know the file's sizes (read from .gzi)");
  std::vector<uint8_t> out;
  LeWriter w(out);
  w.bytes(kMagic);
  w.u8(1);  // version
  w.u8(0);  // flags
  w.u64(index.comp_size);
  w.u64(index.decoded_size);
  w.u32(static_cast<uint32_t>(std::min<uint64_t>(index.spacing, std::numeric_limits<uint32_t>::max())));
  w.u32(kWindow);
  w.u32(static_cast<uint32_t>(index.checkpoints.size()));
  for (const IndexCheckpoint& c : index.checkpoints) {
    w.u64((c.comp_bit + 7) / 8);
    w.u64(c.decoded_byte);
    w.u8(static_cast<uint8_t>((8 - c.comp_bit % 8) % 8));
    w.u8(c.window.empty() ? 0 : 1);
  }
  for (const IndexCheckpoint& c : index.checkpoints) {
    if (c.window.empty()) continue;
    const std::vector<uint8_t> bytes = c.window.bytes();
    w.zeros(kWindow - bytes.size());
    w.bytes(bytes);
  }
  return out;
}

GzipIndex read_gzidx(std::span<const uint8_t> file, const std::string& path) {
  if (!is_gzidx(file)) throw_index_error(path, "not a GZIDX index (bad magic bytes)");
  LeReader r(file, path);
  r.seek(sizeof kMagic);
  const uint8_t version = r.u8();
  if (version > 1)
    throw_index_error(path, "unsupported GZIDX version " + std::to_string(version) + " (expected 0 or 1)");
  if (version == 1) {
    const uint8_t flags = r.u8();
    if (flags != 0) throw_index_error(path, "unknown GZIDX flags " + std::to_string(flags) + " (expected 0)");
  }
  GzipIndex index;
  index.format = IndexFormat::gzidx;
  index.path = path;
  index.comp_size = r.u64();
  index.decoded_size = r.u64();
  index.spacing = r.u32();
  const uint32_t window = r.u32();
  const uint64_t count = r.u32();
  if (window != kWindow)
    throw_index_error(path, "GZIDX window size " + std::to_string(window) + " (expected 32768)");
  const std::size_t point_bytes = version == 1 ? 18 : 17;
  const uint64_t table_end = r.pos() + count * point_bytes;
  if (file.size() < table_end)
    throw_index_error(path, "truncated index: " + std::to_string(count) + " checkpoints need at least " +
                                std::to_string(table_end) + " bytes, the file has " + std::to_string(file.size()));
  // Version 0 stores a window for every checkpoint but the first; version 1 says which.
  uint64_t windows = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t flag = version == 1 ? file[r.pos() + i * point_bytes + 17] : (i > 0);
    if (flag > 1)
      throw_index_error(path, "checkpoint " + std::to_string(i + 1) + ": invalid window flag " +
                                  std::to_string(flag) + " (expected 0 or 1)");
    windows += flag;
  }
  if (file.size() != table_end + windows * kWindow)
    throw_index_error(path, "index is " + std::to_string(file.size()) + " bytes, its counts say " +
                                std::to_string(table_end + windows * kWindow) + " (truncated or padded)");
  std::size_t window_pos = table_end;
  index.checkpoints.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    IndexCheckpoint& c = index.checkpoints[i];
    const uint64_t byte = r.u64();
    c.decoded_byte = r.u64();
    const uint8_t bits = r.u8();
    const uint8_t has_window = version == 1 ? r.u8() : (i > 0);
    if (bits > 7 || (bits > 0 && byte == 0) || byte > (UINT64_MAX >> 3))
      throw_index_error(path, "checkpoint " + std::to_string(i + 1) + ": invalid bit count " +
                                  std::to_string(bits) + " at compressed byte " + std::to_string(byte));
    c.comp_bit = byte * 8 - bits;
    if (!has_window) continue;
    // Only the last min(32 KiB, decoded_byte) bytes can be output; the rest is front padding.
    const std::size_t keep = static_cast<std::size_t>(std::min<uint64_t>(kWindow, c.decoded_byte));
    const auto bytes = file.subspan(window_pos + kWindow - keep, keep);
    c.window = CheckpointWindow::from_bytes({bytes.begin(), bytes.end()});
    window_pos += kWindow;
  }
  check_index_shape(index);
  return index;
}

}  // namespace fqpipe::index
