// This project's CPU operators against oneDNN's primitives, op by op and shape by shape, as one
// markdown table: the comparison the engine's design asks for. NHWC fp32 throughout.
//   OMP_NUM_THREADS=2 build/bench/ops_bench [--repeat N] [--threads T] [--only conv|dense|pool|train]
//                                           [--stat median|min] [--settle-ms MS]
//
// How the numbers are made, so that they compare like with like:
// - Same data and thread count: ours on the default runtime's pool of T threads, oneDNN on its
//   OpenMP threads (OMP_NUM_THREADS must equal T; the first line says what it found).
// - A row's candidates run interleaved: each round runs every candidate once untimed (caches
//   and threads warm), then once timed, in an order that rotates from round to round, after a
//   pause that lets the other library's idle threads stop spinning (OpenMP spins for
//   milliseconds after a parallel region, and on 2 cores a spinner takes a core). Median
//   (--stat min: the fastest round, a floor when other processes share the cores).
// - oneDNN runs up to three ways: "nhwc" (activations in our layouts, weights as it likes),
//   "any" (every operand as it likes) and "wino" (as "any", with its Winograd algorithm, where
//   oneDNN accepts it). Each has two times: the primitive alone, and "+r" with the reorders
//   that way needs per call: activations from and to our layouts and, in training, weights and
//   weight gradients (they change every step). Inference weights are reordered once, untimed,
//   as our operators pack theirs when created.
// - Every oneDNN result, reordered back, is compared with ours: "diff" is the largest absolute
//   difference over the largest absolute value, over all ways; " !" marks one above 1e-4.
// Built without libdnnl-dev, it prints our columns only.
#include <cxxabi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/products.h"
#include "backends/thread_pool.h"
#include "keras/runtime.h"
#include "keras/tensor.h"
#include "ops/kernels.h"
#include "ops/op.h"
#ifdef KERAS_BENCH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace {

using keras::Dim;
using keras::Shape;
using keras::Tensor;
namespace ops = keras::ops;
namespace backends = keras::backends;

struct Options {
  int repeat = 11;
  int threads = 2;
  std::string only;  // "" = every group
  bool min = false;  // report the fastest round instead of the median (a floor under noise)
  std::chrono::milliseconds settle{20};
};
Options options;

std::vector<float> random_values(Dim n, uint32_t seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(gen);
  return v;
}

#ifdef KERAS_BENCH_DNNL
// Largest |a - b| over the largest |b|: one number for "the same computation?" at any scale.
double relative_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return diff / scale;
}
#endif

std::string dims_text(std::initializer_list<Dim> dims, const char* sep = "x") {
  std::string s;
  for (Dim d : dims) s += (s.empty() ? "" : sep) + std::to_string(d);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Timing.

// One way of computing a row's result; `run` returns when the result is complete.
struct Candidate {
  std::function<void()> run;
  std::vector<double> ms;
  // The median of the timed rounds, or with --stat min their minimum.
  double statistic() const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return v.empty() ? NAN : options.min ? v.front() : v[v.size() / 2];
  }
};

