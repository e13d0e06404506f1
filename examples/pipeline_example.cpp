// pipeline_example.cpp - a consumer object with per-thread state and a merge step, run on every
// batch by N threads. Here: the longest read name and the number of reads with an 'N'.
// Run: example_pipeline reads.fastq.gz 4
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fqpipe/fqpipe.hpp"

// One instance per thread or chunk: no locks. merge() combines them.
struct NScan {
  // Record numbers are not read, so the producers may consume their own chunks (fastest).
  static constexpr bool needs_record_numbers = false;
  uint64_t reads_with_n = 0;
  std::string longest_name;

  void consume(const fqpipe::FastqBatch& batch) {
    for (const fqpipe::FastqRecord rec : batch) {
      if (rec.sequence.find('N') != std::string_view::npos) ++reads_with_n;
      if (rec.name().size() > longest_name.size()) longest_name = rec.name();
    }
  }
  void merge(const NScan& other) {
    reads_with_n += other.reads_with_n;
    if (other.longest_name.size() > longest_name.size()) longest_name = other.longest_name;
  }
  // Optional: lets the pipeline reuse a merged partial result for the next chunk.
  void clear() {
    reads_with_n = 0;
    longest_name.clear();
  }
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.fastq[.gz] [THREADS]\n", argv[0]);
    return 2;
  }
  fqpipe::PipelineOptions options;
  options.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 2;
  try {
    fqpipe::RunInfo info;
    const NScan result = fqpipe::run<NScan>(argv[1], options, [] { return NScan(); }, &info);
    std::printf("records\t%llu\nwith N\t%llu\nlongest name\t%s\n",
                static_cast<unsigned long long>(info.records),
                static_cast<unsigned long long>(result.reads_with_n), result.longest_name.c_str());
  } catch (const fqpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
