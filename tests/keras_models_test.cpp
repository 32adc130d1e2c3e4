// Real Keras model files (../shared/keras-models: saved by Keras 1.2.2 to 3.1.1, predictions
// computed by Keras itself) load and predict what Keras predicted, through the library and
// through `kerascpp predict`. A missing folder fails these tests: they are the acceptance test.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "keras/io.h"
#include "saving/hdf5.h"
#include "saving/registry.h"
#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path models_dir() { return testing::shared_models_dir().lexically_normal(); }

::testing::AssertionResult have_models() {
  if (fs::is_directory(models_dir())) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the shared Keras model files are missing: looked for " << models_dir()
                                       << " (set KERAS_SHARED_MODELS to their folder)";
}

// A model with inputs and the outputs Keras computed for them.
struct RefCase {
  fs::path model;
  std::vector<fs::path> inputs;
  fs::path expected;
  fs::path weights;  // for an architecture .json
  std::string label() const { return model.filename().string(); }
};

std::vector<Tensor> load_inputs(const RefCase& c) {
  std::vector<Tensor> x;
  for (const fs::path& p : c.inputs) x.push_back(io::load_npy(p));
  return x;
}

Tensor predict_library(const RefCase& c) {
  Model m = load_model(c.model);
  if (!c.weights.empty()) m.load_weights(c.weights);
  auto y = m.predict(load_inputs(c));
  EXPECT_EQ(y.size(), 1u);
  return y.at(0);
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

fs::path temp_path(const std::string& suffix) {
  return fs::temp_directory_path() / ("keras_models_test_" + std::to_string(::getpid()) + suffix);
}

// Runs kerascpp with `args` as a user would; true on exit status 0 (else a failure is added).
bool kerascpp(const std::string& args, bool expect_success = true) {
  testing::CliRun r = testing::kerascpp(args);
  bool ok = r.status == 0;
  if (expect_success) {
    EXPECT_TRUE(ok) << "kerascpp " << args << "\n" << r.err;
  }
  return ok;
}

// Runs `kerascpp predict` as a user would; the output .npy, or an empty tensor (and a failure).
Tensor predict_cli(const RefCase& c) {
  fs::path out = temp_path(".npy");
  std::string args = "predict " + quote(c.model);
  for (const fs::path& p : c.inputs) args += " " + quote(p);
  if (!c.weights.empty()) args += " --weights " + quote(c.weights);
  kerascpp(args + " -o " + quote(out));
  if (!fs::exists(out)) return Tensor();
  Tensor y = io::load_npy(out);
  fs::remove(out);
  return y;
}

void check_reference(const RefCase& c) {
  SCOPED_TRACE(c.model.string());
  Tensor want = io::load_npy(c.expected);
  try {
    EXPECT_TRUE(testing::AllClose(predict_library(c), want)) << c.label() << " (library)";
  } catch (const std::exception& e) {
    ADD_FAILURE() << c.label() << ": " << e.what();
  }
  EXPECT_TRUE(testing::AllClose(predict_cli(c), want)) << c.label() << " (kerascpp predict)";
}

// DL4J's naming: <name>_model.h5, <name>_input.npy, <name>_expected_predictions.npy.
std::vector<RefCase> dl4j_cases(const fs::path& dir) {
  std::vector<RefCase> cases;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string f = e.path().filename().string();
    const std::string suffix = "_model.h5";
    if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string stem = f.substr(0, f.size() - suffix.size());
    fs::path expected = dir / (stem + "_expected_predictions.npy");
    if (!fs::exists(expected)) continue;  // e.g. simple_lstm_tf_keras_2: only training targets
    cases.push_back({e.path(), {dir / (stem + "_input.npy")}, expected, {}});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.model < b.model; });
  return cases;
}

void check_all(const std::vector<RefCase>& cases, size_t expected_count) {
  EXPECT_EQ(cases.size(), expected_count) << "reference models found";
  for (const RefCase& c : cases) check_reference(c);
}

TEST(KerasModels, SharedFolderIsPresent) { ASSERT_TRUE(have_models()); }

TEST(KerasModels, Dl4jConv1dPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  auto cases = dl4j_cases(models_dir() / "dl4j_conv1d" / "conv1d");
  auto causal = dl4j_cases(models_dir() / "dl4j_conv1d" / "causal_conv1d");
  cases.insert(cases.end(), causal.begin(), causal.end());
  check_all(cases, 60);
}

TEST(KerasModels, Dl4jDenseActivationsPredictAsKeras) {
  ASSERT_TRUE(have_models());
  check_all(dl4j_cases(models_dir() / "dl4j_dense_activations"), 9);
}

