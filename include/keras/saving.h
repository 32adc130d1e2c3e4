#pragma once
// Reading and writing Keras model configurations, and the layer registry that maps Keras
// class names ("Dense", "Conv2D"...) to layers — users may register their own layers.
#include <filesystem>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "keras/model.h"

namespace keras {

// What a layer factory may need to know about the file it reads.
struct ConfigContext {
  int keras_major = 3;        // 1, 2 or 3: selects version-dependent semantics (hard_sigmoid...)
  std::string keras_version;  // as the file says, when it does
  std::string source;         // file name for error messages, if any
};

// Builds a layer from its Keras config (the "config" object of a layer entry).
using LayerFactory = std::function<Layer(const nlohmann::json& config, const ConfigContext& ctx)>;

// Registers (or replaces) the factory for a Keras class name.
void register_layer(const std::string& class_name, LayerFactory factory);

// Reads the JSON that Keras's model.to_json() writes (Keras 2 or Keras 3 form). Weights are
// initialised as Keras would (glorot_uniform, zeros...). Throws UnsupportedLayers naming every
// layer class the library cannot build.
Model model_from_json(const std::string& json_text, const ConfigContext& ctx = {});
// Loads a model from a file, recognised by its content (not its extension): a Keras 3 .keras
// archive, a Keras 1/2 (or Keras 3 legacy) full-model .h5, or an architecture .json (weights
// initialised as Keras would). Throws FileError for unreadable files, UnsupportedLayers naming
// every layer the library cannot run.
Model load_model(const std::filesystem::path& path);
Model model_from_config(const nlohmann::json& model_config, const ConfigContext& ctx = {});

}  // namespace keras
