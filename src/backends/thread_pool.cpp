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
    work_on_job(index);
    done_workers_.fetch_add(1, std::memory_order_release);
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
  done_workers_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  if (sleeping_.load() > 0) generation_.notify_all();
  work_on_job(0);
  while (done_workers_.load(std::memory_order_acquire) < static_cast<int>(workers_.size())) cpu_relax();
}

}  // namespace keras::backends
