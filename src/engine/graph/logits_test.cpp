// Which model outputs carry a softmax's or sigmoid's logits (Keras's `_keras_logits`, which the
// TensorFlow backend's crossentropies read): what the Keras source says makes a new tensor and
// what passes the same one on (keras/src/activations/activations.py, layers' call()).
#include <gtest/gtest.h>

#include "engine/functional.h"
#include "engine/graph/plan.h"
#include "keras/keras.h"

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
