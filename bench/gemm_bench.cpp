// Which gemm should the kernel table use? Times the matrix products of the keras.io convnet's
// training step (batch 128; im2col shapes) with the reference loops, OpenBLAS and, when built
// with libdnnl-dev installed, oneDNN's dnnl_sgemm.
//   build/bench/gemm_bench [--repeat N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ops/kernels.h"
#include "ops/products.h"
#ifdef KERAS_BENCH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

using keras::Dim;

namespace {

struct Shape3 {
  const char* what;
  bool ta, tb;
  Dim m, n, k;
};

using Gemm = void (*)(bool, bool, Dim, Dim, Dim, float, const float*, Dim, const float*, Dim, float, float*, Dim);

#ifdef KERAS_BENCH_DNNL
void onednn_gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
                 float beta, float* c, Dim ldc) {
  dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
#endif

double seconds(Gemm g, const Shape3& s, int repeat) {
  std::vector<float> a(static_cast<size_t>(s.m * s.k), 0.5f), b(static_cast<size_t>(s.k * s.n), 0.25f),
      c(static_cast<size_t>(s.m * s.n));
  Dim lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    g(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), s.n);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::stoi(argv[i + 1]);
  const Dim b = 128;
  // conv1 26x26 out, 3x3x1 -> 32; conv2 11x11 out, 3x3x32 -> 64; dense 1600 -> 10.
  std::vector<Shape3> shapes = {
      {"conv1 forward", false, false, b * 26 * 26, 32, 9},
      {"conv2 forward", false, false, b * 11 * 11, 64, 288},
      {"conv2 grad input", false, true, b * 11 * 11, 288, 64},
      {"conv2 grad filter", true, false, 288, 64, b * 11 * 11},
      {"dense forward", false, false, b, 10, 1600},
  };
  std::vector<std::pair<std::string, Gemm>> impls = {
      {"openblas", [](auto... a) { keras::ops::blas_products().gemm(a...); }}};
#ifdef KERAS_BENCH_DNNL
  impls.emplace_back("onednn", onednn_gemm);
#endif
  impls.emplace_back("reference", keras::ops::reference_kernels().gemm);
  std::printf("%-20s", "product (m x n x k)");
  for (auto& [name, g] : impls) std::printf(" %12s", (name + " ms").c_str());
  std::printf("\n");
  for (const auto& s : shapes) {
    std::printf("%-20s", s.what);
    for (auto& [name, g] : impls) {
      double flops = 2.0 * static_cast<double>(s.m * s.n * s.k);
      double t = seconds(g, s, name == "reference" ? 1 : repeat);
      std::printf(" %7.2f (%2.0fG)", t * 1e3, flops / t * 1e-9);
    }
    std::printf("   %lldx%lldx%lld\n", static_cast<long long>(s.m), static_cast<long long>(s.n),
                static_cast<long long>(s.k));
  }
}
