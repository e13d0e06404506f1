// commands.hpp - the CLI subcommands and the options they share.
// main.cpp parses arguments into CommonOptions; each command runs the library and prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fqpipe/pipeline.hpp"

namespace fqpipe::cli {

enum class OutputForm { table, tsv, json };

struct CommonOptions {
  std::vector<std::string> files;
  unsigned threads = 0;            ///< 0: one per core
  std::string schema = "generic";  ///< --schema
  bool no_check_quality = false;
  bool no_check_ascii = false;
  OutputForm form = OutputForm::table;
  bool verbose = false;
  bool quiet = false;
  std::size_t batch_records = 0;   ///< 0: library default
  std::size_t max_record_bytes = 0;
  std::string gzip_decoder = "auto";  ///< --gzip-decoder auto|sequential|parallel
  std::size_t chunk_bytes = 0;        ///< --chunk-size, 0: library default
  std::string mode = "auto";          ///< --mode auto|spmc|mpmc
  std::string chunking = "auto";      ///< --chunking auto|equal|record|index
  unsigned producers = 0;             ///< --producers, 0: the library picks
  unsigned consumers = 0;             ///< --consumers, 0: the library picks
  std::size_t queue_depth = 0;        ///< --queue-depth, 0: the library picks
};

/// Each returns the process exit code; library errors propagate as fqpipe::Error.
int run_stats(const CommonOptions& options);
int run_count(const CommonOptions& options);
int run_validate(const CommonOptions& options);
/// The first `records` records of each file as normalised FASTQ on standard output (cat.cpp).
int run_head(const CommonOptions& options, uint64_t records);
/// Every record of every file, in file order, as normalised FASTQ or (`fasta`) FASTA, to
/// `output` ("-" = stdout; a file is renamed into place once complete) (cat.cpp). A closed
/// standard output (EPIPE) ends it quietly with 0.
int run_cat(const CommonOptions& options, bool fasta, const std::string& output);
/// Writes the decompressed bytes of one input to `output` ("-" = stdout). A file is written
/// under a temporary name and renamed at the end, so a failed run leaves no complete-looking file.
int run_decompress(const CommonOptions& options, const std::string& output);

/// The PipelineOptions the common options ask for; throws Error (kind usage) on a bad schema.
PipelineOptions pipeline_options(const CommonOptions& options);
/// The -v report on stderr: which path ran, with how many threads, how fast.
void report_run(const std::string& file, const PipelineOptions& p, const RunInfo& info,
                std::chrono::steady_clock::time_point start);

}  // namespace fqpipe::cli
