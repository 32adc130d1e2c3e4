// Which model outputs carry a softmax's or sigmoid's logits (Keras's `_keras_logits`, which the
// TensorFlow backend's crossentropies read): what the Keras source says makes a new tensor and
// what passes the same one on (keras/src/activations/activations.py, layers' call()).
#include <gtest/gtest.h>

#include "engine/functional.h"
#include "engine/graph/plan.h"
#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

// Whether the inference plan (logits kept) and the training plan give output 0 logits.
std::pair<bool, bool> carries_logits(const Model& m, const Shape& input) {
  const FunctionalImpl& f = m.functional();
  graph::Plan inference(f, {input}, f.runtime(), {.logits = true});
  graph::Plan training(f, {input}, f.runtime(), {.training = true, .logits = true});
  return {inference.output_logits_shape(0).has_value(), training.output_logits_shape(0).has_value()};
}

Model on(const std::vector<Layer>& layers, Shape shape = Shape{4}) {
  Sequential m;
  m.add(Input(shape));
  for (const Layer& l : layers) m.add(l);
  return m;
}

TEST(Logits, ASoftmaxOrSigmoidActivationMakesThem) {
  using namespace layers;
  EXPECT_EQ(carries_logits(on({Dense(3, "softmax")}), Shape{2, 4}), std::make_pair(true, true));
  EXPECT_EQ(carries_logits(on({Dense(3, "sigmoid")}), Shape{2, 4}), std::make_pair(true, true));
  EXPECT_EQ(carries_logits(on({Dense(3), Activation("softmax")}), Shape{2, 4}), std::make_pair(true, true));
  EXPECT_EQ(carries_logits(on({Dense(3), Softmax()}), Shape{2, 4}), std::make_pair(true, true));
  // Dense on a sequence: the product sees rows, the output is a view of them.
  EXPECT_EQ(carries_logits(on({Dense(3, "softmax")}, Shape{5, 4}), Shape{2, 5, 4}), std::make_pair(true, true));
  EXPECT_EQ(carries_logits(on({Conv2D(2, {3, 3}, "sigmoid")}, Shape{5, 5, 1}), Shape{2, 5, 5, 1}),
            std::make_pair(true, true));
  // Keras's activations.softmax keeps its input as logits whatever the axis.
  EXPECT_EQ(carries_logits(on({Dense(3), Reshape({3, 1}), Softmax(1)}), Shape{2, 4}), std::make_pair(true, true));
}

// A crossentropy after Softmax(axis=1) reads the softmax's input as logits over the last axis,
// as Keras's TensorFlow backend does: the same loss and step as the model without the softmax
// trained with from_logits=True.
TEST(Logits, SoftmaxOverAnotherAxisGivesItsInputAsLogits) {
  using namespace layers;
  Layer dense = Dense(6), bare = Dense(6);
  Model with_softmax = on({dense, Reshape({2, 3}), Softmax(1)});
  Model logits_only = on({bare, Reshape({2, 3})});
  logits_only.set_weights(with_softmax.get_weights());
  with_softmax.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}), .loss = "categorical_crossentropy"});
  logits_only.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5}),
                       .loss = losses::CategoricalCrossentropy({.from_logits = true})});
  Tensor x = testing::random_tensor({3, 4}, 5);
  Tensor y(Shape{3, 2, 3}, std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  EXPECT_NEAR(with_softmax.evaluate(x, y, {.verbose = 0}).loss(), logits_only.evaluate(x, y, {.verbose = 0}).loss(),
              1e-6);
  with_softmax.fit(x, y, {.batch_size = 3, .verbose = 0, .shuffle = false});
  logits_only.fit(x, y, {.batch_size = 3, .verbose = 0, .shuffle = false});
  EXPECT_TRUE(testing::AllClose(with_softmax.get_weights()[0], logits_only.get_weights()[0], 1e-6, 1e-5));
}

TEST(Logits, OtherActivationsAndNewTensorsHaveNone) {
  using namespace layers;
  EXPECT_EQ(carries_logits(on({Dense(3, "relu")}), Shape{2, 4}), std::make_pair(false, false));
  EXPECT_EQ(carries_logits(on({Dense(3, "tanh")}), Shape{2, 4}), std::make_pair(false, false));
  // Keras's Reshape, TimeDistributed (which reshapes around its layer) and a Softmax over two axes
  // (exp(x - logsumexp)) make new tensors.
  EXPECT_EQ(carries_logits(on({Dense(6, "softmax"), Reshape({2, 3})}), Shape{2, 4}), std::make_pair(false, false));
  EXPECT_EQ(carries_logits(on({TimeDistributed(Dense(3, "softmax"))}, Shape{5, 4}), Shape{2, 5, 4}),
            std::make_pair(false, false));
  EXPECT_EQ(carries_logits(on({Dense(3), Reshape({3, 1}), Softmax(SoftmaxOptions{.axis = Axes({1, 2})})}), Shape{2, 4}),
            std::make_pair(false, false));
}

TEST(Logits, ALayerPassingItsInputOnKeepsThem) {
  using namespace layers;
  // Activation("linear") returns its input; Dropout returns it at inference only.
  EXPECT_EQ(carries_logits(on({Dense(3, "softmax"), Activation("linear")}), Shape{2, 4}), std::make_pair(true, true));
  EXPECT_EQ(carries_logits(on({Dense(3, "softmax"), Dropout(0.5)}), Shape{2, 4}), std::make_pair(true, false));
  // A nested model's output is its last layer's.
  Model inner = on({Dense(3, "softmax")});
  EXPECT_EQ(carries_logits(on({Dense(4, "relu"), inner}), Shape{2, 4}), std::make_pair(true, true));
}

}  // namespace
}  // namespace keras
