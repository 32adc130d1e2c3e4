// The main job: the keras.io "Simple MNIST convnet" (Conv2D -> MaxPooling2D -> Conv2D ->
// MaxPooling2D -> Flatten -> Dropout -> Dense) trained on Fashion-MNIST, as the Keras script
// does it, then saved as .keras, reloaded and asked about a few test images.
//   build/examples/fashion_mnist [--epochs N] [--out fashion_mnist.keras]
#include <keras/datasets.h>
#include <keras/keras.h>
#include <keras/utils.h>

#include <charconv>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <string>

using namespace keras;

// Python's repr of a float: the shortest text that reads back as the same double.
std::string repr(double v) {
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  return std::string(buf, end);
}

int main(int argc, char** argv) {
  int epochs = 15;  // the keras.io script's
  std::string out = "fashion_mnist.keras";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--epochs") == 0) epochs = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--out") == 0) out = argv[i + 1];
  }
  try {
    utils::set_random_seed(1337);
    // Scale images to [0, 1], add the channel axis, one-hot the labels (as the keras.io script).
    auto [train, test] = datasets::fashion_mnist::load_data();
    Tensor x_train = (train.x / 255.0f).reshape({-1, 28, 28, 1});
    Tensor x_test = (test.x / 255.0f).reshape({-1, 28, 28, 1});
    Tensor y_train = utils::to_categorical(train.y, 10);
    Tensor y_test = utils::to_categorical(test.y, 10);
    std::cout << "x_train shape: " << x_train.shape().str() << "\n"
              << x_train.dim(0) << " train samples\n"
              << x_test.dim(0) << " test samples\n";

    Sequential model({
        Input({28, 28, 1}),
        layers::Conv2D(32, {3, 3}, "relu"),
        layers::MaxPooling2D({.pool_size = {2, 2}}),
        layers::Conv2D(64, {3, 3}, "relu"),
        layers::MaxPooling2D({.pool_size = {2, 2}}),
        layers::Flatten(),
        layers::Dropout(0.5),
        layers::Dense(10, "softmax"),
    });
    model.summary();

    model.compile({.optimizer = "adam", .loss = "categorical_crossentropy", .metrics = {"accuracy"}});
    model.fit(x_train, y_train, {.batch_size = 128, .epochs = epochs, .validation_split = 0.1});

    auto score = model.evaluate(x_test, y_test, {.verbose = 0});
    std::cout << "Test loss: " << repr(score[0]) << "\nTest accuracy: " << repr(score[1]) << "\n";

    model.save(out);
    Model reloaded = load_model(out);
    std::cout << "\nSaved to " << out << " and reloaded; its predictions for the first test images:\n";
    Tensor probs = reloaded.predict(x_test.slice(0, 8));
    const auto& names = datasets::fashion_mnist::class_names();
    for (Dim i = 0; i < probs.dim(0); ++i) {
      Dim best = 0;
      for (Dim c = 1; c < 10; ++c)
        if (probs[i * 10 + c] > probs[i * 10 + best]) best = c;
      std::cout << "  image " << i << ": " << std::left << std::setw(12) << names[static_cast<size_t>(best)]
                << " (p=" << std::fixed << std::setprecision(3) << probs[i * 10 + best]
                << ")  true: " << names[static_cast<size_t>(test.y[i])] << "\n";
    }
  } catch (const Error& e) {
    std::cerr << "fashion_mnist: " << e.what() << "\n";
    return 1;
  }
}
