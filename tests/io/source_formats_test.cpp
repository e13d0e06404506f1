// Input sources and containers (issue 2, item 3): plain files, stdin, gzip from every common
// compressor, multi-member gzip, BGZF. Each result is compared with the independent zlib
// reference. What would break: a member boundary (or an empty member) ending the input early or
// tearing the record that spans it, BGZF not recognised, optional gzip header fields (FEXTRA,
// FNAME, FCOMMENT, FHCRC) misparsed, detection by file name, stdin or pipes read wrongly.
#include <gtest/gtest.h>
#include <unistd.h>
#include <fcntl.h>
#include <zlib.h>

#include <thread>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

Generated sample(std::size_t records = 20000, uint64_t seed = 11, bool crlf = false) {
  GenOptions o;
  o.records = records;
  o.seed = seed;
  o.crlf = crlf;
  o.min_length = 0;
  o.max_length = 250;
  o.header_comments = 0.3;
  o.plus_repeats_name = 0.2;
  o.qual_starts_special = 0.1;
  return generate_fastq(o);
}

// Reads `path` with fqpipe and compares with the zlib reference and with the generator.
void expect_same_as_reference(const std::string& path, const Generated& g, InputFormat format,
                              const ReadOptions& options = {.batch_records = 1000}) {
  const std::vector<RefRecord> ref = reference_records(path);
  ASSERT_EQ(ref, g.records) << "reference disagrees with the generator: test bug";
  const ReadResult got = read_all(path, options);
  EXPECT_EQ(got.format, format) << path;
  ASSERT_EQ(got.records.size(), ref.size()) << path;
  for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(got.records[i], ref[i]) << "record " << i + 1;
}

std::string concat_members(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += gzip_member(p);
  return out;
}

// A gzip member with every optional header field (RFC 1952 §2.3.1), written with zlib.
std::string gzip_member_with_header_fields(const std::string& text) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  static unsigned char extra[] = {'X', 'Y', 4, 0, 1, 2, 3, 4};
  static char name[] = "reads.fastq";
  static char comment[] = "a comment";
  gz_header h{};
  h.text = 1;
  h.time = 1234567;
  h.os = 3;
  h.extra = extra;
  h.extra_len = sizeof extra;
  h.name = reinterpret_cast<Bytef*>(name);
  h.comment = reinterpret_cast<Bytef*>(comment);
  h.hcrc = 1;
  EXPECT_EQ(deflateSetHeader(&zs, &h), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 256, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Runs `fn` with file descriptor 0 replaced by `fd`, restoring it afterwards.
template <class Fn>
void with_stdin(int fd, Fn fn) {
  const int saved = dup(0);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(fd, 0), 0);
  close(fd);
  try {
    fn();
  } catch (...) {
    dup2(saved, 0);
    close(saved);
    throw;
  }
  dup2(saved, 0);
  close(saved);
}

}  // namespace

TEST(SourceFormats, plain_file_matches_reference) {
  // Breaks when plain reads (pread) skip or repeat bytes between reads.
  const Generated g = sample();
  TempDir dir;
  expect_same_as_reference(dir.write("p.fastq", g.text), g, InputFormat::plain);
}

TEST(SourceFormats, plain_crlf_matches_reference) {
  // Breaks when '\r' handling differs between the small-file and the refill path.
  const Generated g = sample(5000, 12, true);
  TempDir dir;
  expect_same_as_reference(dir.write("p.fastq", g.text), g, InputFormat::plain);
}

TEST(SourceFormats, gzip_single_member_zlib) {
  // Breaks when the gzip path loses output at inflate buffer boundaries.
  const Generated g = sample();
  TempDir dir;
  expect_same_as_reference(dir.write("z.fq.gz", gzip_member(g.text)), g, InputFormat::gzip);
}

TEST(SourceFormats, gzip_levels_1_and_9_and_stored) {
  // Breaks when stored (level 0) or fixed-Huffman blocks are decoded wrongly.
  const Generated g = sample(5000, 13);
  TempDir dir;
  for (int level : {0, 1, 9}) {
    SCOPED_TRACE(level);
    expect_same_as_reference(dir.write("l.fq.gz", gzip_member(g.text, level)), g,
                             InputFormat::gzip);
  }
}

