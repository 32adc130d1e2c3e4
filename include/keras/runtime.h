#pragma once
// Where a model's math runs: a backend and a pool of threads. Every model uses the shared
// default runtime unless given its own (Model::set_runtime), so two models can run on
// different thread counts or backends in one process.
#include <memory>
#include <string>

namespace keras {

namespace backends {
class Backend;
class ThreadPool;
}  // namespace backends

struct RuntimeOptions {
  // "cpu" (own AVX-512/AVX2 kernels, chosen by the CPU's features) or "reference" (plain loops).
  std::string backend = "cpu";
  // 0: the KERAS_NUM_THREADS environment variable if set, else the machine's cores.
  int threads = 0;
  // The cpu backend's instruction set: "auto" (the best this CPU has), "avx512", "avx2" or
  // "generic"; asking for one the CPU lacks is a ValueError.
  std::string isa = "auto";
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  int threads() const;
  // "cpu/avx512", "cpu/avx2", "cpu/generic" or "reference".
  std::string name() const;

  const backends::Backend& backend() const;
  backends::ThreadPool& pool() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The arithmetic peak of this machine's fused multiply-adds on `threads` threads, measured by
// running independent FMA chains for about `seconds` with the best instruction set (GFLOP/s).
double measure_fma_peak_gflops(int threads, double seconds = 0.3);

// The runtime models use by default; made on first use from KERAS_NUM_THREADS.
std::shared_ptr<Runtime> default_runtime();
// Replaces the default runtime with one of `threads` threads (0: as at start-up). Models pick
// it up on their next call; calls already running finish on the old one.
void set_num_threads(int threads);
int get_num_threads();

}  // namespace keras
