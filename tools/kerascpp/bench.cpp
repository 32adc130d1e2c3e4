// kerascpp bench: how fast a model runs here. Inference: random inputs of one batch through
// predict_on_batch (the compiled plan), warmed up, then timed call by call for at least
// --seconds; the median is what it reports. --fit: one epoch of training on a data set.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

#include "keras/keras.h"
#include "keras/runtime.h"
#include "tools/kerascpp/cli.h"

namespace kerascpp {

namespace {

const char* kBenchHelp =
    "usage: kerascpp bench MODEL [--batch-size N] [--threads T] [--seconds S] [--backend cpu|reference]\n"
    "                      [--isa auto|avx512|avx2|generic] [--weights W] [--plan] [--profile]\n"
    "       kerascpp bench MODEL --fit --dataset fashion_mnist|mnist [--batch-size N] [--threads T]\n"
    "\n"
    "Times the model on this machine. Inference: a batch of uniform random inputs, run after a\n"
    "warm-up until S seconds (default 5) and 5 runs have passed; prints the median\n"
    "`ms/batch:`, `samples/s:`, and the products' GFLOP/s beside this machine's measured FMA\n"
    "peak. A model without weights (an architecture .json) runs with its initializers' values.\n"
    "--fit trains one epoch on the first 90% of the data set's train split (what Keras's\n"
    "validation_split=0.1 leaves), shuffled, Adam and sparse categorical cross-entropy unless\n"
    "the model is compiled, and prints `s/epoch:` and `ms/batch:`.\n"
    "\n"
    "options:\n"
    "  --batch-size N   batch (default 1; 128 with --fit)\n"
    "  --threads T      threads (default: KERAS_NUM_THREADS, else the cores)\n"
    "  --seconds S      timed seconds after warm-up (default 5)\n"
    "  --backend B      cpu (default) or reference\n"
    "  --isa I          the cpu backend's instruction set (default auto)\n"
    "  --plan           print the compiled plan's steps first\n"
    "  --profile        then each step's median time, share and GFLOP/s\n";

struct BenchArgs {
  std::string model, weights, dataset, backend = "cpu", isa = "auto";
  int batch = 0, threads = 0;
  double seconds = 5;
  bool fit = false, plan = false, profile = false;
};

BenchArgs parse(const std::vector<std::string>& args) {
  BenchArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    if (f == "--batch-size") {
      a.batch = parse_int(f, next_value(args, i));
      if (a.batch <= 0) throw UsageError("--batch-size must be positive");
    } else if (f == "--threads") {
      a.threads = parse_int(f, next_value(args, i));
      if (a.threads <= 0) throw UsageError("--threads must be positive");
    } else if (f == "--seconds") {
      a.seconds = parse_double(f, next_value(args, i));
      if (!(a.seconds >= 0)) throw UsageError("--seconds must be >= 0");
    } else if (f == "--backend") {
      a.backend = next_value(args, i);
    } else if (f == "--isa") {
      a.isa = next_value(args, i);
    } else if (f == "--weights") {
      a.weights = next_value(args, i);
    } else if (f == "--dataset") {
      a.dataset = next_value(args, i);
    } else if (f == "--fit") {
      a.fit = true;
    } else if (f == "--plan") {
      a.plan = true;
    } else if (f == "--profile") {
      a.profile = true;
    } else if (!f.empty() && f[0] == '-') {
      throw UsageError("unknown option " + f);
    } else if (a.model.empty()) {
      a.model = f;
    } else {
      throw UsageError("unexpected argument " + f);
    }
  }
  if (a.model.empty()) throw UsageError("bench needs a MODEL (see kerascpp bench --help)");
  if (a.fit && a.dataset.empty()) throw UsageError("--fit needs --dataset fashion_mnist|mnist");
  if (!a.fit && !a.dataset.empty()) throw UsageError("--dataset goes with --fit");
  if (a.batch == 0) a.batch = a.fit ? 128 : 1;
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int bench_fit(const BenchArgs& a, keras::Model& model) {
  XY d = dataset_split(a.dataset, true, model);
  keras::Dim n = d.x.dim(0) - d.x.dim(0) / 10;
  keras::Tensor x = d.x.slice(0, n), y = d.y.slice(0, n);
  if (!model.compiled())
    model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  auto t0 = std::chrono::steady_clock::now();
  keras::History h = model.fit(x, y, {.batch_size = a.batch, .epochs = 1, .verbose = 0});
  double dt = seconds_since(t0);
  keras::Dim steps = (n + a.batch - 1) / a.batch;
  std::cout << "samples: " << n << ", batch " << a.batch << ", " << steps << " steps\n";
  std::cout << "loss: " << h.history.at("loss").back() << "\n";
  std::cout << std::fixed << std::setprecision(3) << "s/epoch: " << dt << "\n";
  std::cout << "ms/batch: " << dt * 1000 / double(steps) << "\n";
  return 0;
}

int bench_predict(const BenchArgs& a, const keras::Model& model, int threads) {
  std::vector<keras::Tensor> x;
  std::vector<keras::Shape> shapes;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (const keras::KerasTensor& in : model.inputs()) {
    std::vector<keras::Dim> dims = in.shape().dims();
    dims[0] = a.batch;
    for (keras::Dim& d : dims)
      if (d < 0) throw UsageError("model input " + in.shape().str() + " has an unknown dimension besides the batch");
    keras::Tensor t{keras::Shape(dims)};
    for (float& v : t.values()) v = uniform(rng);
    shapes.push_back(t.shape());
    x.push_back(std::move(t));
  }
  keras::Model::PlanInfo info = model.plan_info(shapes);
  if (a.plan) std::cout << info.steps;
  std::vector<keras::Tensor> y;
  // Warm-up: at least 3 runs and 1 s (or --seconds, if shorter).
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3 || seconds_since(t0) < std::min(1.0, a.seconds); ++i) model.predict_on_batch(x, y);
  std::vector<double> ms;
  t0 = std::chrono::steady_clock::now();
  while (ms.size() < 5 || seconds_since(t0) < a.seconds) {
    auto t = std::chrono::steady_clock::now();
    model.predict_on_batch(x, y);
    ms.push_back(seconds_since(t) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  double median = ms[ms.size() / 2];
  if (a.profile) std::cout << model.profile(x, static_cast<int>(std::min<size_t>(ms.size(), 50)));
  double gflops = info.flops / (median / 1000) / 1e9;
  double peak = keras::measure_fma_peak_gflops(threads);
  std::cout << "runtime: " << model.runtime()->name() << ", " << model.runtime()->threads() << " threads\n";
  std::cout << "runs: " << ms.size() << "\n";
  std::cout << std::fixed << std::setprecision(4) << "ms/batch: " << median << "\n";
  std::cout << std::setprecision(1) << "samples/s: " << a.batch / (median / 1000) << "\n";
  std::cout << "GFLOP/s: " << gflops << " (" << std::setprecision(1) << (peak > 0 ? 100 * gflops / peak : 0)
            << "% of the measured FMA peak, " << peak << " GFLOP/s on " << threads << " threads)\n";
  return 0;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  for (const std::string& s : args)
    if (is_help(s)) {
      std::cout << kBenchHelp;
      return 0;
    }
  BenchArgs a = parse(args);
  keras::Model model = keras::load_model(a.model);
  if (!a.weights.empty()) model.load_weights(a.weights);
  auto runtime =
      std::make_shared<keras::Runtime>(keras::RuntimeOptions{.backend = a.backend, .threads = a.threads, .isa = a.isa});
  model.set_runtime(runtime);
  if (a.fit) {
    keras::set_num_threads(runtime->threads());  // training runs on the default runtime
    return bench_fit(a, model);
  }
  return bench_predict(a, model, runtime->threads());
}

}  // namespace kerascpp
