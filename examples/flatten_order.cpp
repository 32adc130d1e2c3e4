// The seed question: in what order does Flatten put the values of a (3, 2, 4) tensor?
// Answer: C order (last axis fastest), like numpy.reshape. With data_format="channels_first",
// Keras first moves the channel axis (here 3) to the end, then flattens.
#include <iostream>

#include <keras/keras.h>

using namespace keras;

int main() {
  Tensor x = Tensor::arange(0, 24).reshape({1, 3, 2, 4});  // numpy: arange(24).reshape(1, 3, 2, 4)
  std::cout << "input x = arange(24).reshape(1, 3, 2, 4):\n" << x << "\n\n";

  auto inputs = Input({3, 2, 4});
  Model channels_last(inputs, layers::Flatten()(inputs));
  std::cout << "Flatten() (channels_last):\n" << channels_last.predict(x) << "\n\n";

  Model channels_first(inputs, layers::Flatten({.data_format = "channels_first"})(inputs));
  std::cout << "Flatten(data_format=\"channels_first\"): axis 1 (size 3) moved last, then flattened:\n"
            << channels_first.predict(x) << "\n";
}
