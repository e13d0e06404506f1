// Cross-check with Biopython (issue 2, item 10): an implementation written by other people
// must read the same records as fqpipe. What would break: any disagreement on ids, sequences or
// qualities, e.g. a header comment or '+name' handled differently. Skipped without Bio.
#include <gtest/gtest.h>

#include "testlib/fastq_gen.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe::testlib;

TEST(Biopython, head_output_matches_seqio_parse) {
  // Breaks when fqpipe and Biopython disagree on any id, sequence or quality of a gzip CRLF file.
  const std::string bin = fqpipe_bin();
  if (bin.empty()) GTEST_SKIP() << "FQPIPE_BIN is not set (run under ctest)";
  // Debian's python3-biopython serves /usr/bin/python3, which a pyenv/venv python3 on PATH hides.
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (command_succeeds(std::string(candidate) + " -c 'import Bio.SeqIO' 2>/dev/null")) {
      python = candidate;
      break;
    }
  if (python.empty()) GTEST_SKIP() << "Biopython is not installed";
  GenOptions o;
  o.records = 3000;
  o.min_length = 1;
  o.crlf = true;
  o.plus_repeats_name = 0.5;
  o.header_comments = 0.5;
  o.qual_starts_special = 0.2;
  o.seed = 71;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string gz = dir.write("b.fq.gz", gzip_member(g.text));
  // Biopython reads the original (gzip, CRLF, '+name') file; fqpipe prints normalised FASTQ.
  const std::string py = dir.write("bio.py",
      "import gzip, sys\n"
      "from Bio import SeqIO\n"
      "with gzip.open(sys.argv[1], 'rt', newline=None) as f:\n"
      "    for r in SeqIO.parse(f, 'fastq'):\n"
      "        q = ''.join(chr(v + 33) for v in r.letter_annotations['phred_quality'])\n"
      "        sys.stdout.write('@%s\\n%s\\n+\\n%s\\n' % (r.description, r.seq, q))\n");
  const CommandResult bio = run_shell(python + " " + shell_quote(py) + " " + shell_quote(gz));
  ASSERT_EQ(bio.exit_code, 0) << bio.err;
  const CommandResult fq = run_shell(shell_quote(bin) + " head -n 2000 " + shell_quote(gz));
  ASSERT_EQ(fq.exit_code, 0) << fq.err;
  const std::vector<RefRecord> bio_records = split_fastq(bio.out);
  const std::vector<RefRecord> fq_records = split_fastq(fq.out);
  ASSERT_EQ(bio_records.size(), 3000u);
  ASSERT_EQ(fq_records.size(), 2000u);
  for (std::size_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(fq_records[i].header, bio_records[i].header) << i;
    ASSERT_EQ(fq_records[i].sequence, bio_records[i].sequence) << i;
    ASSERT_EQ(fq_records[i].quality, bio_records[i].quality) << i;
  }
}
