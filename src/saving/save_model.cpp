// Model::save and Model::save_weights (KERAS_SPEC §8): .keras archives, and .h5 files in the
// layout of §8.1 as Keras 3 writes it (Keras 3 configs). Every file is written beside its
// target and renamed into place, so a failure never leaves a partial file or destroys one.
#include <ctime>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "saving/atomic_file.h"
#include "saving/keras_files.h"
#include "saving/model_config.h"

namespace keras::saving {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_h5_name(const std::filesystem::path& p) { return p.extension() == ".h5" || p.extension() == ".hdf5"; }

std::string metadata_json() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &local);
  // json.dumps's separators, as Keras writes it.
  return std::string("{\"keras_version\": \"") + kKerasVersion + "\", \"date_saved\": \"" + date + "\"}";
}

void save_keras(const Model& model, const std::filesystem::path& path) {
  AtomicFile out(path);
  AtomicFile weights(path.string() + ".weights.h5");  // never committed: removed when done
  {
    hdf5::File f = hdf5::File::create(weights.temp_path(), path.string() + " (model.weights.h5)");
    save_keras3_weights(model, f.root());
    save_optimizer_keras3(model, f.root());
    f.close();
  }
  nlohmann::json compile_config = model.compiled() ? model.compile_config() : nlohmann::json::object();
  write_keras_archive(out.temp_path(), metadata_json(), model_to_json(model.functional(), compile_config),
                      weights.temp_path(), path.string());
  out.commit();
}

void save_h5(const Model& model, const std::filesystem::path& path) {
  AtomicFile out(path);
  {
    hdf5::File f = hdf5::File::create(out.temp_path(), path.string());
    hdf5::Group root = f.root();
    root.set_attr("keras_version", kKerasVersion);
    root.set_attr("backend", kBackend);
    nlohmann::json config = {{"class_name", model->class_name()}, {"config", model->get_config()}};
    write_keras2_hard_sigmoid(config);
    root.set_attr("model_config", config.dump());
    save_legacy_weights(model, root.create_group("model_weights"));
    if (model.compiled()) {
      root.set_attr("training_config", training_config_json(model));
      save_optimizer_h5(model, root);
    }
    f.close();
  }
  out.commit();
}

}  // namespace

void save_model_file(const Model& model, const std::filesystem::path& path) {
  if (path.extension() == ".keras") return save_keras(model, path);
  if (is_h5_name(path)) return save_h5(model, path);
  throw ValueError(
      "Invalid filepath extension for saving. Please add either a `.keras` extension for the native Keras format "
      "(recommended) or a `.h5` extension. Use `model.export(filepath)` if you want to export a SavedModel for use "
      "with TFLite/TFServing/etc. Received: filepath=" +
      path.string() + ".");
}

void save_weights_file(const Model& model, const std::filesystem::path& path) {
  bool keras3 = ends_with(path.string(), ".weights.h5");
  if (!keras3 && !is_h5_name(path))
    throw ValueError("The filename must end in `.weights.h5`. Received: filepath=" + path.string());
  AtomicFile out(path);
  {
    hdf5::File f = hdf5::File::create(out.temp_path(), path.string());
    if (keras3)
      save_keras3_weights(model, f.root());
    else
      save_legacy_weights(model, f.root());
    f.close();
  }
  out.commit();
}

}  // namespace keras::saving

namespace keras {

void Model::save(const std::filesystem::path& path) const { saving::save_model_file(*this, path); }
void Model::save_weights(const std::filesystem::path& path) const { saving::save_weights_file(*this, path); }

}  // namespace keras
