// Optimizers against Keras's own expected values: the single-step and golden tables of
// keras/src/optimizers/*_test.py (Keras 3), and schedules computed by hand from their formulas.
#include "keras/optimizers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "keras/runtime.h"
#include "test_helpers.h"

namespace keras {
namespace {

using namespace optimizers;

// Applies `grads` to one variable and returns its value.
struct OneVariable {
  Variable var;
  explicit OneVariable(Tensor value) : var{"v", std::move(value), true} {}
  void step(Optimizer& opt, const Tensor& grad) { opt->apply({grad}, {&var}); }
};

Tensor vec(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n}, std::move(v));
}

void expect_single_step(Optimizer opt, std::vector<float> want) {
  OneVariable x(vec({1, 2, 3, 4}));
  x.step(opt, vec({1, 6, 7, 2}));
  EXPECT_TRUE(testing::AllClose(x.var.value, vec(std::move(want)), 1e-4, 1e-4)) << opt->class_name();
}

TEST(Optimizers, SingleStepMatchesKerasTests) {
  expect_single_step(SGD({.learning_rate = 0.5}), {0.5, -1.0, -0.5, 3.0});
  expect_single_step(Adam({.learning_rate = 0.5}), {0.5, 1.5, 2.5, 3.5});
  expect_single_step(AdamW({.learning_rate = 0.5}), {0.4980, 1.4960, 2.494, 3.492});
  expect_single_step(RMSprop({.learning_rate = 0.5}), {-0.5811, 0.4189, 1.4189, 2.4189});
  expect_single_step(Adagrad({.learning_rate = 0.5}), {0.5233, 1.5007, 2.5005, 3.5061});
  expect_single_step(Adadelta({.learning_rate = 0.5}), {0.9993, 1.9993, 2.9993, 3.9993});
  expect_single_step(Adamax({.learning_rate = 0.5}), {0.5, 1.5, 2.5, 3.5});
  expect_single_step(Nadam({.learning_rate = 0.5}), {0.4686, 1.4686, 2.4686, 3.4686});
}

// Keras's test_correctness_with_golden: one step with gradients 0.01, then 5 steps with
// gradients 0.1, 0.2, ... 1.0, checking the values before each of those 5 steps.
void expect_golden(Optimizer opt, const std::vector<std::vector<float>>& golden) {
  OneVariable x(Tensor(Shape{10}, 1.0f));
  x.step(opt, Tensor(Shape{10}, 0.01f));
  Tensor grads(Shape{10});
  for (int i = 0; i < 10; ++i) grads[i] = 0.1f * float(i + 1);
  for (size_t i = 0; i < golden.size(); ++i) {
    std::vector<float> row = golden[i];
    if (row.size() == 1) row.assign(10, row[0]);
    EXPECT_TRUE(testing::AllClose(x.var.value, vec(row), 5e-4, 5e-4)) << opt->class_name() << " step " << i;
    x.step(opt, grads);
  }
}

