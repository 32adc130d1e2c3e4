// The kerascpp command-line tool, run as a user runs it.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "keras/io.h"
#include "keras/model.h"
#include "keras/saving.h"
#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;

using testing::CliRun;
using testing::kerascpp;
using testing::TempDir;

std::string model_path(const std::string& name) {
  return (testing::source_dir() / "tests" / "fixtures" / "models" / name).string();
}

TEST(Cli, SummaryOfMnistConvnetIsKeras3Text) {
  CliRun r = kerascpp("summary " + model_path("mnist_convnet.json"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, testing::kKeras3MnistSummary76);
}

TEST(Cli, SummaryOfVgg16HeadShowsTheSeedNumbers) {
  CliRun r = kerascpp("summary " + model_path("vgg16_head.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  // VGG16 base (no top) on 128x128x3: 14,714,688 params, output 4x4x512 = 8192 after Flatten;
  // Dense(256): 8192*256+256 = 2,097,408; Dense(1): 257.
  EXPECT_NE(r.out.find("│ vgg16 (Functional)              │ (None, 4, 4, 512)      │    14,714,688 │"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("│ flatten (Flatten)               │ (None, 8192)           │             0 │"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("│ dense (Dense)                   │ (None, 256)            │     2,097,408 │"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("│ dense_1 (Dense)                 │ (None, 1)              │           257 │"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" Total params: 16,812,353 (64.13 MB)\n"), std::string::npos) << r.out;
}

TEST(Cli, PredictFlattenGivesCOrder) {
  TempDir dir;
  io::save_npy(dir / "x.npy", Tensor::arange(0, 24).reshape({1, 3, 2, 4}));
  CliRun r = kerascpp("predict " + model_path("flatten_channels_last.json") + " " + (dir / "x.npy").string() + " -o " +
                      (dir / "y.npy").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(io::load_npy(dir / "y.npy"), Tensor::arange(0, 24).reshape({1, 24}));
}

TEST(Cli, PredictFlattenChannelsFirstMovesChannelsLast) {
  TempDir dir;
  io::save_npy(dir / "x.npy", Tensor::arange(0, 24).reshape({1, 3, 2, 4}));
  CliRun r = kerascpp("predict " + model_path("flatten_channels_first.json") + " " + (dir / "x.npy").string() + " -o " +
                      (dir / "y.npy").string() + " --batch-size 1");
  ASSERT_EQ(r.status, 0) << r.err;
  // x[0, c, h, w] = 8c + 4h + w, flattened in (h, w, c) order, c fastest: 0, 8, 16, 1, 9, 17, ...
  std::vector<float> want;
  for (int h = 0; h < 2; ++h)
    for (int w = 0; w < 4; ++w)
      for (int c = 0; c < 3; ++c) want.push_back(static_cast<float>(8 * c + 4 * h + w));
  EXPECT_EQ(io::load_npy(dir / "y.npy"), Tensor({1, 24}, want));
}

// The library computes its products on its own kernels and threads, so a BLAS thread setting a
// user exports changes nothing: the outputs are the same bytes.
TEST(Cli, PredictIsIdenticalWhateverOpenblasAndOmpThreadsSay) {
  TempDir dir;
  Model m = load_model(model_path("mnist_convnet.json"));
  std::vector<Tensor> weights = m.get_weights();
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = testing::random_tensor(weights[i].shape(), 20 + uint32_t(i));
  m.set_weights(weights);
  m.save(dir / "m.keras");
  io::save_npy(dir / "x.npy", testing::random_tensor(Shape{48, 28, 28, 1}, 11));
  auto predict = [&](const char* blas_threads, const std::string& out) {
    setenv("OPENBLAS_NUM_THREADS", blas_threads, 1);
    setenv("OMP_NUM_THREADS", blas_threads, 1);
    CliRun r = kerascpp("predict " + (dir / "m.keras").string() + " " + (dir / "x.npy").string() + " -o " +
                        (dir / out).string() + " --batch-size 16");
    unsetenv("OPENBLAS_NUM_THREADS");
    unsetenv("OMP_NUM_THREADS");
    EXPECT_EQ(r.status, 0) << r.err;
    std::ifstream in(dir / out, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  std::string one = predict("1", "one.npy");
  ASSERT_GT(one.size(), 48u * 10 * 4);
  EXPECT_TRUE(predict("2", "two.npy") == one);
  EXPECT_TRUE(predict("7", "seven.npy") == one);
}

// --layer writes the named layers' outputs, checked against TensorFlow.js's values for the
// same file and weights (tests/fixtures/intermediate).
TEST(Cli, PredictLayerWritesIntermediateOutputs) {
  TempDir dir;
  testing::Fixture f = testing::load_fixture(testing::source_dir() / "tests" / "fixtures" / "intermediate" /
                                             "intermediate_seed_convnet.json");
  Model model = model_from_json(f.model_json);
  model.set_weights(f.weights);
  model.save(dir / "m.keras");
  io::save_npy(dir / "x.npy", f.inputs.at(0));
  std::string cmd = "predict " + (dir / "m.keras").string() + " " + (dir / "x.npy").string();
  for (size_t i = 0; i < f.output_layers.size(); ++i)
    cmd += " --layer " + f.output_layers[i] + " -o " + (dir / ("y" + std::to_string(i) + ".npy")).string();
  CliRun r = kerascpp(cmd);
  ASSERT_EQ(r.status, 0) << r.err;
  for (size_t i = 0; i < f.output_layers.size(); ++i)
    EXPECT_TRUE(testing::AllClose(io::load_npy(dir / ("y" + std::to_string(i) + ".npy")), f.outputs[i]))
        << f.output_layers[i];
}

// A stateful model's file predicted with --batch-size its fixed batch carries the states from
// batch to batch, as Keras's predict (TensorFlow.js's values, tests/fixtures/stateful).
TEST(Cli, PredictStatefulCarriesStatesAcrossBatches) {
  TempDir dir;
  testing::Fixture f =
      testing::load_fixture(testing::source_dir() / "tests" / "fixtures" / "stateful" / "stateful_lstm_seq.json");
  Model model = model_from_json(f.model_json);
  model.set_weights(f.weights);
  model.save(dir / "m.keras");
  io::save_npy(dir / "x.npy", f.inputs.at(0));
  std::string base = "predict " + (dir / "m.keras").string() + " " + (dir / "x.npy").string() + " -o " +
                     (dir / "y.npy").string() + " --batch-size ";
  CliRun r = kerascpp(base + "2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(testing::AllClose(io::load_npy(dir / "y.npy"), f.outputs[0]));
  // Another batch size is one line on stderr, and no file.
  std::filesystem::remove(dir / "y.npy");
  r = kerascpp(base + "4");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "y.npy"));
}

// A layer with several outputs (LSTM with return_state: y, h, c) gives one file per output,
// as Model(model.inputs(), outputs_of(layer.output())) predicts them.
TEST(Cli, PredictLayerWithSeveralOutputsWritesEach) {
  TempDir dir;
  auto x = Input({4, 3});
  KerasTensor y = layers::LSTM({.units = 2, .return_state = true, .name = "lstm"})(x);
  Model model(x, layers::Dense({.units = 1, .name = "dense"})(y));
  model.save(dir / "m.keras");
  Tensor in = testing::random_tensor(Shape{2, 4, 3}, 5);
  io::save_npy(dir / "x.npy", in);
  CliRun r = kerascpp("predict " + (dir / "m.keras").string() + " " + (dir / "x.npy").string() + " --layer lstm -o " +
                      (dir / "y.npy").string() + " -o " + (dir / "h.npy").string() + " -o " + (dir / "c.npy").string());
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<Tensor> want =
      Model(model.inputs(), outputs_of(model.get_layer("lstm").output())).predict(std::vector<Tensor>{in});
  ASSERT_EQ(want.size(), 3u);
  EXPECT_EQ(io::load_npy(dir / "y.npy"), want[0]);
  EXPECT_EQ(io::load_npy(dir / "h.npy"), want[1]);
  EXPECT_EQ(io::load_npy(dir / "c.npy"), want[2]);
  CliRun short_of_files = kerascpp("predict " + (dir / "m.keras").string() + " " + (dir / "x.npy").string() +
                                   " --layer lstm -o " + (dir / "only.npy").string());
  EXPECT_EQ(short_of_files.status, 1);
  EXPECT_NE(short_of_files.err.find("the --layer layers have 3 output(s), 1 -o file(s) given"), std::string::npos)
      << short_of_files.err;
  EXPECT_FALSE(fs::exists(dir / "only.npy"));
}

TEST(Cli, PredictUnknownLayerIsOneLineErrorAndWritesNothing) {
  TempDir dir;
  io::save_npy(dir / "x.npy", Tensor::arange(0, 24).reshape({1, 3, 2, 4}));
  CliRun r =
      kerascpp("predict " + model_path("flatten_channels_last.json") + " " + (dir / "x.npy").string() +
               " --layer flatten -o " + (dir / "a.npy").string() + " --layer nosuch -o " + (dir / "b.npy").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("No such layer: nosuch."), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "a.npy"));
  EXPECT_FALSE(fs::exists(dir / "b.npy"));
}

TEST(Cli, PredictWithWrongInputShapeFailsCleanly) {
  TempDir dir;
  io::save_npy(dir / "x.npy", Tensor::arange(0, 24).reshape({1, 4, 2, 3}));
  CliRun r = kerascpp("predict " + model_path("flatten_channels_last.json") + " " + (dir / "x.npy").string() + " -o " +
                      (dir / "y.npy").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("(None, 3, 2, 4)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(1, 4, 2, 3)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "y.npy"));
}

TEST(Cli, FailedPredictLeavesExistingOutputUntouched) {
  TempDir dir;
  io::save_npy(dir / "y.npy", Tensor({2}, {7, 8}));
  std::ofstream(dir / "bad.npy") << "not numpy";
  CliRun r = kerascpp("predict " + model_path("flatten_channels_last.json") + " " + (dir / "bad.npy").string() +
                      " -o " + (dir / "y.npy").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad.npy"), std::string::npos) << r.err;
  EXPECT_EQ(io::load_npy(dir / "y.npy"), Tensor({2}, {7, 8}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / ""), fs::directory_iterator()), 2);  // no temp files left
}

TEST(Cli, MissingModelFileIsOneLineError) {
  CliRun r = kerascpp("summary /nonexistent/model.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "kerascpp: error: /nonexistent/model.json: no such file\n");
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, UnknownCommandAndOptionsFail) {
  EXPECT_EQ(kerascpp("frobnicate").status, 1);
  EXPECT_EQ(kerascpp("summary --bogus x.json").status, 1);
  EXPECT_EQ(kerascpp("predict " + model_path("flatten_channels_last.json")).status, 1);
}

TEST(Cli, HelpForEachCommand) {
  for (const char* c :
       {"--help", "summary --help", "predict --help", "convert --help", "fit --help", "evaluate --help"}) {
    CliRun r = kerascpp(c);
    EXPECT_EQ(r.status, 0) << c;
    EXPECT_NE(r.out.find("usage: kerascpp"), std::string::npos) << c;
  }
}

// bench --profile lists every step of the plan with its time and share (formats only: no
// timing is asserted).
TEST(Cli, BenchProfileListsEveryStep) {
  CliRun r = kerascpp("bench " + model_path("mnist_convnet.json") + " --seconds 0.01 --threads 1 --plan --profile");
  ASSERT_EQ(r.status, 0) << r.err;
  std::regex step(R"( +[0-9]+\.[0-9]{3} ms +[0-9]+\.[0-9] % .*(conv2d|dense).*\[cpu\] -> \(1, .*)");
  size_t steps = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) steps += std::regex_match(line, step);
  EXPECT_EQ(steps, 3u) << r.out;  // two convolutions with their poolings, the classifier
  EXPECT_NE(r.out.find("ms in all (medians of"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ms/batch: "), std::string::npos) << r.out;
}

TEST(Cli, UnsupportedLayerIsNamed) {
  TempDir dir;
  std::ofstream(dir / "m.json") << R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "name": "in"}},
    {"class_name": "Lambda", "config": {"name": "lambda"}},
    {"class_name": "FancyFlatten", "config": {"name": "ff"}}]}})";
  CliRun r = kerascpp("summary " + (dir / "m.json").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Lambda \"lambda\" (Python code cannot be loaded), FancyFlatten \"ff\""), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace keras
