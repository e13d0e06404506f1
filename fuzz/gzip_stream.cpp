// gzip_stream.cpp - fuzz target: a whole gzip file through the sequential decoder, the parallel
// decoder and the parser, all of which must agree: the same bytes, or both an fqpipe::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fqpipe/error.hpp"
#include "gzip/decoded_input.hpp"

namespace {

// Decodes with the given options; returns false on an fqpipe::Error.
bool decode(const std::string& path, const fqpipe::gzip::DecoderOptions& options, std::string& out) {
  try {
    fqpipe::gzip::DecodedInput in = fqpipe::gzip::open_decoded(path, options);
    while (const fqpipe::io::TextBuffer* b = in.text->next()) {
      out.append(b->data, b->size);
      if (out.size() > (std::size_t{64} << 20)) return false;  // a bomb: not interesting here
    }
    return true;
  } catch (const fqpipe::Error&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char path[] = "/tmp/fqpipe-fuzz-gzip-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 0;
  if (::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  ::close(fd);
  std::string sequential, parallel, bgzf;
  fqpipe::gzip::DecoderOptions seq_options;
  const bool seq_ok = decode(path, seq_options, sequential);
  fqpipe::gzip::DecoderOptions par_options;
  par_options.parallel_threads = 2;
  par_options.bgzf_threads = 2;
  par_options.chunk_bytes = 32 << 10;
  const bool par_ok = decode(path, par_options, parallel);
  ::unlink(path);
  // Both succeed with the same bytes, or both fail (the parallel one may fail later, having
  // handed out a correct prefix).
  if (seq_ok != par_ok) std::abort();
  if (seq_ok && sequential != parallel) std::abort();
  return 0;
}
