// gzi_format.cpp - bgzip's .gzi (read only): the BGZF member starts as (compressed, decompressed)
// byte pairs, the first member (0, 0) left out. BGZF members are independent, so every
// checkpoint sits on a member header and needs no window. The format records neither sizes nor
// a checksum; IndexedGzipReader checks each checkpoint against the file when it uses it.
#include "index/index_formats.hpp"
#include "index/le_bytes.hpp"

namespace fqpipe::index {

bool looks_like_gzi(std::span<const uint8_t> file) noexcept {
  if (file.size() < 8) return false;
  uint64_t count = 0;
  for (int i = 0; i < 8; ++i) count |= static_cast<uint64_t>(file[i]) << (8 * i);
  return count <= (file.size() - 8) / 16 && file.size() == 8 + count * 16;
}

GzipIndex read_gzi(std::span<const uint8_t> file, const std::string& path) {
  LeReader r(file, path);
  const uint64_t count = r.u64();
  if (count > r.left() / 16 || r.left() != count * 16)
    throw_index_error(path, "index is " + std::to_string(file.size()) + " bytes, a .gzi of " +
                                std::to_string(count) + " entries has " +
                                (count > file.size() ? std::string("more") : std::to_string(8 + count * 16)));
  GzipIndex index;
  index.format = IndexFormat::gzi;
  index.path = path;
  index.sizes_known = false;
  index.checkpoints.resize(count + 1);  // [0] is the first member at (0, 0)
  for (uint64_t i = 1; i <= count; ++i) {
    IndexCheckpoint& c = index.checkpoints[i];
    const uint64_t comp_byte = r.u64();
    c.decoded_byte = r.u64();
    if (comp_byte <= index.checkpoints[i - 1].comp_bit / 8 || comp_byte > (UINT64_MAX >> 3))
      throw_index_error(path, "entry " + std::to_string(i) + ": compressed offset " + std::to_string(comp_byte) +
                                  " does not follow the previous one");
    c.comp_bit = comp_byte * 8;
  }
  check_index_shape(index);
  return index;
}

}  // namespace fqpipe::index
