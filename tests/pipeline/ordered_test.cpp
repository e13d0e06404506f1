// Ordered, the adaptor that hands batches back in file order. What would break: a batch
// delivered twice, never, or out of order when batches arrive shuffled from many threads; two
// threads inside in_order at once; a buffered batch read after its original was recycled
// (Ordered must copy, not keep a pointer); empty batches stalling the sequence; a gap not
// reported by finish(); an exception from in_order swallowed, or leaving later calls hung.
// Suite names are "Ordered", which scripts/test's TSan regex selects.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fqpipe/ordered.hpp"
#include "testlib/read_all.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

constexpr int kDeadline = 120;  // seconds; a hang ends the program (no timing assertion)

// A batch plan: records [first, first + size), record k has header "r<k>", a sequence of
// k % 13 bytes and a matching quality, so content read from a stale batch is detected.
struct Plan {
  uint64_t first;
  std::size_t size;
};

void fill(FastqBatch& batch, const Plan& plan) {
  batch.clear(plan.first);
  for (std::size_t i = 0; i < plan.size; ++i) {
    const uint64_t no = plan.first + i;
    const std::string seq(no % 13, "ACGT"[no % 4]);
    batch.append("r" + std::to_string(no), seq, std::string(seq.size(), 'I'), no * 100);
  }
}

// Consecutive batches covering records 1..total, sizes drawn from [0, max_size] (0 included).
std::vector<Plan> plan_batches(std::mt19937_64& rng, uint64_t total, std::size_t max_size) {
  std::vector<Plan> plans;
  uint64_t next = 1;
  while (next <= total) {
    std::size_t size = std::uniform_int_distribution<std::size_t>(0, max_size)(rng);
    size = static_cast<std::size_t>(std::min<uint64_t>(size, total - next + 1));
    plans.push_back({next, size});
    next += size;
  }
  return plans;
}

// What in_order saw: record numbers in delivery order, content errors, and overlapping calls.
class Recorder {
 public:
  void operator()(const FastqBatch& batch) {
    if (inside_.fetch_add(1) != 0) ++overlapping_;
    for (const FastqRecord& r : batch) {
      seen_.push_back(r.record_no);
      const std::string seq(r.record_no % 13, "ACGT"[r.record_no % 4]);
      if (r.header != "r" + std::to_string(r.record_no) || r.sequence != seq ||
          r.quality != std::string(seq.size(), 'I') || r.decoded_byte != r.record_no * 100)
        ++bad_content_;
    }
    inside_.fetch_sub(1);
  }
  void expect_exactly(uint64_t total) const {
    EXPECT_EQ(overlapping_.load(), 0) << "two threads ran in_order at once";
    EXPECT_EQ(bad_content_, 0) << "a delivered batch was not the batch handed in";
    ASSERT_EQ(seen_.size(), total);
    for (uint64_t i = 0; i < total; ++i) ASSERT_EQ(seen_[i], i + 1) << "position " << i;
  }
  const std::vector<uint64_t>& seen() const { return seen_; }

 private:
  std::atomic<int> inside_{0}, overlapping_{0};
  int bad_content_ = 0;          // only touched inside in_order, which Ordered serialises
  std::vector<uint64_t> seen_;   // likewise
};

// Hands `plans` to `ordered` from `threads` threads in the order given, each thread taking every
// threads-th plan and refilling one batch object per plan (as a pipeline recycles batches).
void feed(Ordered& ordered, const std::vector<Plan>& plans, unsigned threads) {
  std::latch start(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      FastqBatch batch;
      start.arrive_and_wait();
      for (std::size_t i = t; i < plans.size(); i += threads) {
        fill(batch, plans[i]);
        ordered.consume(batch);
        fill(batch, {plans[i].first + 1000000, 3});  // overwrite: Ordered must hold a copy
      }
    });
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace

TEST(Ordered, shuffled_batches_from_8_threads_arrive_in_order_exactly_once) {
  // Breaks when a buffered batch is lost, delivered twice or out of order, when a thread that
  // buffers races the delivering thread and nobody delivers (the run ends with a gap), or when
  // two threads run in_order at once.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const uint64_t total = 20000 + seed * 37;
    std::vector<Plan> plans = plan_batches(rng, total, seed % 2 ? 40 : 5);
    std::shuffle(plans.begin(), plans.end(), rng);
    Recorder recorder;
    Ordered ordered([&recorder](const FastqBatch& b) { recorder(b); });
    with_deadline(kDeadline, [&] { feed(ordered, plans, 8); });
    EXPECT_NO_THROW(ordered.finish());
    EXPECT_EQ(ordered.next_record_no(), total + 1);
    EXPECT_FALSE(ordered.stopped());
    recorder.expect_exactly(total);
  }
}

TEST(Ordered, nearly_sorted_batches_as_a_pipeline_delivers_them) {
  // A pipeline hands batches out almost in order; breaks when the common case (the next batch
  // arrives while another thread is delivering) loses or reorders a batch.
  std::mt19937_64 rng(7);
  const uint64_t total = 50000;
  std::vector<Plan> plans = plan_batches(rng, total, 64);
  for (std::size_t i = 0; i + 1 < plans.size(); i += 2)
    if (rng() % 3 == 0) std::swap(plans[i], plans[i + 1]);
  Recorder recorder;
  Ordered ordered([&recorder](const FastqBatch& b) { recorder(b); });
  with_deadline(kDeadline, [&] { feed(ordered, plans, 8); });
  EXPECT_NO_THROW(ordered.finish());
  recorder.expect_exactly(total);
}

TEST(Ordered, submitted_steps_and_batches_interleave_in_record_order) {
  // Breaks when steps given to submit() and batches given to consume() are sequenced apart
  // (each in order, but not with each other), or when a buffered step is run twice.
  std::mt19937_64 rng(11);
  const uint64_t total = 30000;
  std::vector<Plan> plans = plan_batches(rng, total, 30);
  std::shuffle(plans.begin(), plans.end(), rng);
  std::vector<uint64_t> seen;  // written only by in_order and steps, which Ordered serialises
  Ordered ordered([&seen](const FastqBatch& b) {
    for (const FastqRecord& r : b) seen.push_back(r.record_no);
  });
  with_deadline(kDeadline, [&] {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 8; ++t) {
      pool.emplace_back([&, t] {
        FastqBatch batch;
        for (std::size_t i = t; i < plans.size(); i += 8) {
          const Plan p = plans[i];
          if (p.first % 2) {
            fill(batch, p);
            ordered.consume(batch);
          } else {
            ordered.submit(p.first, p.size, [&seen, p] {
              for (uint64_t k = 0; k < p.size; ++k) seen.push_back(p.first + k);
            });
          }
        }
      });
    }
    for (std::thread& th : pool) th.join();
  });
  EXPECT_NO_THROW(ordered.finish());
  ASSERT_EQ(seen.size(), total);
  for (uint64_t i = 0; i < total; ++i) ASSERT_EQ(seen[i], i + 1) << "position " << i;
}

TEST(Ordered, empty_batches_neither_stall_nor_advance) {
  // Breaks when an empty batch (size 0) is taken for the next batch and advances the sequence,
  // or is buffered and later reported as a gap.
  Recorder recorder;
  Ordered ordered([&recorder](const FastqBatch& b) { recorder(b); });
  FastqBatch batch;
  for (const Plan& p : std::vector<Plan>{{1, 0}, {4, 3}, {4, 0}, {1, 3}, {99, 0}, {7, 2}, {9, 0}}) {
    fill(batch, p);
    ordered.consume(batch);
  }
  EXPECT_EQ(ordered.next_record_no(), 9u);
  EXPECT_NO_THROW(ordered.finish());
  recorder.expect_exactly(8);
}

TEST(Ordered, starts_at_the_given_record_number) {
  // Breaks when first_record_no is ignored (a piece of a file that starts at record 1001
  // would wait forever for record 1).
  Recorder recorder;
  Ordered ordered([&](const FastqBatch& b) { recorder(b); }, 1001);
  FastqBatch batch;
  fill(batch, {1011, 5});
  ordered.consume(batch);
  EXPECT_EQ(ordered.next_record_no(), 1001u);
  fill(batch, {1001, 10});
  ordered.consume(batch);
  EXPECT_EQ(ordered.next_record_no(), 1016u);
  EXPECT_NO_THROW(ordered.finish());
}

