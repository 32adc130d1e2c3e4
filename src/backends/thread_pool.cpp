#include "backends/thread_pool.h"

#include <chrono>

namespace keras::backends {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// How long an idle worker stays awake for the next job: long enough to bridge the gap
// between two operators of a plan, short enough not to burn a core between predict calls.
constexpr auto kSpinTime = std::chrono::microseconds(200);

constexpr uint64_t kClosed = uint64_t{1} << 31;
constexpr uint64_t kJoined = kClosed - 1;
uint32_t generation_of(uint64_t job) { return static_cast<uint32_t>(job >> 32); }

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::work_on_job(int index) {
  for (Dim t; (t = next_.fetch_add(1, std::memory_order_relaxed)) < tasks_;) fn_(ctx_, t, index);
}

void ThreadPool::worker_loop(int index) {
  uint32_t seen = 0;  // the generation at construction, even if a job was published before this thread ran
  for (;;) {
    uint32_t g;
    auto spin_until = std::chrono::steady_clock::now() + kSpinTime;
    for (int spins = 0; (g = generation_.load(std::memory_order_acquire)) == seen; ++spins) {
      if ((spins & 63) != 63 || std::chrono::steady_clock::now() < spin_until) {
        cpu_relax();
        continue;
      }
      sleeping_.fetch_add(1);
      generation_.wait(seen, std::memory_order_acquire);
      sleeping_.fetch_sub(1);
    }
    seen = g;
    if (stop_.load()) return;
    // Join job g unless the caller has closed it (it ran every task) or moved on; joining
    // makes the job's fields ours to read until we report finished.
    uint64_t job = job_.load(std::memory_order_acquire);
    while (generation_of(job) == g && !(job & kClosed)) {
      if (job_.compare_exchange_weak(job, job + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        work_on_job(index);
        finished_.fetch_add(1, std::memory_order_release);
        break;
      }
    }
  }
}

void ThreadPool::run(Dim n, TaskFn fn, void* ctx) {
  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (workers_.empty() || n == 1 || !lock.owns_lock()) {
    for (Dim t = 0; t < n; ++t) fn(ctx, t, 0);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  tasks_ = n;
  next_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  uint32_t g = generation_.load(std::memory_order_relaxed) + 1;
  job_.store(uint64_t{g} << 32, std::memory_order_release);  // open, nobody joined
  generation_.store(g, std::memory_order_release);
  if (sleeping_.load() > 0) generation_.notify_all();
  work_on_job(0);
  uint64_t joined = job_.fetch_or(kClosed, std::memory_order_acq_rel) & kJoined;
  while (static_cast<uint64_t>(finished_.load(std::memory_order_acquire)) < joined) cpu_relax();
}

}  // namespace keras::backends
