// io::MappedFile over a file that shrinks while it is mapped (issue #6, item 3): pages past the
// new end must read as zeros instead of killing the process with SIGBUS, and check_intact()
// must then fail with an io error naming the file, so no reader passes the zeros on as data.
// A SIGBUS that is not about a guarded mapping must still kill the process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "fqpipe/error.hpp"
#include "io/mapped_file.hpp"
#include "testlib/tmpfile.hpp"

using fqpipe::Error;
using fqpipe::ErrorKind;
using fqpipe::io::MappedFile;
using fqpipe::testlib::TempDir;

namespace {

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

// Four pages of 'x', so a zero byte can only come from a vanished page.
std::string four_pages(const TempDir& dir) { return dir.write("mapped.gz", std::string(4 * kPage, 'x')); }

// Expects check_intact() to throw the io error "file shrank while being read" for `path`.
void expect_shrank(const MappedFile& m, const std::string& path) {
  try {
    m.check_intact();
    ADD_FAILURE() << "check_intact() passed a file that shrank";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(e.position().file, path);
    EXPECT_NE(e.reason().find("file shrank while being read"), std::string::npos) << e.what();
  }
}

// Dies unless something other than exiting 0 ends the process (a signal, or ASan's report of it).
bool did_not_exit_cleanly(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

}  // namespace

TEST(MappedFile, intact_file_passes_the_check) {
  // Breaks when a file that did not change is reported as changed.
  TempDir dir;
  const std::string path = four_pages(dir);
  const MappedFile m(path);
  EXPECT_EQ(m.bytes()[3 * kPage], 'x');
  EXPECT_NO_THROW(m.check_intact());
}

TEST(MappedFile, page_past_the_new_end_reads_zeros_and_is_reported) {
  // Breaks when reading a mapped page that vanished (the file was truncated by someone else)
  // raises SIGBUS and kills the process, or the zeros read instead go unreported.
  TempDir dir;
  const std::string path = four_pages(dir);
  const MappedFile m(path);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kPage)), 0);
  const volatile uint8_t* bytes = m.bytes().data();
  EXPECT_EQ(bytes[0], 'x');          // before the cut: still the file
  EXPECT_EQ(bytes[2 * kPage], 0);    // faults; the handler maps zeros
  EXPECT_EQ(bytes[4 * kPage - 1], 0);
  expect_shrank(m, path);
  // Grown back to its size, the file is still not what was read.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(4 * kPage)), 0);
  expect_shrank(m, path);
}

TEST(MappedFile, shorter_file_is_reported_before_any_fault) {
  // Breaks when a file that shrank is only noticed once a read faults: a reader at a partial
  // last page reads zeros without any fault.
  TempDir dir;
  const std::string path = four_pages(dir);
  const MappedFile m(path);
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kPage + 100)), 0);
  expect_shrank(m, path);
}

TEST(MappedFileDeathTest, sigbus_elsewhere_still_kills) {
  // Breaks when the handler swallows a SIGBUS that is not about a guarded mapping (a fault in
  // another mapping, a signal sent by kill): the process must die as it would without it.
  TempDir dir;
  const std::string path = four_pages(dir);
  const std::string other = dir.write("other", std::string(4 * kPage, 'y'));
  const MappedFile guarded(path);  // installs the handler
  EXPECT_EXIT(
      {
        const int fd = ::open(other.c_str(), O_RDONLY);
        void* p = ::mmap(nullptr, 4 * kPage, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED || ::truncate(other.c_str(), 0) != 0) std::_Exit(0);
        (void)static_cast<const volatile uint8_t*>(p)[2 * kPage];  // a fault in no guarded range
        std::_Exit(0);
      },
      did_not_exit_cleanly, "");
  EXPECT_EXIT(
      {
        ::raise(SIGBUS);
        std::_Exit(0);
      },
      did_not_exit_cleanly, "");
}
