// hostile_support.hpp - what the hostile input tests share (issue 6, item 3): inputs built
// with zlib (gzip members with any header fields, BGZF), the command variants every case runs
// under, and the Hostile fixture whose expect_failed() is the one definition of "failed well".
// Header-only: it serves only the hostile_*_test programs.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "testlib/child.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

namespace fqpipe::testlib::hostile {

using Args = std::vector<std::string>;

inline constexpr double kDeadlineSeconds = 20;  // a run past this is a hang

// The number in environment variable `name`, or `fallback` when it is unset or empty.
inline std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

// FQPIPE_HOSTILE_ALL_VARIANTS=1: every case of a sweep runs every variant, not one in turn.
inline bool all_variants() { return env_size("FQPIPE_HOSTILE_ALL_VARIANTS", 0) != 0; }

// ---- inputs -------------------------------------------------------------------------------

// Small records (20-120 bases): many records and blocks in a few kilobytes of gzip.
inline Generated sample(std::size_t records, uint64_t seed) {
  return generate_fastq({.seed = seed, .records = records, .min_length = 20, .max_length = 120});
}

inline void put_le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline uint32_t crc_of(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// The optional fields of a gzip header (RFC 1952 §2.3.1).
struct HeaderFields {
  bool text = false;         // FTEXT
  std::string extra = {};    // FEXTRA payload (subfields), when non-empty
  std::string name = {};     // FNAME, when non-empty
  std::string comment = {};  // FCOMMENT, when non-empty
  bool header_crc = false;   // FHCRC
};

// One gzip member of `text` with the header fields `h`.
inline std::string gzip_with(std::string_view text, const HeaderFields& h) {
  std::string out = "\x1f\x8b\x08";
  out += static_cast<char>((h.text ? 1 : 0) | (h.header_crc ? 2 : 0) | (h.extra.empty() ? 0 : 4) |
                           (h.name.empty() ? 0 : 8) | (h.comment.empty() ? 0 : 16));
  put_le(out, 0x5f5e1000, 4);  // MTIME
  out += '\0';                 // XFL
  out += '\3';                 // OS: Unix
  if (!h.extra.empty()) {
    put_le(out, static_cast<uint32_t>(h.extra.size()), 2);
    out += h.extra;
  }
  if (!h.name.empty()) out += h.name + '\0';
  if (!h.comment.empty()) out += h.comment + '\0';
  if (h.header_crc) put_le(out, crc_of(out) & 0xffff, 2);
  out += deflate_raw(text);
  put_le(out, crc_of(text), 4);
  put_le(out, static_cast<uint32_t>(text.size()), 4);
  return out;
}

// BGZF (SAM spec §4.1) of `text` in blocks of `block_bytes` of input, with the EOF block.
inline std::string bgzf(std::string_view text, std::size_t block_bytes = 4096) {
  std::string out;
  for (std::size_t at = 0; at <= text.size(); at += block_bytes) {
    const std::string_view part = text.substr(at, block_bytes);
    if (part.empty() && at != 0) break;
    const std::string data = deflate_raw(part);
    out += std::string("\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0", 16);
    put_le(out, static_cast<uint32_t>(data.size() + 25), 2);  // BSIZE - 1
    out += data;
    put_le(out, crc_of(part), 4);
    put_le(out, static_cast<uint32_t>(part.size()), 4);
  }
  out +=
      std::string("\x1f\x8b\x08\x04\0\0\0\0\0\xff\x06\0BC\x02\0\x1b\0\x03\0\0\0\0\0\0\0\0\0", 28);
  return out;
}

// ---- command variants ---------------------------------------------------------------------

// Options after the command name: threads, producers, decoder. cat and decompress also get -o.
inline std::vector<Args> plain_flavours() {
  std::vector<Args> f;
  for (const char* t : {"1", "2"})
    for (const char* mode : {"spmc", "mpmc"})
      f.push_back({"-t", t, "--mode", mode, "--chunk-size", "1024"});
  return f;
}

inline std::vector<Args> gzip_flavours() {
  return {
      {"-t", "1"}, {"-t", "2"}, {"-t", "2", "--gzip-decoder", "parallel", "--chunk-size", "1024"}};
}

// Every command with every flavour. `fastq_checks`: the damage is in the FASTQ text, so
// decompress (which does not parse) does not apply; `byte_checks`: only the byte checks find
// it, which count skips by design.
inline std::vector<Args> variants(const std::vector<Args>& flavours, bool fastq_checks,
                                  bool byte_checks = false) {
  std::vector<Args> out;
  for (const char* cmd : {"stats", "count", "validate", "cat", "decompress"}) {
    if (fastq_checks && std::string(cmd) == "decompress") continue;
    if (byte_checks && std::string(cmd) == "count") continue;
    for (const Args& f : flavours) {
      Args a{cmd};
      for (std::size_t i = 0; i < f.size(); ++i) {
        if (a[0] == "decompress" && f[i] == "--mode")
          ++i;  // decompress has one producer
        else
          a.push_back(f[i]);
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
  }
  return out;
}

// "a b c", for messages.
inline std::string join(const Args& args) {
  std::string s;
  for (const std::string& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

inline std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Any position: a record, line or (decompressed or compressed) byte number.
inline const char* const kAnyPosition = R"(.*\b(record|line|byte) [0-9]+.*: \S.*)";

// The position of a FASTQ error in record `record_no`: "record R (line L, byte B...): reason".
inline std::string record_position(uint64_t record_no) {
  return "record " + std::to_string(record_no) + R"( \(line [0-9]+, byte [0-9]+.*\): \S.*)";
}

// Each test gets its own directory; cat and decompress write into its out/ folder, which
// expect_failed() checks is left empty.
class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fqpipe_bin();
    if (bin_.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
    out_dir_ = dir_.file("out");
    std::filesystem::create_directory(out_dir_);
  }

  // Runs `fqpipe ARGS [-o OUT] FILE`; cat and decompress write to out_dir_/out.
  ChildResult fq(const Args& args, const std::string& file) const {
    Args argv{bin_};
    argv.insert(argv.end(), args.begin(), args.end());
    if (writes_file(args)) argv.insert(argv.end(), {"-o", output()});
    argv.push_back(file);
    return run_child(argv, kDeadlineSeconds);
  }

  static bool writes_file(const Args& args) { return args[0] == "cat" || args[0] == "decompress"; }
  std::string output() const { return out_dir_ + "/out"; }

  // Names left in out_dir_ (the -o file or its temporary), removing them for the next run.
  std::vector<std::string> take_outputs() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(out_dir_)) {
      names.push_back(e.path().filename().string());
      std::filesystem::remove(e.path());
    }
    return names;
  }

  // Checks that `r`, the run of `args` on `file`, failed well: within the deadline, not by a
  // signal, with `exit_code`; a first stderr line "fqpipe: FILE: " followed by what the regex
  // `where` matches (the position); no raw input bytes on stderr (an escape sequence in a
  // damaged record must not reach the terminal); nothing on stdout; no -o file or temporary.
  void expect_failed(const ChildResult& r, const Args& args, const std::string& file, int exit_code,
                     const std::string& where, const std::string& what) const {
    SCOPED_TRACE(what + ": fqpipe " + join(args));
    EXPECT_FALSE(r.timed_out) << "hang";
    EXPECT_EQ(r.signal, 0) << "crash: " << r.describe() << "\n" << r.err.substr(0, 2000);
    EXPECT_EQ(r.exit_code, exit_code) << r.describe() << "\n" << r.err.substr(0, 2000);
    const std::string line = first_line(r.err);
    const std::string prefix = "fqpipe: " + file + ": ";
    EXPECT_EQ(line.rfind(prefix, 0), 0u) << "first stderr line does not name the file: " << line;
    if (line.rfind(prefix, 0) == 0) {
      EXPECT_TRUE(std::regex_match(line.substr(prefix.size()), std::regex(where)))
          << "no position of the form /" << where << "/ in: " << line;
    }
    EXPECT_TRUE(std::all_of(r.err.begin(), r.err.end(),
                            [](char ch) {
                              const auto c = static_cast<unsigned char>(ch);
                              return c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f);
                            }))
        << "raw input bytes (escape sequences, NUL, binary) on stderr: " << r.err.substr(0, 500);
    EXPECT_EQ(r.out, "") << "output on stdout after an error";
    EXPECT_EQ(take_outputs(), std::vector<std::string>{}) << "-o left a file";
  }

  // Runs every variant on `bytes` (written to `name`) and expects each to fail.
  void expect_all_fail(const std::string& name, const std::string& bytes,
                       const std::vector<Args>& vs, int exit_code, const std::string& where) const {
    const std::string file = dir_.write(name, bytes);
    for (const Args& a : vs) expect_failed(fq(a, file), a, file, exit_code, where, name);
  }

  std::string bin_;
  TempDir dir_;
  std::string out_dir_;
};

}  // namespace fqpipe::testlib::hostile
