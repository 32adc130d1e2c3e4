// One training epoch of the keras.io convnet on Fashion-MNIST: the 54,000 images that
// validation_split=0.1 leaves, batch 128, Adam, shuffled, no validation pass; the same work as
// bench/pytorch_convnet_epoch.py does in PyTorch. Prints seconds per epoch (best of --repeat).
//   build/bench/train_epoch_bench [--repeat 2]
#include <keras/keras.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

using namespace keras;

int main(int argc, char** argv) {
  int repeat = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::stoi(argv[i + 1]);
  auto [train, test] = datasets::fashion_mnist::load_data();
  Tensor x = (train.x / 255.0f).reshape({-1, 28, 28, 1}).slice(0, 54000);
  Tensor y = train.y.slice(0, 54000);
  utils::set_random_seed(0);
  Sequential model({Input({28, 28, 1}), layers::Conv2D(32, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}),
                    layers::Conv2D(64, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}), layers::Flatten(),
                    layers::Dropout(0.5), layers::Dense(10, "softmax")});
  model.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    History h = model.fit(x, y, {.batch_size = 128, .epochs = 1, .verbose = 0});
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, t);
    std::printf("epoch %d: %.2f s, train accuracy %.4f\n", r + 1, t, h.history.at("accuracy")[0]);
  }
  std::printf("keras.cpp: best %.2f s/epoch\n", best);
}