void time_interleaved(const std::vector<Candidate*>& cs) {
  for (Candidate* c : cs) c->run();  // first calls: page faults, JIT, scratchpads
  for (int round = 0; round < options.repeat; ++round)
    for (size_t i = 0; i < cs.size(); ++i) {
      Candidate* c = cs[(i + static_cast<size_t>(round)) % cs.size()];
      std::this_thread::sleep_for(options.settle);
      c->run();
      auto t0 = std::chrono::steady_clock::now();
      c->run();
      c->ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
}

// ---------------------------------------------------------------------------------------------
// The table.

// The two times of one oneDNN way; NAN where the way does not exist.
struct WayTimes {
  double prim = NAN, with_reorders = NAN;
};
enum Way { kNhwc, kAny, kWino, kWays };
const char* const kWayNames[kWays] = {"nhwc", "any", "wino"};

struct Row {
  std::string op, shape;
  double gflop = 0;
  double ours = NAN;
  std::string ours_impl;
  WayTimes ways[kWays];
  double diff = NAN;
  std::string dnnl_impls;
};

std::string ms(double t) {
  if (std::isnan(t)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, t < 1 ? "%.3f" : t < 100 ? "%.2f" : "%.1f", t);
  return b;
}

void print_header() {
#ifdef KERAS_BENCH_DNNL
  std::printf(
      "| op | shape | GFLOP | ours ms | ours impl | nhwc | nhwc+r | any | any+r | wino | wino+r | ours/best+r "
      "| diff | oneDNN impl |\n");
  std::printf("|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
#else
  std::printf("| op | shape | GFLOP | ours ms | ours impl |\n|---|---|--:|--:|---|\n");
#endif
}

void print_row(const Row& r) {
  std::string gflop = "-";
  if (r.gflop > 0) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", r.gflop);
    gflop = b;
  }
  std::printf("| %s | %s | %s | %s | %s |", r.op.c_str(), r.shape.c_str(), gflop.c_str(), ms(r.ours).c_str(),
              r.ours_impl.c_str());
#ifdef KERAS_BENCH_DNNL
  double best = INFINITY;
  for (const WayTimes& t : r.ways)
    if (!std::isnan(t.with_reorders)) best = std::min(best, t.with_reorders);
  char ratio[32] = "-", diff[32] = "-";
  if (std::isfinite(best)) std::snprintf(ratio, sizeof ratio, "%.2f", r.ours / best);
  if (!std::isnan(r.diff)) std::snprintf(diff, sizeof diff, "%.1e%s", r.diff, r.diff > 1e-4 ? " !" : "");
  for (const WayTimes& t : r.ways) std::printf(" %s | %s |", ms(t.prim).c_str(), ms(t.with_reorders).c_str());
  std::printf(" %s | %s | %s |", ratio, diff, r.dnnl_impls.c_str());
#endif
  std::printf("\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// Ours: an operator of the cpu backend, created and run as a plan does (engine/graph/plan.cpp).

backends::ThreadPool& pool() {
  static std::shared_ptr<keras::Runtime> runtime = keras::default_runtime();
  return runtime->pool();
}

// The operator's class without namespace and "Operator" ("WinogradConv2D"): which path ran.
std::string class_name(const backends::Operator& op) {
  int status = 0;
  char* d = abi::__cxa_demangle(typeid(op).name(), nullptr, nullptr, &status);
  std::string s = status == 0 && d ? d : typeid(op).name();
  std::free(d);
  if (size_t colon = s.rfind("::"); colon != std::string::npos) s = s.substr(colon + 2);
  if (s.size() > 8 && s.ends_with("Operator")) s.resize(s.size() - 8);
  return s;
}

class OurOperator {
 public:
  // The op's weights are `weights`, which this object keeps.
  OurOperator(ops::Op op, std::vector<Tensor> weights) : op_(std::move(op)), weights_(std::move(weights)) {
    for (const Tensor& w : weights_) op_.weights.push_back(&w);
    impl_ = backends::cpu_backend().create(op_, {.threads = options.threads});
    size_t bytes = (impl_->workspace_bytes() + 63) / 64 * 64;
    if (bytes) workspace_.reset(static_cast<char*>(std::aligned_alloc(64, bytes)));
  }
  std::string name() const { return class_name(*impl_); }
  void run(const float* x, float* y) const {
    const float* in[] = {x};
    float* out[] = {y};
    impl_->run(in, out, workspace_.get(), {.pool = &pool()});
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  ops::Op op_;
  std::vector<Tensor> weights_;
  std::unique_ptr<backends::Operator> impl_;
  std::unique_ptr<char, Free> workspace_;
};

// ---------------------------------------------------------------------------------------------
// oneDNN.

#ifdef KERAS_BENCH_DNNL
using dnnl::memory;
using tag = memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

memory::desc any(const memory::dims& dims) { return {dims, memory::data_type::f32, tag::any}; }
memory::desc plain(const memory::dims& dims, tag t) { return {dims, memory::data_type::f32, t}; }

// A layout in oneDNN's notation ("nhwc", "nChw16c", "OIhw16i16o"): the dimensions by
// decreasing stride, upper case where blocked, then the inner blocks. `letters` name the
// dimensions in logical order ("nchw" for activations, "oihw" for weights).
std::string layout_name(const memory::desc& md, const char* letters) {
  const dnnl_memory_desc_t& d = md.data;
  if (d.format_kind != dnnl_blocked) return d.format_kind == dnnl_format_kind_wino ? "wino" : "opaque";
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> order;
  for (int i = 0; i < d.ndims; ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  std::string s;
  for (int i : order) {
    bool blocked = false;
    for (int k = 0; k < b.inner_nblks; ++k) blocked |= b.inner_idxs[k] == i;
    s += blocked ? static_cast<char>(letters[i] - 'a' + 'A') : letters[i];
  }
  for (int k = 0; k < b.inner_nblks; ++k) s += std::to_string(b.inner_blks[k]) + letters[b.inner_idxs[k]];
  return s;
}

// A primitive with its operands, each given in our layout (`user`). Where the primitive chose
// another layout the operand gets a memory of its own and a reorder: before the primitive for
// an input, after it for an output, or once, now, for inference weights (kOnce).
class DnnlCall {
 public:
  enum class Dir { kIn, kOnce, kOut };
  struct Operand {
    int arg;
    memory user;
    Dir dir;
    const char* letters;  // for layout_name
  };

  DnnlCall(const dnnl::primitive_desc& pd, const std::vector<Operand>& operands)
      : prim_(pd), description_(pd.impl_info_str()) {
    std::string reordered;
    for (const Operand& o : operands) {
      memory::desc chosen = pd.query_md(dnnl::query::exec_arg_md, o.arg);
      memory m = o.user;
      if (chosen != o.user.get_desc()) {
        m = memory(chosen, engine());
        if (o.dir == Dir::kOnce) {
          memory user = o.user;
          dnnl::reorder(user, m).execute(stream(), user, m);
          stream().wait();
        } else {
          reordered += (reordered.empty() ? "" : " ") + layout_name(chosen, o.letters);
          if (o.dir == Dir::kIn) before_.push_back({dnnl::reorder(o.user, m), o.user, m});
          if (o.dir == Dir::kOut) after_.push_back({dnnl::reorder(m, o.user), m, o.user});
        }
      }
      args_[o.arg] = m;
    }
    if (!reordered.empty()) description_ += " (" + reordered + ")";
  }
  // impl_info_str() and the layouts reordered per call.
  const std::string& description() const { return description_; }
  bool reorders() const { return !before_.empty() || !after_.empty(); }
  void primitive_only() {
    prim_.execute(stream(), args_);
    stream().wait();
  }
  void with_reorders() {
    for (Reorder& r : before_) r.r.execute(stream(), r.from, r.to);
    prim_.execute(stream(), args_);
    for (Reorder& r : after_) r.r.execute(stream(), r.from, r.to);
    stream().wait();
  }

 private:
  struct Reorder {
    dnnl::reorder r;
    memory from, to;
  };
  dnnl::primitive prim_;
  std::unordered_map<int, memory> args_;
  std::vector<Reorder> before_, after_;
  std::string description_;
};

memory user_memory(const memory::dims& dims, tag t, const float* data) {
  // oneDNN wants a non-const handle even for inputs; it does not write them.
  return memory(plain(dims, t), engine(), const_cast<float*>(data));
}
using Dir = DnnlCall::Dir;
#endif

// ---------------------------------------------------------------------------------------------
// One row: our candidate and oneDNN's ways, each writing its own copy of the output.

class RowBench {
 public:
  RowBench(Row row, Dim out_size) : row_(std::move(row)), out_size_(out_size) {
    ours_out_.resize(static_cast<size_t>(out_size));
  }
  float* ours_out() { return ours_out_.data(); }
  void set_ours(std::string impl, std::function<void()> run) {
    row_.ours_impl = std::move(impl);
    ours_.run = std::move(run);
  }

#ifdef KERAS_BENCH_DNNL
  // make(out) builds the way's call writing `out` in our layout; throws dnnl::error where
  // oneDNN has no implementation (then the way is left out of the row).
  void add_way(Way way, const std::function<std::unique_ptr<DnnlCall>(float* out)>& make) {
    auto w = std::make_unique<DnnlWay>();
    w->way = way;
    w->out.resize(static_cast<size_t>(out_size_));
    try {
      w->call = make(w->out.data());
    } catch (const dnnl::error&) {
      return;
    }
    DnnlCall* c = w->call.get();
    w->prim.run = [c] { c->primitive_only(); };
    w->full.run = [c] { c->with_reorders(); };
    ways_.push_back(std::move(w));
  }
#endif

  Row finish() {
    std::vector<Candidate*> cs{&ours_};
    ours_.run();
#ifdef KERAS_BENCH_DNNL
    for (auto& w : ways_) {
      w->call->with_reorders();
      double d = relative_diff(w->out, ours_out_);
      row_.diff = std::isnan(row_.diff) ? d : std::max(row_.diff, d);
      row_.dnnl_impls +=
          (row_.dnnl_impls.empty() ? "" : "; ") + std::string(kWayNames[w->way]) + ": " + w->call->description();
      cs.push_back(&w->prim);
      if (w->call->reorders()) cs.push_back(&w->full);
    }
#endif
    time_interleaved(cs);
    row_.ours = ours_.statistic();
#ifdef KERAS_BENCH_DNNL
    for (auto& w : ways_)
      row_.ways[w->way] = {w->prim.statistic(), w->call->reorders() ? w->full.statistic() : w->prim.statistic()};
#endif
    return row_;
  }

 private:
  Row row_;
  Dim out_size_;
  std::vector<float> ours_out_;
  Candidate ours_;
#ifdef KERAS_BENCH_DNNL
  struct DnnlWay {
    Way way;
    std::vector<float> out;
    std::unique_ptr<DnnlCall> call;
    Candidate prim, full;
  };
  std::vector<std::unique_ptr<DnnlWay>> ways_;
#endif
};

// ---------------------------------------------------------------------------------------------
// Convolutions.

struct ConvShape {
  const char* what;
  Dim batch, h, w, c, f;
  bool same;  // else 'valid'; always 3x3 stride 1
};

ops::Conv2DArgs conv_args(const ConvShape& s) {
  ops::Conv2DArgs a;
  a.batch = s.batch, a.in_h = s.h, a.in_w = s.w, a.in_c = s.c, a.out_c = s.f, a.k_h = 3, a.k_w = 3;
  a.pad_top = a.pad_left = s.same ? 1 : 0;
  a.out_h = s.same ? s.h : s.h - 2;
  a.out_w = s.same ? s.w : s.w - 2;
  return a;
}

std::string conv_text(const ConvShape& s) {
  return dims_text({s.batch, s.h, s.w, s.c}) + " -> " + std::to_string(s.f) + (s.same ? " same" : " valid");
}

double conv_gflop(const ops::Conv2DArgs& a) {
  return 2e-9 * static_cast<double>(a.batch * a.out_h * a.out_w * a.out_c * a.k_h * a.k_w * a.in_c);
}

#ifdef KERAS_BENCH_DNNL
// oneDNN's view of a convolution's geometry (dims in its logical NCHW / OIHW order).
struct DnnlConv {
  memory::dims src, dst, weights, bias, strides{1, 1}, pad_l, pad_r;
  explicit DnnlConv(const ops::Conv2DArgs& a)
      : src{a.batch, a.in_c, a.in_h, a.in_w},
        dst{a.batch, a.out_c, a.out_h, a.out_w},
        weights{a.out_c, a.in_c, a.k_h, a.k_w},
        bias{a.out_c},
        pad_l{a.pad_top, a.pad_left},
        pad_r{a.out_h - 1 + a.k_h - a.in_h - a.pad_top, a.out_w - 1 + a.k_w - a.in_w - a.pad_left} {}
  memory::desc src_md(Way w) const { return w == kNhwc ? plain(src, tag::nhwc) : any(src); }
  memory::desc dst_md(Way w) const { return w == kNhwc ? plain(dst, tag::nhwc) : any(dst); }
  // The forward primitive descriptor (training: the hint the backward ones need).
  dnnl::convolution_forward::primitive_desc forward(Way w, dnnl::prop_kind prop, bool relu) const {
    dnnl::convolution_forward::desc d(
        prop, w == kWino ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct, src_md(w),
        any(weights), plain(bias, tag::x), dst_md(w), strides, pad_l, pad_r);
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops po;
      po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(po);
    }
    return {d, attr, engine()};
  }
};
#endif

// Forward, bias + relu, inference.
Row bench_conv_forward(const ConvShape& s, bool try_winograd) {
  ops::Conv2DArgs a = conv_args(s);
  std::vector<float> x = random_values(a.batch * a.in_h * a.in_w * a.in_c, 1, 1.0f);
  Tensor kernel(Shape{3, 3, s.c, s.f}, random_values(9 * s.c * s.f, 2, 1.0f / std::sqrt(9.0f * s.c)));
  Tensor bias(Shape{s.f}, random_values(s.f, 3, 0.1f));
  RowBench b({.op = std::string("conv ") + s.what, .shape = conv_text(s), .gflop = conv_gflop(a)},
             a.batch * a.out_h * a.out_w * a.out_c);

  ops::Op op{.attrs = ops::Conv2DOp{.geometry = a, .epilogue = {true, "relu"}},
             .inputs = {Shape{a.batch, a.in_h, a.in_w, a.in_c}},
             .outputs = {Shape{a.batch, a.out_h, a.out_w, a.out_c}}};
  OurOperator ours(op, {kernel, bias});
  b.set_ours(ours.name(), [&, y = b.ours_out()] { ours.run(x.data(), y); });

#ifdef KERAS_BENCH_DNNL
  DnnlConv g(a);
  for (Way w : {kNhwc, kAny, kWino}) {
    if (w == kWino && !try_winograd) continue;
    b.add_way(w, [&, w](float* y) {
      return std::make_unique<DnnlCall>(
          g.forward(w, dnnl::prop_kind::forward_inference, true),
          std::vector<DnnlCall::Operand>{
              {DNNL_ARG_SRC, user_memory(g.src, tag::nhwc, x.data()), Dir::kIn, "nchw"},
              {DNNL_ARG_WEIGHTS, user_memory(g.weights, tag::hwio, kernel.data()), Dir::kOnce, "oihw"},
              {DNNL_ARG_BIAS, user_memory(g.bias, tag::x, bias.data()), Dir::kOnce, "o"},
              {DNNL_ARG_DST, user_memory(g.dst, tag::nhwc, y), Dir::kOut, "nchw"}});
    });
  }
#else
  (void)try_winograd;
#endif
  return b.finish();
}

// Training: the gradient w.r.t. the input (dx from dy and the kernel), as the CPU backend's
// Conv2DGradOp runs it.
Row bench_conv_backward_input(const ConvShape& s) {
  ops::Conv2DArgs a = conv_args(s);
  std::vector<float> dy = random_values(a.batch * a.out_h * a.out_w * a.out_c, 4, 1.0f);
  std::vector<float> w = random_values(9 * s.c * s.f, 5, 1.0f / std::sqrt(9.0f * s.f));
  RowBench b({.op = std::string("conv bwd data ") + s.what, .shape = conv_text(s), .gflop = conv_gflop(a)},
             a.batch * a.in_h * a.in_w * a.in_c);
  b.set_ours("cpu products",
             [&, dx = b.ours_out()] { backends::cpu::conv2d_backward_input(pool(), a, dy.data(), w.data(), dx); });
#ifdef KERAS_BENCH_DNNL
  DnnlConv g(a);
  for (Way way : {kNhwc, kAny})
    b.add_way(way, [&, way](float* dx) {
      dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.src_md(way), any(g.weights),
                                              g.dst_md(way), g.strides, g.pad_l, g.pad_r);
      dnnl::convolution_backward_data::primitive_desc pd(d, engine(),
                                                         g.forward(way, dnnl::prop_kind::forward_training, false));
      return std::make_unique<DnnlCall>(
          pd, std::vector<DnnlCall::Operand>{
                  {DNNL_ARG_DIFF_DST, user_memory(g.dst, tag::nhwc, dy.data()), Dir::kIn, "nchw"},
                  {DNNL_ARG_WEIGHTS, user_memory(g.weights, tag::hwio, w.data()), Dir::kIn, "oihw"},
                  {DNNL_ARG_DIFF_SRC, user_memory(g.src, tag::nhwc, dx), Dir::kOut, "nchw"}});
    });
#endif
  return b.finish();
}

// Training: the kernel's gradient (dw from x and dy), no bias gradient (the layer sums dy for
// that separately).
Row bench_conv_backward_filter(const ConvShape& s) {
  ops::Conv2DArgs a = conv_args(s);
  std::vector<float> x = random_values(a.batch * a.in_h * a.in_w * a.in_c, 6, 1.0f);
  std::vector<float> dy = random_values(a.batch * a.out_h * a.out_w * a.out_c, 7, 1.0f);
  RowBench b({.op = std::string("conv bwd weights ") + s.what, .shape = conv_text(s), .gflop = conv_gflop(a)},
             9 * s.c * s.f);
  b.set_ours("cpu products",
             [&, dw = b.ours_out()] { backends::cpu::conv2d_backward_filter(pool(), a, x.data(), dy.data(), dw); });
#ifdef KERAS_BENCH_DNNL
  DnnlConv g(a);
  for (Way way : {kNhwc, kAny})
    b.add_way(way, [&, way](float* dw) {
      dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.src_md(way), any(g.weights),
                                                 g.dst_md(way), g.strides, g.pad_l, g.pad_r);
      dnnl::convolution_backward_weights::primitive_desc pd(d, engine(),
                                                            g.forward(way, dnnl::prop_kind::forward_training, false));
      return std::make_unique<DnnlCall>(
          pd, std::vector<DnnlCall::Operand>{
                  {DNNL_ARG_SRC, user_memory(g.src, tag::nhwc, x.data()), Dir::kIn, "nchw"},
                  {DNNL_ARG_DIFF_DST, user_memory(g.dst, tag::nhwc, dy.data()), Dir::kIn, "nchw"},
                  {DNNL_ARG_DIFF_WEIGHTS, user_memory(g.weights, tag::hwio, dw), Dir::kOut, "oihw"}});
    });
#endif
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// Dense (oneDNN's inner product). Keras's kernel [in, units] is oneDNN's weights {OC, IC} in
// layout "io".

struct DenseShape {
  const char* what;
  Dim rows, in, units;
  bool relu;
};

std::string dense_text(const DenseShape& s) {
  return dims_text({s.rows, s.in}) + " -> " + std::to_string(s.units) + (s.relu ? " relu" : "");
}

double dense_gflop(const DenseShape& s) { return 2e-9 * static_cast<double>(s.rows * s.in * s.units); }

#ifdef KERAS_BENCH_DNNL
dnnl::inner_product_forward::primitive_desc dense_forward(const DenseShape& s, dnnl::prop_kind prop, bool relu) {
  dnnl::inner_product_forward::desc d(prop, plain({s.rows, s.in}, tag::nc), any({s.units, s.in}),
                                      plain({s.units}, tag::x), plain({s.rows, s.units}, tag::nc));
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
  }
  return {d, attr, engine()};
}
#endif

Row bench_dense_forward(const DenseShape& s) {
  std::vector<float> x = random_values(s.rows * s.in, 11, 1.0f);
  Tensor kernel(Shape{s.in, s.units}, random_values(s.in * s.units, 12, 1.0f / std::sqrt(static_cast<float>(s.in))));
  Tensor bias(Shape{s.units}, random_values(s.units, 13, 0.1f));
  RowBench b({.op = std::string("dense ") + s.what, .shape = dense_text(s), .gflop = dense_gflop(s)}, s.rows * s.units);
  ops::Op op{
      .attrs = ops::DenseOp{.rows = s.rows, .in = s.in, .units = s.units, .epilogue = {true, s.relu ? "relu" : ""}},
      .inputs = {Shape{s.rows, s.in}},
      .outputs = {Shape{s.rows, s.units}}};
  OurOperator ours(op, {kernel, bias});
  b.set_ours(ours.name(), [&, y = b.ours_out()] { ours.run(x.data(), y); });
#ifdef KERAS_BENCH_DNNL
  b.add_way(kNhwc, [&](float* y) {
    return std::make_unique<DnnlCall>(
        dense_forward(s, dnnl::prop_kind::forward_inference, s.relu),
        std::vector<DnnlCall::Operand>{
            {DNNL_ARG_SRC, user_memory({s.rows, s.in}, tag::nc, x.data()), Dir::kIn, "nc"},
            {DNNL_ARG_WEIGHTS, user_memory({s.units, s.in}, tag::io, kernel.data()), Dir::kOnce, "oi"},
            {DNNL_ARG_BIAS, user_memory({s.units}, tag::x, bias.data()), Dir::kOnce, "o"},
            {DNNL_ARG_DST, user_memory({s.rows, s.units}, tag::nc, y), Dir::kOut, "nc"}});
  });
#endif
  return b.finish();
}

// Training, as Dense's gradient ops: dx = dz @ kernel^T and dkernel = x^T @ dz through the CPU
// backend's gemm.
Row bench_dense_backward(const DenseShape& s, bool weights) {
  std::vector<float> x = random_values(s.rows * s.in, 14, 1.0f), dz = random_values(s.rows * s.units, 15, 1.0f);
  std::vector<float> w = random_values(s.in * s.units, 16, 1.0f / std::sqrt(static_cast<float>(s.in)));
  RowBench b({.op = std::string(weights ? "dense bwd weights " : "dense bwd data ") + s.what,
              .shape = dense_text(s),
              .gflop = dense_gflop(s)},
             s.in * (weights ? s.units : s.rows));
  auto gemm = [](auto... args) { backends::cpu::gemm(pool(), args...); };
  if (weights)
    b.set_ours("cpu gemm", [&, gemm, dw = b.ours_out()] {
      gemm(true, false, s.in, s.units, s.rows, 1.0f, x.data(), s.in, dz.data(), s.units, 0.0f, dw, s.units);
    });
  else
    b.set_ours("cpu gemm", [&, gemm, dx = b.ours_out()] {
      gemm(false, true, s.rows, s.in, s.units, 1.0f, dz.data(), s.units, w.data(), s.units, 0.0f, dx, s.in);
    });
#ifdef KERAS_BENCH_DNNL
  memory::dims src{s.rows, s.in}, dst{s.rows, s.units}, wd{s.units, s.in};
  b.add_way(kNhwc, [&](float* out) -> std::unique_ptr<DnnlCall> {
    auto hint = dense_forward(s, dnnl::prop_kind::forward_training, false);
    if (weights) {
      dnnl::inner_product_backward_weights::desc d(plain(src, tag::nc), any(wd), plain(dst, tag::nc));
      return std::make_unique<DnnlCall>(
          dnnl::inner_product_backward_weights::primitive_desc(d, engine(), hint),
          std::vector<DnnlCall::Operand>{{DNNL_ARG_SRC, user_memory(src, tag::nc, x.data()), Dir::kIn, "nc"},
                                         {DNNL_ARG_DIFF_DST, user_memory(dst, tag::nc, dz.data()), Dir::kIn, "nc"},
                                         {DNNL_ARG_DIFF_WEIGHTS, user_memory(wd, tag::io, out), Dir::kOut, "oi"}});
    }
    dnnl::inner_product_backward_data::desc d(plain(src, tag::nc), any(wd), plain(dst, tag::nc));
    return std::make_unique<DnnlCall>(
        dnnl::inner_product_backward_data::primitive_desc(d, engine(), hint),
        std::vector<DnnlCall::Operand>{{DNNL_ARG_DIFF_DST, user_memory(dst, tag::nc, dz.data()), Dir::kIn, "nc"},
                                       {DNNL_ARG_WEIGHTS, user_memory(wd, tag::io, w.data()), Dir::kIn, "oi"},
                                       {DNNL_ARG_DIFF_SRC, user_memory(src, tag::nc, out), Dir::kOut, "nc"}});
  });
#endif
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// Max pooling 2x2 stride 2, 'valid'.

struct PoolShape {
  const char* what;
  Dim batch, h, w, c;
};

Row bench_pool(const PoolShape& s) {
  ops::Pool2DArgs a{.batch = s.batch, .in_h = s.h, .in_w = s.w, .channels = s.c, .out_h = s.h / 2, .out_w = s.w / 2};
  a.pool_h = a.pool_w = a.stride_h = a.stride_w = 2;
  std::vector<float> x = random_values(s.batch * s.h * s.w * s.c, 21, 1.0f);
  RowBench b({.op = std::string("maxpool ") + s.what, .shape = dims_text({s.batch, s.h, s.w, s.c}) + " /2"},
             s.batch * a.out_h * a.out_w * s.c);
  ops::Op op{.attrs = ops::Pool2DOp{.geometry = a, .mode = ops::Pool2DOp::Mode::kMax},
             .inputs = {Shape{s.batch, s.h, s.w, s.c}},
             .outputs = {Shape{s.batch, a.out_h, a.out_w, s.c}}};
  OurOperator ours(op, {});
  b.set_ours(ours.name(), [&, y = b.ours_out()] { ours.run(x.data(), y); });
#ifdef KERAS_BENCH_DNNL
  // Pooling takes its source's layout as given, so only the NHWC way exists.
  memory::dims src{s.batch, s.c, s.h, s.w}, dst{s.batch, s.c, a.out_h, a.out_w};
  b.add_way(kNhwc, [&](float* y) {
    dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max,
                                  plain(src, tag::nhwc), plain(dst, tag::nhwc), {2, 2}, {2, 2}, {0, 0}, {0, 0});
    return std::make_unique<DnnlCall>(
        dnnl::pooling_forward::primitive_desc(d, engine()),
        std::vector<DnnlCall::Operand>{{DNNL_ARG_SRC, user_memory(src, tag::nhwc, x.data()), Dir::kIn, "nchw"},
                                       {DNNL_ARG_DST, user_memory(dst, tag::nhwc, y), Dir::kOut, "nchw"}});
  });
#endif
  return b.finish();
}

// ---------------------------------------------------------------------------------------------
// The shapes: VGG16 at batch 1, the keras.io MNIST convnet (W1) at 256 (inference) and 128
// (training), and the seed model's dense head.

const std::vector<ConvShape> kConvs = {
    {"vgg1_1", 1, 224, 224, 3, 64, true},     {"vgg1_2", 1, 224, 224, 64, 64, true},
    {"vgg2_1", 1, 112, 112, 64, 128, true},   {"vgg2_2", 1, 112, 112, 128, 128, true},
    {"vgg3_1", 1, 56, 56, 128, 256, true},    {"vgg3_2", 1, 56, 56, 256, 256, true},
    {"vgg3_3", 1, 56, 56, 256, 256, true},    {"vgg4_1", 1, 28, 28, 256, 512, true},
    {"vgg4_2", 1, 28, 28, 512, 512, true},    {"vgg4_3", 1, 28, 28, 512, 512, true},
    {"vgg5_1", 1, 14, 14, 512, 512, true},    {"vgg5_2", 1, 14, 14, 512, 512, true},
    {"vgg5_3", 1, 14, 14, 512, 512, true},    {"w1 conv1", 256, 28, 28, 1, 32, false},
    {"w1 conv2", 256, 13, 13, 32, 64, false},
};
const std::vector<DenseShape> kDenses = {
    {"seed head", 64, 8192, 256, true}, {"seed out", 64, 256, 1, false},   {"vgg fc1", 1, 25088, 4096, true},
    {"vgg fc2", 1, 4096, 4096, true},   {"vgg fc3", 1, 4096, 1000, false}, {"w1 dense", 256, 1600, 10, false},
};
const std::vector<PoolShape> kPools = {
    {"vgg1", 1, 224, 224, 64}, {"vgg2", 1, 112, 112, 128}, {"vgg3", 1, 56, 56, 256},  {"vgg4", 1, 28, 28, 512},
    {"vgg5", 1, 14, 14, 512},  {"w1 1", 256, 26, 26, 32},  {"w1 2", 256, 11, 11, 64},
};

bool wanted(const char* group) { return options.only.empty() || options.only == group; }

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 < argc && flag == "--repeat")
      options.repeat = std::stoi(argv[i + 1]);
    else if (i + 1 < argc && flag == "--threads")
      options.threads = std::stoi(argv[i + 1]);
    else if (i + 1 < argc && flag == "--only")
      options.only = argv[i + 1];
    else if (i + 1 < argc && flag == "--stat")
      options.min = std::string(argv[i + 1]) == "min";
    else if (i + 1 < argc && flag == "--settle-ms")
      options.settle = std::chrono::milliseconds(std::stoi(argv[i + 1]));
    else {
      std::fprintf(stderr,
                   "usage: ops_bench [--repeat N] [--threads T] [--only conv|dense|pool|train] [--stat median|min] "
                   "[--settle-ms MS]\n");
      return 2;
    }
  }
  keras::set_num_threads(options.threads);
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  std::string onednn = "not built in";
#ifdef KERAS_BENCH_DNNL
  const dnnl_version_t* v = dnnl_version();
  onednn = dims_text({v->major, v->minor, v->patch}, ".");
