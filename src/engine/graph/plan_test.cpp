// Compiled plans: no heap allocation once a plan exists for a shape, one arena per concurrent
// call (results bit-identical to single-threaded calls), memory planned by liveness.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "engine/functional.h"
#include "keras/keras.h"
#include "keras/runtime.h"
#include "test_helpers.h"

// Every allocation through operator new in this test binary is counted (libstdc++'s
// containers, the library's own code and its tests allocate through it).
namespace {
std::atomic<long> g_allocations{0};
}

// GCC sees free() on memory from "operator new" and warns; these are the replacements that
// make that pairing right.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++g_allocations;
  std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them), so every new and
// delete pairs with these.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  ++g_allocations;
  std::size_t align = static_cast<std::size_t>(a);
  return std::aligned_alloc(align, (n + align - 1) / align * align);
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace keras {
namespace {

using testing::random_tensor;

Model w1() {
  return Sequential({Input({28, 28, 1}), layers::Conv2D(32, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}),
                     layers::Conv2D(64, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}), layers::Flatten(),
                     layers::Dropout(0.5), layers::Dense(10, "softmax")});
}

Model bn_head() {
  auto input = Input({6, 6, 8});
  auto x = layers::Conv2D(16, {3, 3})(input);
  x = layers::BatchNormalization()(x);
  x = layers::Activation("relu")(x);
  x = layers::GlobalAveragePooling2D()(x);
  return Model(input, layers::Dense(4, "sigmoid")(x));
}

// Recurrent ops (dense cells, stacked, and a convolutional one).
Model recurrent() {
  auto input = Input({7, 5});
  auto x = layers::LSTM({.units = 8, .return_sequences = true})(input);
  x = layers::Bidirectional(layers::GRU(6))(x);
  return Model(input, layers::Dense(3)(x));
}

// Streaming: a stateful LSTM fed one timestep of a batch of 5 per call (behind a Masking).
Model stateful_stream() {
  auto input = Input({.shape = Shape{1, 3}, .batch_size = 5});
  return Model(input, layers::LSTM({.units = 8, .stateful = true})(layers::Masking(0.5)(input)));
}

Model conv_lstm() {
  auto input = Input({3, 6, 6, 2});
  auto x = layers::ConvLSTM2D({.filters = 4, .kernel_size = 3, .padding = "same"})(input);
  x = layers::GlobalAveragePooling2D()(x);
  return Model(input, layers::Dense(2)(x));
}

// A depthwise convolution and the memory-bound ops around it.
Model mobile_block() {
  auto input = Input({12, 12, 8});
  auto x = layers::BatchNormalization()(input);
  auto d = layers::DepthwiseConv2D({.kernel_size = 3, .padding = "same", .activation = "relu"})(x);
  auto l = layers::LeakyReLU(0.2)(d);
  auto c = layers::Concatenate()(std::vector<KerasTensor>{l, x});
  return Model(input, layers::GlobalMaxPooling2D()(c));
}

// Moving statistics away from 0 and 1, so that folding them matters.
void randomize_batch_norm(Model& m) {
  std::vector<Tensor> w = m.get_weights();
  for (size_t i = 0; i < w.size(); ++i)
    if (w[i].rank() == 1) w[i] = random_tensor(w[i].shape(), 50u + static_cast<uint32_t>(i), 0.5f, 1.5f);
  m.set_weights(w);
}

long allocations_of(const std::function<void()>& f) {
  long before = g_allocations.load();
  f();
  return g_allocations.load() - before;
}

TEST(Plan, RepeatedPredictOnBatchAllocatesNothing) {
  for (int threads : {1, 2}) {
    for (Model m : {w1(), bn_head(), recurrent(), conv_lstm(), mobile_block(), stateful_stream()}) {
      m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads}));
      Shape in = m.inputs()[0].shape();
      std::vector<Dim> dims = in.dims();
      dims[0] = 5;
      std::vector<Tensor> x{random_tensor(Shape(dims), 1)}, y;
      m.predict_on_batch(x, y);  // builds the plan and sizes y
      EXPECT_EQ(allocations_of([&] {
                  for (int i = 0; i < 20; ++i) m.predict_on_batch(x, y);
                }),
                0)
          << m.name() << " on " << threads << " threads";
      // The counter does count: predict() hands back a new tensor.
      EXPECT_GT(allocations_of([&] { m.predict(x[0]); }), 0);
    }
  }
}

