// index_import.cpp - fuzz target: any bytes as an index file (fqpipe, GZIDX or .gzi format,
// found from the content), loaded, then used to seek in a small gzip file of known content.
// Loading must end in an index or an fqpipe::Error; using it must read bytes or throw an
// Error: no crash, no hang, no unbounded allocation. With fqpipe's own format (CRC-checked,
// with a checksum of the gzip file) a read that succeeds must return the right bytes.
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"

namespace {

// The gzip file every index is tried against, written once: a few FASTQ records, compressed
// in two members so that member boundaries are exercised too.
struct Target {
  std::string text;
  std::string path = "/tmp/fqpipe-fuzz-index-target.gz";
  Target() {
    for (int i = 0; i < 300; ++i)
      text += "@r" + std::to_string(i) + "\nACGTTGCAACGTAGGT\n+\nIIIIHHHHGGGG####\n";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();
    for (const std::string& part : {text.substr(0, 5000), text.substr(5000)}) {
      z_stream z{};
      if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
      std::string out(compressBound(static_cast<uLong>(part.size())) + 64, '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data()));
      z.avail_in = static_cast<uInt>(part.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
      std::fwrite(out.data(), 1, z.total_out, f);
      deflateEnd(&z);
    }
    std::fclose(f);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Target target;
  char path[] = "/tmp/fqpipe-fuzz-index-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  ::close(fd);
  try {
    fqpipe::GzipIndex index = fqpipe::load_index(path);
    const bool own = index.format == fqpipe::IndexFormat::fqpipe;
    fqpipe::IndexedGzipReader reader(target.path, std::move(index));
    char buf[256];
    for (const uint64_t at : {uint64_t{0}, uint64_t{4999}, uint64_t{5000}, uint64_t{9001}}) {
      if (at >= reader.size()) continue;
      reader.seek(at);
      const std::size_t n = reader.read(buf, sizeof buf);
      if (own && (at + n > target.text.size() || std::memcmp(buf, target.text.data() + at, n) != 0)) std::abort();
    }
    if (reader.index().has_records && reader.index().record_count >= 7) reader.seek_record(7);
  } catch (const fqpipe::Error&) {
  }
  ::unlink(path);
  return 0;
}