TEST(Optimizers, GoldenValuesMatchKerasTests) {
  expect_golden(SGD({.nesterov = true}),
                {{0.9999f},
                 {0.9989f, 0.9979f, 0.9969f, 0.9959f, 0.9949f, 0.9939f, 0.9929f, 0.9919f, 0.9909f, 0.9899f},
                 {0.9979f, 0.9959f, 0.9939f, 0.9919f, 0.9899f, 0.9879f, 0.9859f, 0.9839f, 0.9819f, 0.9799f},
                 {0.9969f, 0.9939f, 0.9909f, 0.9879f, 0.9849f, 0.9819f, 0.9789f, 0.9759f, 0.9729f, 0.9699f},
                 {0.9959f, 0.9919f, 0.9879f, 0.9839f, 0.9799f, 0.9759f, 0.9719f, 0.9679f, 0.9639f, 0.9599f}});
  expect_golden(Adam({.amsgrad = true}), {{0.999f}, {0.9982f}, {0.9974f}, {0.9965f}, {0.9955f}});
  expect_golden(RMSprop({.centered = true}), {{0.9967f}, {0.9933f}, {0.9908f}, {0.9885f}, {0.9864f}});
  expect_golden(Adadelta({.learning_rate = 1.0, .rho = 0.8, .epsilon = 1e-6}),
                {{0.9978f}, {0.9947f}, {0.9915f}, {0.9882f}, {0.9849f}});
  expect_golden(Adagrad({.learning_rate = 0.2, .initial_accumulator_value = 0.3, .epsilon = 1e-6}),
                {{0.9963f},
                 {0.9604f, 0.9278f, 0.9003f, 0.8784f, 0.8615f, 0.8487f, 0.8388f, 0.8313f, 0.8255f, 0.8209f},
                 {0.9251f, 0.8629f, 0.8137f, 0.7768f, 0.7497f, 0.7298f, 0.7151f, 0.704f, 0.6956f, 0.6891f},
                 {0.8903f, 0.8012f, 0.7342f, 0.6862f, 0.6521f, 0.6277f, 0.6099f, 0.5967f, 0.5867f, 0.579f},
                 {0.856f, 0.7422f, 0.6604f, 0.6037f, 0.5644f, 0.5367f, 0.5168f, 0.5021f, 0.491f, 0.4825f}});
  expect_golden(Adamax({.learning_rate = 0.2, .beta_1 = 0.85, .beta_2 = 0.95, .epsilon = 1e-6}),
                {{0.8f},
                 {0.6827f, 0.6873f, 0.6888f, 0.6896f, 0.6901f, 0.6904f, 0.6906f, 0.6908f, 0.6909f, 0.691f},
                 {0.5333f, 0.5407f, 0.5431f, 0.5444f, 0.5451f, 0.5456f, 0.546f, 0.5462f, 0.5464f, 0.5466f},
                 {0.368f, 0.3773f, 0.3804f, 0.382f, 0.3829f, 0.3835f, 0.384f, 0.3843f, 0.3846f, 0.3848f},
                 {0.1933f, 0.204f, 0.2076f, 0.2094f, 0.2105f, 0.2112f, 0.2117f, 0.2121f, 0.2124f, 0.2126f}});
  expect_golden(Nadam({.learning_rate = 0.5, .beta_1 = 0.5, .beta_2 = 0.67, .epsilon = 1e-5}),
                {{0.4281f},
                 {-0.1738f, -0.1731f, -0.1726f, -0.1723f, -0.1721f, -0.172f, -0.1719f, -0.1718f, -0.1718f, -0.1717f},
                 {-0.7115f, -0.7103f, -0.7096f, -0.7092f, -0.709f, -0.7088f, -0.7086f, -0.7085f, -0.7085f, -0.7084f},
                 {-1.2335f, -1.2322f, -1.2313f, -1.2309f, -1.2306f, -1.2304f, -1.2302f, -1.2301f, -1.23f, -1.2299f},
                 {-1.7492f, -1.7478f, -1.7469f, -1.7464f, -1.7461f, -1.7459f, -1.7457f, -1.7456f, -1.7455f, -1.7454f}});
  expect_golden(AdamW({.learning_rate = 1.0, .weight_decay = 0.5, .epsilon = 2}),
                {{0.4998f},
                 {0.2486f, 0.2475f, 0.2463f, 0.2451f, 0.244f, 0.2428f, 0.2417f, 0.2405f, 0.2394f, 0.2382f},
                 {0.1223f, 0.1198f, 0.1174f, 0.1149f, 0.1124f, 0.11f, 0.1075f, 0.1051f, 0.1027f, 0.1003f},
                 {0.0586f, 0.0549f, 0.0512f, 0.0475f, 0.0439f, 0.0402f, 0.0366f, 0.033f, 0.0294f, 0.0258f},
                 {0.0263f, 0.0215f, 0.0167f, 0.012f, 0.0073f, 0.0026f, -0.0021f, -0.0067f, -0.0113f, -0.0159f}});
}

