// cat.cpp - cat and head: records written back out in file order, as normalised FASTQ or FASTA.
// Each consumer formats its batch into one string, the part that runs in parallel; an Ordered
// then writes the strings in record order with one fwrite each, the only serial part. Stopping
// early (head has its N records, or the reader of stdout went away) is an exception thrown from
// the writing step, which stops for_each_batch's threads, and is never reported as an error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "cli/commands.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "fqpipe/ordered.hpp"

namespace fqpipe::cli {
namespace {

enum class RecordForm { fastq, fasta };

constexpr uint64_t kAllRecords = std::numeric_limits<uint64_t>::max();

// Thrown by the step that writes the last record head wants; ends the run of that file.
struct EnoughRecords {};

// The first `records` records of `batch` as "@header\nseq\n+\nqual\n" (the '+' line bare, no
// '\r': the parser has dropped it) or ">header\nseq\n". The size follows from the arenas'
// end offsets, so the string is allocated once.
std::string format_records(const FastqBatch& batch, std::size_t records, RecordForm form) {
  std::string text;
  if (records == 0) return text;
  const std::size_t header_bytes = batch.header_ends()[records - 1];
  const std::size_t seq_bytes = batch.sequence_ends()[records - 1];
  text.reserve(form == RecordForm::fastq ? header_bytes + 2 * seq_bytes + 6 * records
                                         : header_bytes + seq_bytes + 3 * records);
  for (std::size_t i = 0; i < records; ++i) {
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
void write_file(const CommonOptions& o, PipelineOptions p, const std::string& file, uint64_t limit,
                RecordForm form, OutputFile& out) {
  ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
  p.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
  const auto start = std::chrono::steady_clock::now();
  Ordered ordered(nullptr);  // sequences submitted writes only
  try {
    const RunInfo info = for_each_batch(file, p, [&](unsigned, const FastqBatch& batch) {
      if (limit == 0) throw EnoughRecords{};
      const uint64_t first = batch.first_record_no();
      if (first > limit) return;  // past what head wants; the run is about to stop
      const auto wanted =
          static_cast<std::size_t>(std::min<uint64_t>(batch.size(), limit - first + 1));
      const bool last = first + wanted - 1 == limit;
      ordered.submit(first, batch.size(), [&out, text = format_records(batch, wanted, form), last] {
        out.write(text);
        if (last) throw EnoughRecords{};
      });
    });
    ordered.finish();
    // A batch the pipeline never handed over would otherwise cut the output short unnoticed.
    if (ordered.next_record_no() != info.records + 1)
      throw std::logic_error("cat: wrote " + std::to_string(ordered.next_record_no() - 1) +
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

}  // namespace

int run_cat(const CommonOptions& o, bool fasta, const std::string& output) {
  const PipelineOptions p = pipeline_options(o);
  OutputFile out(output);
  try {
    for (const std::string& file : o.files)
      write_file(o, p, file, kAllRecords, fasta ? RecordForm::fasta : RecordForm::fastq, out);
    out.commit();
  } catch (const OutputClosed&) {
    // Like cat(1) under `| head`: the reader has what it wanted, so this is success.
  }
  return 0;
}

int run_head(const CommonOptions& o, uint64_t records) {
  // Default options but the read checks: one thread, parsing inline, so reading stops with the
  // batch that holds record N. With consumer threads (or producers) parsing runs batches ahead,
  // and whether a damaged record after N failed the command would depend on timing.
  PipelineOptions p;
  p.read = pipeline_options(o).read;
  OutputFile out("-");
  try {
    for (const std::string& file : o.files) write_file(o, p, file, records, RecordForm::fastq, out);
    out.commit();
  } catch (const OutputClosed&) {
  }
  return 0;
}

}  // namespace fqpipe::cli
