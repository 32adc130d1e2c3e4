// keras::load_model and Model::load_weights: pick the reader by the file's first bytes.
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/weight_init.h"
#include "keras/errors.h"
#include "keras/saving.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string() + ": cannot open file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int major_of(const std::string& version) {
  return !version.empty() && version[0] >= '1' && version[0] <= '9' ? version[0] - '0' : 2;
}

// A file of Keras's legacy layout holds weights-only at its root, or under model_weights.
bool is_legacy_weights(const hdf5::Group& g) { return g.has_attr("layer_names") || g.has_attr("layer_names0"); }

[[noreturn]] void not_a_model(const std::filesystem::path& path, const hdf5::Group& root) {
  if (is_legacy_weights(root) || root.has_group("layers") || root.has_group("vars"))
    throw FileError(path.string() +
                    ": the file holds only weights, no model; load the architecture (a .json from "
                    "model.to_json()) and then its weights (Model::load_weights, kerascpp --weights)");
  throw FileError(path.string() + ": not a Keras model file (no model_config attribute)");
}

}  // namespace

FileKind sniff_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string() + (std::filesystem::exists(path) ? ": cannot open file" : ": no such file"));
  char head[8] = {};
  in.read(head, sizeof head);
  std::streamsize n = in.gcount();
  if (n >= 8 && std::string(head, 8) == std::string("\x89HDF\r\n\x1a\n", 8)) return FileKind::Hdf5;
  if (n >= 4 && std::string(head, 4) == std::string("PK\x03\x04", 4)) return FileKind::Zip;
  for (std::streamsize i = 0; i < n; ++i) {
    if (head[i] == '{') return FileKind::Json;
    if (!std::isspace(static_cast<unsigned char>(head[i]))) break;
  }
  return FileKind::Unknown;
}

Model load_h5_model(const std::filesystem::path& path) {
  hdf5::File file = hdf5::File::open(path);
  hdf5::Group root = file.root();
  if (!root.has_attr("model_config")) not_a_model(path, root);
  ConfigContext ctx{.source = path.string()};
  // Keras 1 files before 1.2 do not record their version; Keras assumes "1" then.
  ctx.keras_version = root.has_attr("keras_version") ? root.attr_string("keras_version") : "1";
  ctx.keras_major = major_of(ctx.keras_version);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(root.attr_string("model_config"));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path.string() + ": the model_config attribute is not valid JSON: " + e.what());
  }
  if (!root.has_group("model_weights"))
    throw FileError(path.string() + ": the file has a model_config but no model_weights group");
  engine::SkipInitializers every_weight_comes_from_the_file;
  Model model = model_from_config(config, ctx);
  hdf5::Group weights = root.group("model_weights");
  load_legacy_weights(model, weights, weights_origin(weights, root));
  if (root.has_attr("training_config")) {
    nlohmann::json training_config = nlohmann::json::parse(root.attr_string("training_config"), nullptr, false);
    if (training_config.is_discarded())
      throw FileError(path.string() + ": the training_config attribute is not valid JSON");
    compile_saved_model(model, training_config, path.string());
    // Keras 1/2 optimizers keep other variables in another order (iter, all m, all v); Keras 3
    // does not load them either, so those models restart with fresh optimizer state.
    if (ctx.keras_major >= 3) load_optimizer_h5(model, root);
  }
  return model;
}

void load_weights_file(const Model& model, const std::filesystem::path& path) {
  FileKind kind = sniff_file(path);
  if (kind == FileKind::Zip) {
    ZipReader zip(path);
    hdf5::File weights = open_archive_weights(zip, path);
    return load_keras3_weights(model, weights.root());
  }
  if (kind != FileKind::Hdf5) throw FileError(path.string() + ": not a weights file (neither HDF5 nor .keras)");
  hdf5::File file = hdf5::File::open(path);
  hdf5::Group root = file.root();
  if (is_legacy_weights(root)) return load_legacy_weights(model, root, weights_origin(root, root));
  if (root.has_group("model_weights")) {
    hdf5::Group weights = root.group("model_weights");
    return load_legacy_weights(model, weights, weights_origin(weights, root));
  }
  if (root.has_group("layers") || root.has_group("vars")) return load_keras3_weights(model, root);
  throw FileError(path.string() + ": no Keras weights found (no layer_names attribute, model_weights or layers group)");
}

}  // namespace keras::saving

namespace keras {

Model load_model(const std::filesystem::path& path) {
  using namespace saving;
  switch (sniff_file(path)) {
    case FileKind::Hdf5:
      return load_h5_model(path);
    case FileKind::Zip:
      return load_keras_archive(path);
    case FileKind::Json:
      return model_from_json(read_text(path), ConfigContext{.source = path.string()});
    case FileKind::Unknown:
      break;
  }
  throw FileError(path.string() + ": not a Keras model file (expected a .keras archive, an HDF5 .h5 or a .json)");
}

void Model::load_weights(const std::filesystem::path& path) const { saving::load_weights_file(*this, path); }

}  // namespace keras
