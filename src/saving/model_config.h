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

// Keras 2's hard_sigmoid (clip(0.2x + 0.5, 0, 1)) has no name in Keras 3, whose hard_sigmoid is
// x / 6 + 0.5 clipped. A model config keras.cpp writes names it "hard_sigmoid", the name Keras
// loads, and lists where ("layer/key" paths) under this top-level key, which Keras's
// deserialize_keras_object ignores; keras.cpp reads those back with Keras 2's meaning.
inline constexpr const char* kKeras2HardSigmoidKey = "keras_cpp_keras2_hard_sigmoid";
void write_keras2_hard_sigmoid(nlohmann::json& model_config);

// The Keras major version a config was written by (1, 2 or 3).
int detect_keras_major(const nlohmann::json& model_config);

}  // namespace keras::saving