TEST(Optimizers, WeightDecayMatchesKerasTests) {
  for (Optimizer opt :
       {SGD({.learning_rate = 1.0, .weight_decay = 0.004}), Adam({.learning_rate = 1.0, .weight_decay = 0.004}),
        RMSprop({.learning_rate = 1.0, .weight_decay = 0.004}), Nadam({.learning_rate = 1.0, .weight_decay = 0.004})}) {
    // Keras's test applies three optimizers to var1: three decays by 1 - 0.004 * lr.
    OneVariable x(Tensor(Shape{}, 2.0f));
    for (int i = 0; i < 3; ++i) x.step(opt, Tensor(Shape{}, 0.0f));
    EXPECT_NEAR(x.var.value[0], 1.9760959, 1e-6) << opt->class_name();
  }
}

// The Keras doc example of RMSprop: loss = var^2 / 2 from var = 10, lr 0.1.
TEST(Optimizers, RMSpropDocExample) {
  Optimizer opt = RMSprop({.learning_rate = 0.1});
  OneVariable x(Tensor(Shape{}, 10.0f));
  x.step(opt, x.var.value);
  EXPECT_NEAR(x.var.value[0], 9.683772, 1e-5);
}

// SGD momentum by hand: m = 0.9 m - 0.1 g; w += m (nesterov: w += 0.9 m - 0.1 g).
TEST(Optimizers, SGDMomentumAndNesterovByHand) {
  Optimizer plain = SGD({.learning_rate = 0.1, .momentum = 0.9});
  Optimizer nesterov = SGD({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  OneVariable a(Tensor(Shape{}, 1.0f)), b(Tensor(Shape{}, 1.0f));
  for (int i = 0; i < 2; ++i) {
    a.step(plain, Tensor(Shape{}, 1.0f));
    b.step(nesterov, Tensor(Shape{}, 1.0f));
  }
  // m1 = -0.1, w1 = 0.9; m2 = -0.19, w2 = 0.71.
  EXPECT_NEAR(a.var.value[0], 0.71, 1e-6);
  // w1 = 1 + 0.9 * -0.1 - 0.1 = 0.81; w2 = 0.81 + 0.9 * -0.19 - 0.1 = 0.539.
  EXPECT_NEAR(b.var.value[0], 0.539, 1e-6);
}

TEST(Optimizers, ClippingMatchesKerasTests) {
  for (auto [opt, want] : std::vector<std::pair<Optimizer, float>>{
           {SGD({.learning_rate = 1.0, .clipnorm = 1}), float(std::sqrt(2.0) / 2)},
           {SGD({.learning_rate = 1.0, .clipvalue = 1}), 1.0f},
           {SGD({.learning_rate = 1.0, .global_clipnorm = 1}), float(std::sqrt(2.0) / 2)}}) {
    OneVariable x(vec({0, 0}));
    x.step(opt, vec({100, 100}));
    EXPECT_TRUE(testing::AllClose(x.var.value, vec({-want, -want})));
  }
  // global_clipnorm scales all gradients by one factor: norms 3 and 4 -> global 5.
  Optimizer g = SGD({.learning_rate = 1.0, .global_clipnorm = 1});
  Variable a{"a", vec({0}), true}, b{"b", vec({0}), true};
  g->apply({vec({3}), vec({4})}, {&a, &b});
  EXPECT_NEAR(a.value[0], -0.6, 1e-6);
  EXPECT_NEAR(b.value[0], -0.8, 1e-6);
  EXPECT_EQ(testing::value_error_of([] { SGD({.clipnorm = 1, .clipvalue = 1}); }),
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: clipnorm=1.0, "
            "clipvalue=1.0, global_clipnorm=None");
}

TEST(Optimizers, VariablesFollowKerasOrder) {
  Optimizer adam = Adam();
  Variable k{"kernel", Tensor(Shape{2, 3}), true}, b{"bias", Tensor(Shape{3}), true};
  adam->build({&k, &b}, {"dense/kernel", "dense/bias"});
  std::vector<std::string> names;
  for (const Variable& v : adam->variables()) names.push_back(v.name);
  // Interleaved per variable: Keras 3's optimizer/vars in moonflower_mnist_cnn_keras3's
  // model.weights.h5 hold (3,3,1,32) twice, then (32,) twice, and so on.
  EXPECT_EQ(names, (std::vector<std::string>{"iteration", "learning_rate", "dense_kernel_momentum",
                                             "dense_kernel_velocity", "dense_bias_momentum", "dense_bias_velocity"}));
  Optimizer adamax = Adamax();
  adamax->build({&k, &b}, {"dense/kernel", "dense/bias"});
  names.clear();
  for (const Variable& v : adamax->variables()) names.push_back(v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"iteration", "learning_rate", "dense_kernel_momentum", "dense_kernel_norm",
                                             "dense_bias_momentum", "dense_bias_norm"}));
  // SGD without momentum has only iteration and learning_rate (Keras: len(variables) == 2).
  Optimizer sgd = SGD({.learning_rate = 0.5});
  sgd->build({&k});
  ASSERT_EQ(sgd->variables().size(), 2u);
  EXPECT_EQ(sgd->variables()[1].value[0], 0.5f);
}