// SimpleRNN and LSTM, Keras 2.1.3 and Keras 1.2.2 (TensorFlow and Theano; per-gate LSTM weights).
TEST(KerasModels, Dl4jRnnLstmPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  check_all(dl4j_cases(models_dir() / "dl4j_rnn_lstm"), 5);
}

TEST(KerasModels, Dl4jCnnBatchNormPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "dl4j_cnn_batchnorm";
  check_reference({d / "cnn_batch_norm.h5", {d / "input.npy"}, d / "predictions.npy", {}});
}

// Keras 2.0.6's model.to_json() + save_weights(): an architecture and a weights-only .h5.
TEST(KerasModels, Dl4jMnistMlpJsonPlusWeightsPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "dl4j_mnist_mlp_json_weights";
  check_reference({d / "mnist_mlp_tf_keras_2_config.json",
                   {d / "mnist_mlp_tf_keras_2_input.npy"},
                   d / "mnist_mlp_tf_keras_2_expected_predictions.npy",
                   d / "mnist_mlp_tf_keras_2_weights.h5"});
}

TEST(KerasModels, StarfishConv1dEcgPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "starfish_conv1d_ecg";
  check_reference({d / "keras_model.h5", {d / "input.npy"}, d / "expected_output.npy", {}});
}

TEST(KerasModels, MoonflowerKeras3ArchivePredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "moonflower_mnist_cnn_keras3";
  check_reference({d / "mnist_model.keras", {d / "input_1png.npy"}, d / "expected_output_1png.npy", {}});
}

// The moonflower archive was saved by Keras 3 after training: its compile_config (adam,
// categorical_crossentropy, accuracy) and optimizer/vars (iteration 6330 as h5dump shows it,
// learning_rate 0.001, then momentum/velocity per trainable variable) come back, and survive
// our .keras and .h5 writers.
TEST(KerasModels, MoonflowerTrainingStateIsRestored) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "moonflower_mnist_cnn_keras3";
  Model m = load_model(d / "mnist_model.keras");
  ASSERT_TRUE(m.compiled());
  EXPECT_EQ(m.optimizer()->class_name(), "Adam");
  EXPECT_EQ(m.loss()->name(), "categorical_crossentropy");
  EXPECT_EQ(m.metrics_names(), (std::vector<std::string>{"loss", "accuracy"}));
  EXPECT_EQ(m.optimizer()->iterations(), 6330);
  EXPECT_FLOAT_EQ(static_cast<float>(m.optimizer()->learning_rate()), 0.001f);
  std::vector<Variable> vars = m.optimizer()->variables();
  ASSERT_EQ(vars.size(), 14u);
  EXPECT_EQ(vars[2].name, "conv2d_kernel_momentum");
  EXPECT_EQ(vars[3].value.shape(), Shape({3, 3, 1, 32}));
  float sum = 0;
  for (float v : vars[3].value.values()) sum += std::abs(v);
  EXPECT_GT(sum, 0.0f);  // trained velocities, not fresh zeros
  for (const char* ext : {".keras", ".h5"}) {
    fs::path copy = temp_path(std::string("_state") + ext);
    m.save(copy);
    Model back = load_model(copy);
    fs::remove(copy);
    ASSERT_TRUE(back.compiled()) << ext;
    EXPECT_EQ(back.optimizer()->iterations(), 6330) << ext;
    std::vector<Variable> again = back.optimizer()->variables();
    ASSERT_EQ(again.size(), vars.size()) << ext;
    for (size_t i = 0; i < vars.size(); ++i) EXPECT_EQ(again[i].value, vars[i].value) << ext << " variable " << i;
  }
}

// GRU(reset_after) fed an initial_state input; the stateful twin gives the same first call.
TEST(KerasModels, FdeepGruInitialStatePredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "fdeep_gru_initial_state";
  std::vector<fs::path> in = {d / "input_1_sequence.npy", d / "input_2_initial_state.npy"};
  check_reference({d / "temp_stateless.h5", in, d / "expected_output.npy", {}});
  check_reference({d / "temp_stateful.h5", in, d / "expected_output.npy", {}});
}