#endif
  // The load average says how much else ran on the machine (the table is only as quiet as that).
  char load[64] = "?";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(load, sizeof load, f)) load[0] = 0;
    std::fclose(f);
    load[std::strcspn(load, "\n")] = 0;
  }
  std::printf("ours: %s, %d threads; oneDNN %s; OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s; %s of %d; loadavg %s\n\n",
              keras::default_runtime()->name().c_str(), options.threads, onednn.c_str(), omp ? omp : "(unset)",
              wait ? wait : "(unset)", options.min ? "min" : "median", options.repeat, load);
  print_header();
  if (wanted("conv"))
    for (const ConvShape& s : kConvs) print_row(bench_conv_forward(s, s.c >= 32));
  if (wanted("dense"))
    for (const DenseShape& s : kDenses) print_row(bench_dense_forward(s));
  if (wanted("pool"))
    for (const PoolShape& s : kPools) print_row(bench_pool(s));
  if (wanted("train")) {
    ConvShape conv1{"w1 conv1", 128, 28, 28, 1, 32, false}, conv2{"w1 conv2", 128, 13, 13, 32, 64, false};
    DenseShape dense{"w1 dense", 128, 1600, 10, false};
    print_row(bench_conv_backward_input(conv2));
    print_row(bench_conv_backward_filter(conv2));
    print_row(bench_conv_backward_filter(conv1));
    print_row(bench_dense_backward(dense, false));
    print_row(bench_dense_backward(dense, true));
  }
}
