#pragma once
// Model configs: Keras 3 JSON writing, Keras 1/2/3 JSON reading.
#include <nlohmann/json.hpp>

#include "engine/functional.h"
#include "keras/saving.h"

namespace keras::saving {

// {"module", "class_name", "config", "registered_name", "build_config"} for any layer or model.
nlohmann::json serialize_layer(const LayerImpl& layer);
nlohmann::json functional_config(const FunctionalImpl& model);
nlohmann::json sequential_config(const SequentialImpl& model);
// Keras 3 model.to_json(): the serialized model plus its compile_config ({} when not compiled).
std::string model_to_json(const FunctionalImpl& model, const nlohmann::json& compile_config = nlohmann::json::object());

// The Keras major version a config was written by (1, 2 or 3).
int detect_keras_major(const nlohmann::json& model_config);

}  // namespace keras::saving
