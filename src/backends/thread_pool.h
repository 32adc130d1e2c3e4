#pragma once
// One pool of worker threads per Runtime. parallel_for hands out task indices in order to the
// caller and the workers; which thread runs a task never changes a result, because every task
// writes its own part of the output (no reductions across tasks). Workers spin briefly after
// a job, so the next operator of a plan finds them awake, then sleep on a futex. The caller
// works on its own job too and never waits for a worker that has not joined it.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "keras/shape.h"

namespace keras::backends {

class ThreadPool {
 public:
  // `threads` counts the caller: threads - 1 workers are started.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs f(task) for every task in [0, n). When another parallel_for holds the pool (calls
  // from several threads at once), this one runs all its tasks on the calling thread.
  template <class F>
  void parallel_for(Dim n, F&& f) {
    if (n <= 0) return;
    auto trampoline = [](void* ctx, Dim task, int) { (*static_cast<std::remove_reference_t<F>*>(ctx))(task); };
    run(n, trampoline, &f);
  }
  // f(task, thread): thread in [0, threads()) names the thread running the task, so a task
  // can use that thread's slice of a scratch buffer (no two tasks at once share a thread).
  template <class F>
  void parallel_for_indexed(Dim n, F&& f) {
    if (n <= 0) return;
    auto trampoline = [](void* ctx, Dim task, int thread) {
      (*static_cast<std::remove_reference_t<F>*>(ctx))(task, thread);
    };
    run(n, trampoline, &f);
  }

 private:
  using TaskFn = void (*)(void*, Dim, int);
  void run(Dim n, TaskFn fn, void* ctx);
  void worker_loop(int index);
  void work_on_job(int index);

  std::vector<std::thread> workers_;
  std::mutex busy_;
  // The current job; published by bumping generation_.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  Dim tasks_ = 0;
  std::atomic<Dim> next_{0};
  // The current job's generation (high 32 bits), whether it is closed to late workers (bit 31)
  // and how many workers joined it (low bits). A worker that wakes after the caller has run
  // every task finds the job closed and leaves it alone, so the caller waits only for the
  // workers that joined, never for one still waking up.
  std::atomic<uint64_t> job_{0};
  std::atomic<int> finished_{0};
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace keras::backends
