// Keras model files: the HDF5 wrapper, the file layouts of KERAS_SPEC §8, Keras 1/Theano weight
// conversions, broken files, and save -> load round trips.
#include "saving/keras_files.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "saving/hdf5.h"
#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;
using namespace keras::layers;

class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("keras_files_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

template <class F>
::testing::AssertionResult throws_file_error_naming(F f, const std::string& needle) {
  try {
    f();
  } catch (const FileError& e) {
    if (std::string(e.what()).find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message lacks \"" << needle << "\": " << e.what();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not a FileError: " << e.what();
  }
  return ::testing::AssertionFailure() << "nothing thrown";
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Distinct, deterministic values for every weight (BatchNormalization variances stay positive).
void scramble_weights(const Model& m) {
  std::vector<Tensor> w = m.get_weights();
  float x = 0.1f;
  for (Tensor& t : w)
    for (float& v : t.values()) {
      x = std::fmod(x * 7.31f + 0.377f, 1.0f);
      v = 0.2f + x;
    }
  m.set_weights(w);
}

Tensor sample_input(Shape shape, float offset = 0.0f) {
  Tensor t(shape);
  for (Dim i = 0; i < t.size(); ++i) t[i] = std::sin(0.37f * static_cast<float>(i) + offset);
  return t;
}

// ---------------------------------------------------------------- names

TEST(KerasFiles, SnakeCaseAsKeras) {
  // keras.src.utils.naming.to_snake_case; the first ones appear in the spec's verified dumps.
  EXPECT_EQ(saving::to_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(saving::to_snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(saving::to_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(saving::to_snake_case("InputLayer"), "input_layer");
  EXPECT_EQ(saving::to_snake_case("Sequential"), "sequential");
  EXPECT_EQ(saving::to_snake_case("LSTM"), "lstm");
  EXPECT_EQ(saving::to_snake_case("ConvLSTM2D"), "conv_lstm2d");
  EXPECT_EQ(saving::to_snake_case("PReLU"), "p_re_lu");
  EXPECT_EQ(saving::to_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(saving::to_snake_case("Conv2DTranspose"), "conv2d_transpose");
}

// ---------------------------------------------------------------- the HDF5 wrapper

TEST(Hdf5, WritesAndReadsStringsNumbersAndDatasets) {
  TempDir dir;
  {
    hdf5::File f = hdf5::File::create(dir / "a.h5");
    hdf5::Group root = f.root();
    root.set_attr("vlen", std::string("héllo"));
    root.set_attr("fixed", std::string("bytes"), false);
    root.set_attr("list", std::vector<std::string>{"dense", "conv2d_1"});
    root.set_attr("empty", std::vector<std::string>{});
    root.set_attr("names0", std::vector<std::string>{"a", "b"});
    root.set_attr("names1", std::vector<std::string>{"c"});
    hdf5::Group g = root.create_group("x/y");
    g.write("w:0", Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
    g.write("scalar", Tensor(Shape{}, {7}));
    f.close();
  }
  hdf5::File f = hdf5::File::open(dir / "a.h5");
  hdf5::Group root = f.root();
  EXPECT_EQ(root.attr_string("vlen"), "héllo");
  EXPECT_EQ(root.attr_string("fixed"), "bytes");
  EXPECT_EQ(root.attr_strings("list"), (std::vector<std::string>{"dense", "conv2d_1"}));
  EXPECT_TRUE(root.attr_strings("empty").empty());
  EXPECT_EQ(root.attr_strings("names"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(root.attr_strings("absent").empty());
  EXPECT_TRUE(root.has_group("x/y"));
  EXPECT_TRUE(root.has_dataset("x/y/w:0"));
  EXPECT_FALSE(root.has("x/nope/w:0"));
  EXPECT_EQ(root.group("x").children(), std::vector<std::string>{"y"});
  EXPECT_EQ(root.read("x/y/w:0"), Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(root.group("x/y").read("scalar"), Tensor(Shape{}, {7}));
}

TEST(Hdf5, FailuresNameTheFileAndThePath) {
  TempDir dir;
  {
    hdf5::File f = hdf5::File::create(dir / "a.h5");
    f.root().create_group("g").write("w", Tensor({2}, {1, 2}));
    f.close();
  }
  hdf5::File f = hdf5::File::open(dir / "a.h5");
  hdf5::Group g = f.root().group("g");
  EXPECT_TRUE(throws_file_error_naming([&] { g.read("missing"); }, "a.h5: HDF5 object \"/g/missing\""));
  EXPECT_TRUE(throws_file_error_naming([&] { g.attr_string("nope"); }, "/g"));
  Tensor wrong({3});
  EXPECT_TRUE(throws_file_error_naming([&] { g.read_into("w", wrong); }, "has shape (2,), expected (3,)"));
  EXPECT_TRUE(throws_file_error_naming([&] { hdf5::File::open(dir / "none.h5"); }, "none.h5"));
}

TEST(Hdf5, OpensAFileImageFromMemory) {
  TempDir dir;
  {
    hdf5::File f = hdf5::File::create(dir / "a.h5");
    f.root().write("w", Tensor({3}, {1, 2, 3}));
    f.close();
  }
  std::ifstream in(dir / "a.h5", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  hdf5::ImageBuffer image(bytes.size());
  std::copy(bytes.begin(), bytes.end(), image.data());
  hdf5::Group root = hdf5::File::open_image(std::move(image), "in-memory").root();
  EXPECT_EQ(root.read("w"), Tensor({3}, {1, 2, 3}));
  EXPECT_EQ(root.read("w"), Tensor({3}, {1, 2, 3})) << "read twice: not a read_once image";
}

// ---------------------------------------------------------------- broken files

TEST(KerasFiles, BrokenFilesAreFileErrorsNamingTheFile) {
  TempDir dir;
  Model m = Sequential({Input({4}), Dense(3)});
  m.save(dir / "good.keras");
  m.save(dir / "good.h5");
  auto truncate_copy = [&](const std::string& from, const std::string& to, double keep) {
    std::ifstream in(dir / from, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / to, std::ios::binary) << bytes.substr(0, static_cast<size_t>(bytes.size() * keep));
  };
  truncate_copy("good.h5", "cut.h5", 0.5);
  truncate_copy("good.h5", "head.h5", 0.02);
  truncate_copy("good.keras", "cut.keras", 0.5);
  std::ofstream(dir / "garbage.h5") << "\x89HDF\r\n\x1a\n and then nothing useful at all";
  std::ofstream(dir / "empty.keras") << "";
  std::ofstream(dir / "text.keras") << "hello";
  for (const char* name : {"cut.h5", "head.h5", "cut.keras", "garbage.h5", "empty.keras", "text.keras", "none.h5"}) {
    EXPECT_TRUE(throws_file_error_naming([&] { load_model(dir / name); }, name)) << name;
    EXPECT_TRUE(throws_file_error_naming([&] { m.load_weights(dir / name); }, name)) << name;
  }
}

TEST(KerasFiles, WeightsOnlyFileIsNotAModel) {
  TempDir dir;
  Model m = Sequential({Input({4}), Dense(3)});
  m.save_weights(dir / "w.h5");
  EXPECT_TRUE(throws_file_error_naming([&] { load_model(dir / "w.h5"); }, "holds only weights"));
}

// ---------------------------------------------------------------- layouts (KERAS_SPEC §8)

// §8.2's verified dump of the keras.io MNIST convnet's model.weights.h5.
TEST(KerasFiles, KerasArchiveLayoutIsKeras3s) {
  TempDir dir;
  clear_session();
  Model m = Sequential(
      {Input({28, 28, 1}), Conv2D(32, 3, "relu"), MaxPooling2D({2, 2}), Flatten(), Dropout(0.5), Dense(10, "softmax")});
  m.save(dir / "m.keras");
  std::ifstream in(dir / "m.keras", std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), 64);
  EXPECT_EQ(head.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(head[8], 0) << "first entry STORED";
  EXPECT_EQ(head.substr(30, 13), "metadata.json") << "first entry";
  saving::ZipReader zip(dir / "m.keras");
  EXPECT_TRUE(zip.has("config.json"));
  hdf5::File weights = saving::open_archive_weights(zip, dir / "m.keras");
  hdf5::Group root = weights.root();
  EXPECT_EQ(root.dataset_shape("layers/conv2d/vars/0"), Shape({3, 3, 1, 32}));
  EXPECT_EQ(root.dataset_shape("layers/conv2d/vars/1"), Shape({32}));
  EXPECT_EQ(root.dataset_shape("layers/dense/vars/0"), Shape({5408, 10}));
  EXPECT_EQ(root.dataset_shape("layers/dense/vars/1"), Shape({10}));
  for (const char* empty : {"layers/dropout/vars", "layers/flatten/vars", "layers/max_pooling2d/vars", "vars"})
    EXPECT_TRUE(root.group(empty).children().empty()) << empty;
  EXPECT_FALSE(root.has("layers/input_layer")) << "Sequential excludes its InputLayer";
  EXPECT_EQ(root.group("vars").attr_string("name"), "sequential");
  EXPECT_EQ(root.group("layers").children(),
            (std::vector<std::string>{"conv2d", "dense", "dropout", "flatten", "max_pooling2d"}));
}

// §8.1: model_weights/<layer>/<weight path>, layer_names in model.layers order.
TEST(KerasFiles, H5LayoutIsKeras2s) {
  TempDir dir;
  clear_session();
  Model m = Sequential({Input({4}), Dense(3, "relu"), Dropout(0.5), Dense(2)});
  m.save(dir / "m.h5");
  hdf5::File f = hdf5::File::open(dir / "m.h5");
  hdf5::Group root = f.root();
  EXPECT_TRUE(root.has_attr("model_config"));
  EXPECT_EQ(root.attr_string("keras_version").substr(0, 2), "3.");
  hdf5::Group w = root.group("model_weights");
  EXPECT_EQ(w.attr_strings("layer_names"), (std::vector<std::string>{"dense", "dropout", "dense_1"}));
  EXPECT_EQ(w.group("dense").attr_strings("weight_names"), (std::vector<std::string>{"dense/kernel", "dense/bias"}));
  EXPECT_EQ(w.dataset_shape("dense/dense/kernel"), Shape({4, 3}));
  EXPECT_TRUE(w.group("dropout").attr_strings("weight_names").empty());
}

// ---------------------------------------------------------------- legacy conversions

// Writes a Keras 2 weights-only file by hand: one layer "conv" with the given kernel and bias.
void write_legacy_conv_weights(const fs::path& path, const std::string& keras_version, const std::string& backend,
                               const Tensor& kernel, const Tensor& bias, bool chunked_names = false) {
  hdf5::File f = hdf5::File::create(path);
  hdf5::Group root = f.root();
  if (chunked_names) {
    root.set_attr("layer_names0", std::vector<std::string>{"input"});
    root.set_attr("layer_names1", std::vector<std::string>{"conv"});
    root.create_group("input").set_attr("weight_names", std::vector<std::string>{});
  } else {
    root.set_attr("layer_names", std::vector<std::string>{"conv"});
  }
  if (!keras_version.empty()) root.set_attr("keras_version", keras_version, false);
  if (!backend.empty()) root.set_attr("backend", backend, false);
  hdf5::Group g = root.create_group("conv");
  g.set_attr("weight_names", std::vector<std::string>{"conv/kernel:0", "conv/bias:0"});
  g.write("conv/kernel:0", kernel);
  g.write("conv/bias:0", bias);
  f.close();
}

// Keras's conv_utils.convert_kernel for Theano weights: rows and columns reversed.
TEST(KerasFiles, TheanoKernelsAreFlipped) {
  TempDir dir;
  write_legacy_conv_weights(dir / "w.h5", "2.1.3", "theano", Tensor({2, 2, 1, 1}, {1, 2, 3, 4}), Tensor({1}, {0.5}));
  Model m = Sequential({Input({3, 3, 1}), Conv2D(1, 2)});
  m.load_weights(dir / "w.h5");
  EXPECT_EQ(m.get_weights()[0], Tensor({2, 2, 1, 1}, {4, 3, 2, 1}));
  EXPECT_EQ(m.get_weights()[1], Tensor({1}, {0.5}));
}

// Keras 1 saved channels_first ("th") kernels as (filters, in, rows, cols); attribute lists may be chunked.
TEST(KerasFiles, Keras1ChannelsFirstKernelsAreTransposed) {
  TempDir dir;
  Tensor old_kernel({2, 1, 1, 3}, {1, 2, 3, 4, 5, 6});  // (filters=2, in=1, rows=1, cols=3)
  write_legacy_conv_weights(dir / "w.h5", "", "", old_kernel, Tensor({2}, {0, 0}), true);
  Model m = Sequential(
      {Input({1, 4, 4}), Conv2D(Conv2DOptions{.filters = 2, .kernel_size = {1, 3}, .data_format = "channels_first"})});
  m.load_weights(dir / "w.h5");
  // transpose (2, 3, 1, 0): new[r][c][i][f] = old[f][i][r][c]
  EXPECT_EQ(m.get_weights()[0], Tensor({1, 3, 1, 2}, {1, 4, 2, 5, 3, 6}));
}

TEST(KerasFiles, WeightMismatchNamesFileLayerAndShapes) {
  TempDir dir;
  clear_session();
  Model a = Sequential({Input({4}), Dense(3, "relu"), Dense(2)});
  a.save_weights(dir / "w.h5");
  a.save_weights(dir / "w.weights.h5");
  Model b = Sequential({Input({4}), Dense(5, "relu"), Dense(2)});
  std::string legacy = message_of([&] { b.load_weights(dir / "w.h5"); });
  EXPECT_NE(legacy.find("w.h5"), std::string::npos) << legacy;
  EXPECT_NE(legacy.find("Shape mismatch in layer #0"), std::string::npos) << legacy;
  EXPECT_NE(legacy.find("expects shape (4, 5)"), std::string::npos) << legacy;
  EXPECT_NE(legacy.find("with shape (4, 3)"), std::string::npos) << legacy;
  std::string k3 = message_of([&] { b.load_weights(dir / "w.weights.h5"); });
  EXPECT_NE(k3.find("w.weights.h5"), std::string::npos) << k3;
  EXPECT_NE(k3.find("(4, 5)"), std::string::npos) << k3;
  EXPECT_NE(k3.find("(4, 3)"), std::string::npos) << k3;
  Model c = Sequential({Input({4}), Dense(2)});
  std::string count = message_of([&] { c.load_weights(dir / "w.h5"); });
  EXPECT_NE(count.find("Layer count mismatch when loading weights from file. Model expected 1 layers, found 2 "
                       "saved layers."),
            std::string::npos)
      << count;
}

// ---------------------------------------------------------------- round trips

// Saves and reloads `m` in every format; predictions and summary must be identical.
void check_round_trips(const Model& m, const std::vector<Tensor>& x) {
  TempDir dir;
  std::vector<Tensor> want = m.predict(x);
  std::string summary = m.summary_string();
  for (const char* name : {"m.keras", "m.h5"}) {
    SCOPED_TRACE(name);
    m.save(dir / name);
    Model back = load_model(dir / name);
    EXPECT_EQ(back.predict(x), want);
    EXPECT_EQ(back.summary_string(), summary);
    EXPECT_EQ(back.get_weights(), m.get_weights());
  }
  for (const char* name : {"w.weights.h5", "w.h5", "m.keras"}) {
    SCOPED_TRACE(name);
    if (std::string(name) != "m.keras") m.save_weights(dir / name);
    Model fresh = model_from_json(m.to_json());
    fresh.load_weights(dir / name);
    EXPECT_EQ(fresh.predict(x), want);
  }
}

TEST(KerasFiles, SequentialConvNetRoundTrips) {
  clear_session();
  Model m = Sequential({Input({8, 8, 2}), Conv2D(4, 3, "relu"), BatchNormalization(), MaxPooling2D({2, 2}),
                        Conv2D(3, 1), BatchNormalization(), Flatten(), Dropout(0.5), Dense(5, "softmax")});
  scramble_weights(m);
  check_round_trips(m, {sample_input({3, 8, 8, 2})});
}

TEST(KerasFiles, FunctionalWithNestedModelAndSharedLayerRoundTrips) {
  clear_session();
  Model inner = Sequential({Input({6}), Dense(4, "tanh"), BatchNormalization(), Dense(3)});
  KerasTensor a = Input({6}), b = Input({6});
  Layer shared = Dense(6, "relu");
  KerasTensor ya = inner(shared(a)), yb = inner(shared(b));
  Model m({a, b}, {Concatenate()({ya, yb}), Add()({ya, yb})});
  scramble_weights(m);
  check_round_trips(m, {sample_input({2, 6}), sample_input({2, 6}, 1.0f)});
}

TEST(KerasFiles, RecurrentModelRoundTrips) {
  clear_session();
  KerasTensor x = Input({5, 3});
  KerasTensor h = Bidirectional(LSTM(LSTMOptions{.units = 4, .return_sequences = true}))(x);
  h = GRU(GRUOptions{.units = 3, .return_sequences = true})(h);
  h = TimeDistributed(Dense(2))(h);
  KerasTensor y = SimpleRNN(2)(h);
  Model m(x, y);
  scramble_weights(m);
  check_round_trips(m, {sample_input({2, 5, 3})});
}

TEST(KerasFiles, ConvLstmModelRoundTrips) {
  clear_session();
  Model m = Sequential({Input({3, 5, 5, 2}), ConvLSTM2D(2, 3), Flatten(), Dense(2)});
  scramble_weights(m);
  check_round_trips(m, {sample_input({2, 3, 5, 5, 2})});
}

TEST(KerasFiles, FailedSaveLeavesExistingFileUntouched) {
  TempDir dir;
  std::ofstream(dir / "m.keras") << "precious";
  Model m = Sequential({Input({4}), Dense(3)});
  EXPECT_THROW(m.save(dir / "m.txt"), ValueError);
  EXPECT_THROW(m.save_weights(dir / "w.bin"), ValueError);
  fs::create_directories(dir / "sub.keras");  // a directory where the file should go
  EXPECT_THROW(m.save(dir / "sub.keras"), FileError);
  std::ifstream in(dir / "m.keras");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s, "precious");
  for (const auto& e : fs::directory_iterator(dir / ""))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "left behind: " << e.path();
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// A Keras 2 file's hard_sigmoid is clip(0.2x + 0.5, 0, 1); Keras 3's is clip(x / 6 + 0.5, 0, 1)
// under the same name. Saved again, the config names it "hard_sigmoid" (what Keras loads) and a
// top-level entry Keras ignores says where it means Keras 2's, so keras.cpp reads it back unchanged.
TEST(HardSigmoid, AKeras2OneIsWrittenAsKerasNamesItAndReadBackWithItsMeaning) {
  TempDir dir;
  Model m = model_from_json(R"({"class_name": "Sequential", "keras_version": "2.4.0", "config": {"name": "s",
    "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 1, "activation": "hard_sigmoid",
                "batch_input_shape": [null, 1]}}]}})");
  m.set_weights({Tensor(Shape{1, 1}, 1.0f), Tensor(Shape{1}, 0.0f)});
  Tensor x(Shape{1, 1}, 1.0f);
  EXPECT_FLOAT_EQ(m.predict(x).data()[0], 0.7f);  // Keras 2: 0.2 * 1 + 0.5
  m.save(dir / "m.keras");
  m.save(dir / "m.h5");

  saving::ZipReader zip(dir / "m.keras");
  std::vector<char> bytes = zip.read("config.json");
  std::string h5_config = hdf5::File::open(dir / "m.h5").root().attr_string("model_config");
  for (const std::string& config : {std::string(bytes.begin(), bytes.end()), h5_config, m.to_json()}) {
    EXPECT_EQ(config.find("hard_sigmoid_keras2"), std::string::npos) << config;
    EXPECT_NE(config.find(R"("activation":"hard_sigmoid")"), std::string::npos) << config;
    EXPECT_NE(config.find(R"("keras_cpp_keras2_hard_sigmoid":["s/d/activation"])"), std::string::npos) << config;
  }
  Model from_json = model_from_json(m.to_json());  // weights initialised afresh
  from_json.set_weights(m.get_weights());
  EXPECT_FLOAT_EQ(from_json.predict(x).data()[0], 0.7f);
  for (const char* file : {"m.keras", "m.h5"})
    EXPECT_FLOAT_EQ(load_model(dir / file).predict(x).data()[0], 0.7f) << file;
  // A Keras 3 hard_sigmoid stays Keras 3's, with no metadata entry.
  Model k3 = Sequential({Input({1}), Dense(1, "hard_sigmoid")});
  k3.set_weights({Tensor(Shape{1, 1}, 1.0f), Tensor(Shape{1}, 0.0f)});
  k3.save(dir / "k3.keras");
  EXPECT_EQ(k3.to_json().find("keras2"), std::string::npos);
  EXPECT_FLOAT_EQ(load_model(dir / "k3.keras").predict(x).data()[0], 1.0f / 6.0f + 0.5f);
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// A layer naming an initializer keras.cpp cannot build (a user's Python class) loads from a file
// that has its weights, with a warning, and is written back with the initializer's config as
// it was; without weights (model_from_json) building it is an error naming the layer and class.
TEST(CustomInitializer, LoadsWhenTheWeightsComeFromTheFile) {
  testing::TempDir dir;
  Model m = Sequential({Input({3}), layers::Dense({.units = 2, .name = "d"})});
  std::vector<Tensor> w = m.get_weights();
  nlohmann::json config = nlohmann::json::parse(m.to_json());
  nlohmann::json custom = {
      {"module", "__main__"}, {"class_name", "MyInit"}, {"config", {{"k", 3}}}, {"registered_name", "Custom>MyInit"}};
  config["config"]["layers"][1]["config"]["kernel_initializer"] = custom;
  {
    hdf5::File f = hdf5::File::create(dir / "w.h5");
    saving::save_keras3_weights(m, f.root());
    f.close();
  }
  saving::write_keras_archive(dir / "m.keras", R"({"keras_version": "3.1.0"})", config.dump(), dir / "w.h5", "m.keras");
  Model loaded = load_model(dir / "m.keras");
  EXPECT_EQ(loaded.get_weights(), w);
  nlohmann::json back = nlohmann::json::parse(loaded.to_json());
  EXPECT_EQ(back["config"]["layers"][1]["config"]["kernel_initializer"], custom);
  std::string e = testing::value_error_of([&] { model_from_json(config.dump()); });
  EXPECT_NE(e.find("\"d\""), std::string::npos) << e;
  EXPECT_NE(e.find("MyInit is not one keras.cpp can run"), std::string::npos) << e;
}

}  // namespace
}  // namespace keras
