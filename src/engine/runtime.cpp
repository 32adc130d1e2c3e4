#include "keras/runtime.h"

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/thread_pool.h"
#include "keras/errors.h"

namespace keras {

namespace {

int default_threads() {
  if (const char* env = std::getenv("KERAS_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n <= 1024) return static_cast<int>(n);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

backends::cpu::Isa isa_named(const std::string& name) {
  using backends::cpu::Isa;
  Isa best = backends::cpu::detect_isa();
  if (name == "auto") return best;
  Isa want = name == "avx512" ? Isa::kAvx512 : name == "avx2" ? Isa::kAvx2 : Isa::kGeneric;
  if (name != "avx512" && name != "avx2" && name != "generic")
    throw ValueError("Unknown instruction set \"" + name + "\"; expected auto, avx512, avx2 or generic");
  if (static_cast<int>(want) > static_cast<int>(best))
    throw ValueError("This CPU does not support " + name + " (best: " + backends::cpu::isa_name(best) + ")");
  return want;
}

std::mutex default_mutex;
std::shared_ptr<Runtime> default_instance;

}  // namespace

struct Runtime::Impl {
  const backends::Backend* backend;
  std::string name;
  backends::ThreadPool pool;
  Impl(const backends::Backend* b, std::string n, int threads) : backend(b), name(std::move(n)), pool(threads) {}
};

Runtime::Runtime(const RuntimeOptions& o) {
  if (o.threads < 0) throw ValueError("Runtime threads must be >= 0, got " + std::to_string(o.threads));
  int threads = o.threads ? o.threads : default_threads();
  if (o.backend == "reference") {
    impl_ = std::make_unique<Impl>(&backends::reference_backend(), "reference", threads);
  } else if (o.backend == "cpu") {
    auto isa = isa_named(o.isa);
    impl_ = std::make_unique<Impl>(&backends::cpu::backend_for(isa), std::string("cpu/") + backends::cpu::isa_name(isa),
                                   threads);
  } else {
    throw ValueError("Unknown backend \"" + o.backend + "\"; expected cpu or reference");
  }
}

Runtime::~Runtime() = default;
int Runtime::threads() const { return impl_->pool.threads(); }
std::string Runtime::name() const { return impl_->name; }
const backends::Backend& Runtime::backend() const { return *impl_->backend; }
backends::ThreadPool& Runtime::pool() const { return impl_->pool; }

std::shared_ptr<Runtime> default_runtime() {
  std::lock_guard<std::mutex> lock(default_mutex);
  if (!default_instance) default_instance = std::make_shared<Runtime>();
  return default_instance;
}

void set_num_threads(int threads) {
  auto runtime = std::make_shared<Runtime>(RuntimeOptions{.threads = threads});
  std::lock_guard<std::mutex> lock(default_mutex);
  default_instance = std::move(runtime);
}

int get_num_threads() { return default_runtime()->threads(); }

}  // namespace keras

namespace keras {

double measure_fma_peak_gflops(int threads, double seconds) {
  using backends::cpu::Isa;
  Isa isa = backends::cpu::detect_isa();
#if defined(KERAS_HAVE_X86_KERNELS)
  const double flops_per_round = isa == Isa::kAvx512 ? 24 * 16 * 2 : isa == Isa::kAvx2 ? 12 * 8 * 2 : 0;
#else
  const double flops_per_round = 0;
#endif
  if (flops_per_round == 0 || threads < 1) return 0;
  auto loop = [&](long iters) {
#if defined(KERAS_HAVE_X86_KERNELS)
    return isa == Isa::kAvx512 ? backends::cpu::detail::fma_loop_avx512(iters)
                               : backends::cpu::detail::fma_loop_avx2(iters);
#else
    (void)iters;
    return 0.0f;
#endif
  };
  // Calibrate on one thread, then run every thread for about `seconds`.
  long iters = 1 << 16;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    volatile float sink = loop(iters);
    (void)sink;
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (1L << 40)) {
      iters = static_cast<long>(double(iters) * seconds / std::max(dt, 1e-9));
      break;
    }
    iters *= 4;
  }
  std::vector<std::thread> pool;
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      volatile float sink = loop(iters);
      (void)sink;
    });
  for (std::thread& t : pool) t.join();
  double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return flops_per_round * double(iters) * threads / dt / 1e9;
}

}  // namespace keras
