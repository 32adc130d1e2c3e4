#pragma once
// The one shared test helper: oracle fixtures, tolerance checks, paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "keras/keras.h"

namespace keras::testing {

// The project's source tree and where shared/ would be beside it.
std::filesystem::path source_dir();
std::filesystem::path shared_models_dir();  // ../shared/keras-models, may not exist

// |got - want| <= atol + rtol * |want| everywhere, shapes equal; reports the worst element.
::testing::AssertionResult AllClose(const Tensor& got, const Tensor& want, double atol = 1e-5, double rtol = 1e-4);

// KERAS_SPEC §7.2 verbatim: Keras 3.16's summary of the keras.io MNIST convnet off a terminal
// (80 columns, table width 76).
extern const char* const kKeras3MnistSummary76;

// Moves values within `gap` of a kink to kink +- gap: finite differences across a kink are
// meaningless.
Tensor away_from(Tensor t, const std::vector<float>& kinks, float gap = 0.05f);

// The kerascpp tool run as a user runs it: `args` go through the shell (quote paths).
struct CliRun {
  int status = -1;
  std::string out, err;
};
CliRun kerascpp(const std::string& args);

// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The message of the keras::ValueError that f() throws, or "(no ValueError)".
std::string value_error_of(const std::function<void()>& f);

// The one generic gradient checker (as dlib's test_layer()): compares a layer's backward()
// with central finite differences of L = sum(output * R) for a fixed pseudo-random R, at up
// to `max_points` positions of every input and every weight.
struct GradientCheckOptions {
  double eps = 1e-2;  // float32 forward passes: a larger step keeps rounding noise small
  double atol = 2e-3;
  double rtol = 2e-2;
  bool training = false;  // run the forward pass in training mode
  int max_points = 64;
  bool check_inputs = true;  // false for integer inputs (Embedding)
  // Where the one-sided difference quotients disagree (a kink such as relu's 0 or a max-pooling
  // tie lies within eps), retry with eps / 4 and eps / 16, then skip the point; at least a
  // quarter of a tensor's points must be checked. For inputs not chosen away from kinks (the
  // oracle fixtures').
  bool skip_kinks = false;
};
::testing::AssertionResult GradientCheck(const Layer& layer, const std::vector<Tensor>& inputs,
                                         const GradientCheckOptions& options = {});
// The same check of the gradients a model's training plan computes (what fit() runs: forward
// in training mode with `seed`'s randomness, then the backward ops), for every weight with a
// gradient, against finite differences of the plan's own forward pass. The model's runtime
// picks the backend.
::testing::AssertionResult TrainingPlanGradientCheck(const Model& model, const std::vector<Tensor>& inputs,
                                                     const GradientCheckOptions& options = {}, uint64_t seed = 7);
// Inputs of `shape` with values spread over [-1, 1), deterministic per `seed`.
Tensor random_tensor(const Shape& shape, uint32_t seed, float low = -1.0f, float high = 1.0f);

// An oracle fixture (tests/fixtures/layers/*.json, see tests/fixtures/generate/README.md).
struct Fixture {
  std::string name;
  std::string oracle;
  std::string model_json;
  std::vector<Tensor> weights, inputs, outputs;
  // tests/fixtures/intermediate: the outputs are these layers' outputs, not the model's.
  std::vector<std::string> output_layers;
  // The gradient oracle, where the fixture has one: the gradients of L = sum over outputs of
  // sum(output * cotangent) w.r.t. each weight (Keras order) and each input (an empty tensor
  // where the oracle gives none: non-trainable weights, integer inputs).
  std::vector<Tensor> cotangents, weight_gradients, input_gradients;
};
Fixture load_fixture(const std::filesystem::path& path);
std::vector<std::filesystem::path> fixture_files(const std::string& subdir = "layers");
// A gtest-safe test name for a parameterized fixture test: the file stem.
std::string fixture_case_name(const ::testing::TestParamInfo<std::filesystem::path>& info);

}  // namespace keras::testing
