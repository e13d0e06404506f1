// index_formats.hpp - the byte layouts fqpipe reads and writes (FORMATS.md, docs/index-format.md):
// each reader parses a whole index file held in memory and checks every field; each writer
// returns the file's bytes. check_index_shape() holds the rules every format shares.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fqpipe/index.hpp"

namespace fqpipe::index {

/// fqpipe's own format (.fqidx), version 1.
GzipIndex read_fqidx(std::span<const uint8_t> file, const std::string& path);
std::vector<uint8_t> write_fqidx(const GzipIndex& index);
/// True when `file` starts with the .fqidx magic.
bool is_fqidx(std::span<const uint8_t> file) noexcept;

/// GZIDX of indexed_gzip / rapidgzip: versions 0 and 1 read, version 1 written.
GzipIndex read_gzidx(std::span<const uint8_t> file, const std::string& path);
std::vector<uint8_t> write_gzidx(const GzipIndex& index);
bool is_gzidx(std::span<const uint8_t> file) noexcept;

/// bgzip's .gzi (read only).
GzipIndex read_gzi(std::span<const uint8_t> file, const std::string& path);
/// True when the length of `file` matches the entry count it starts with.
bool looks_like_gzi(std::span<const uint8_t> file) noexcept;

/// The rules every index obeys, whatever its format: at least one checkpoint, the first at
/// decompressed byte 0; compressed and decompressed offsets non-decreasing and inside the
/// recorded sizes; windows of at most 32 KiB and no longer than the output before them;
/// record numbers consistent. Throws the index error of `index.path` naming the checkpoint.
void check_index_shape(const GzipIndex& index);

}  // namespace fqpipe::index