TEST(Optimizers, SetVariablesRestoresState) {
  Optimizer a = Adam({.learning_rate = 0.1}), b = Adam({.learning_rate = 0.1});
  OneVariable xa(vec({1, 2})), xb(vec({1, 2}));
  xa.step(a, vec({0.5, -1}));
  xb.var.value = xa.var.value;
  b->build({&xb.var});
  std::vector<Tensor> values;
  for (const Variable& v : a->variables()) values.push_back(v.value);
  b->set_variables(values);
  EXPECT_EQ(b->iterations(), 1);
  xa.step(a, vec({0.3, 0.2}));
  xb.step(b, vec({0.3, 0.2}));
  EXPECT_EQ(xa.var.value, xb.var.value);
  // A saved iteration count that is not a count (a damaged file) is refused.
  for (float bad : {-1.0f, std::nanf("")}) {
    values[0] = Tensor(values[0].shape(), bad);
    EXPECT_NE(testing::value_error_of([&] { b->set_variables(values); }).find("iteration count"), std::string::npos);
  }
}

TEST(Optimizers, LearningRateReadsAsFloat32) {
  Optimizer adam = Adam();
  EXPECT_EQ(adam->learning_rate(), double(0.001f));
  adam->set_learning_rate(0.5);
  EXPECT_EQ(adam->learning_rate(), 0.5);
}

TEST(Optimizers, GetAndSerialize) {
  EXPECT_EQ(optimizers::get("Adam")->class_name(), "Adam");
  EXPECT_EQ(optimizers::get("sgd")->class_name(), "SGD");
  EXPECT_EQ(Optimizer("rmsprop")->get_config()["rho"], 0.9);
  EXPECT_EQ(testing::value_error_of([] { optimizers::get("adamm"); }),
            "Could not interpret optimizer identifier: adamm");
  nlohmann::json j = serialize(SGD({.learning_rate = 0.25, .momentum = 0.5, .nesterov = true}));
  EXPECT_EQ(j["class_name"], "SGD");
  EXPECT_EQ(j["config"]["momentum"], 0.5);
  Optimizer back = deserialize(j);
  EXPECT_EQ(back->get_config(), j["config"]);
  EXPECT_EQ(serialize(Optimizer("adam")), "adam");
  // Keras 2 configs spell the learning rate "lr" and may name the legacy module.
  Optimizer k2 =
      deserialize({{"class_name", "keras.optimizers.legacy.RMSprop"}, {"config", {{"lr", 0.01}, {"decay", 0.0}}}});
  EXPECT_EQ(k2->class_name(), "RMSprop");
  EXPECT_EQ(k2->learning_rate(), double(0.01f));
}

