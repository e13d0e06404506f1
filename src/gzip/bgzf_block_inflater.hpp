// bgzf_block_inflater.hpp - BlockInflater: one whole BGZF block's deflate data into a buffer of
// known size, with the CRC32 of the output. ISA-L by default: on reads_1.bgzf.gz (1.07 GB of
// short reads, AMD EPYC) its stateless inflate with CRC takes 0.82 CPU-s, libdeflate 1.14 plus
// libdeflate_crc32 0.99 CPU-s. FQPIPE_BGZF_INFLATE=libdeflate picks libdeflate (tests run both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

struct inflate_state;
struct libdeflate_decompressor;

namespace fqpipe::gzip {

enum class InflateStatus {
  ok,             ///< a complete deflate stream; see in_used and out_size
  bad_data,       ///< invalid or truncated deflate data
  output_overflow ///< the stream decodes to more than the buffer holds
};

struct InflateResult {
  InflateStatus status = InflateStatus::bad_data;
  std::size_t in_used = 0;   ///< bytes of input the stream took (status ok)
  std::size_t out_size = 0;  ///< bytes written (status ok)
  uint32_t crc = 0;          ///< CRC32 of the bytes written (status ok)
};

/// Inflates independent raw-deflate streams. One per thread; not thread-safe.
class BlockInflater {
 public:
  enum class Engine { isal, libdeflate };
  /// Engine chosen by FQPIPE_BGZF_INFLATE ("isal", the default, or "libdeflate").
  static Engine engine_from_environment() noexcept;

  explicit BlockInflater(Engine engine);  // throws std::bad_alloc
  ~BlockInflater();
  BlockInflater(const BlockInflater&) = delete;
  BlockInflater& operator=(const BlockInflater&) = delete;

  /// Inflates the raw deflate stream at [in, in + in_size) into [out, out + out_capacity).
  [[nodiscard]] InflateResult inflate(const uint8_t* in, std::size_t in_size, char* out,
                                      std::size_t out_capacity);

 private:
  Engine engine_;
  std::unique_ptr<inflate_state> isal_;
  libdeflate_decompressor* libdeflate_ = nullptr;
};

}  // namespace fqpipe::gzip