TEST(SourceFormats, gzip_tool_output) {
  // Breaks on a header variant of the gzip tool (FNAME set when compressing a named file).
  const Generated g = sample();
  TempDir dir;
  const std::string in = dir.write("reads.fastq", g.text);
  ASSERT_EQ(run_shell("gzip -k -f " + shell_quote(in)).exit_code, 0);
  expect_same_as_reference(in + ".gz", g, InputFormat::gzip);
}

TEST(SourceFormats, pigz_output) {
  // Breaks on pigz's output: one member made of independently flushed blocks (empty stored
  // blocks between them), with and without --independent.
  const Generated g = sample();
  TempDir dir;
  const std::string in = dir.write("in.fq", g.text);
  for (const std::string args : {"", "-p 2 -b 32", "-i -b 32", "-1"}) {
    SCOPED_TRACE("pigz " + args);
    const std::string out = dir.file("pigz.fq.gz");
    compress_with("pigz", in, out, args);
    expect_same_as_reference(out, g, InputFormat::gzip);
  }
}

TEST(SourceFormats, igzip_output) {
  // Breaks on ISA-L's own encoder output (levels 0..3).
  const Generated g = sample();
  TempDir dir;
  const std::string in = dir.write("in.fq", g.text);
  for (const std::string args : {"-0", "-1", "-3"}) {
    SCOPED_TRACE("igzip " + args);
    const std::string out = dir.file("igzip.fq.gz");
    compress_with("igzip", in, out, args);
    expect_same_as_reference(out, g, InputFormat::gzip);
  }
}

TEST(SourceFormats, bgzf_detected_and_read) {
  // Breaks when BGZF is not recognised by its 'BC' extra field, when its 64 KiB members are
  // not all read, or when its final empty EOF member ends reading early or is an error.
  const Generated g = sample(30000);
  TempDir dir;
  const std::string in = dir.write("in.fq", g.text);
  const std::string out = dir.file("in.fq.bgz");
  compress_with("bgzip", in, out);
  const std::string bytes = read_file(out);
  ASSERT_GT(bytes.size(), 200000u) << "want several BGZF blocks";
  expect_same_as_reference(out, g, InputFormat::bgzf);
  compress_with("bgzip", in, out, "-@ 2 -l 1");
  expect_same_as_reference(out, g, InputFormat::bgzf);
}

TEST(SourceFormats, bgzf_named_plain) {
  // Breaks when the format is picked from the name.
  const Generated g = sample(2000);
  TempDir dir;
  const std::string in = dir.write("in.fq", g.text);
  compress_with("bgzip", in, dir.file("looks-plain.fastq"));
  expect_same_as_reference(dir.file("looks-plain.fastq"), g, InputFormat::bgzf);
}

TEST(SourceFormats, gzip_multi_member_record_spans_members) {
  // Breaks when a member boundary is treated as the end of the input, or when the record cut
  // by it (here in the middle of a header, a sequence and a quality line) is torn.
  const Generated g = sample(3000);
  const std::size_t a = g.records[1000].decoded_byte + 3;  // inside a header
  const std::size_t b = g.text.find('\n', g.records[2000].decoded_byte) + 2;  // in a sequence
  const std::size_t c = g.text.size() - 3;  // inside the last quality line
  const std::string gz = concat_members({g.text.substr(0, a), g.text.substr(a, b - a),
                                         g.text.substr(b, c - b), g.text.substr(c)});
  TempDir dir;
  expect_same_as_reference(dir.write("mm.fq.gz", gz), g, InputFormat::gzip);
  expect_same_as_reference(dir.write("mm.fq.gz", gz), g, InputFormat::gzip,
                           {.batch_records = 1});
}

TEST(SourceFormats, gzip_many_small_members) {
  // Breaks when per-member state (CRC, ISIZE, window) leaks into the next member.
  const Generated g = sample(4000);
  std::vector<std::string> parts;
  for (std::size_t pos = 0; pos < g.text.size(); pos += 997) parts.push_back(g.text.substr(pos, 997));
  TempDir dir;
  expect_same_as_reference(dir.write("many.fq.gz", concat_members(parts)), g, InputFormat::gzip);
}

