// main.cpp - fqpipe's command line: argument parsing (CLI11) and the one place that turns
// errors into messages and exit codes (0 success, 1 bad data, 2 bad usage or unreadable file).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/output.hpp"
#include "fqpipe/error.hpp"

namespace {

// A byte size: digits, then an optional K, M, G (KiB, MB, ...: all powers of 1024). CLI11's
// unit parser alone would take a bare "K" for 1024.
CLI::Validator size_value() {
  return CLI::Validator(
             [](std::string& s) {
               return !s.empty() && s[0] >= '0' && s[0] <= '9' ? std::string()
                                                               : "a size is a number with an optional K, M or G";
             },
             "SIZE")
      & CLI::AsSizeValue(false);
}

void add_decoder_options(CLI::App& cmd, fqpipe::cli::CommonOptions& o) {
  cmd.add_option("--gzip-decoder", o.gzip_decoder,
                 "gzip decoder: auto, sequential (ISA-L) or parallel (front + speculative)")
      ->check(CLI::IsMember({"auto", "sequential", "parallel"}));
  cmd.add_option("--chunk-size", o.chunk_bytes,
                 "input bytes per chunk: compressed for parallel gzip, plain for MPMC (default 1 MiB; "
                 "K, M, G suffixes are powers of 1024)")
      ->transform(size_value())
      ->check(CLI::Range(std::size_t{1} << 10, std::size_t{1} << 30));
}

void add_pipeline_options(CLI::App& cmd, fqpipe::cli::CommonOptions& o) {
  cmd.add_option("--mode", o.mode, "auto, spmc (one producer) or mpmc (several producers on one file)")
      ->check(CLI::IsMember({"auto", "spmc", "mpmc"}));
  cmd.add_option("--chunking", o.chunking, "how MPMC producers share the file: auto, record, equal or index")
      ->check(CLI::IsMember({"auto", "record", "equal", "index"}));
  cmd.add_option("--producers", o.producers, "MPMC producer threads (default: --threads)")
      ->check(CLI::Range(1u, 1024u));
  cmd.add_option("--consumers", o.consumers, "consumer threads (default: threads - 1; stats: none, its producers add up their own batches)")
      ->check(CLI::Range(1u, 1024u));
  cmd.add_option("--queue-depth", o.queue_depth, "batches in flight (default 2 * threads + 2)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
  cmd.add_option("--index", o.index, "index of a gzip input (default FILE.fqidx when it exists)");
  cmd.add_flag("--no-index", o.no_index, "ignore any index");
  cmd.add_flag("--build-index", o.build_index, "write FILE.fqidx of a gzip input during this pass");
  cmd.add_option("--part", o.part,
                 "i/N: only the i-th of N record-aligned ranges (plain files); fqpipe merge sums the parts");
}

void add_common(CLI::App& cmd, fqpipe::cli::CommonOptions& o, bool results) {
  cmd.add_option("files", o.files, "FASTQ files: plain, gzip or BGZF; - reads standard input")
      ->required();
  cmd.add_option("-t,--threads", o.threads, "threads in all (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  cmd.add_option("--schema", o.schema,
                 "quality schema: generic, sanger, solexa, illumina-1.3, illumina-1.5, "
                 "illumina-1.8 (default generic; scores then use the detected schema)");
  cmd.add_flag("--no-check-quality", o.no_check_quality, "do not check quality bytes against the schema");
  cmd.add_flag("--no-check-ascii", o.no_check_ascii, "do not check for non-printable bytes");
  cmd.add_option("--batch-size", o.batch_records, "records per batch")->check(CLI::Range(1u, 1u << 24));
  cmd.add_option("--max-record-size", o.max_record_bytes,
                 "largest record accepted, in bytes (default 1 GiB; K, M, G suffixes as for --chunk-size)")
      ->transform(size_value())
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 40));
  add_decoder_options(cmd, o);
  add_pipeline_options(cmd, o);
  cmd.add_flag("-v,--verbose", o.verbose, "report the chosen path and timings on stderr");
  cmd.add_flag("-q,--quiet", o.quiet, "no progress meter");
  if (results) {
    auto* json = cmd.add_flag_callback("--json", [&o] { o.form = fqpipe::cli::OutputForm::json; },
                                       "print a JSON array, one object per file");
    auto* tsv = cmd.add_flag_callback("--tsv", [&o] { o.form = fqpipe::cli::OutputForm::tsv; },
                                      "print tab-separated values with a header row");
    json->excludes(tsv);
  }
}

}  // namespace

