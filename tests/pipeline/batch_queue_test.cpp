// BatchQueue (issue 2, item 6), the internal hand-over between producers and consumers,
// stressed with many producers and consumers. What would break: an item delivered twice or
// lost, a batch handed to a second owner while still in use (free-list bug), the queue closing
// before the last producer finishes (or never), blocked threads not woken by fail()/cancel()
// (hang), the error not kept for rethrow, more batches alive than the capacity.
// Suite names contain "Queue" so the TSan run selects them.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "fqpipe/error.hpp"
#include "pipeline/batch_queue.hpp"
#include "testlib/read_all.hpp"

using namespace fqpipe;
using namespace fqpipe::testlib;

namespace {

constexpr int kDeadline = 120;

// Tracks which batches are held (acquired and not yet recycled); a batch held twice or more
// batches held than the capacity is a failure.
class Ownership {
 public:
  explicit Ownership(std::size_t capacity) : capacity_(capacity) {}
  void take(FastqBatch* b) {
    std::lock_guard lock(m_);
    if (!held_.insert(b).second) ++double_owned_;
    max_held_ = std::max(max_held_, held_.size());
    distinct_.insert(b);
  }
  void give(FastqBatch* b) {
    std::lock_guard lock(m_);
    held_.erase(b);
  }
  void check() const {
    EXPECT_EQ(double_owned_, 0u) << "a batch was handed out while still held";
    EXPECT_LE(max_held_, capacity_);
    EXPECT_LE(distinct_.size(), capacity_);
  }

 private:
  std::mutex m_;
  std::set<FastqBatch*> held_, distinct_;
  std::size_t max_held_ = 0, double_owned_ = 0, capacity_;
};

// Producer p sends items p * kStride + k (k < items) as the batch's first_record_no, with one
// record whose header repeats the id, so a consumer can tell a batch overwritten under it.
constexpr uint64_t kStride = 1000000;

void produce(BatchQueue& q, Ownership& own, unsigned p, uint64_t items) {
  for (uint64_t k = 0; k < items; ++k) {
    FastqBatch* b = q.acquire();
    ASSERT_NE(b, nullptr);
    own.take(b);
    const uint64_t id = p * kStride + k + 1;
    b->clear(id);
    const std::string h = std::to_string(id);
    b->append(h, "ACGT", "IIII", id);
    ASSERT_TRUE(q.push(b));
  }
  q.producer_done();
}

void consume(BatchQueue& q, Ownership& own, std::vector<uint64_t>& seen, std::atomic<int>& torn) {
  while (FastqBatch* b = q.pop()) {
    if (b->size() != 1 || std::string((*b)[0].header) != std::to_string(b->first_record_no()))
      ++torn;
    seen.push_back(b->first_record_no());
    own.give(b);
    q.recycle(b);
  }
}

}  // namespace

TEST(BatchQueue, every_item_exactly_once_many_producers_many_consumers) {
  // Breaks on a lost or duplicated item, or a batch reused while still owned.
  for (unsigned producers : {1u, 2u, 4u}) {
    for (unsigned consumers : {1u, 3u, 5u}) {
      for (std::size_t capacity : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        SCOPED_TRACE(std::to_string(producers) + " producers, " + std::to_string(consumers) +
                     " consumers, capacity " + std::to_string(capacity));
        const uint64_t items = 3000;
        BatchQueue q(capacity);
        Ownership own(capacity);
        q.add_producers(producers);
        std::vector<std::vector<uint64_t>> seen(consumers);
        std::atomic<int> torn{0};
        with_deadline(kDeadline, [&] {
          std::vector<std::thread> threads;
          for (unsigned c = 0; c < consumers; ++c)
            threads.emplace_back([&, c] { consume(q, own, seen[c], torn); });
          for (unsigned p = 0; p < producers; ++p)
            threads.emplace_back([&, p] { produce(q, own, p, items); });
          for (std::thread& t : threads) t.join();
        });
        EXPECT_EQ(torn.load(), 0);
        own.check();
        std::multiset<uint64_t> all;
        for (const auto& v : seen) all.insert(v.begin(), v.end());
        ASSERT_EQ(all.size(), producers * items);
        for (unsigned p = 0; p < producers; ++p)
          for (uint64_t k = 0; k < items; ++k)
            ASSERT_EQ(all.count(p * kStride + k + 1), 1u) << p << "/" << k;
        EXPECT_FALSE(q.stopped());
        EXPECT_NO_THROW(q.rethrow_error());
      }
    }
  }
}

TEST(BatchQueue, closes_only_when_last_producer_finishes) {
  // Breaks when the first producer_done() closes the queue for everyone, or when queued items
  // are dropped at close instead of drained.
  BatchQueue q(4);
  q.add_producers(3);
  std::atomic<bool> closed{false};
  std::vector<uint64_t> got;
  std::thread consumer([&] {
    while (FastqBatch* b = q.pop()) {
      got.push_back(b->first_record_no());
      q.recycle(b);
    }
    closed = true;
  });
  q.producer_done();
  q.producer_done();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed.load()) << "closed with a producer still running";
  FastqBatch* b = q.acquire();
  ASSERT_NE(b, nullptr);
  b->clear(77);
  ASSERT_TRUE(q.push(b));
  q.producer_done();
  with_deadline(kDeadline, [&] { consumer.join(); });
  EXPECT_TRUE(closed.load());
  EXPECT_EQ(got, std::vector<uint64_t>{77});
}

