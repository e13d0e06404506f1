// cat.cpp - cat and head: records written back out in file order, as normalised FASTQ or FASTA.
// Each consumer formats its batch into one string, the part that runs in parallel; an Ordered
// then writes the strings in record order with one fwrite each, the only serial part. Stopping
// early (head has its N records, or the reader of stdout went away) is an exception thrown from
// the writing step, which stops for_each_batch's threads, and is never reported as an error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "fastq/parser.hpp"
#include "fqpipe/index.hpp"
#include "gzip/decoded_input.hpp"
#include "index/indexed_text.hpp"
#include "fqpipe/ordered.hpp"

namespace fqpipe::cli {
namespace {

enum class RecordForm { fastq, fasta };

constexpr uint64_t kAllRecords = std::numeric_limits<uint64_t>::max();

// Thrown by the step that writes the last record head wants; ends the run of that file.
struct EnoughRecords {};

// Records [from, to) of `batch` as "@header\nseq\n+\nqual\n" (the '+' line bare, no '\r':
// the parser has dropped it) or ">header\nseq\n". The size follows from the arenas' end
// offsets, so the string is allocated once.
std::string format_records(const FastqBatch& batch, std::size_t from, std::size_t to, RecordForm form) {
  std::string text;
  if (to <= from) return text;
  const std::size_t records = to - from;
  const std::size_t header_bytes = batch.header_ends()[to - 1] - (from ? batch.header_ends()[from - 1] : 0);
  const std::size_t seq_bytes = batch.sequence_ends()[to - 1] - (from ? batch.sequence_ends()[from - 1] : 0);
  text.reserve(form == RecordForm::fastq ? header_bytes + 2 * seq_bytes + 6 * records
                                         : header_bytes + seq_bytes + 3 * records);
  for (std::size_t i = from; i < to; ++i) {
    const FastqRecord r = batch[i];
    text += form == RecordForm::fastq ? '@' : '>';
    text += r.header;
    text += '\n';
    text += r.sequence;
    text += '\n';
    if (form == RecordForm::fastq) {
      text += "+\n";
      text += r.quality;
      text += '\n';
    }
  }
  return text;
}

// Writes records 1..limit of `file` (all of them with kAllRecords) to `out`, in file order.
// Returns at the end of the input or once record `limit` is written; throws what the pipeline
// or `out` throws (Error, OutputClosed).
void write_file(const CommonOptions& o, PipelineOptions p, const std::string& file, uint64_t skip,
                uint64_t limit, RecordForm form, OutputFile& out) {
  ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
  p.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
  const auto start = std::chrono::steady_clock::now();
  // Sequences submitted writes only; it starts where the run does (a part may start later).
  std::optional<Ordered> ordered;
  uint64_t first_no = 1;
  p.on_start = [&](const RunInfo& info) {
    first_no = info.first_record_no;
    ordered.emplace(nullptr, first_no);
  };
  try {
    const RunInfo info = for_each_batch(file, p, [&](unsigned, const FastqBatch& batch) {
      if (limit == 0) throw EnoughRecords{};
      const uint64_t first = batch.first_record_no();
      const uint64_t last_no = first + batch.size() - 1;  // of the batch
      if (first > limit) return;  // past what head wants; the run is about to stop
      // The records of this batch in (skip, limit], as local indexes [from, to).
      const std::size_t from = static_cast<std::size_t>(first > skip ? 0 : std::min<uint64_t>(skip - first + 1, batch.size()));
      const std::size_t to = static_cast<std::size_t>(std::min<uint64_t>(batch.size(), limit - first + 1));
      const bool last = last_no >= limit;
      ordered->submit(first, batch.size(), [&out, text = format_records(batch, from, to, form), last] {
        out.write(text);
        if (last) throw EnoughRecords{};
      });
    });
    ordered->finish();
    // A batch the pipeline never handed over would otherwise cut the output short unnoticed.
    if (ordered->next_record_no() != first_no + info.records)
      throw std::logic_error("cat: wrote " + std::to_string(ordered->next_record_no() - first_no) +
                             " records of " + std::to_string(info.records));
    meter.finish();
    if (o.verbose) report_run(file, p, info, start);
  } catch (const EnoughRecords&) {
    meter.finish();
    if (o.verbose)
      std::fprintf(stderr, "fqpipe: %s: stopped after record %llu\n", file.c_str(),
                   static_cast<unsigned long long>(limit));
  }
}

// head --skip on a gzip file with an index: seek to record skip + 1, parse `records` from there.
// False when there is no index to use (the caller then reads from the start).
bool head_indexed(const CommonOptions& o, const PipelineOptions& p, const std::string& file, uint64_t skip,
                  uint64_t records, OutputFile& out) {
  gzip::DecoderOptions d;
  d.index_path = p.read.index_path;
  d.use_index = p.read.use_index;
  gzip::ChunkedInput probe = gzip::open_chunked(file, 1);
  if (probe.format == InputFormat::plain) return false;  // plain text is skipped at parse speed
  std::optional<GzipIndex> index = gzip::find_index(file, d);
  if (!index || !index->has_records) {
    if (!o.quiet)
      std::fprintf(stderr, "fqpipe: %s: %s; decoding from the start to skip %llu records (fqpipe index %s makes this fast)\n",
                   file.c_str(), index ? "the index has no record numbers" : "no index",
                   static_cast<unsigned long long>(skip), file.c_str());
    return false;
  }
  IndexedGzipReader reader(file, std::move(*index));
  if (skip >= reader.index().record_count) return true;  // nothing left to print
  reader.seek_record(skip + 1);
  index::IndexedText text(reader);
  fastq::FastqParser parser(text, p.read, file, skip + 1);
  FastqBatch batch;
  uint64_t left = records;
  while (left > 0 && parser.next_batch(batch)) {
    const std::size_t take = static_cast<std::size_t>(std::min<uint64_t>(left, batch.size()));
    out.write(format_records(batch, 0, take, RecordForm::fastq));
    left -= take;
  }
  return true;
}

}  // namespace

int run_cat(const CommonOptions& o, bool fasta, const std::string& output) {
  const PipelineOptions p = pipeline_options(o);
  OutputFile out(output);
  try {
    for (const std::string& file : o.files)
      write_file(o, p, file, 0, kAllRecords, fasta ? RecordForm::fasta : RecordForm::fastq, out);
    out.commit();
  } catch (const OutputClosed&) {
    // Like cat(1) under `| head`: the reader has what it wanted, so this is success.
  }
  return 0;
}

int run_head(const CommonOptions& o, uint64_t records, uint64_t skip) {
  // Default options but the read checks: one thread, parsing inline, so reading stops with the
  // batch that holds record N. With consumer threads (or producers) parsing runs batches ahead,
  // and whether a damaged record after N failed the command would depend on timing.
  PipelineOptions p;
  p.read = pipeline_options(o).read;
  OutputFile out("-");
  try {
    for (const std::string& file : o.files) {
      if (skip > 0 && head_indexed(o, p, file, skip, records, out)) continue;
      write_file(o, p, file, skip, skip + records, RecordForm::fastq, out);
    }
    out.commit();
  } catch (const OutputClosed&) {
  }
  return 0;
}

}  // namespace fqpipe::cli
