// keras.datasets.mnist and keras.datasets.fashion_mnist: four IDX .gz files per data set.
#include <cstdlib>
#include <string>
#include <vector>

#include "datasets/idx.h"
#include "keras/datasets.h"
#include "keras/errors.h"

namespace keras::datasets {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFiles[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

bool has_all_files(const fs::path& dir) {
  std::error_code ec;
  for (const char* f : kFiles)
    if (!fs::is_regular_file(dir / f, ec)) return false;
  return true;
}

std::vector<fs::path> default_directories(const std::string& name, const char* system_dir) {
  std::vector<fs::path> dirs;
  if (const char* home = std::getenv("KERAS_HOME"); home && *home) dirs.push_back(fs::path(home) / "datasets" / name);
  if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(fs::path(home) / ".keras" / "datasets" / name);
  if (system_dir) dirs.emplace_back(system_dir);
  return dirs;
}

Split read_split(const fs::path& dir, const char* images_file, const char* labels_file, Dim rows, Dim cols) {
  Tensor x = read_idx_gz(dir / images_file);
  Tensor y = read_idx_gz(dir / labels_file);
  if (x.rank() != 3 || x.dim(1) != rows || x.dim(2) != cols)
    throw FileError((dir / images_file).string() + ": expected images of shape (N, " + std::to_string(rows) + ", " +
                    std::to_string(cols) + "), found " + x.shape().str());
  if (y.rank() != 1 || y.dim(0) != x.dim(0))
    throw FileError((dir / labels_file).string() + ": expected " + std::to_string(x.dim(0)) +
                    " labels (one per image), found shape " + y.shape().str());
  return {std::move(x), std::move(y)};
}

TrainTest load(const std::string& name, const fs::path& directory, const char* system_dir, const std::string& how) {
  std::vector<fs::path> tried = directory.empty() ? default_directories(name, system_dir) : std::vector{directory};
  for (const auto& dir : tried) {
    if (!has_all_files(dir)) continue;
    return {read_split(dir, kFiles[0], kFiles[1], 28, 28), read_split(dir, kFiles[2], kFiles[3], 28, 28)};
  }
  std::string where;
  for (const auto& d : tried) where += (where.empty() ? "" : ", ") + d.string();
  throw FileError(name + ": the files " + kFiles[0] + ", " + kFiles[1] + ", " + kFiles[2] + ", " + kFiles[3] +
                  " were not found in " + where + "; " + how);
}

}  // namespace

namespace fashion_mnist {

TrainTest load_data(const std::filesystem::path& directory) {
  return load("fashion-mnist", directory, "/usr/share/datasets/fashion-mnist",
              "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or put the "
              "files from https://github.com/zalandoresearch/fashion-mnist in one of those directories");
}

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace fashion_mnist

namespace mnist {

TrainTest load_data(const std::filesystem::path& directory) {
  return load("mnist", directory, nullptr,
              "MNIST has no Debian package: download the four .gz files of the MNIST database (e.g. from "
              "https://storage.googleapis.com/cvdf-datasets/mnist/) into one of those directories or pass a directory");
}

}  // namespace mnist

}  // namespace keras::datasets