// Every update op on the CPU backend (threaded, in chunks) gives the reference backend's values
// exactly, on a variable of several chunks, over a few steps.
TEST(Optimizers, UpdateOpsOnTheCpuBackendMatchTheReference) {
  std::vector<std::function<Optimizer()>> makers = {
      [] { return SGD({.learning_rate = 0.1}); },
      [] { return SGD({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}); },
      [] { return Adam({.learning_rate = 0.01, .amsgrad = true}); },
      [] { return AdamW({.learning_rate = 0.01}); },
      [] { return Adamax({.learning_rate = 0.01}); },
      [] { return Nadam({.learning_rate = 0.01}); },
      [] { return RMSprop({.learning_rate = 0.01, .momentum = 0.5, .centered = true}); },
      [] { return Adagrad({.learning_rate = 0.1}); },
      [] { return Adadelta({.learning_rate = 1.0}); }};
  Runtime reference({.backend = "reference", .threads = 1}), cpu({.threads = 3});
  Tensor start = testing::random_tensor({70001}, 1);
  for (const auto& make : makers) {
    Optimizer a = make(), b = make();
    Variable va{"v", start, true}, vb{"v", start, true};
    for (uint32_t step = 0; step < 3; ++step) {
      Tensor g = testing::random_tensor({70001}, 10 + step);
      a->apply({g}, {&va}, reference);
      b->apply({g}, {&vb}, cpu);
    }
    EXPECT_EQ(va.value, vb.value) << a->class_name();
    std::vector<Variable> sa = a->variables(), sb = b->variables();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) EXPECT_EQ(sa[i].value, sb[i].value) << a->class_name() << " " << sa[i].name;
  }
}

// An optimizer defined outside the library updates its variables itself.
TEST(Optimizers, AnUndescribedUpdateRunsItsOwnStep) {
  class Halving : public OptimizerImpl {
   public:
    Halving() : OptimizerImpl("halving", LearningRate(1.0), {}) {}
    std::string class_name() const override { return "Halving"; }

   protected:
    void build_slots(const std::vector<Shape>&) override {}
    void update_step(const Tensor&, Tensor& w, size_t, double) override {
      for (float& v : w.values()) v /= 2;
    }
  };
  Halving opt;
  Variable v{"v", vec({2, 4}), true};
  opt.apply({vec({0, 0})}, {&v});
  EXPECT_EQ(v.value, vec({1, 2}));
}

TEST(Schedules, ByHand) {
  using namespace schedules;
  auto exp = ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5});
  EXPECT_DOUBLE_EQ((*exp)(5), 0.1 * std::pow(0.5, 0.5));
  auto stair =
      ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5, .staircase = true});
  EXPECT_DOUBLE_EQ((*stair)(15), 0.05);
  auto pw = PiecewiseConstantDecay({.boundaries = {10, 20}, .values = {1.0, 0.5, 0.1}});
  EXPECT_EQ((*pw)(10), 1.0);
  EXPECT_EQ((*pw)(11), 0.5);
  EXPECT_EQ((*pw)(21), 0.1);
  auto cos = CosineDecay({.initial_learning_rate = 1.0, .decay_steps = 10, .alpha = 0.1});
  EXPECT_DOUBLE_EQ((*cos)(5), 0.9 * 0.5 + 0.1);
  EXPECT_DOUBLE_EQ((*cos)(20), 0.1);
  auto warm = CosineDecay({.initial_learning_rate = 0.0, .decay_steps = 10, .warmup_target = 1.0, .warmup_steps = 4});
  EXPECT_DOUBLE_EQ((*warm)(2), 0.5);
  EXPECT_DOUBLE_EQ((*warm)(4), 1.0);
  EXPECT_EQ(schedules::serialize(schedules::deserialize(schedules::serialize(cos))), schedules::serialize(cos));
}

TEST(Schedules, DriveTheOptimizerByIteration) {
  auto lr = schedules::PiecewiseConstantDecay({.boundaries = {0}, .values = {1.0, 0.5}});
  Optimizer sgd = SGD({.learning_rate = lr});
  OneVariable x(Tensor(Shape{}, 0.0f));
  x.step(sgd, Tensor(Shape{}, 1.0f));  // iteration 0 <= 0: lr 1
  x.step(sgd, Tensor(Shape{}, 1.0f));  // iteration 1: lr 0.5
  EXPECT_FLOAT_EQ(x.var.value[0], -1.5f);
  EXPECT_EQ(sgd->variables().size(), 1u);  // no learning_rate variable with a schedule
  EXPECT_THROW(sgd->set_learning_rate(0.1), ValueError);
}

}  // namespace
}  // namespace keras
