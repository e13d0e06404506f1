// reader.cpp - Reader: the decoder chosen by magic bytes, then the parser, on the calling thread.
// The pipeline's producer is a Reader too, so both APIs read inputs the same way.
#include "fqpipe/reader.hpp"

#include <algorithm>

#include "fastq/parser.hpp"
#include "fqpipe/index.hpp"
#include "gzip/decoded_input.hpp"

namespace fqpipe {

std::string_view format_name(InputFormat format) noexcept {
  switch (format) {
    case InputFormat::gzip: return "gzip";
    case InputFormat::bgzf: return "bgzf";
    case InputFormat::plain: break;
  }
  return "plain";
}

struct Reader::Impl {
  Impl(std::string p, const ReadOptions& options)
      : path(std::move(p)), input(gzip::open_decoded(path, decoder_options(path, options))),
        parser(*input.text, options, path) {}
  static gzip::DecoderOptions decoder_options(const std::string& path, const ReadOptions& o) {
    gzip::DecoderOptions d;
    d.read_ahead = o.read_ahead;
    d.parallel_threads = o.gzip_mode == GzipMode::parallel    ? std::max(2u, o.decode_threads)
                         : o.gzip_mode == GzipMode::automatic ? o.decode_threads
                                                              : 1;
    d.parallel_only_large = o.gzip_mode == GzipMode::automatic;
    d.chunk_bytes = o.chunk_bytes;
    d.bgzf_threads = o.read_ahead ? std::max(2u, o.decode_threads) : 1;
    d.index_path = o.index_path;
    d.use_index = o.use_index;
    if (o.build_index) d.build_index_path = default_index_path(path);
    return d;
  }
  std::string path;
  gzip::DecodedInput input;
  fastq::FastqParser parser;
};

Reader::Reader(std::string path, ReadOptions options)
    : impl_(std::make_unique<Impl>(std::move(path), options)) {}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

bool Reader::next_batch(FastqBatch& batch) { return impl_->parser.next_batch(batch); }
uint64_t Reader::count_next(uint64_t max_records, uint64_t& bases) {
  uint64_t counted_bases = 0;
  const uint64_t n = impl_->parser.count(max_records, counted_bases);
  bases += counted_bases;
  return n;
}
const std::string& Reader::path() const noexcept { return impl_->path; }
InputFormat Reader::format() const noexcept { return impl_->input.format; }
std::string Reader::decoder() const {
  const std::string detail = impl_->input.text->describe();
  return detail.empty() ? impl_->input.decoder : std::string(impl_->input.decoder) + ": " + detail;
}
uint64_t Reader::input_bytes_read() const noexcept { return impl_->input.text->input_bytes_read(); }
uint64_t Reader::input_size() const noexcept { return impl_->input.file_size; }
uint64_t Reader::records_read() const noexcept { return impl_->parser.records(); }
QualitySchema Reader::detected_schema() const noexcept {
  return detect_schema(impl_->parser.quality_lo(), impl_->parser.quality_hi());
}

Reader::iterator::iterator(Reader* reader) : reader_(reader) {
  reader_->iter_batch_.clear(reader_->records_read() + 1);
  index_ = 0;
  ++*this;
}

Reader::iterator& Reader::iterator::operator++() {
  FastqBatch& batch = reader_->iter_batch_;
  if (index_ >= batch.size()) {
    index_ = 0;
    if (!reader_->next_batch(batch)) {
      reader_ = nullptr;
      return *this;
    }
  }
  record_ = batch[index_++];
  return *this;
}

}  // namespace fqpipe
