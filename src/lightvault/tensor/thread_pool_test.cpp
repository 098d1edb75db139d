#include "lightvault/tensor/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace lv {
namespace {

// Restores the thread count a test changed.
class ThreadPoolTest : public ::testing::Test {
 protected:
  int saved_ = parallel_threads();
  void TearDown() override { set_parallel_threads(saved_); }
};

// Every index once, whatever the threads, the grain and the length.
TEST_F(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    set_parallel_threads(threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 4099}) {
      for (int64_t grain : {1, 3, 64, 5000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        parallel_for(n, grain, [&](int64_t begin, int64_t end) {
          EXPECT_LE(end - begin, grain);
          for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "threads " << threads << " n " << n << " grain " << grain;
        }
      }
    }
  }
}

// Each thread claims its own contiguous share first; a thread held up inside its share (as if
// descheduled) must not hold up the rest of that share: the others take it over.
TEST_F(ThreadPoolTest, OthersTakeOverTheShareOfAThreadThatIsHeldUp) {
  set_parallel_threads(2);
  constexpr int64_t n = 1000;
  std::atomic<int64_t> done{0};
  std::atomic<bool> held{false}, timed_out{false};
  parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    bool expected = false;
    if (begin > 0 && held.compare_exchange_strong(expected, true)) {
      // The first chunk any thread takes beyond index 0 waits until every other index is done.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (done.load() < n - (end - begin) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      timed_out = done.load() < n - (end - begin);
    }
    done.fetch_add(end - begin);
  });
  EXPECT_EQ(done.load(), n);
  EXPECT_TRUE(held.load());
  EXPECT_FALSE(timed_out.load()) << "nobody took over the held-up thread's share";
}

TEST_F(ThreadPoolTest, UsesSeveralThreadsWhenAsked) {
  set_parallel_threads(4);
  std::mutex m;
  std::set<std::thread::id> seen;
  for (int rep = 0; rep < 200 && seen.size() < 2; ++rep) {
    parallel_for(64, 1, [&](int64_t, int64_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      std::lock_guard<std::mutex> hold(m);
      seen.insert(std::this_thread::get_id());
    });
  }
  EXPECT_GE(seen.size(), 2u);
}

TEST_F(ThreadPoolTest, NestedLoopsRunOnTheirThread) {
  set_parallel_threads(4);
  std::atomic<int64_t> sum{0};
  parallel_for(16, 1, [&](int64_t begin, int64_t end) {
    EXPECT_TRUE(in_parallel_for());
    const auto outer = std::this_thread::get_id();
    for (int64_t i = begin; i < end; ++i) {
      parallel_for(100, 1, [&](int64_t b, int64_t e) {
        EXPECT_EQ(std::this_thread::get_id(), outer);
        sum.fetch_add(e - b);
      });
    }
  });
  EXPECT_FALSE(in_parallel_for());
  EXPECT_EQ(sum.load(), 1600);
}

// Thousands of back-to-back loops from two callers at once: no lost wake-up (a hang would
// end the test by its timeout), and every loop complete when it returns.
TEST_F(ThreadPoolTest, ManySmallLoopsFromTwoCallers) {
  set_parallel_threads(3);
  auto caller = [](int64_t* total) {
    for (int rep = 0; rep < 3000; ++rep) {
      std::atomic<int64_t> sum{0};
      parallel_for(8, 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
      });
      *total += sum.load();
    }
  };
  int64_t a = 0, b = 0;
  std::thread other(caller, &b);
  caller(&a);
  other.join();
  EXPECT_EQ(a, 3000 * 28);
  EXPECT_EQ(b, 3000 * 28);
}

// After a pause long enough for the workers to fall asleep, a loop still wakes them.
TEST_F(ThreadPoolTest, WakesSleepingWorkers) {
  set_parallel_threads(2);
  for (int rep = 0; rep < 3; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::atomic<int> n{0};
    parallel_for(32, 1, [&](int64_t begin, int64_t end) { n.fetch_add(static_cast<int>(end - begin)); });
    EXPECT_EQ(n.load(), 32);
  }
}

}  // namespace
}  // namespace lv
