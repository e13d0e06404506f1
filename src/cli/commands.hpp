// commands.hpp - the CLI subcommands and the options they share.
// main.cpp parses arguments into CommonOptions; each command runs the library and prints.
#pragma once

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
};

/// Each returns the process exit code; library errors propagate as fqpipe::Error.
int run_stats(const CommonOptions& options);
int run_count(const CommonOptions& options);
int run_validate(const CommonOptions& options);
int run_head(const CommonOptions& options, uint64_t records);
/// Writes the decompressed bytes of one input to `output` ("-" = stdout). A file is written
/// under a temporary name and renamed at the end, so a failed run leaves no complete-looking file.
int run_decompress(const CommonOptions& options, const std::string& output);

}  // namespace fqpipe::cli
