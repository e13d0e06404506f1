// commands.cpp - stats, count, validate and decompress: library calls plus output, nothing more.
// All parsing and checking happens in the library; a command only chooses options and prints.
#include "cli/commands.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/output.hpp"
#include "gzip/decoded_input.hpp"
#include "cli/progress.hpp"
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

namespace {

// Runs one file through `Worker` with a progress meter and the -v report.
template <class Worker>
Worker run_file(const CommonOptions& o, PipelineOptions p, const std::string& file, RunInfo& info) {
  ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
  p.on_progress = [&meter](const Progress& pr) { meter.update(pr); };
  const auto start = std::chrono::steady_clock::now();
  Worker w = run<Worker>(file, p, [] { return Worker(); }, &info);
  meter.finish();
  if (o.verbose) report_run(file, p, info, start);
  return w;
}

void print(const CommonOptions& o, const Table& table, const std::vector<std::string>& json) {
  if (o.form == OutputForm::json) print_json_array(stdout, json);
  else if (o.form == OutputForm::tsv) table.print_tsv(stdout);
  else table.print_table(stdout);
}

std::string percent(uint64_t part, uint64_t whole) {
  return whole ? fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 2) : "0.00";
}

template <class Map>
std::string json_map(const Map& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ", ";
    out += '"';
    out += std::to_string(k);
    out += "\": ";
    out += std::to_string(v);
  }
  return out + "}";
}

std::string json_array(const std::vector<uint64_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(v[i]);
  }
  return out + "]";
}

}  // namespace

int run_stats(const CommonOptions& o) {
  const PipelineOptions p = pipeline_options(o);
  Table table;
  std::vector<std::string> json;
  for (const std::string& file : o.files) {
    RunInfo info;
    const FastqStats s = run_file<FastqStats>(o, p, file, info);
    // Scores are computed with the schema the user named, or else the one detected.
    const QualitySchema schema = o.schema != "generic" ? p.read.schema : info.detected_schema;
    const uint64_t q20 = s.q20_bases(schema);
    const uint64_t q30 = s.q30_bases(schema);
    const uint64_t qsum = s.quality_sum(schema);
    const double bases = static_cast<double>(s.bases());
    table.begin_row();
    table.cell("file", file, false);
    table.cell("format", std::string(format_name(info.format)), false);
    table.cell("schema", std::string(schema_name(schema)), false);
    table.cell("reads", std::to_string(s.reads()));
    table.cell("bases", std::to_string(s.bases()));
    table.cell("min_len", std::to_string(s.min_length()));
    table.cell("avg_len", fixed(s.reads() ? bases / static_cast<double>(s.reads()) : 0.0, 1));
    table.cell("max_len", std::to_string(s.max_length()));
    table.cell("gc%", percent(s.g() + s.c(), s.bases()));
    table.cell("n", std::to_string(s.n()));
    table.cell("q20%", percent(q20, s.bases()));
    table.cell("q30%", percent(q30, s.bases()));
    table.cell("mean_q", fixed(s.bases() ? static_cast<double>(qsum) / bases : 0.0, 2));

    JsonObject j;
    j.add("file", file);
    j.add("format", format_name(info.format));
    j.add("schema", schema_name(schema));
    j.add("reads", s.reads());
    j.add("bases", s.bases());
    j.add("min_length", s.min_length());
    j.add("max_length", s.max_length());
    j.add("a", s.a());
    j.add("c", s.c());
    j.add("g", s.g());
    j.add("t", s.t());
    j.add("n", s.n());
    j.add("other", s.other());
    j.add("q20_bases", q20);
    j.add("q30_bases", q30);
    j.add("quality_sum", qsum);
    j.add("quality_lo", s.quality_lo() <= s.quality_hi() ? s.quality_lo() : 0);
    j.add("quality_hi", s.quality_hi());
    j.add_raw("length_histogram", json_map(s.length_histogram()));
    j.add_raw("position_quality_sum", json_array(s.position_quality_sums(schema)));
    j.add_raw("position_count", json_array(s.position_counts()));
    json.push_back(j.str());
  }
  print(o, table, json);
  return 0;
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
    table.begin_row();
    table.cell("file", file, false);
    table.cell("format", std::string(format_name(info.format)), false);
    table.cell("reads", std::to_string(c.records));
    table.cell("bases", std::to_string(c.bases));
    JsonObject j;
    j.add("file", file);
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
  decoder.parallel_threads = o.gzip_decoder == "parallel" ? std::max(2u, threads) : 1;
  decoder.bgzf_threads = threads;
  if (o.chunk_bytes) decoder.chunk_bytes = o.chunk_bytes;
  gzip::DecodedInput in = gzip::open_decoded(file, decoder);
  const bool to_stdout = output == "-";
  const std::string tmp = to_stdout ? "" : output + ".fqpipe-tmp." + std::to_string(::getpid());
  std::FILE* out = to_stdout ? stdout : std::fopen(tmp.c_str(), "wb");
  auto fail_io = [&](const std::string& what) {
    if (!to_stdout) {
      std::fclose(out);
      std::remove(tmp.c_str());
    }
    ErrorPosition at;
    at.file = output;
    throw Error(ErrorKind::io, what + ": " + std::strerror(errno), at);
  };
  if (!out) {
    ErrorPosition at;
    at.file = output;
    throw Error(ErrorKind::io, std::string("cannot create: ") + std::strerror(errno), at);
  }
  ProgressMeter meter(file, !o.quiet && stderr_is_terminal());
  uint64_t written = 0;
  try {
    while (const io::TextBuffer* b = in.text->next()) {
      if (std::fwrite(b->data, 1, b->size, out) != b->size) fail_io("write failed");
      written += b->size;
      meter.update({in.text->input_bytes_read(), in.file_size, 0});
    }
  } catch (const Error&) {
    if (!to_stdout) {
      std::fclose(out);
      std::remove(tmp.c_str());
    }
    throw;
  }
  meter.finish();
  if (std::fflush(out) != 0) fail_io("write failed");
  if (!to_stdout) {
    if (std::fclose(out) != 0) {
      std::remove(tmp.c_str());
      ErrorPosition at;
      at.file = output;
      throw Error(ErrorKind::io, std::string("write failed: ") + std::strerror(errno), at);
    }
    if (std::rename(tmp.c_str(), output.c_str()) != 0) {
      std::remove(tmp.c_str());
      ErrorPosition at;
      at.file = output;
      throw Error(ErrorKind::io, std::string("cannot rename the finished output: ") + std::strerror(errno), at);
    }
  }
  if (o.verbose)
    std::fprintf(stderr, "fqpipe: %s: %s, %s decoder%s%s, %llu bytes\n", file.c_str(),
                 std::string(format_name(in.format)).c_str(), in.decoder,
                 in.text->describe().empty() ? "" : ": ", in.text->describe().c_str(),
                 static_cast<unsigned long long>(written));
  return 0;
}

}  // namespace fqpipe::cli
