// The multi-threaded pipeline (issue 2, item 7): for_each_batch and run<> with 1..8 threads.
// What would break: a batch consumed twice or never (a recycled batch handed out while still in
// use), a worker index shared by two threads, an error in the producer or a consumer that hangs
// the run or is swallowed, the wrong record number in a rethrown error.
// Suite names contain "Pipeline"/"Concurrency" so the TSan run selects them.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "fqpipe/fqpipe.hpp"
#include "testlib/fastq_gen.hpp"
#include "testlib/read_all.hpp"
#include "testlib/reference.hpp"
#include "testlib/tmpfile.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

constexpr int kDeadline = 120;  // seconds; a hang ends the program (no timing assertion)

Generated sample(std::size_t records = 10000, uint64_t seed = 41) {
  return generate_fastq({.seed = seed, .records = records, .min_length = 0, .max_length = 150});
}

PipelineOptions options(unsigned threads, std::size_t batch_records = 37) {
  PipelineOptions po;
  po.threads = threads;
  po.read.batch_records = batch_records;
  return po;
}

}  // namespace

TEST(PipelineConcurrency, every_record_exactly_once_threads_1_to_8) {
  // Breaks when a batch is lost, duplicated, or its contents are overwritten while a consumer
  // still reads them (the content check compares every record with the reference).
  const Generated g = sample();
  TempDir dir;
  for (const std::string& path : {dir.write("p.fq", g.text), dir.write("p.fq.gz", gzip_member(g.text))}) {
    for (unsigned threads = 1; threads <= 8; ++threads) {
      SCOPED_TRACE(path + " threads " + std::to_string(threads));
      const unsigned workers = consumer_count(options(threads));
      std::vector<std::vector<uint64_t>> seen(workers);
      std::vector<std::set<std::thread::id>> thread_ids(workers);
      std::atomic<uint64_t> bad_content{0}, bad_worker{0};
      RunInfo info;
      with_deadline(kDeadline, [&] {
        info = for_each_batch(path, options(threads), [&](unsigned w, const FastqBatch& batch) {
          if (w >= workers) {
            ++bad_worker;
            return;
          }
          thread_ids[w].insert(std::this_thread::get_id());
          for (const FastqRecord& r : batch) {
            seen[w].push_back(r.record_no);
            if (r.record_no == 0 || r.record_no > g.records.size() ||
                to_ref(r) != g.records[r.record_no - 1])
              ++bad_content;
          }
        });
      });
      EXPECT_EQ(bad_worker.load(), 0u);
      EXPECT_EQ(bad_content.load(), 0u);
      std::vector<int> count(g.records.size() + 1, 0);
      for (const auto& v : seen)
        for (uint64_t no : v) ++count[no];
      for (std::size_t no = 1; no <= g.records.size(); ++no) ASSERT_EQ(count[no], 1) << "record " << no;
      for (unsigned w = 0; w < workers; ++w) EXPECT_LE(thread_ids[w].size(), 1u) << "worker " << w;
      EXPECT_EQ(info.records, g.records.size());
      EXPECT_EQ(info.path, path);
      EXPECT_EQ(info.consumer_threads, workers);
      EXPECT_EQ(info.batches, (g.records.size() + 36) / 37);
      EXPECT_EQ(info.format, is_gzip(read_file(path)) ? InputFormat::gzip : InputFormat::plain);
    }
  }
}

TEST(PipelineConcurrency, consumer_count_is_threads_minus_one) {
  // Breaks when threads=1 has no consumer or T threads oversubscribe with T consumers.
  EXPECT_EQ(consumer_count(options(1)), 1u);
  EXPECT_EQ(consumer_count(options(2)), 1u);
  EXPECT_EQ(consumer_count(options(3)), 2u);
  EXPECT_EQ(consumer_count(options(8)), 7u);
  PipelineOptions zero;
  zero.threads = 0;
  EXPECT_GE(consumer_count(zero), 1u);
}

