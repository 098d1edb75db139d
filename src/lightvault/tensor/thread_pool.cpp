#include "lightvault/tensor/thread_pool.h"

#include <immintrin.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace lv {
namespace {

using Clock = std::chrono::steady_clock;

void futex_wait(std::atomic<uint32_t>& word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// Whether and how long a waiting thread spins before it sleeps (see the header). A spinning
// thread reads the clock every few pauses. A gap far longer than those pauses means it lost the
// core for a while, either to another process on this machine (then it should stop spinning
// for a while and leave the core to it) or, in a virtual machine, to the host or an interrupt
// (then spinning is still right: nobody here wants the core; this project's 2-vCPU guests see
// such gaps several times a second, and stopping the spin at each cost Q8_0 decode about 15%).
// The thread's involuntary context switches tell the two apart: only this machine's scheduler
// counts them.
class AdaptiveSpin {
 public:
  static constexpr int64_t kMaxSpinNs = 1'000'000;    // idle machine: longer waits sleep
  static constexpr int64_t kPreemptedNs = 50'000;     // a gap this long between clock reads
  static constexpr int64_t kQuietNs = 100'000'000;    // no spinning for this long after one

  // Spins until ready() or the bound; true if ready() came true.
  template <class Ready>
  bool spin(Ready ready) {
    int64_t now = now_ns();
    if (now < quiet_until_ns_.load(std::memory_order_relaxed)) return ready();
    const int64_t start = now;
    for (int i = 1;; ++i) {
      if (ready()) return true;
      _mm_pause();
      if (i % 32 != 0) continue;
      const int64_t t = now_ns();
      if (t - now > kPreemptedNs) {
        // Compared with the count at this thread's previous gap: the first gap only sets it.
        thread_local int64_t switches_seen = -1;
        const int64_t switches = involuntary_switches();
        const bool other_process = switches_seen >= 0 && switches > switches_seen;
        switches_seen = switches;
        if (other_process) {
          quiet_until_ns_.store(t + kQuietNs, std::memory_order_relaxed);
          return ready();
        }
      }
      if (t - start > kMaxSpinNs) return ready();
      now = t;
    }
  }

 private:
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  }
  static int64_t involuntary_switches() {
    rusage usage{};
    return getrusage(RUSAGE_THREAD, &usage) == 0 ? usage.ru_nivcsw : 0;
  }
  std::atomic<int64_t> quiet_until_ns_{0};
};

// Each participating thread owns a contiguous share of [0, n) and claims its chunks from it in
// order, so on an idle machine every thread streams through one contiguous block of a weight
// matrix, which the hardware prefetchers follow (chunks dealt out alternately from one counter
// ran Q8_0 decode at about half the speed on 2 threads). A thread that finishes its share takes
// chunks from the others', so a descheduled thread's work is done by the rest.
struct alignas(64) Share {
  std::atomic<int64_t> next{0};  // first index not yet claimed
  int64_t end = 0;
};
constexpr int kMaxShares = 64;

struct Job {
  void* ctx = nullptr;
  thread_pool_detail::RangeFn fn = nullptr;
  int64_t n = 0, grain = 1;
  int shares = 1;
  Share share[kMaxShares];
  std::atomic<int64_t> done{0};  // indices whose chunk has returned

  void split(int parts) {
    shares = std::clamp(parts, 1, kMaxShares);
    for (int s = 0; s < shares; ++s) {
      share[s].next.store(n * s / shares, std::memory_order_relaxed);
      share[s].end = n * (s + 1) / shares;
    }
  }
};

thread_local bool t_in_parallel = false;

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool;  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  void set_threads(int n) { threads_.store(std::max(1, n), std::memory_order_relaxed); }