TEST(SourceFormats, gzip_empty_member_first_middle_last) {
  // Breaks when an empty member (ISIZE 0) ends the input or is rejected.
  const Generated g = sample(3000);
  const std::size_t half = g.records[1500].decoded_byte;
  const std::string gz = concat_members(
      {"", g.text.substr(0, half), "", "", g.text.substr(half), ""});
  TempDir dir;
  expect_same_as_reference(dir.write("empty-members.fq.gz", gz), g, InputFormat::gzip);
}

TEST(SourceFormats, gzip_of_empty_text) {
  // Breaks when a gzip file with no content is an error rather than zero records.
  TempDir dir;
  const std::string path = dir.write("nothing.fq.gz", gzip_member(""));
  const ReadResult got = read_all(path);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.format, InputFormat::gzip);
}

TEST(SourceFormats, gzip_header_with_extra_name_comment_and_hcrc) {
  // Breaks when FEXTRA/FNAME/FCOMMENT/FHCRC are skipped by the wrong number of bytes, or a
  // non-BGZF extra field is taken for BGZF.
  const Generated g = sample(3000);
  TempDir dir;
  const std::string gz = gzip_member_with_header_fields(g.text);
  ASSERT_EQ(static_cast<unsigned char>(gz[3]), 0x1f) << "FTEXT|FHCRC|FEXTRA|FNAME|FCOMMENT";
  expect_same_as_reference(dir.write("h.fq.gz", gz + gzip_member_with_header_fields("")), g,
                           InputFormat::gzip);
}

TEST(SourceFormats, format_detected_by_magic_not_name) {
  // Breaks when the extension decides: a gzip file named .fastq and a plain file named .gz.
  const Generated g = sample(2000);
  TempDir dir;
  expect_same_as_reference(dir.write("really-gzip.fastq", gzip_member(g.text)), g,
                           InputFormat::gzip);
  expect_same_as_reference(dir.write("really-plain.fastq.gz", g.text), g, InputFormat::plain);
  expect_same_as_reference(dir.write("no-extension", gzip_member(g.text)), g, InputFormat::gzip);
}

TEST(SourceFormats, other_compressors_are_data_errors) {
  // Breaks when bzip2/xz/zstd input is parsed as FASTQ text (garbage records) instead of
  // being refused.
  TempDir dir;
  const std::string magics[] = {std::string("BZh91AY&SY\x01\x02", 12),
                                std::string("\xfd" "7zXZ\0\0\x04\xe6\xd6\xb4\x46", 12),
                                std::string("\x28\xb5\x2f\xfd\x24\x00\x01\x00", 8)};
  for (const std::string& m : magics) {
    const std::string path = dir.write("c.fq", m + std::string(100, 'x'));
    const Error e = expect_error([&] { read_all(path); });
    EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
  }
}

TEST(SourceFormats, input_size_and_bytes_read) {
  // Breaks when progress reports count decompressed bytes for gzip, or stop short of the end.
  const Generated g = sample(5000);
  TempDir dir;
  for (const std::string& content : {g.text, gzip_member(g.text)}) {
    const std::string path = dir.write("s.fq", content);
    Reader reader(path);
    EXPECT_EQ(reader.input_size(), content.size());
    EXPECT_EQ(reader.path(), path);
    FastqBatch b;
    while (reader.next_batch(b)) {}
    EXPECT_EQ(reader.input_bytes_read(), content.size());
    EXPECT_EQ(reader.records_read(), g.records.size());
  }
}

