#pragma once
// Keras model files (KERAS_SPEC §8): the HDF5 layouts of Keras 1/2 (and Keras 3's legacy .h5),
// Keras 3 weights files (.weights.h5, model.weights.h5) and .keras zip archives.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "keras/model.h"
#include "saving/hdf5.h"

namespace keras::saving {

// What this library writes into files as the Keras that wrote them: configs are Keras 3's.
inline constexpr const char* kKerasVersion = "3.16.0";
inline constexpr const char* kBackend = "tensorflow";

// What a file holds, judged by its first bytes (never by its extension).
enum class FileKind { Hdf5, Zip, Json, Unknown };
FileKind sniff_file(const std::filesystem::path& path);

// Keras's original_keras_version / original_backend of a legacy weights group.
struct WeightsOrigin {
  std::string keras_version = "1";  // "1" when the file does not say, as Keras assumes
  std::string backend;              // empty when the file does not say
};
WeightsOrigin weights_origin(const hdf5::Group& weights, const hdf5::Group& root);

// ---- legacy (Keras 1/2) layout: layer_names + one group per layer, matched by order
void load_legacy_weights(const Model& model, const hdf5::Group& weights, const WeightsOrigin& origin);
// save_weights_to_hdf5_group: layer_names, backend, keras_version and one group per layer.
void save_legacy_weights(const Model& model, const hdf5::Group& weights);
// Keras's _legacy_weights(layer): its trainable weights, then the non-trainable ones.
std::vector<Variable*> legacy_weights(LayerImpl& layer);
// Keras's preprocess_weights_for_loading: Keras 1 layouts and Theano kernels to Keras 2's.
std::vector<Tensor> preprocess_legacy_weights(LayerImpl& layer, std::vector<Tensor> weights,
                                              const WeightsOrigin& origin);

// ---- Keras 3 layout: layers/<snake_case(class)>[_k]/vars/<i>
void load_keras3_weights(const Model& model, const hdf5::Group& root);
void save_keras3_weights(const Model& model, const hdf5::Group& root);
// Keras's naming.to_snake_case ("Conv2D" -> "conv2d", "BatchNormalization" -> "batch_normalization").
std::string to_snake_case(const std::string& class_name);

// ---- training state: compile_config and optimizer variables (src/saving/training_state.cpp)
// compile_from_config when the config is a non-empty object; a config this library cannot
// compile (e.g. a custom loss) leaves the model uncompiled with a warning, as Keras does.
void compile_saved_model(Model& model, const nlohmann::json& compile_config, const std::string& source);
// Keras 2's training_config attribute (the compile config, the optimizer as "optimizer_config").
std::string training_config_json(const Model& model);
// The optimizer's variables at optimizer/vars/<i> (Keras 3) or in optimizer_weights (legacy
// .h5, with weight_names); nothing for an uncompiled model.
void save_optimizer_keras3(const Model& model, const hdf5::Group& root);
void save_optimizer_h5(const Model& model, const hdf5::Group& root);
// Builds a compiled model's optimizer and restores saved variables into it; a saved state of
// another size is skipped with Keras's warning. Nothing happens when the file has none.
void load_optimizer_keras3(Model& model, const hdf5::Group& root);
void load_optimizer_h5(Model& model, const hdf5::Group& root);

// ---- whole files
// Weights from any weights file: Keras 2 .h5 (weights-only or full model), Keras 3
// .weights.h5, or a .keras archive.
void load_weights_file(const Model& model, const std::filesystem::path& path);
Model load_h5_model(const std::filesystem::path& path);
Model load_keras_archive(const std::filesystem::path& path);
class ZipReader;
// The model.weights.h5 of an open .keras archive, opened from memory.
hdf5::File open_archive_weights(const ZipReader& zip, const std::filesystem::path& path);

// Model.save / save_weights by extension (.keras, .h5/.hdf5, .weights.h5), written beside the
// target and renamed into place.
void save_model_file(const Model& model, const std::filesystem::path& path);
void save_weights_file(const Model& model, const std::filesystem::path& path);

// ---- zip archives (libzip)
// Writes a .keras archive: metadata.json, config.json, model.weights.h5 (copied from
// `weights_h5`), all STORED, in that order.
void write_keras_archive(const std::filesystem::path& out, const std::string& metadata, const std::string& config,
                         const std::filesystem::path& weights_h5, const std::string& display_name);
class ZipReader {
 public:
  explicit ZipReader(const std::filesystem::path& path);  // throws FileError
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  bool has(const std::string& entry) const;
  // The entry's bytes, uncompressed; throws FileError naming the archive and the entry.
  std::vector<char> read(const std::string& entry) const;
  // The same, into page-aligned memory for an HDF5 file image.
  hdf5::ImageBuffer read_image(const std::string& entry) const;

 private:
  uint64_t locate(const std::string& entry) const;
  std::filesystem::path path_;
  void* zip_;  // zip_t*, kept out of this header
};

}  // namespace keras::saving