TEST(Ordered, finish_throws_on_a_gap) {
  // Breaks when records that never arrived go unnoticed: batches after the gap sit in the
  // buffer and the output silently ends early.
  Recorder recorder;
  Ordered ordered([&recorder](const FastqBatch& b) { recorder(b); });
  FastqBatch batch;
  for (const Plan& p : std::vector<Plan>{{1, 10}, {21, 10}, {31, 5}}) {
    fill(batch, p);
    ordered.consume(batch);
  }
  EXPECT_EQ(ordered.next_record_no(), 11u);
  try {
    ordered.finish();
    ADD_FAILURE() << "finish() did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("records 11..20 never arrived"), std::string::npos) << e.what();
  }
  recorder.expect_exactly(10);
}

TEST(Ordered, batch_handed_in_twice_is_refused) {
  // Breaks when a batch consumed twice (a producer bug) is written twice instead of reported.
  Ordered ordered([](const FastqBatch&) {});
  FastqBatch batch;
  fill(batch, {1, 5});
  ordered.consume(batch);
  EXPECT_THROW(ordered.consume(batch), std::logic_error);  // already delivered
  fill(batch, {10, 5});
  ordered.consume(batch);
  fill(batch, {12, 2});
  EXPECT_THROW(ordered.consume(batch), std::logic_error);  // overlaps a buffered batch
  fill(batch, {8, 3});
  EXPECT_THROW(ordered.consume(batch), std::logic_error);  // overlaps its start
}

TEST(Ordered, exception_from_in_order_propagates_and_later_calls_return) {
  // Breaks when an exception thrown by in_order is swallowed, or leaves Ordered believing a
  // thread is still delivering, so later calls hang or deliver past the failure.
  int calls = 0;
  Ordered ordered([&calls](const FastqBatch& b) {
    ++calls;
    if (b.first_record_no() == 6) throw std::runtime_error("disk full");
  });
  FastqBatch batch;
  fill(batch, {11, 5});
  ordered.consume(batch);  // buffered
  fill(batch, {6, 5});
  ordered.consume(batch);  // buffered
  fill(batch, {1, 5});
  EXPECT_THROW(ordered.consume(batch), std::runtime_error);  // delivers 1..5, then 6..10 throws
  EXPECT_TRUE(ordered.stopped());
  EXPECT_EQ(ordered.next_record_no(), 6u);
  fill(batch, {16, 5});
  EXPECT_NO_THROW(ordered.consume(batch));
  EXPECT_NO_THROW(ordered.submit(21, 1, [] { ADD_FAILURE() << "step ran after a failure"; }));
  EXPECT_NO_THROW(ordered.finish());
  EXPECT_EQ(calls, 2);
}

TEST(Ordered, exception_from_in_order_under_8_threads_surfaces_once_without_hang) {
  // Breaks when the failure deadlocks the other threads, is thrown to several of them, or
  // records after the failing batch are still delivered.
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const uint64_t total = 10000;
    std::vector<Plan> plans = plan_batches(rng, total, 20);
    std::shuffle(plans.begin(), plans.end(), rng);
    const uint64_t fail_at = 1 + rng() % total;  // the batch holding this record throws
    std::vector<uint64_t> seen;
    Ordered ordered([&](const FastqBatch& b) {
      if (b.first_record_no() <= fail_at && fail_at < b.first_record_no() + b.size())
        throw std::runtime_error("stop");
      for (const FastqRecord& r : b) seen.push_back(r.record_no);
    });
    std::atomic<int> thrown{0};
    with_deadline(kDeadline, [&] {
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < 8; ++t) {
        pool.emplace_back([&, t] {
          FastqBatch batch;
          for (std::size_t i = t; i < plans.size(); i += 8) {
            fill(batch, plans[i]);
            try {
              ordered.consume(batch);
            } catch (const std::runtime_error&) {
              ++thrown;
            }
          }
        });
      }
      for (std::thread& th : pool) th.join();
    });
    EXPECT_EQ(thrown.load(), 1);
    EXPECT_TRUE(ordered.stopped());
    ASSERT_LT(seen.size(), fail_at);
    for (uint64_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1);
    EXPECT_EQ(ordered.next_record_no(), seen.size() + 1);
  }
}
