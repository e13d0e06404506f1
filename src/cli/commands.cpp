// commands.cpp - count, validate and decompress: library calls plus output, nothing more.
// All parsing and checking happens in the library; a command only chooses options and prints.
#include "cli/commands.hpp"

#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>

#include "cli/output.hpp"
#include "cli/output_file.hpp"
#include "cli/progress.hpp"
#include "gzip/decoded_input.hpp"
#include "fqpipe/error.hpp"
#include "fqpipe/stats.hpp"

namespace fqpipe::cli {

PipelineOptions pipeline_options(const CommonOptions& o) {
  PipelineOptions p;
  p.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::optional<QualitySchema> schema = parse_schema(o.schema);
  if (!schema)
    throw Error(ErrorKind::usage, "unknown quality schema '" + o.schema +
                                      "' (expected generic, sanger, solexa, illumina-1.3, "
                                      "illumina-1.5 or illumina-1.8)");
  p.read.schema = *schema;
  p.read.check_quality = !o.no_check_quality;
  p.read.check_ascii = !o.no_check_ascii;
  if (o.batch_records) p.read.batch_records = o.batch_records;
  if (o.max_record_bytes) p.read.max_record_bytes = o.max_record_bytes;
  if (o.gzip_decoder == "parallel") p.read.gzip_mode = GzipMode::parallel;
  else if (o.gzip_decoder == "sequential") p.read.gzip_mode = GzipMode::sequential;
  if (o.chunk_bytes) p.read.chunk_bytes = o.chunk_bytes;
  if (o.mode == "spmc") p.mode = PipelineMode::spmc;
  else if (o.mode == "mpmc") p.mode = PipelineMode::mpmc;
  if (o.chunking == "record") p.chunking = Chunking::record;
  else if (o.chunking == "equal") p.chunking = Chunking::equal;
  else if (o.chunking == "index") p.chunking = Chunking::index;
  p.producers = o.producers;
  p.consumers = o.consumers;
  p.queue_depth = o.queue_depth;
  p.read.index_path = o.index;
  p.read.use_index = !o.no_index && !o.build_index;
  p.read.build_index = o.build_index;
  if (!o.part.empty()) {
    unsigned i = 0, n = 0;
    char end = 0;
    if (std::sscanf(o.part.c_str(), "%u/%u%c", &i, &n, &end) != 2 || n == 0 || i == 0 || i > n)
      throw Error(ErrorKind::usage, "--part '" + o.part + "': expected i/N with 1 <= i <= N");
    p.part = i;
    p.parts = n;
  }
  return p;
}

// The -v report: which path ran, with how many threads, how fast, and where the time went.
void report_run(const std::string& file, const PipelineOptions&, const RunInfo& info,
                std::chrono::steady_clock::time_point start) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StageTimes& t = info.times;
  std::fprintf(stderr,
               "fqpipe: %s: %s; %s; decoder: %s; %u producer%s + %u consumer%s; "
               "%llu batches, %llu records, %.3f s\n"
               "fqpipe: %s: thread-seconds: decode %.3f, parse %.3f, commit %.3f, consume %.3f, "
               "producers waiting %.3f, consumers waiting %.3f\n",
               file.c_str(), std::string(format_name(info.format)).c_str(), info.plan.c_str(),
               info.decoder.c_str(), info.producer_threads, info.producer_threads == 1 ? "" : "s",
               info.consumer_threads, info.consumer_threads == 1 ? "" : "s",
               static_cast<unsigned long long>(info.batches),
               static_cast<unsigned long long>(info.records), secs, file.c_str(), t.decode, t.parse,
               t.commit, t.consume, t.producer_wait, t.consumer_wait);
}

void print(const CommonOptions& o, const Table& table, const std::vector<std::string>& json) {
  if (o.form == OutputForm::json) print_json_array(stdout, json);
  else if (o.form == OutputForm::tsv) table.print_tsv(stdout);
  else table.print_table(stdout);
}

int run_count(const CommonOptions& o) {
  PipelineOptions p = pipeline_options(o);
  // The fastest path: structure is still checked, byte ranges only when asked for.
  p.read.check_quality = false;
  p.read.check_ascii = false;
  Table table;
  std::vector<std::string> json;
  for (const std::string& file : o.files) {
    ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
    p.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
    RunInfo info;
    const auto start = std::chrono::steady_clock::now();
    const RecordCount c = count_records(file, p, &info);
    meter.finish();
    if (o.verbose) report_run(file, p, info, start);
    const std::string part = p.parts > 1 ? std::to_string(p.part) + "/" + std::to_string(p.parts) : "";
    table.begin_row();
    table.cell("file", file, false);
    if (!part.empty()) table.cell("part", part, false);
    table.cell("format", std::string(format_name(info.format)), false);
    table.cell("reads", std::to_string(c.records));
    table.cell("bases", std::to_string(c.bases));
    JsonObject j;
    j.add("file", file);
    if (!part.empty()) j.add("part", part);
    j.add("format", format_name(info.format));
    j.add("reads", c.records);
    j.add("bases", c.bases);
    json.push_back(j.str());
  }
  print(o, table, json);
  return 0;
}

int run_validate(const CommonOptions& o) {
  const PipelineOptions p = pipeline_options(o);
  for (const std::string& file : o.files) {
    RunInfo info;
    ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
    PipelineOptions run_options = p;
    run_options.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
    const auto start = std::chrono::steady_clock::now();
    count_records(file, run_options, &info);  // every check, no batches needed
    meter.finish();
    if (o.verbose) report_run(file, p, info, start);
    if (o.files.size() > 1) std::printf("%s: ", file.c_str());
    std::printf("OK: %llu records\n", static_cast<unsigned long long>(info.records));
  }
  return 0;
}

int run_decompress(const CommonOptions& o, const std::string& output) {
  const std::string& file = o.files.front();
  const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  gzip::DecoderOptions decoder;
  decoder.read_ahead = threads >= 2;
  decoder.parallel_threads = o.gzip_decoder == "parallel" ? std::max(2u, threads)
                             : o.gzip_decoder == "auto"   ? threads
                                                          : 1;
  decoder.parallel_only_large = o.gzip_decoder == "auto";
  decoder.bgzf_threads = threads;
  decoder.use_index = !o.no_index;
  decoder.index_path = o.index;
  if (o.chunk_bytes) decoder.chunk_bytes = o.chunk_bytes;
  gzip::DecodedInput in = gzip::open_decoded(file, decoder);
  ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
  uint64_t written = 0;
  try {
    // Opened after the input, so an unreadable input leaves no trace; an error thrown below
    // destroys `out`, which removes its temporary file.
    OutputFile out(output);
    while (const io::TextBuffer* b = in.text->next()) {
      out.write(std::string_view(b->data, b->size));
      written += b->size;
      meter.update({in.text->input_bytes_read(), in.file_size, 0});
    }
    out.commit();
  } catch (const OutputClosed&) {
    // Like gzip -dc under `| head`: the reader has what it wanted, so this is success.
    meter.finish();
    return 0;
  }
  meter.finish();
  if (o.verbose)
    std::fprintf(stderr, "fqpipe: %s: %s, %s decoder%s%s, %llu bytes\n", file.c_str(),
                 std::string(format_name(in.format)).c_str(), in.decoder,
                 in.text->describe().empty() ? "" : ": ", in.text->describe().c_str(),
                 static_cast<unsigned long long>(written));
  return 0;
}

}  // namespace fqpipe::cli
