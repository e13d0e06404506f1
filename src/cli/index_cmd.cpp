// index_cmd.cpp - `fqpipe index` (build or show an index) and `fqpipe decompress --offset
// --length` (a byte range, through an index when there is one). Thin: the library builds,
// loads, checks and seeks; these functions choose paths and print.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/output_file.hpp"
#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"
#include "gzip/decoded_input.hpp"

namespace fqpipe::cli {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string known(bool is_known, uint64_t value) { return is_known ? std::to_string(value) : "unknown"; }

void show_json(const GzipIndex& index) {
  JsonObject o;
  o.add("index", index.path);
  o.add("format", index_format_name(index.format));
  o.add_raw("compressed_size", index.sizes_known ? std::to_string(index.comp_size) : "null");
  o.add_raw("decompressed_size", index.sizes_known ? std::to_string(index.decoded_size) : "null");
  o.add("spacing", index.spacing);
  o.add_raw("records", index.has_records ? std::to_string(index.record_count) : "null");
  o.add_raw("file_checksum", index.has_checksum ? std::to_string(index.file_checksum) : "null");
  std::string cps = "[";
  for (const IndexCheckpoint& c : index.checkpoints) {
    JsonObject p;
    p.add("comp_bit", c.comp_bit);
    p.add("decoded_byte", c.decoded_byte);
    p.add_raw("record_no", index.has_records ? std::to_string(c.record_no) : "null");
    p.add_raw("record_byte", index.has_records ? std::to_string(c.record_byte) : "null");
    p.add("window", c.window.size());
    cps += (cps.size() > 1 ? "," : "") + p.str();
  }
  o.add_raw("checkpoints", cps + "]");
  std::printf("%s\n", o.str().c_str());
}

void show_table(const GzipIndex& index) {
  std::printf("index             %s\n", index.path.c_str());
  std::printf("format            %s\n", index_format_name(index.format));
  std::printf("compressed size   %s\n", known(index.sizes_known, index.comp_size).c_str());
  std::printf("decompressed size %s\n", known(index.sizes_known, index.decoded_size).c_str());
  std::printf("spacing           %llu\n", static_cast<unsigned long long>(index.spacing));
  std::printf("records           %s\n", known(index.has_records, index.record_count).c_str());
  if (index.has_checksum) std::printf("file checksum     %08x\n", index.file_checksum);
  std::printf("checkpoints       %zu\n\n", index.checkpoints.size());
  Table t;
  for (const IndexCheckpoint& c : index.checkpoints) {
    t.begin_row();
    t.cell("comp_bit", std::to_string(c.comp_bit));
    const std::string bits = c.comp_bit % 8 ? "+" + std::to_string(c.comp_bit % 8) + "b" : "";
    t.cell("comp_byte", std::to_string(c.comp_bit / 8) + bits);
    t.cell("decoded_byte", std::to_string(c.decoded_byte));
    t.cell("record_no", index.has_records ? std::to_string(c.record_no) : "-");
    t.cell("record_byte", index.has_records ? std::to_string(c.record_byte) : "-");
    t.cell("window", std::to_string(c.window.size()));
  }
  t.print_table(stdout);
}

// Copies `length` bytes (to the end when `to_end`) from the reader's position to `out`.
void copy_range(IndexedGzipReader& reader, uint64_t length, bool to_end, OutputFile& out) {
  std::vector<char> buf(1 << 20);
  while (to_end || length > 0) {
    const std::size_t want = to_end ? buf.size() : static_cast<std::size_t>(std::min<uint64_t>(length, buf.size()));
    const std::size_t n = reader.read(buf.data(), want);
    if (n == 0) break;
    out.write({buf.data(), n});
    length -= to_end ? 0 : n;
  }
}

// Without an index: decode from the start, drop `offset` bytes, keep `length`.
void decode_range(const std::string& file, uint64_t offset, uint64_t length, bool to_end, OutputFile& out) {
  gzip::DecoderOptions decoder;
  gzip::DecodedInput in = gzip::open_decoded(file, decoder);
  if (file != "-" && offset > 0 && in.format != InputFormat::plain)
    std::fprintf(stderr, "fqpipe: note: %s has no index, decoding from the start (`fqpipe index %s` makes this fast)\n",
                 file.c_str(), file.c_str());
  uint64_t at = 0;
  while (const io::TextBuffer* b = in.text->next()) {
    const uint64_t begin = std::max(at, offset);
    const uint64_t end = to_end ? at + b->size : std::min(at + b->size, offset + length);
    if (begin < end) out.write({b->data + (begin - at), static_cast<std::size_t>(end - begin)});
    at += b->size;
    if (!to_end && at >= offset + length) return;
  }
  if (offset > at)
    throw Error(ErrorKind::usage, "cannot seek to decompressed byte " + std::to_string(offset) + ": " + file +
                                      " has " + std::to_string(at));
}

}  // namespace

int run_index(const IndexOptions& o) {
  if (o.show) {
    if (o.file.empty()) throw Error(ErrorKind::usage, "index --show: the index FILE to print is required");
    const GzipIndex index = load_index(o.file);
    if (o.json) show_json(index);
    else show_table(index);
    return 0;
  }
  if (o.file.empty()) throw Error(ErrorKind::usage, "index: the gzip FILE to index is required");
  const auto start = std::chrono::steady_clock::now();
  IndexBuildOptions build;
  build.spacing = o.spacing;
  const GzipIndex index = build_index(o.file, build);
  const std::string out = o.output.empty() ? default_index_path(o.file) : o.output;
  const IndexFormat format = o.format == "gzidx" ? IndexFormat::gzidx : IndexFormat::fqpipe;
  save_index(index, out, format);
  if (o.verbose) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "fqpipe: %s: %zu checkpoints, %s records, %.2f s (%.0f MB/s decompressed), wrote %s (%s)\n",
                 o.file.c_str(), index.checkpoints.size(), known(index.has_records, index.record_count).c_str(), s,
                 static_cast<double>(index.decoded_size) / 1e6 / std::max(s, 1e-9), out.c_str(),
                 index_format_name(format));
  }
  return 0;
}

int run_decompress_range(const CommonOptions& o, const std::string& output, const RangeOptions& r) {
  const std::string& file = o.files.front();
  std::string index_path = r.index;
  if (index_path.empty() && file != "-" && file_exists(default_index_path(file))) index_path = default_index_path(file);
  OutputFile out(output);
  try {
    if (!index_path.empty()) {
      const auto start = std::chrono::steady_clock::now();
      IndexedGzipReader reader(file, load_index(index_path));
      reader.seek(r.offset);
      copy_range(reader, r.length, !r.has_length, out);
      if (o.verbose)
        std::fprintf(stderr, "fqpipe: %s: index %s, seek and copy in %.1f ms\n", file.c_str(), index_path.c_str(),
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    } else {
      decode_range(file, r.offset, r.length, !r.has_length, out);
    }
    out.commit();
  } catch (const OutputClosed&) {
    return 0;
  }
  return 0;
}

}  // namespace fqpipe::cli