  void run(Job& job) {
    std::unique_lock<std::mutex> hold(dispatch_, std::try_to_lock);
    const int want = threads();
    if (!hold.owns_lock() || want <= 1) return work(job, 0);  // another caller has the pool: run here
    grow(want - 1);
    job.split(want);

    participants_.store(want - 1, std::memory_order_relaxed);
    job_.store(&job, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(generation_);

    work(job, 0);
    auto finished = [&] { return job.done.load(std::memory_order_acquire) == job.n; };
    if (!spin_.spin(finished)) {
      while (!finished()) {
        const uint32_t seq = done_seq_.load(std::memory_order_seq_cst);
        caller_sleeping_.store(true, std::memory_order_seq_cst);
        if (!finished()) futex_wait(done_seq_, seq);
        caller_sleeping_.store(false, std::memory_order_seq_cst);
      }
    }
    // Workers that picked up the job may still be about to look at it: it lives on the
    // caller's stack, so wait until none holds it (they do no work there any more). Yield
    // rather than spin: a worker preempted in that window needs a core to leave it, and on a
    // busy machine the spinning caller may be sitting on the only one it could get.
    job_.store(nullptr, std::memory_order_seq_cst);
    while (active_.load(std::memory_order_seq_cst) > 0) std::this_thread::yield();
  }

  // Runs chunks of `job` until none is left: first those of share `home`, then the others'.
  static void work(Job& job, int home) {
    const bool was = t_in_parallel;
    t_in_parallel = true;
    int64_t finished = 0;
    for (int k = 0; k < job.shares; ++k) {
      Share& share = job.share[(home + k) % job.shares];
      for (;;) {
        const int64_t begin = share.next.fetch_add(job.grain, std::memory_order_relaxed);
        if (begin >= share.end) break;
        const int64_t end = std::min(share.end, begin + job.grain);
        job.fn(job.ctx, begin, end);
        finished += end - begin;
      }
    }
    if (finished > 0) job.done.fetch_add(finished, std::memory_order_acq_rel);
    t_in_parallel = was;
  }

 private:
  Pool() {
    int n = 0;
    if (const char* env = std::getenv("OMP_NUM_THREADS")) n = std::atoi(env);
    if (n <= 0) {
      cpu_set_t set;
      n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    }
    set_threads(n);
  }

  void grow(int workers) {
    // A new worker starts from the generation before the job this caller is about to post, so
    // that it takes part in that job rather than waiting for the next one.
    const uint32_t posted = generation_.load(std::memory_order_acquire);
    while (static_cast<int>(workers_.size()) < workers) {
      workers_.emplace_back([this, index = static_cast<int>(workers_.size()), posted] { worker_loop(index, posted); });
      workers_.back().detach();
    }
  }

  void worker_loop(int index, uint32_t seen) {
    for (;;) {
      auto posted = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_.spin(posted)) {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        while (!posted()) futex_wait(generation_, seen);
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      }
      seen = generation_.load(std::memory_order_acquire);
      // Only as many workers as the caller asked for join (set_parallel_threads may shrink).
      if (index >= participants_.load(std::memory_order_relaxed)) continue;
      active_.fetch_add(1, std::memory_order_seq_cst);
      if (Job* job = job_.load(std::memory_order_seq_cst)) {
        work(*job, index + 1);
        if (job->done.load(std::memory_order_acquire) == job->n) {
          done_seq_.fetch_add(1, std::memory_order_seq_cst);
          if (caller_sleeping_.load(std::memory_order_seq_cst)) futex_wake_all(done_seq_);
        }
      }
      active_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  std::atomic<int> threads_{1};
  std::mutex dispatch_;                 // one parallel_for at a time uses the workers
  std::vector<std::thread> workers_;    // touched only under dispatch_
  std::atomic<int> participants_{0};
  std::atomic<uint32_t> generation_{0};  // bumped for each job; workers sleep on it
  std::atomic<Job*> job_{nullptr};
  std::atomic<int> active_{0};          // workers that may be looking at job_
  std::atomic<int> sleepers_{0};
  std::atomic<uint32_t> done_seq_{0};   // the caller sleeps on it
  std::atomic<bool> caller_sleeping_{false};
  AdaptiveSpin spin_;
};

}  // namespace

int parallel_threads() { return Pool::instance().threads(); }
void set_parallel_threads(int n) { Pool::instance().set_threads(n); }
bool in_parallel_for() { return t_in_parallel; }

namespace thread_pool_detail {

void run(int64_t n, int64_t grain, void* ctx, RangeFn fn) {
  Job job;
  job.ctx = ctx;
  job.fn = fn;
  job.n = n;
  job.grain = grain;
  job.split(1);
  if (n <= grain || t_in_parallel) return Pool::work(job, 0);
  Pool::instance().run(job);
}

}  // namespace thread_pool_detail
}  // namespace lv
