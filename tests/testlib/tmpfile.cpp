// testlib/tmpfile.cpp - TempDir, run_shell and compressors (see header). Plain POSIX + zlib.
#include "testlib/tmpfile.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "testlib/reference.hpp"

namespace fqpipe::testlib {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/fqpipe-test-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string TempDir::write(std::string_view name, std::string_view content) const {
  const std::string p = file(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + p);
  return p;
}

std::string shell_quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

CommandResult run_shell(const std::string& command) {
  TempDir dir;
  const std::string out = dir.file("stdout"), err = dir.file("stderr");
  const std::string full = "( " + command + " ) </dev/null >" + shell_quote(out) + " 2>" +
                           shell_quote(err);
  const int status = std::system(full.c_str());
  CommandResult r;
  if (status == -1) throw std::runtime_error("system() failed");
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.exit_code = 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

void compress_with(const std::string& tool, const std::string& input, const std::string& output,
                   const std::string& args) {
  const std::string cmd = tool + " -c " + args + " < " + shell_quote(input) + " > " +
                          shell_quote(output);
  const CommandResult r = run_shell(cmd);
  if (r.exit_code != 0) throw std::runtime_error(cmd + " failed: " + r.err);
}

namespace {

// zlib's deflate of `text`: window_bits 15 + 16 writes a gzip member, -15 raw DEFLATE.
std::string zlib_compress(std::string_view text, int level, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

}  // namespace

std::string gzip_member(std::string_view text, int level) { return zlib_compress(text, level, 15 + 16); }

std::string deflate_raw(std::string_view text, int level) { return zlib_compress(text, level, -15); }

std::string fqpipe_bin() {
  const char* b = std::getenv("FQPIPE_BIN");
  return b ? b : "";
}

bool command_succeeds(const std::string& command) {
  return run_shell(command).exit_code == 0;
}

}  // namespace fqpipe::testlib