int main(int argc, char** argv) {
  fqpipe::cli::watch_interrupts();  // first: every thread of the run inherits its signal mask
  CLI::App app{"fqpipe: read FASTQ (plain, gzip, BGZF) at the speed of the hardware"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fqpipe 0.1.0");

  // The shared options go only to the subcommand named on the command line (all are still
  // listed by --help): building them for all five was an eighth of `fqpipe --version`'s
  // time in perf record, which a run of a few milliseconds pays too.
  const std::string_view chosen = argc > 1 ? argv[1] : "";
  const auto add_common_to = [&](CLI::App* cmd, fqpipe::cli::CommonOptions& o, bool results) {
    if (cmd->get_name() == chosen) add_common(*cmd, o, results);
    return cmd;
  };
  fqpipe::cli::CommonOptions stats_o, count_o, validate_o, head_o;
  uint64_t head_n = 10;
  add_common_to(app.add_subcommand("stats", "reads, bases, lengths, base composition, qualities"),
                stats_o, true);
  add_common_to(app.add_subcommand("count", "reads and bases, the fastest path"), count_o, true);
  add_common_to(app.add_subcommand("validate", "check every record; prints OK: N records"),
                validate_o, false);
  CLI::App* head = add_common_to(app.add_subcommand("head", "the first N records as FASTQ"), head_o, false);
  head->add_option("-n,--records", head_n, "records to print (default 10)");
  uint64_t head_skip = 0;
  head->add_option("--skip", head_skip, "records to skip first (fast on gzip with an index)");

  fqpipe::cli::CommonOptions cat_o;
  bool cat_fasta = false;
  std::string cat_out = "-";
  CLI::App* cat = add_common_to(
      app.add_subcommand("cat", "every record of every file, in file order, as normalised FASTQ or FASTA"),
      cat_o, false);
  cat->add_flag("--fasta", cat_fasta, "write FASTA (>header, sequence) instead of FASTQ");
  cat->add_option("-o,--output", cat_out, "output file (default: standard output)");

  fqpipe::cli::CommonOptions merge_o;
  CLI::App* merge = app.add_subcommand("merge", "sum the --json results of stats or count --part runs");
  merge->add_option("results", merge_o.files, "JSON files written by stats/count --json; - reads standard input")
      ->required();
  auto* merge_json = merge->add_flag_callback("--json", [&merge_o] { merge_o.form = fqpipe::cli::OutputForm::json; },
                                              "print a JSON array, one object per file");
  auto* merge_tsv = merge->add_flag_callback("--tsv", [&merge_o] { merge_o.form = fqpipe::cli::OutputForm::tsv; },
                                             "print tab-separated values with a header row");
  merge_json->excludes(merge_tsv);

  fqpipe::cli::CommonOptions decompress_o;
  std::string decompress_out = "-";
  CLI::App* decompress = app.add_subcommand("decompress", "write the decompressed bytes, like gzip -dc");
  decompress->add_option("file", decompress_o.files, "input (gzip, BGZF or plain); - reads standard input")
      ->default_val(std::vector<std::string>{"-"});
  decompress->add_option("-t,--threads", decompress_o.threads, "threads (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  decompress->add_option("-o,--output", decompress_out, "output file (default: standard output)");
  add_decoder_options(*decompress, decompress_o);
  decompress->add_flag("--no-index", decompress_o.no_index, "ignore FILE.fqidx (decode without the index)");
  decompress->add_flag("-v,--verbose", decompress_o.verbose, "report the decoder on stderr");
  decompress->add_flag("-q,--quiet", decompress_o.quiet, "no progress meter");
  // --- index commands (issue 5): begin ---
  fqpipe::cli::RangeOptions range_o;
  auto* range_offset = decompress->add_option("--offset", range_o.offset, "first decompressed byte to write (seeks with an index)");
  auto* range_length = decompress->add_option("--length", range_o.length, "decompressed bytes to write (default: to the end)");
  auto* range_index = decompress->add_option("--index", range_o.index, "index to seek with (default: FILE.fqidx when it exists)");
  fqpipe::cli::IndexOptions index_o;
  CLI::App* index = app.add_subcommand("index", "build a random-access index of a gzip file (FILE.fqidx), or show one");
  index->add_option("file", index_o.file, "gzip file to index (with --show: the index to print)");
  index->add_option("-o,--output", index_o.output, "index file to write (default: FILE.fqidx)");
  index->add_option("--format", index_o.format, "fqpipe (compressed windows, record numbers) or gzidx (indexed_gzip)")
      ->check(CLI::IsMember({"fqpipe", "gzidx"}));
  index->add_option("--spacing", index_o.spacing, "decompressed bytes between checkpoints (default 4 MiB)")
      ->check(CLI::Range(uint64_t{1} << 15, uint64_t{1} << 40));
  index->add_flag("--show", index_o.show, "print the index FILE (fqpipe, GZIDX or .gzi) instead of building one");
  index->add_flag("--json", index_o.json, "with --show: print JSON");
  index->add_flag("-v,--verbose", index_o.verbose, "report checkpoints and speed on stderr");
  // --- index commands (issue 5): end ---

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    if (app.got_subcommand("stats")) return fqpipe::cli::run_stats(stats_o);
    if (app.got_subcommand("count")) return fqpipe::cli::run_count(count_o);
    if (app.got_subcommand("validate")) return fqpipe::cli::run_validate(validate_o);
    if (app.got_subcommand("head")) return fqpipe::cli::run_head(head_o, head_n, head_skip);
    if (app.got_subcommand("cat")) return fqpipe::cli::run_cat(cat_o, cat_fasta, cat_out);
    if (app.got_subcommand("merge")) return fqpipe::cli::run_merge(merge_o);
    if (app.got_subcommand("index")) return fqpipe::cli::run_index(index_o);
    range_o.has_length = range_length->count() > 0;
    // A range seeks (with an index, or decodes up to it); the whole file decodes on all threads,
    // from the index's checkpoints when there is one.
    if (app.got_subcommand("decompress") && (range_offset->count() || range_length->count()))
      return fqpipe::cli::run_decompress_range(decompress_o, decompress_out, range_o);
    if (app.got_subcommand("decompress")) {
      if (range_index->count()) decompress_o.index = range_o.index;
      return fqpipe::cli::run_decompress(decompress_o, decompress_out);
    }
  } catch (const fqpipe::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "fqpipe: %s\n", e.what());
    if (!e.position().line.empty())  // the offending input line, escaped: it may hold anything
      std::fprintf(stderr, "%s\n", fqpipe::cli::printable(e.position().line).c_str());
    return e.kind() == fqpipe::ErrorKind::data ? 1 : 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "fqpipe: out of memory\n");
    return 2;
  }
  return 2;
}
