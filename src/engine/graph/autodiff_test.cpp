// Training plans: the backward ops the autodiff emits (and the layers that run their own call
// and backward inside a plan) give the gradients finite differences give, on every backend.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "engine/functional.h"
#include "keras/keras.h"
#include "keras/runtime.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::random_tensor;

std::vector<std::shared_ptr<Runtime>> runtimes() {
  return {std::make_shared<Runtime>(RuntimeOptions{.backend = "reference", .threads = 1}),
          std::make_shared<Runtime>(RuntimeOptions{.threads = 2})};
}

// Products with fused and split activations, both convolution layouts (Permute), views
// (Flatten, Reshape), a fan-out summed back, a shared layer, Add, Multiply, Concatenate, a merge
// without ops (Maximum, through its own call), BatchNormalization and Dropout.
Model mixed() {
  auto input = Input({7, 6, 3});
  auto a = layers::Conv2D(4, {3, 3}, "relu")(input);
  auto b = layers::Conv2D(layers::Conv2DOptions{.filters = 4,
                                                .kernel_size = 2,
                                                .strides = layers::IntPair(2, 1),
                                                .padding = "same",
                                                .data_format = "channels_first",
                                                .activation = "elu"})(layers::Permute({3, 1, 2})(input));
  b = layers::Permute({2, 3, 1})(b);
  auto pooled = layers::MaxPooling2D({2, 2})(a);
  auto flat = layers::Flatten()(pooled);
  Layer shared = layers::Dense(5, "tanh");
  auto s1 = shared(flat);
  auto s2 = shared(layers::Flatten()(layers::AveragePooling2D({2, 2})(a)));
  auto merged =
      layers::Add()(std::vector<KerasTensor>{s1, s2, layers::Dense(5, "gelu")(layers::GlobalMaxPooling2D()(b))});
  auto gated = layers::Multiply()(std::vector<KerasTensor>{merged, layers::Dense(5, "sigmoid")(flat)});
  auto maxed = layers::Maximum()(std::vector<KerasTensor>{gated, s1});
  auto normed = layers::BatchNormalization()(layers::Reshape({5, 1})(maxed));
  auto dropped = layers::Dropout(0.3)(layers::Flatten()(normed));
  auto joined = layers::Concatenate()(std::vector<KerasTensor>{merged, s2, layers::Flatten()(b)});
  return Model({input}, {layers::Dense(3, "softmax")(dropped), layers::Dense(2)(joined)});
}

TEST(TrainingPlan, MixedModelGradientsMatchFiniteDifferences) {
  for (const auto& runtime : runtimes()) {
    set_random_seed(5);
    Model m = mixed();
    m.set_runtime(runtime);
    Tensor x = random_tensor(Shape{4, 7, 6, 3}, 3);
    // A smaller step than the default: BatchNormalization's batch statistics curve the loss.
    EXPECT_TRUE(testing::TrainingPlanGradientCheck(m, {x}, {.eps = 3e-3, .skip_kinks = true})) << runtime->name();
  }
}

// The keras.io MNIST convnet trains on ops alone (no layer runs its own call), its products,
// poolings and their gradients on the fast backend.
TEST(TrainingPlan, ConvnetTrainsOnFastOps) {
  Model m = Sequential({Input({28, 28, 1}), layers::Conv2D(32, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}),
                        layers::Conv2D(64, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}), layers::Flatten(),
                        layers::Dropout(0.5), layers::Dense(10, "softmax")});
  m.set_runtime(std::make_shared<Runtime>(RuntimeOptions{.threads = 2}));
  std::string steps = m.plan_info({Shape{8, 28, 28, 1}}, true).steps;
  std::map<std::string, int> kinds;  // "kind [backend]" -> count
  std::istringstream lines(steps);
  for (std::string kind, layer, backend; lines >> kind && kind != "arena:";) {
    lines >> layer >> backend;
    lines.ignore(1000, '\n');
    ++kinds[kind + " " + backend];
  }
  EXPECT_EQ(kinds["conv2d [cpu]"], 2) << steps;
  EXPECT_EQ(kinds["pool2d [cpu]"], 2) << steps;
  EXPECT_EQ(kinds["dense [cpu]"], 1) << steps;
  // The first convolution's input gradient is nobody's business: the model input needs none.
  EXPECT_EQ(kinds["conv2d_grad [cpu]"], 3) << steps;
  EXPECT_EQ(kinds["pool2d_grad [cpu]"], 2) << steps;
  EXPECT_EQ(kinds["matmul [cpu]"], 2) << steps;
  EXPECT_EQ(kinds["dropout [reference]"] + kinds["dropout [cpu]"], 1) << steps;
  EXPECT_EQ(steps.find("layer_"), std::string::npos) << steps;
}

class TrainingPlanFixture : public ::testing::TestWithParam<std::filesystem::path> {};

INSTANTIATE_TEST_SUITE_P(Fixtures, TrainingPlanFixture, ::testing::ValuesIn(testing::fixture_files("layers")),
                         testing::fixture_case_name);

// Every oracle fixture model (each layer class and configuration) trains through a plan whose
// gradients agree with finite differences, whichever way each layer gets into it.
TEST_P(TrainingPlanFixture, GradientsMatchFiniteDifferences) {
  testing::Fixture f = testing::load_fixture(GetParam());
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  bool trainable = false;
  for (const Variable* v : model.functional().variables()) trainable = trainable || v->trainable;
  std::vector<Shape> shapes;
  for (const Tensor& t : f.inputs) shapes.push_back(t.shape());
  // Nothing to train and no op reading a variable (a non-trainable one, as Normalization's
  // statistics, gets its gradient as BatchNormalization's moving ones do): no gradients.
  if (!trainable && model.plan_info(shapes, true).steps.find("grad") == std::string::npos) return;
  EXPECT_TRUE(testing::TrainingPlanGradientCheck(model, f.inputs, {.skip_kinks = true}));
}

}  // namespace
}  // namespace keras
