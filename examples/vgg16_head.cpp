// A VGG16 convolutional base (no top) on 128x128 RGB images with a small classifier head:
// the seed's second question, how many parameters each part has.
#include <keras/applications.h>
#include <keras/keras.h>

using namespace keras;

int main() {
  Model base = applications::VGG16({.include_top = false, .input_shape = Shape{128, 128, 3}});
  Sequential model({
      base,
      layers::Flatten(),
      layers::Dense(256, "relu"),
      layers::Dense(1, "sigmoid"),
  });
  model.summary();
}
