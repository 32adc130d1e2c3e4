// The README's training example, kept here so the build proves it compiles (verbatim, hence
// not clang-formatted).
// clang-format off
#include <keras/keras.h>
using namespace keras;

int main() {
  auto [train, test] = datasets::fashion_mnist::load_data();          // uint8 values as float, labels 0..9
  Sequential model({Input({28, 28, 1}), layers::Conv2D(32, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}),
                    layers::Flatten(), layers::Dropout(0.5), layers::Dense(10, "softmax")});
  model.summary();                                                      // Keras 3's table, byte for byte
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  model.fit((train.x / 255.0f).reshape({-1, 28, 28, 1}), train.y, {.batch_size = 128, .epochs = 3});
  auto [loss, accuracy] = model.evaluate((test.x / 255.0f).reshape({-1, 28, 28, 1}), test.y);
  model.save("fashion.keras");                                          // Keras 3 loads it; training state included
  return loss > 0 && accuracy > 0 ? 0 : 1;
}
