// testlib/read_all.hpp - small helpers that drive fqpipe's public API for tests: read a whole
// input into reference-shaped records, catch the fqpipe::Error a call must throw, check the
// position an error reports, and abort a test that hangs. Header-only, because it calls
// fqpipe_core and fqpipe_testlib must not depend on the code it checks.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "fqpipe/fqpipe.hpp"
#include "testlib/reference.hpp"

namespace fqpipe::testlib {

/// What one Reader pass saw.
struct ReadResult {
  std::vector<RefRecord> records;
  std::vector<uint64_t> record_nos;       ///< FastqRecord::record_no of each record
  std::vector<std::size_t> batch_sizes;   ///< records per batch
  std::vector<std::size_t> batch_bytes;   ///< header + sequence + quality bytes per batch
  std::vector<uint64_t> batch_first_nos;  ///< first_record_no() of each batch
  InputFormat format = InputFormat::plain;
  QualitySchema detected = QualitySchema::generic;
  uint64_t records_read = 0;
};

inline RefRecord to_ref(const FastqRecord& r) {
  return {std::string(r.header), std::string(r.sequence), std::string(r.quality), r.decoded_byte};
}

/// Reads all of `path` with next_batch().
inline ReadResult read_all(const std::string& path, const ReadOptions& options = {}) {
  Reader reader(path, options);
  ReadResult res;
  res.format = reader.format();
  FastqBatch batch;
  while (reader.next_batch(batch)) {
    res.batch_sizes.push_back(batch.size());
    res.batch_bytes.push_back(batch.header_bytes() + 2 * batch.sequence_bytes());
    res.batch_first_nos.push_back(batch.first_record_no());
    for (const FastqRecord& r : batch) {
      res.records.push_back(to_ref(r));
      res.record_nos.push_back(r.record_no);
    }
  }
  EXPECT_TRUE(batch.empty()) << "next_batch returned false with a non-empty batch";
  res.detected = reader.detected_schema();
  res.records_read = reader.records_read();
  return res;
}

/// Runs `fn`, which must throw fqpipe::Error; returns it (a default data Error on failure).
inline Error expect_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected fqpipe::Error, got std::exception: " << e.what();
    return Error(ErrorKind::usage, "wrong exception type");
  }
  ADD_FAILURE() << "expected fqpipe::Error, nothing was thrown";
  return Error(ErrorKind::usage, "nothing thrown");
}

/// Checks kind, file, record, line and byte of `e`, and that what() has the documented form
/// "FILE: record R (line L, byte B): REASON".
inline void expect_position(const Error& e, const std::string& file, uint64_t record_no,
                            uint64_t line_no, int64_t decoded_byte) {
  EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
  EXPECT_EQ(e.position().file, file) << e.what();
  EXPECT_EQ(e.position().record_no, record_no) << e.what();
  EXPECT_EQ(e.position().line_no, line_no) << e.what();
  EXPECT_EQ(e.position().decoded_byte, decoded_byte) << e.what();
  const std::string expected = file + ": record " + std::to_string(record_no) + " (line " +
                               std::to_string(line_no) + ", byte " +
                               std::to_string(decoded_byte) + "): " + e.reason();
  EXPECT_EQ(std::string(e.what()), expected);
  EXPECT_FALSE(e.reason().empty());
  // STYLE.md §6: lowercase, no trailing period, no exclamation ("!=" is fine).
  EXPECT_TRUE(e.reason().back() != '.' && e.reason().back() != '!') << e.reason();
  EXPECT_FALSE(e.reason()[0] >= 'A' && e.reason()[0] <= 'Z') << e.reason();
}

/// Runs `fn` on another thread; if it has not finished after `seconds`, the test program is
/// ended (a hung pipeline cannot be joined). Exceptions of `fn` are rethrown here.
inline void with_deadline(int seconds, const std::function<void()>& fn) {
  auto fut = std::async(std::launch::async, fn);
  if (fut.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: operation did not finish within %d s (hang)\n", seconds);
    std::fflush(stderr);
    std::_Exit(3);
  }
  fut.get();
}

}  // namespace fqpipe::testlib