TEST(SourceFormats, stdin_regular_file) {
  // Breaks when "-" does not read standard input, or reports a file name other than "-".
  const Generated g = sample(5000);
  TempDir dir;
  for (const std::string& content : {g.text, gzip_member(g.text)}) {
    const int fd = open(dir.write("in", content).c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    with_stdin(fd, [&] {
      const ReadResult got = read_all("-");
      EXPECT_EQ(got.records, g.records);
      EXPECT_EQ(got.format, is_gzip(content) ? InputFormat::gzip : InputFormat::plain);
    });
  }
}

TEST(SourceFormats, stdin_pipe_plain_and_gzip) {
  // Breaks when a pipe is read with pread/mmap, or short reads from a pipe are taken for EOF.
  // The writer sends in small pieces so reads return partial data.
  const Generated g = sample(20000);
  for (const std::string& content : {g.text, gzip_member(g.text)}) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::thread writer([&, wfd = fds[1]] {
      for (std::size_t pos = 0; pos < content.size();) {
        const std::size_t n = std::min<std::size_t>(4093, content.size() - pos);
        const ssize_t w = write(wfd, content.data() + pos, n);
        if (w <= 0) break;
        pos += static_cast<std::size_t>(w);
      }
      close(wfd);
    });
    with_stdin(fds[0], [&] {
      Reader reader("-", {.batch_records = 500});
      EXPECT_EQ(reader.input_size(), 0u) << "a pipe has no known size";
      std::vector<RefRecord> got;
      for (const FastqRecord& r : reader) got.push_back(to_ref(r));
      EXPECT_EQ(got, g.records);
    });
    writer.join();
  }
}

TEST(SourceFormats, data_error_inside_gzip_names_decompressed_position) {
  // Breaks when a parse error in compressed input reports compressed offsets as line/byte.
  Generated g = sample(3000);
  const std::size_t start = g.text.size();
  const std::string text = g.text + "@bad\nACGT\n+\nIII\n";
  TempDir dir;
  const std::string path = dir.write("e.fq.gz", gzip_member(text));
  const Error e = expect_error([&] { read_all(path); });
  expect_position(e, path, 3001, 12004, static_cast<int64_t>(start + 12));
}

TEST(SourceFormats, random_inputs_all_formats_match_reference) {
  // Breaks on any disagreement with the zlib reference across seeds, line endings and shapes.
  TempDir dir;
  for (uint64_t seed = 100; seed < 106; ++seed) {
    GenOptions o;
    o.seed = seed;
    o.records = 1000 + seed * 17;
    o.crlf = seed % 2;
    o.min_length = seed % 3 == 0 ? 0 : 30;
    o.max_length = seed % 3 == 0 ? 5 : 400;
    o.no_final_newline = seed % 4 == 1;
    o.plus_repeats_name = 0.5;
    o.qual_starts_special = 0.2;
    o.lowercase_fraction = 0.1;
    const Generated g = generate_fastq(o);
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_same_as_reference(dir.write("r.fq", g.text), g, InputFormat::plain,
                             {.batch_records = 1 + seed % 50});
    expect_same_as_reference(dir.write("r.fq.gz", gzip_member(g.text, 1 + seed % 9)), g,
                             InputFormat::gzip, {.batch_records = 1 + seed % 50});
  }
}

TEST(SourceFormats, long_reads_span_many_members_and_inflate_buffers) {
  // Breaks when a record longer than a BGZF block (64 KiB) or the inflate output buffer is
  // assembled wrongly from many pieces.
  GenOptions o;
  o.records = 25;
  o.min_length = 50000;
  o.max_length = 250000;
  o.seed = 14;
  const Generated g = generate_fastq(o);
  TempDir dir;
  const std::string in = dir.write("long.fq", g.text);
  expect_same_as_reference(dir.write("long.fq.gz", gzip_member(g.text, 1)), g, InputFormat::gzip,
                           {.batch_records = 2});
  compress_with("bgzip", in, dir.file("long.bgz"), "-l 1");
  expect_same_as_reference(dir.file("long.bgz"), g, InputFormat::bgzf, {.batch_records = 2});
}

TEST(SourceFormats, reader_move_keeps_position) {
  // Breaks when a moved Reader loses its buffered bytes or restarts numbering.
  const Generated g = sample(3000);
  TempDir dir;
  const std::string path = dir.write("mv.fq.gz", gzip_member(g.text));
  Reader first(path, {.batch_records = 100});
  FastqBatch batch;
  ASSERT_TRUE(first.next_batch(batch));
  std::vector<RefRecord> got;
  for (const FastqRecord& r : batch) got.push_back(to_ref(r));
  Reader second(std::move(first));
  while (second.next_batch(batch))
    for (const FastqRecord& r : batch) got.push_back(to_ref(r));
  EXPECT_EQ(got, g.records);
  EXPECT_EQ(second.records_read(), g.records.size());
}