// A chain of products keeps two activations alive at a time (a step's input and output), so
// its arena holds two of them, not all four.
TEST(Plan, ArenaReusesMemoryByLiveness) {
  auto input = Input({1000});
  auto x = input;
  for (int i = 0; i < 4; ++i) x = layers::Dense(1000, "relu")(x);
  Model chain(input, x);
  auto info = chain.plan_info({Shape{8, 1000}});
  size_t activation = 8 * 1000 * sizeof(float);
  EXPECT_GE(info.arena_bytes, 2 * activation);
  EXPECT_LE(info.arena_bytes, 2 * activation + 128);
}

TEST(Plan, ConvnetRunsOnTheFastBackendWithoutIdentitySteps) {
  Model m = w1();
  auto info = m.plan_info({Shape{8, 28, 28, 1}});
  // Every step of this model runs on the fast backend (the Dropout and Flatten are no steps).
  EXPECT_EQ(info.steps.find("[reference]"), std::string::npos) << info.steps;
  EXPECT_EQ(info.steps.find("dropout"), std::string::npos) << info.steps;
}

// channels_first layers one after another keep the kernels' layout between them: the plan moves
// channels last once at the start and back once before the Flatten (a BatchNormalization over
// axis 1 then folds into the convolution before it), and computes what the layers called one
// by one (each moving channels there and back) compute.
TEST(Plan, ChannelsFirstLayersInARowTransposeOnlyAtTheEdges) {
  auto input = Input({3, 10, 9});
  auto x = layers::Conv2D({.filters = 4, .kernel_size = 3, .padding = "same", .data_format = "channels_first"})(input);
  x = layers::BatchNormalization({.axis = 1})(x);
  x = layers::MaxPooling2D({.pool_size = {2, 2}, .data_format = "channels_first"})(x);
  x = layers::Conv2D(
      {.filters = 5, .kernel_size = 3, .padding = "same", .data_format = "channels_first", .activation = "relu"})(x);
  x = layers::Conv2D({.filters = 4, .kernel_size = 1, .data_format = "channels_first", .activation = "tanh"})(x);
  Model m(input, layers::Dense(3)(layers::Flatten()(x)));
  randomize_batch_norm(m);
  auto info = m.plan_info({Shape{2, 3, 10, 9}});
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = info.steps.find(what); at != std::string::npos; at = info.steps.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("transpose"), 2u) << info.steps;
  EXPECT_EQ(count("affine"), 0u) << info.steps;
  EXPECT_EQ(count("activation"), 0u) << info.steps;
  Tensor in = random_tensor(Shape{2, 3, 10, 9}, 4);
  std::vector<Tensor> layer_by_layer = m.functional().call({in}, {});  // every layer's own plan
  EXPECT_TRUE(testing::AllClose(m.predict(in), layer_by_layer.at(0)));
}

TEST(Plan, ConcurrentPredictsMatchSingleThreadedOnesBitForBit) {
  Model m = w1();
  m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = 2}));
  std::vector<Tensor> inputs, want;
  for (uint32_t i = 0; i < 8; ++i) {
    inputs.push_back(random_tensor(Shape{3, 28, 28, 1}, i, 0.0f, 1.0f));
    want.push_back(m.predict(inputs.back()));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int call = 0; call < 100; ++call) {
        size_t i = (t + static_cast<size_t>(call)) % inputs.size();
        if (m.predict(inputs[i]) != want[i]) ++mismatches;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Results do not depend on how many threads a runtime has: every task writes its own part of
// the output.
TEST(Plan, ResultsAreIdenticalForAnyThreadCount) {
  Model m = applications::VGG16({.include_top = false, .input_shape = Shape{32, 32, 3}});
  Tensor x = random_tensor(Shape{2, 32, 32, 3}, 9, 0.0f, 1.0f);
  m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = 1}));
  Tensor one = m.predict(x);
  for (int threads : {2, 3, 5}) {
    m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads}));
    EXPECT_EQ(m.predict(x), one) << threads << " threads";
  }
  // Recurrent ops, depthwise convolutions and the memory-bound ops split over threads too.
  for (Model r : {recurrent(), conv_lstm(), mobile_block()}) {
    std::vector<Dim> dims = r.inputs()[0].shape().dims();
    dims[0] = 3;
    Tensor xr = random_tensor(Shape(dims), 10, -1.0f, 1.0f);
    r.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = 1}));
    Tensor single = r.predict(xr);
    for (int threads : {2, 3}) {
      r.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = threads}));
      EXPECT_EQ(r.predict(xr), single) << r.name() << " on " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace keras
