// reader_example.cpp - the pull API: count reads and GC content of one FASTQ file on one thread.
// Build: part of the project (target example_reader). Run: example_reader reads.fastq.gz
#include <cstdio>

#include "fqpipe/fqpipe.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.fastq[.gz]\n", argv[0]);
    return 2;
  }
  try {
    uint64_t reads = 0, bases = 0, gc = 0;
    for (const fqpipe::FastqRecord& rec : fqpipe::Reader(argv[1])) {
      ++reads;
      bases += rec.sequence.size();
      for (char b : rec.sequence) gc += (b == 'G' || b == 'C' || b == 'g' || b == 'c');
    }
    std::printf("reads\t%llu\nbases\t%llu\ngc\t%.2f%%\n", static_cast<unsigned long long>(reads),
                static_cast<unsigned long long>(bases), bases ? 100.0 * gc / bases : 0.0);
  } catch (const fqpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
