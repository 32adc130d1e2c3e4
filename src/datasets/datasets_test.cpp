#include "keras/datasets.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <numeric>

#include "keras/utils.h"
#include "test_helpers.h"

namespace keras {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::value_error_of;

// Writes an IDX file of unsigned bytes, gzip-compressed unless `plain`.
void write_idx(const fs::path& p, const std::vector<uint32_t>& dims, const std::vector<unsigned char>& data,
               size_t truncate_to = SIZE_MAX) {
  std::string bytes = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<char>((d >> s) & 0xff));
  bytes.append(data.begin(), data.end());
  bytes.resize(std::min(bytes.size(), truncate_to));
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_TRUE(f);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_small_set(const fs::path& dir, Dim n_train, Dim n_test) {
  for (auto [prefix, n] : {std::pair{"train", n_train}, std::pair{"t10k", n_test}}) {
    std::vector<unsigned char> pixels(static_cast<size_t>(n) * 784), labels(static_cast<size_t>(n));
    std::iota(pixels.begin(), pixels.end(), static_cast<unsigned char>(n));
    for (Dim i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<unsigned char>(i % 10);
    write_idx(dir / (std::string(prefix) + "-images-idx3-ubyte.gz"), {uint32_t(n), 28, 28}, pixels);
    write_idx(dir / (std::string(prefix) + "-labels-idx1-ubyte.gz"), {uint32_t(n)}, labels);
  }
}

std::string file_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FileError& e) {
    return e.what();
  }
  return "(no FileError)";
}

TEST(Datasets, ReadsIdxGzFromADirectory) {
  TempDir dir;
  write_small_set(dir.path(), 3, 2);
  auto [train, test] = datasets::mnist::load_data(dir.path());
  EXPECT_EQ(train.x.shape(), Shape({3, 28, 28}));
  EXPECT_EQ(train.y.shape(), Shape({3}));
  EXPECT_EQ(test.x.shape(), Shape({2, 28, 28}));
  EXPECT_EQ(train.x.at({0, 0, 0}), 3.0f);  // iota from n_train, wrapping at 256
  EXPECT_EQ(train.x.at({0, 0, 5}), 8.0f);
  EXPECT_EQ(train.x.at({0, 1, 0}), static_cast<float>((3 + 28) % 256));
  EXPECT_EQ(train.y[2], 2.0f);
  EXPECT_EQ(test.x.at({0, 0, 0}), 2.0f);
}

TEST(Datasets, MissingFilesSayWhereItLookedAndHowToGetThem) {
  TempDir dir;
  std::string msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find(dir.path().string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no Debian package"), std::string::npos) << msg;
  ::setenv("KERAS_HOME", dir.path().c_str(), 1);
  msg = file_error_of([] { datasets::mnist::load_data(); });
  ::unsetenv("KERAS_HOME");
  EXPECT_NE(msg.find((dir.path() / "datasets" / "mnist").string()), std::string::npos) << msg;
}

TEST(Datasets, KerasHomeIsSearched) {
  TempDir dir;
  fs::create_directories(dir.path() / "datasets" / "mnist");
  write_small_set(dir.path() / "datasets" / "mnist", 4, 1);
  ::setenv("KERAS_HOME", dir.path().c_str(), 1);
  auto data = datasets::mnist::load_data();
  ::unsetenv("KERAS_HOME");
  EXPECT_EQ(data.train.x.dim(0), 4);
}

TEST(Datasets, BrokenFilesGiveFileErrorsNamingTheFile) {
  TempDir dir;
  write_small_set(dir.path(), 3, 2);
  fs::path images = dir.path() / "train-images-idx3-ubyte.gz";
  std::vector<unsigned char> pixels(3 * 784, 7);
  write_idx(images, {3, 28, 28}, pixels, 16 + 100);  // truncated payload
  std::string msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find(images.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("ends before"), std::string::npos) << msg;

  write_idx(images, {3, 27, 28}, std::vector<unsigned char>(3 * 27 * 28));
  msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find("(N, 28, 28)"), std::string::npos) << msg;

  write_idx(images, {4, 28, 28}, std::vector<unsigned char>(4 * 784));  // 4 images, 3 labels
  msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find("expected 4 labels"), std::string::npos) << msg;

  std::ofstream(images, std::ios::binary) << "not gzip and not idx";
  msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find("bad magic"), std::string::npos) << msg;

  write_idx(images, {0xffffffu, 0xffffffu, 28}, {});  // a hostile header must not allocate terabytes
  msg = file_error_of([&] { datasets::mnist::load_data(dir.path()); });
  EXPECT_NE(msg.find("implausible"), std::string::npos) << msg;
}

// Debian's dataset-fashion-mnist package (installed by scripts/install-deps.sh). Expected values
// were read from the same files with Python's gzip + numpy (an independent reader).
TEST(Datasets, FashionMnistFromDebian) {
  auto [train, test] = datasets::fashion_mnist::load_data();
  EXPECT_EQ(train.x.shape(), Shape({60000, 28, 28}));
  EXPECT_EQ(test.x.shape(), Shape({10000, 28, 28}));
  EXPECT_EQ(train.y.shape(), Shape({60000}));
  std::vector<float> first(train.y.data(), train.y.data() + 10);
  EXPECT_EQ(first, (std::vector<float>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  std::vector<float> test_first(test.y.data(), test.y.data() + 10);
  EXPECT_EQ(test_first, (std::vector<float>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  double train_sum = 0, test_sum = 0;
  for (float v : train.x.values()) train_sum += v;
  for (float v : test.x.values()) test_sum += v;
  EXPECT_EQ(train_sum, 3431114169.0);
  EXPECT_EQ(test_sum, 573469082.0);
  EXPECT_EQ(train.x.at({0, 14, 12}), 237.0f);
  EXPECT_EQ(datasets::fashion_mnist::class_names()[9], "Ankle boot");
}

TEST(Utils, ToCategorical) {
  Tensor y(Shape{3}, {2, 0, 1});
  EXPECT_EQ(utils::to_categorical(y), Tensor(Shape{3, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(utils::to_categorical(y.reshape({3, 1}), 4).shape(), Shape({3, 4}));
  EXPECT_EQ(utils::to_categorical(Tensor(Shape{2, 2}, {0, 1, 1, 0}), 2).shape(), Shape({2, 2, 2}));
  EXPECT_NE(value_error_of([&] { utils::to_categorical(y, 2); }).find("out of range"), std::string::npos);
  EXPECT_NE(value_error_of([] { utils::to_categorical(Tensor(Shape{1}, {-1})); }).find("non-negative"),
            std::string::npos);
}

}  // namespace
}  // namespace keras