TEST(BatchQueue, queued_items_drained_after_close) {
  // Breaks when pop() returns nullptr as soon as the producers are done, with items queued.
  BatchQueue q(5);
  q.add_producers(1);
  for (uint64_t i = 1; i <= 5; ++i) {
    FastqBatch* b = q.acquire();
    b->clear(i);
    ASSERT_TRUE(q.push(b));
  }
  q.producer_done();
  std::vector<uint64_t> got;
  while (FastqBatch* b = q.pop()) {
    got.push_back(b->first_record_no());
    q.recycle(b);
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2, 3, 4, 5})) << "single producer: FIFO order";
}

TEST(BatchQueue, fail_wakes_blocked_consumers_and_error_is_rethrown) {
  // Breaks when consumers sleeping in pop() are not woken by fail() (the run hangs) or the
  // error is not kept.
  BatchQueue q(2);
  q.add_producers(1);
  std::atomic<int> woke{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 4; ++i)
    consumers.emplace_back([&] {
      EXPECT_EQ(q.pop(), nullptr);
      ++woke;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.fail(std::make_exception_ptr(Error(ErrorKind::data, "producer broke", {"f.fq", 12, 45, 99, -1, ""})));
  with_deadline(kDeadline, [&] {
    for (std::thread& t : consumers) t.join();
  });
  EXPECT_EQ(woke.load(), 4);
  EXPECT_TRUE(q.stopped());
  try {
    q.rethrow_error();
    ADD_FAILURE() << "no error rethrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.reason(), "producer broke");
    EXPECT_EQ(e.position().record_no, 12u);
  }
}

TEST(BatchQueue, fail_wakes_blocked_producers) {
  // Breaks when a producer waiting for a free batch (all held by consumers) is never woken.
  BatchQueue q(2);
  q.add_producers(3);
  FastqBatch* held1 = q.acquire();
  FastqBatch* held2 = q.acquire();
  ASSERT_NE(held1, nullptr);
  ASSERT_NE(held2, nullptr);
  std::atomic<int> got_null{0};
  std::vector<std::thread> producers;
  for (int i = 0; i < 3; ++i)
    producers.emplace_back([&] {
      if (q.acquire() == nullptr) ++got_null;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.fail(std::make_exception_ptr(std::runtime_error("consumer broke")));
  with_deadline(kDeadline, [&] {
    for (std::thread& t : producers) t.join();
  });
  EXPECT_EQ(got_null.load(), 3);
  EXPECT_FALSE(q.push(held1)) << "push after fail must refuse";
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_THROW(q.rethrow_error(), std::runtime_error);
}

TEST(BatchQueue, first_error_wins) {
  // Breaks when a later, secondary error (e.g. "cancelled") replaces the root cause.
  BatchQueue q(1);
  q.fail(std::make_exception_ptr(std::runtime_error("first")));
  q.fail(std::make_exception_ptr(std::runtime_error("second")));
  try {
    q.rethrow_error();
    ADD_FAILURE() << "nothing rethrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
}

TEST(BatchQueue, cancel_stops_without_error) {
  // Breaks when cancel() leaves blocked threads asleep or invents an error.
  BatchQueue q(1);
  q.add_producers(1);
  std::thread consumer([&] { EXPECT_EQ(q.pop(), nullptr); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.cancel();
  with_deadline(kDeadline, [&] { consumer.join(); });
  EXPECT_TRUE(q.stopped());
  EXPECT_NO_THROW(q.rethrow_error());
  EXPECT_EQ(q.acquire(), nullptr);
}

TEST(BatchQueue, capacity_zero_means_one) {
  // Breaks when capacity 0 makes acquire() block forever.
  BatchQueue q(0);
  q.add_producers(1);
  FastqBatch* b = nullptr;
  with_deadline(kDeadline, [&] { b = q.acquire(); });
  ASSERT_NE(b, nullptr);
  q.recycle(b);
}

TEST(BatchQueue, stress_with_failure_mid_run) {
  // Breaks when fail() during heavy traffic leaves any producer or consumer blocked, or lets a
  // consumer receive a batch after the failure was observed by the failing thread.
  for (int round = 0; round < 20; ++round) {
    BatchQueue q(3);
    q.add_producers(3);
    std::atomic<uint64_t> consumed{0};
    with_deadline(kDeadline, [&] {
      std::vector<std::thread> threads;
      for (int c = 0; c < 3; ++c)
        threads.emplace_back([&] {
          while (FastqBatch* b = q.pop()) {
            const uint64_t n = ++consumed;
            q.recycle(b);
            if (n == 500) q.fail(std::make_exception_ptr(std::runtime_error("stop")));
          }
        });
      for (int p = 0; p < 3; ++p)
        threads.emplace_back([&] {
          for (int k = 0; k < 100000; ++k) {
            FastqBatch* b = q.acquire();
            if (!b) break;
            b->clear(1);
            if (!q.push(b)) break;
          }
          q.producer_done();
        });
      for (std::thread& t : threads) t.join();
    });
    EXPECT_TRUE(q.stopped());
    EXPECT_THROW(q.rethrow_error(), std::runtime_error);
    EXPECT_LT(consumed.load(), 300000u);
  }
}
