// kerascpp fit and kerascpp evaluate, run as a user runs them, checked against the library
// doing the same thing.
#include <fstream>

#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;
using testing::kerascpp;
using testing::TempDir;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

Model tiny_model() {
  return Sequential({Input({4}), layers::Dense(8, "relu"), layers::Dropout(0.2), layers::Dense(1, "sigmoid")});
}

struct Files {
  TempDir dir;
  fs::path json = dir / "model.json", x = dir / "x.npy", y = dir / "y.npy";
  Tensor xs = testing::random_tensor({40, 4}, 5), ys{Shape{40}};
  Files() {
    set_random_seed(1);
    std::ofstream(json) << tiny_model().to_json();
    for (Dim i = 0; i < 40; ++i) ys[i] = xs[i * 4] + xs[i * 4 + 1] > 0 ? 1.0f : 0.0f;
    io::save_npy(x, xs);
    io::save_npy(y, ys);
  }
  std::string data() const { return " --x " + q(x) + " --y " + q(y); }
};

const char* kFlags =
    " --loss binary_crossentropy --optimizer sgd --learning-rate 0.1 --momentum 0.9 --metrics accuracy"
    " --epochs 3 --batch-size 16 --validation-split 0.25 --seed 3";

TEST(CliFit, TrainsAsTheLibraryDoesAndSavesTheTrainingState) {
  Files f;
  fs::path out = f.dir / "trained.keras";
  auto r = kerascpp("fit " + q(f.json) + f.data() + kFlags + " --verbose 2 -o " + q(out));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Epoch 1/3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Epoch 3/3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("val_accuracy"), std::string::npos) << r.out;

  // The same run through the library: same seed, same model file, same options.
  set_random_seed(3);
  Model m = load_model(f.json);
  m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}),
             .loss = "binary_crossentropy",
             .metrics = {"accuracy"}});
  m.fit(f.xs, f.ys, {.batch_size = 16, .epochs = 3, .verbose = 0, .validation_split = 0.25});

  Model trained = load_model(out);
  ASSERT_TRUE(trained.compiled());
  EXPECT_EQ(trained.optimizer()->class_name(), "SGD");
  EXPECT_EQ(trained.optimizer()->iterations(), 3 * 2);  // 30 training samples, batches of 16
  EXPECT_EQ(trained.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  std::vector<Tensor> a = trained.get_weights(), b = m.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "weight " << i;

  // evaluate prints loss then metrics, as the library computes them.
  auto e = kerascpp("evaluate " + q(out) + f.data());
  ASSERT_EQ(e.status, 0) << e.err;
  keras::Scores score = trained.evaluate(f.xs, f.ys, {.verbose = 0});
  char want[128];
  std::snprintf(want, sizeof want, "loss: %.4f - accuracy: %.4f\n", score[0], score[1]);
  EXPECT_EQ(e.out, want);

  // Fitting the saved model again resumes: its compile_config and optimizer state are used.
  fs::path again = f.dir / "again.keras";
  auto r2 = kerascpp("fit " + q(out) + f.data() + " --epochs 1 --batch-size 16 --verbose 0 -o " + q(again));
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(r2.out, "");
  Model resumed = load_model(again);
  EXPECT_EQ(resumed.optimizer()->iterations(), 6 + 3);
  EXPECT_EQ(resumed.optimizer()->class_name(), "SGD");
}

TEST(CliFit, BadCommandLinesFailWithOneLineAndNoOutput) {
  Files f;
  fs::path out = f.dir / "out.keras";
  struct Case {
    std::string args, says;
  };
  std::vector<Case> cases = {
      {"fit " + q(f.json) + f.data() + " -o " + q(out), "no compile_config: give --loss"},
      {"fit " + q(f.json) + f.data() + " --loss mse --optimizer adam --momentum 0.9 -o " + q(out),
       "--momentum applies to sgd and rmsprop, not Adam"},
      {"fit " + q(f.json) + " --dataset cifar10 --loss mse -o " + q(out), "--dataset must be fashion_mnist or mnist"},
      {"fit " + q(f.json) + f.data() + " --loss mse", "fit needs -o OUT.keras"},
      {"fit " + q(f.json) + " --loss mse -o " + q(out), "give either --x and --y, or --dataset"},
      {"fit " + q(f.json) + f.data() + " --loss no_such_loss -o " + q(out), "no_such_loss"},
      {"fit " + q(f.json) + " --x " + q(f.x) + " --y " + q(f.json) + " --loss mse -o " + q(out), "model.json"},
      {"fit " + q(f.json) + " --dataset fashion_mnist --loss mse -o " + q(out), "takes input of shape (None, 4)"},
      {"fit " + q(f.json) + f.data() + " --loss mse --epochs 0 -o " + q(out), "--epochs must be positive"},
      {"evaluate " + q(f.json) + f.data(), "no compile_config"},
  };
  for (const Case& c : cases) {
    auto r = kerascpp(c.args);
    EXPECT_EQ(r.status, 1) << c.args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
}

// Issue 4's check: an architecture JSON with Conv2D, BatchNormalization, MaxPooling2D,
// Dropout and Dense (written by TensorFlow.js, examples/models/fashion_mnist_bn.json) trained
// by `kerascpp fit` on Fashion-MNIST for 2 epochs reaches test accuracy >= 0.87, as Keras and
// PyTorch do with such a network.
TEST(CliFit, FashionMnistConvnetWithBatchNormReachesTestAccuracy) {
  TempDir dir;
  fs::path json = testing::source_dir() / "examples" / "models" / "fashion_mnist_bn.json";
  fs::path out = dir / "fashion_bn.keras";
  auto r = kerascpp("fit " + q(json) +
                    " --dataset fashion_mnist --epochs 2 --batch-size 128 --optimizer adam"
                    " --loss sparse_categorical_crossentropy --metrics accuracy --seed 1 --verbose 2 -o " +
                    q(out));
  ASSERT_EQ(r.status, 0) << r.err;
  auto e = kerascpp("evaluate " + q(out) + " --dataset fashion_mnist");
  ASSERT_EQ(e.status, 0) << e.err;
  auto at = e.out.find("accuracy: ");
  ASSERT_NE(at, std::string::npos) << e.out;
  double accuracy = std::stod(e.out.substr(at + 10));
  EXPECT_GE(accuracy, 0.87) << r.out << e.out;
}

}  // namespace
}  // namespace keras
