// gzip_stream.cpp - fuzz target: a whole gzip file through the sequential decoder (GzipSource,
// from memory) and the parallel decoders (open_decoded on a file), which must agree: the same
// bytes, or both an fqpipe::Error. Per input it costs one rewrite of an in-memory file and the
// parallel reader's threads; a temporary file on disk, the plain-text path for inputs that are
// not gzip and a 1 MiB text buffer per decode held it at ~700 executions per second.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fqpipe/error.hpp"
#include "gzip/decoded_input.hpp"
#include "gzip/gzip_header.hpp"
#include "gzip/gzip_source.hpp"
#include "memory_source.hpp"

namespace {

constexpr std::size_t max_output = std::size_t{64} << 20;  // a bomb: not interesting here

// Decodes with GzipSource, as open_decoded does with one thread; false on an fqpipe::Error.
bool decode_sequential(const uint8_t* data, std::size_t size, std::string& out) {
  static std::vector<uint8_t> buffer(std::size_t{1} << 16);
  try {
    fqpipe::gzip::GzipSource source(std::make_unique<fqpipe::fuzz::MemorySource>(data, size), "fuzz");
    while (const std::size_t n = source.read(buffer.data(), buffer.size())) {
      out.append(reinterpret_cast<const char*>(buffer.data()), n);
      if (out.size() > max_output) return false;
    }
    return true;
  } catch (const fqpipe::Error&) {
    return false;
  }
}

// Decodes with the given options; false on an fqpipe::Error.
bool decode(const std::string& path, const fqpipe::gzip::DecoderOptions& options, std::string& out) {
  try {
    fqpipe::gzip::DecodedInput in = fqpipe::gzip::open_decoded(path, options);
    while (const fqpipe::io::TextBuffer* b = in.text->next()) {
      out.append(b->data, b->size);
      if (out.size() > max_output) return false;
    }
    return true;
  } catch (const fqpipe::Error&) {
    return false;
  }
}

// One file in memory for the whole run, rewritten per input, opened by path like any file.
int input_file() {
  static const int fd = ::memfd_create("fqpipe-fuzz-gzip", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // open_decoded reads anything else as plain text; the gzip decoders never see it.
  if (!fqpipe::gzip::has_gzip_magic(data, size)) return 0;
  const int fd = input_file();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::string sequential, parallel;
  const bool seq_ok = decode_sequential(data, size, sequential);
  fqpipe::gzip::DecoderOptions par_options;
  par_options.parallel_threads = 2;
  par_options.bgzf_threads = 2;
  // 1 KiB chunks (the smallest the reader takes): inputs of a few KiB get speculative chunks,
  // adoptions and marker replacement, not only the front.
  par_options.chunk_bytes = 1 << 10;
  const bool par_ok = decode(path, par_options, parallel);
  // Both succeed with the same bytes, or both fail (the parallel one may fail later, having
  // handed out a correct prefix).
  if (seq_ok != par_ok) std::abort();
  if (seq_ok && sequential != parallel) std::abort();
  return 0;
}
