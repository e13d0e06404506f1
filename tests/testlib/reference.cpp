// testlib/reference.cpp - zlib-based reference decoder and naive FASTQ splitter (see header).
// Deliberately simple: clarity over speed, so it is easy to trust.
#include "testlib/reference.hpp"

#include <zlib.h>

#include <fstream>
#include <iterator>

namespace fqpipe::testlib {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReferenceError("cannot open " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(std::string_view bytes) {
  std::string out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    // Zero padding after the last member is accepted (what gzip -d does too).
    if (bytes.find_first_not_of('\0', pos) == std::string_view::npos) break;
    if (!is_gzip(bytes.substr(pos))) throw ReferenceError("garbage after gzip member");
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK) throw ReferenceError("inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + pos));
    zs.avail_in = static_cast<uInt>(bytes.size() - pos);
    char buf[1 << 16];
    int rc;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
      if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
        inflateEnd(&zs);
        throw ReferenceError("truncated gzip member");
      }
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        inflateEnd(&zs);
        throw ReferenceError(std::string("zlib: ") + (zs.msg ? zs.msg : "error"));
      }
    } while (rc != Z_STREAM_END);
    pos = bytes.size() - zs.avail_in;
    inflateEnd(&zs);
  }
  return out;
}

std::string decode_file(const std::string& path) {
  std::string bytes = read_file(path);
  return is_gzip(bytes) ? gunzip(bytes) : bytes;
}

std::vector<RefRecord> split_fastq(std::string_view text) {
  std::vector<std::string_view> lines;
  std::vector<uint64_t> starts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    starts.push_back(pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  while (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
    starts.pop_back();
  }
  // The blank lines just dropped may have included the empty quality line of a last record
  // with an empty sequence ("@r\n\n+\n\n"): give it back.
  if (lines.size() % 4 == 3 && lines[lines.size() - 2].empty()) {
    lines.emplace_back();
    starts.push_back(text.size());
  }
  if (lines.size() % 4 != 0) throw ReferenceError("line count is not a multiple of 4");
  std::vector<RefRecord> records;
  records.reserve(lines.size() / 4);
  for (std::size_t i = 0; i < lines.size(); i += 4) {
    if (lines[i].empty() || lines[i][0] != '@') throw ReferenceError("header without '@'");
    if (lines[i + 2].empty() || lines[i + 2][0] != '+') throw ReferenceError("missing '+'");
    if (lines[i + 1].size() != lines[i + 3].size()) throw ReferenceError("length mismatch");
    records.push_back({std::string(lines[i].substr(1)), std::string(lines[i + 1]),
                       std::string(lines[i + 3]), starts[i]});
  }
  return records;
}

std::vector<RefRecord> reference_records(const std::string& path) {
  return split_fastq(decode_file(path));
}

std::string to_fastq(const std::vector<RefRecord>& records) {
  std::string out;
  for (const RefRecord& r : records) {
    out += '@';
    out += r.header;
    out += '\n';
    out += r.sequence;
    out += "\n+\n";
    out += r.quality;
    out += '\n';
  }
  return out;
}

LineIndex::LineIndex(std::string_view text) {
  starts.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
}

}  // namespace fqpipe::testlib
