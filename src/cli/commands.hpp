// commands.hpp - the CLI subcommands and the options they share.
// main.cpp parses arguments into CommonOptions; each command runs the library and prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "cli/output.hpp"
#include "fqpipe/pipeline.hpp"
#include "fqpipe/stats.hpp"

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
  std::string part;                   ///< --part i/N, "" = the whole input
  std::string index;                  ///< --index PATH, "" = FILE.fqidx when present
  bool no_index = false;              ///< --no-index
  bool build_index = false;           ///< --build-index
};

/// Each returns the process exit code; library errors propagate as fqpipe::Error.
int run_stats(const CommonOptions& options);
int run_count(const CommonOptions& options);
int run_validate(const CommonOptions& options);
/// The first `records` records of each file as normalised FASTQ on standard output (cat.cpp).
/// With `skip`, records skip + 1 .. skip + records; a gzip file with an index is entered at
/// record skip + 1 directly, without one it is decoded from the start (and says so).
int run_head(const CommonOptions& options, uint64_t records, uint64_t skip);
/// Every record of every file, in file order, as normalised FASTQ or (`fasta`) FASTA, to
/// `output` ("-" = stdout; a file is renamed into place once complete) (cat.cpp). A closed
/// standard output (EPIPE) ends it quietly with 0.
int run_cat(const CommonOptions& options, bool fasta, const std::string& output);
/// Writes the decompressed bytes of one input to `output` ("-" = stdout). A file is written
/// under a temporary name and renamed at the end, so a failed or interrupted run leaves no
/// complete-looking file (OutputFile). A closed standard output (EPIPE) ends it quietly with 0.
int run_decompress(const CommonOptions& options, const std::string& output);

/// Sums the partial `--json` results of stats or count (`--part i/N` runs) given as files of
/// JSON ("-" = stdin) and prints them as the whole-file run would (merge.cpp).
int run_merge(const CommonOptions& options);

/// The PipelineOptions the common options ask for; throws Error (kind usage) on a bad schema
/// or --part.
PipelineOptions pipeline_options(const CommonOptions& options);
/// Prints the rows of a result command in the form asked for (table, TSV or JSON).
void print(const CommonOptions& options, const Table& table, const std::vector<std::string>& json);
/// Adds the stats of one file (or of one --part of it) as a table row and, when `json` is not
/// null, a JSON object (per-position arrays of tens of thousands of numbers for long reads:
/// not built for a table nobody reads them from).
/// Scores use `schema` when the user gave one, else the schema detected from the data.
void add_stats_result(Table& table, std::vector<std::string>* json, const std::string& file,
                      std::string_view format, const FastqStats& stats,
                      std::optional<QualitySchema> given_schema, const std::string& part);
/// The -v report on stderr: which path ran, with how many threads, how fast.
void report_run(const std::string& file, const PipelineOptions& p, const RunInfo& info,
                std::chrono::steady_clock::time_point start);

}  // namespace fqpipe::cli

// --- index commands (issue 5): begin ---
namespace fqpipe::cli {

/// `fqpipe index` (index_cmd.cpp).
struct IndexOptions {
  std::string file;                ///< the gzip file to index
  std::string output;              ///< -o; "" = FILE.fqidx
  std::string format = "fqpipe";   ///< --format fqpipe|gzidx
  uint64_t spacing = uint64_t{4} << 20;
  bool show = false;               ///< --show: `file` is an index to print, not a file to index
  bool json = false;               ///< --json with --show
  bool verbose = false;
};
/// Builds and writes an index, or prints one (--show).
int run_index(const IndexOptions& options);

/// `fqpipe decompress --offset B --length L [--index PATH]`.
struct RangeOptions {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool has_length = false;  ///< false: to the end
  std::string index;        ///< --index; "" = FILE.fqidx when it exists
};
/// Writes decompressed bytes [offset, offset + length) of the one input to `output`, seeking
/// with an index when there is one; without one it decodes from the start and says so.
int run_decompress_range(const CommonOptions& options, const std::string& output, const RangeOptions& range);

}  // namespace fqpipe::cli
// --- index commands (issue 5): end ---