TEST(PipelineConcurrency, data_error_in_middle_is_rethrown_with_record_number) {
  // Breaks when the producer's parse error is lost (the run "succeeds" with fewer records),
  // when consumers blocked on the queue are never woken (hang), or the record number is wrong.
  Generated g = sample(8000);
  const std::size_t bad_start = g.records[4000].decoded_byte;
  std::string text = g.text;
  text[bad_start] = '>';  // record 4001 loses its '@'
  TempDir dir;
  for (const std::string& path : {dir.write("e.fq", text), dir.write("e.fq.gz", gzip_member(text))}) {
    for (unsigned threads = 1; threads <= 8; ++threads) {
      SCOPED_TRACE(path + " threads " + std::to_string(threads));
      std::atomic<uint64_t> consumed{0};
      with_deadline(kDeadline, [&] {
        const Error e = expect_error([&] {
          for_each_batch(path, options(threads, 50),
                         [&](unsigned, const FastqBatch& b) { consumed += b.size(); });
        });
        expect_position(e, path, 4001, 16001, static_cast<int64_t>(bad_start));
      });
      EXPECT_LE(consumed.load(), 4000u) << "records after the error were delivered";
    }
  }
}

TEST(PipelineConcurrency, gzip_crc_error_is_rethrown) {
  // Breaks when a decoder error in the producer thread does not reach the caller.
  const Generated g = sample(8000);
  std::string gz = gzip_member(g.text);
  gz[gz.size() - 6] ^= 0x04;
  TempDir dir;
  const std::string path = dir.write("crc.fq.gz", gz);
  for (unsigned threads : {1u, 2u, 5u}) {
    with_deadline(kDeadline, [&] {
      const Error e = expect_error([&] {
        for_each_batch(path, options(threads), [](unsigned, const FastqBatch&) {});
      });
      EXPECT_EQ(e.kind(), ErrorKind::data) << e.what();
    });
  }
}

TEST(PipelineConcurrency, consumer_exception_propagates) {
  // Breaks when an exception thrown by a consumer terminates the program (escapes a thread),
  // is swallowed, or leaves the producer blocked on a full queue forever.
  const Generated g = sample(20000);
  TempDir dir;
  const std::string path = dir.write("c.fq", g.text);
  for (unsigned threads = 1; threads <= 8; ++threads) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    std::atomic<int> calls{0};
    with_deadline(kDeadline, [&] {
      try {
        for_each_batch(path, options(threads, 10), [&](unsigned, const FastqBatch& b) {
          ++calls;
          if (b.first_record_no() > 5000) throw std::runtime_error("consumer boom");
        });
        ADD_FAILURE() << "consumer exception was swallowed";
      } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("consumer boom"), std::string::npos) << e.what();
      }
    });
    EXPECT_LT(calls.load(), 2000) << "the run went on long after the consumer failed";
  }
}

TEST(PipelineConcurrency, consumer_fqpipe_error_keeps_its_type) {
  // Breaks when a consumer's fqpipe::Error is re-wrapped and loses its kind/position.
  const Generated g = sample(3000);
  TempDir dir;
  const std::string path = dir.write("c.fq", g.text);
  for (unsigned threads : {1u, 2u, 4u}) {
    with_deadline(kDeadline, [&] {
      const Error e = expect_error([&] {
        for_each_batch(path, options(threads), [&](unsigned, const FastqBatch& b) {
          if (b.first_record_no() > 1000) {
            ErrorPosition at;
            at.record_no = 4242;
            throw Error(ErrorKind::usage, "consumer says no", at);
          }
        });
      });
      EXPECT_EQ(e.kind(), ErrorKind::usage);
      EXPECT_EQ(e.reason(), "consumer says no");
      EXPECT_EQ(e.position().record_no, 4242u);
    });
  }
}

TEST(PipelineConcurrency, queue_depth_one_does_not_deadlock) {
  // Breaks when a queue of one batch deadlocks (producer waits for a free batch while the
  // only one is held), or when depth limits drop batches.
  const Generated g = sample(3000);
  TempDir dir;
  const std::string path = dir.write("q.fq", g.text);
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    for (std::size_t depth : {std::size_t{1}, std::size_t{2}}) {
      PipelineOptions po = options(threads, 16);
      po.queue_depth = depth;
      std::atomic<uint64_t> records{0};
      with_deadline(kDeadline, [&] {
        for_each_batch(path, po, [&](unsigned, const FastqBatch& b) { records += b.size(); });
      });
      EXPECT_EQ(records.load(), g.records.size()) << threads << "/" << depth;
    }
  }
}