// The DL4J reference files keep inputs and Keras's predictions in HDF5; the .npy copies used
// above must hold the same numbers (this also reads vlen attributes and plain datasets).
TEST(KerasModels, Dl4jReferenceHdf5MatchesNpyCopies) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "dl4j_dense_activations";
  int checked = 0;
  for (const char* name : {"ELU_0", "ReLU_2", "Softmax_0"}) {
    hdf5::File f = hdf5::File::open(d / (std::string(name) + "_inputs_and_outputs.h5"));
    hdf5::Group root = f.root();
    std::string input = json::parse(root.attr_string("inputs"))["inputs"][0];
    std::string output = json::parse(root.attr_string("outputs"))["outputs"][0];
    EXPECT_EQ(root.group("inputs").read(input), io::load_npy(d / (std::string(name) + "_input.npy")));
    EXPECT_EQ(root.group("predictions").read(output),
              io::load_npy(d / (std::string(name) + "_expected_predictions.npy")));
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// ---------------------------------------------------------------- models without references

// Sum of the sizes of the weights the file holds (model_weights/<layer>/<weight_names>).
Dim saved_weight_count(const hdf5::Group& root) {
  hdf5::Group w = root.group("model_weights");
  Dim n = 0;
  for (const std::string& layer : w.attr_strings("layer_names"))
    for (const std::string& name : w.group(layer).attr_strings("weight_names"))
      n += w.group(layer).dataset_shape(name).num_elements();
  return n;
}

Tensor zeros_for(const Shape& shape) {
  std::vector<Dim> dims;
  for (int i = 0; i < shape.rank(); ++i) dims.push_back(shape[i] != None ? shape[i] : i == 0 ? 2 : 16);
  return Tensor::zeros(Shape(dims));
}

// Loads and runs on zeros, or fails with the one error naming every unsupported layer.
// A file every one of whose layers (its folder's README.txt lists them) is in the README's layer
// table: it must load, hold the weights the file holds, and predict finite values.
void check_loads_and_runs(const fs::path& path) {
  SCOPED_TRACE(path.string());
  hdf5::File file = hdf5::File::open(path);
  try {
    Model m = load_model(path);
    EXPECT_EQ(m.count_params(), saved_weight_count(file.root())) << "weights in the file";
    std::vector<Tensor> x;
    for (const KerasTensor& t : m.inputs()) x.push_back(zeros_for(t.shape()));
    for (const Tensor& y : m.predict(x))
      for (float v : y.values()) ASSERT_TRUE(std::isfinite(v));
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
}

// The outcome comes from the files' documented layer lists, not from the library's registry:
// all of them use only layers keras.cpp lists as supported.
TEST(KerasModels, ModelsWithoutReferencesLoadAndRun) {
  ASSERT_TRUE(have_models());
  std::vector<fs::path> files;
  for (const char* dir : {"dl4j_tfkeras_noref", "hls4ml_dotkeras_hdf5"})
    for (const auto& e : fs::directory_iterator(models_dir() / dir))
      if (hdf5::is_hdf5(e.path())) files.push_back(e.path());
  fs::path d = models_dir();
  files.push_back(d / "fdeep_gru_initial_state" / "extra_noref_lstm_multi_io.h5");
  files.push_back(d / "dl4j_rnn_lstm" / "simple_lstm_tf_keras_2_model.h5");
  files.push_back(d / "moonflower_mnist_cnn_keras3" / "mnist_model.h5");  // Keras 3 legacy .h5
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files.size(), 16u + 3u + 3u);
  for (const fs::path& f : files) check_loads_and_runs(f);
}

// .keras -> kerascpp convert -> .h5 -> convert -> .keras: Keras's predictions all the way.
TEST(KerasModels, ConvertedMoonflowerModelStillPredictsAsKeras) {
  ASSERT_TRUE(have_models());
  fs::path d = models_dir() / "moonflower_mnist_cnn_keras3";
  fs::path h5 = temp_path("_converted.h5"), keras = temp_path("_converted.keras");
  ASSERT_TRUE(kerascpp("convert " + quote(d / "mnist_model.keras") + " " + quote(h5)));
  ASSERT_TRUE(kerascpp("convert " + quote(h5) + " " + quote(keras)));
  Tensor direct = load_model(d / "mnist_model.keras").predict(io::load_npy(d / "input_1png.npy"));
  for (const fs::path& m : {h5, keras}) {
    RefCase c{m, {d / "input_1png.npy"}, d / "expected_output_1png.npy", {}};
    check_reference(c);
    EXPECT_EQ(predict_library(c), direct) << m;
  }
  fs::remove(h5);
  fs::remove(keras);
  // A failed conversion writes nothing.
  EXPECT_FALSE(kerascpp("convert " + quote(d / "1.png") + " " + quote(h5), false));
  EXPECT_FALSE(fs::exists(h5));
  EXPECT_TRUE(kerascpp("convert --help"));
}

// hls4ml's files are named .keras but hold HDF5: the loader goes by content.
TEST(KerasModels, DotKerasFileHoldingHdf5LoadsAsH5) {
  ASSERT_TRUE(have_models());
  Model m = load_model(models_dir() / "hls4ml_dotkeras_hdf5" / "dense_streaming.keras");
  EXPECT_EQ(m.count_params(), 8 * 4 + 4 + 4 * 2 + 2);
}

}  // namespace
}  // namespace keras
