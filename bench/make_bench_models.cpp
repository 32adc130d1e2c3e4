// Writes the benchmark models' architecture JSON into bench/models/ (committed; rerun after a
// change): W1 (the keras.io MNIST convnet), VGG16 with its classifier, and the seed question's
// head. kerascpp bench runs them with their initializers' weights.
//   build/bench/make_bench_models bench/models
#include <fstream>
#include <iostream>

#include "keras/keras.h"

using namespace keras;

namespace {

void write(const std::string& dir, const std::string& name, const Model& model) {
  std::ofstream(dir + "/" + name + ".json") << model.to_json() << "\n";
  std::cout << dir << "/" << name << ".json: " << model.count_params() << " parameters\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "bench/models";
  write(dir, "w1",
        Sequential({Input({28, 28, 1}), layers::Conv2D(32, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}),
                    layers::Conv2D(64, {3, 3}, "relu"), layers::MaxPooling2D({2, 2}), layers::Flatten(),
                    layers::Dropout(0.5), layers::Dense(10, "softmax")}));
  write(dir, "vgg16", applications::VGG16());
  write(dir, "seed_head",
        Sequential({Input({4, 4, 512}), layers::Flatten(), layers::Dense(256, "relu"), layers::Dense(1, "sigmoid")}));
}