TEST(PipelineConcurrency, batches_alive_bounded_by_queue_depth) {
  // Breaks when batches are allocated per read instead of recycled: with slow consumers the
  // number of distinct batch objects seen must stay within the configured depth.
  const Generated g = sample(6000);
  TempDir dir;
  const std::string path = dir.write("b.fq", g.text);
  for (unsigned threads : {2u, 4u}) {
    PipelineOptions po = options(threads, 10);
    po.queue_depth = 3;
    std::mutex m;
    std::set<const FastqBatch*> distinct;
    std::atomic<int> in_consumer{0}, max_in_consumer{0};
    with_deadline(kDeadline, [&] {
      for_each_batch(path, po, [&](unsigned, const FastqBatch& b) {
        const int now = ++in_consumer;
        int prev = max_in_consumer.load();
        while (now > prev && !max_in_consumer.compare_exchange_weak(prev, now)) {}
        {
          std::lock_guard lock(m);
          distinct.insert(&b);
        }
        std::this_thread::yield();
        --in_consumer;
      });
    });
    EXPECT_LE(distinct.size(), 3u + 1u) << "threads " << threads
        << " (depth 3, one more allowed for a batch the producer fills)";
    EXPECT_LE(max_in_consumer.load(), static_cast<int>(consumer_count(po)));
  }
}

TEST(PipelineConcurrency, run_with_per_worker_state_and_merge) {
  // Breaks when run<> merges workers in the wrong way or calls a worker from two threads.
  struct Counter {
    uint64_t records = 0, bases = 0;
    std::thread::id owner{};
    bool shared = false;
    void consume(const FastqBatch& b) {
      if (owner == std::thread::id{}) owner = std::this_thread::get_id();
      else if (owner != std::this_thread::get_id()) shared = true;
      records += b.size();
      bases += b.sequence_bytes();
    }
    void merge(const Counter& o) {
      records += o.records;
      bases += o.bases;
      shared = shared || o.shared;
    }
  };
  const Generated g = sample(7000);
  uint64_t want_bases = 0;
  for (const RefRecord& r : g.records) want_bases += r.sequence.size();
  TempDir dir;
  const std::string path = dir.write("r.fq.gz", gzip_member(g.text));
  for (unsigned threads = 1; threads <= 8; ++threads) {
    Counter c;
    with_deadline(kDeadline, [&] { c = run<Counter>(path, options(threads), [] { return Counter(); }); });
    EXPECT_EQ(c.records, g.records.size()) << threads;
    EXPECT_EQ(c.bases, want_bases) << threads;
    EXPECT_FALSE(c.shared) << "a worker object was used by two threads";
  }
}

TEST(PipelineConcurrency, progress_reports_are_monotonic_and_complete) {
  // Breaks when progress goes backwards or never reports the final record count.
  const Generated g = sample(5000);
  TempDir dir;
  const std::string path = dir.write("pr.fq", g.text);
  for (unsigned threads : {1u, 3u}) {
    std::vector<Progress> reports;
    PipelineOptions po = options(threads, 100);
    po.on_progress = [&](const Progress& p) { reports.push_back(p); };  // producer thread only
    with_deadline(kDeadline, [&] { for_each_batch(path, po, [](unsigned, const FastqBatch&) {}); });
    ASSERT_FALSE(reports.empty());
    for (std::size_t i = 1; i < reports.size(); ++i) {
      EXPECT_GE(reports[i].records, reports[i - 1].records);
      EXPECT_GE(reports[i].input_bytes_read, reports[i - 1].input_bytes_read);
    }
    EXPECT_EQ(reports.back().records, g.records.size());
    EXPECT_EQ(reports.back().input_size, g.text.size());
    EXPECT_LE(reports.back().input_bytes_read, g.text.size());
  }
}

TEST(PipelineConcurrency, missing_file_is_io_error_without_hang) {
  // Breaks when an open failure in the producer leaves consumer threads waiting forever.
  TempDir dir;
  for (unsigned threads : {1u, 4u}) {
    with_deadline(kDeadline, [&] {
      const Error e = expect_error([&] {
        for_each_batch(dir.file("missing.fq"), options(threads), [](unsigned, const FastqBatch&) {});
      });
      EXPECT_EQ(e.kind(), ErrorKind::io);
    });
  }
}

TEST(PipelineConcurrency, empty_input_runs_and_returns) {
  // Breaks when consumers wait forever for a first batch that never comes.
  TempDir dir;
  const std::string path = dir.write("empty.fq", "");
  for (unsigned threads = 1; threads <= 8; ++threads) {
    std::atomic<int> calls{0};
    RunInfo info;
    with_deadline(kDeadline, [&] {
      info = for_each_batch(path, options(threads), [&](unsigned, const FastqBatch&) { ++calls; });
    });
    EXPECT_EQ(calls.load(), 0);
    EXPECT_EQ(info.records, 0u);
  }
}
