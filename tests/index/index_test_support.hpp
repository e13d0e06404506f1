// index_test_support.hpp - inputs and references shared by the index tests (issue #5): FASTQ
// text compressed in several ways, the offsets where its records start, an independent zlib
// decoder started at a checkpoint, and the python3 that has indexed_gzip. Everything expected
// comes from zlib or the generator, never from fqpipe.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "fqpipe/index.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

namespace fqpipe::testing {

/// A gzip file on disk and the text it holds.
struct Sample {
  std::string name;
  std::string path;
  std::string text;
};

/// Deterministic FASTQ of about `records` records (CRLF-free, comments in some headers).
inline std::string fastq_text(std::size_t records, uint64_t seed, bool final_newline = true) {
  testlib::GenOptions o;
  o.records = records;
  o.seed = seed;
  o.min_length = 20;
  o.max_length = 160;
  o.header_comments = 0.3;
  o.no_final_newline = !final_newline;
  return testlib::generate_fastq(o).text;
}

/// `text` cut at `pieces - 1` arbitrary byte positions (not record boundaries), each piece its
/// own gzip member at `level`.
inline std::string multi_member(const std::string& text, int pieces, int level, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> cuts{0, text.size()};
  for (int i = 1; i < pieces; ++i) cuts.push_back(rng() % (text.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  std::string out;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
    out += testlib::gzip_member(std::string_view(text).substr(cuts[i], cuts[i + 1] - cuts[i]), level);
  return out;
}

/// Decompressed offsets of every record's '@' (4 lines per record).
inline std::vector<uint64_t> record_starts(const std::string& text) {
  std::vector<uint64_t> starts;
  uint64_t lines = 0;
  if (!text.empty()) starts.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' && ++lines % 4 == 0 && i + 1 < text.size()) starts.push_back(i + 1);
  return starts;
}

/// Raw DEFLATE decoded with zlib from bit `comp_bit` of `comp` with `window` as the preceding
/// output, up to `want` bytes (fewer if the stream ends). Independent of ISA-L.
inline std::string zlib_from_checkpoint(const std::string& comp, uint64_t comp_bit, const std::vector<uint8_t>& window,
                                        std::size_t want) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return "inflateInit2 failed";
  const std::size_t byte = comp_bit / 8;
  const int bits = static_cast<int>(comp_bit % 8);
  std::size_t at = byte;
  if (bits) {
    inflatePrime(&zs, 8 - bits, static_cast<uint8_t>(comp[byte]) >> bits);
    ++at;
  }
  if (!window.empty()) inflateSetDictionary(&zs, window.data(), static_cast<uInt>(window.size()));
  std::string out(want, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(comp.data() + at));
  zs.avail_in = static_cast<uInt>(comp.size() - at);
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(want);
  const int rc = inflate(&zs, Z_SYNC_FLUSH);
  out.resize(want - zs.avail_out);
  inflateEnd(&zs);
  if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return "zlib error " + std::to_string(rc);
  return out;
}

/// A python3 command that can import indexed_gzip ("" when none can): the one on PATH, else
/// Debian's /usr/bin/python3 (a pyenv python3 on PATH does not see Debian's packages).
inline std::string python_with_indexed_gzip() {
  for (const char* py : {"python3", "/usr/bin/python3"})
    if (testlib::command_succeeds(std::string(py) + " -c 'import indexed_gzip' 2>/dev/null")) return py;
  return "";
}

/// True when `tool` is on PATH.
inline bool have_tool(const std::string& tool) {
  return testlib::command_succeeds("command -v " + tool + " >/dev/null 2>&1");
}

}  // namespace fqpipe::testing
