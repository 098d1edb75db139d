#pragma once
// The threads that run the kernels' parallel loops, and how they wait for work.
//
// Why not OpenMP: libgomp's idle threads either spin (fast on an idle machine, but a spinning
// thread burns the time slices that another process on the same core needs, and the loop then
// waits for a descheduled thread: decode ran 2x slower beside one busy process per core) or
// sleep on a futex (robust, but every parallel loop then pays a wake-up system call, which cost
// a third of decode speed on a 0.5B model in this project's VM guests). Here:
//   - a waiting thread spins for at most 1 ms, then sleeps on a futex; when a spinning thread
//     finds it was preempted by another process on this machine (its involuntary context
//     switches went up across a gap in its spin), nobody spins for the next 100 ms. Gaps
//     from the hypervisor or interrupts, which these VM guests see several times a second,
//     do not count: the core is still free;
//   - each thread owns a contiguous share of the loop and claims its chunks in order (so on an
//     idle machine each streams through one block of memory, which the prefetchers follow);
//     a thread that finishes takes chunks from the others' shares, so when one thread is
//     descheduled the others do its work instead of waiting for it;
//   - the calling thread works too, and small loops never wake anyone (callers decide what
//     "small" is: see matmul).
// The results do not depend on which thread runs a chunk: each index is computed the same way
// by whichever thread claims it.
#include <cstdint>
#include <type_traits>

namespace lv {

// Threads parallel_for uses: the last set_parallel_threads value; else OMP_NUM_THREADS when
// set to a positive number (the variable users of OpenMP tools know); else the CPUs this
// process may run on.
int parallel_threads();
// n >= 1 (smaller values count as 1); takes effect at the next parallel_for.
void set_parallel_threads(int n);

// True on a thread that is running a parallel_for body.
bool in_parallel_for();

namespace thread_pool_detail {
using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);
void run(int64_t n, int64_t grain, void* ctx, RangeFn fn);
}  // namespace thread_pool_detail

// Calls body(begin, end) for consecutive chunks of at most `grain` indices covering [0, n),
// spread over parallel_threads() threads of which the caller is one; returns when every call
// has returned. Runs serially on the caller with one thread, when n <= grain, inside another
// parallel_for body, or while another thread's parallel_for holds the pool. `body` must not
// throw.
template <class Body>
void parallel_for(int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  using F = std::remove_reference_t<Body>;
  auto trampoline = [](void* ctx, int64_t begin, int64_t end) { (*static_cast<F*>(ctx))(begin, end); };
  thread_pool_detail::run(n, grain < 1 ? 1 : grain, const_cast<void*>(static_cast<const void*>(&body)), trampoline);
}

}  // namespace lv
