#pragma once
// Factories building each built-in layer from its Keras config; the registry
// (src/saving/registry.cpp) maps class names to these.
#include <nlohmann/json_fwd.hpp>

#include "keras/layer.h"
#include "keras/saving.h"

namespace keras::layers {

#define KERAS_LAYER_FACTORY(fn) Layer fn(const nlohmann::json& config, const ConfigContext& ctx)

// core
KERAS_LAYER_FACTORY(input_layer_from_config);
KERAS_LAYER_FACTORY(dense_from_config);
KERAS_LAYER_FACTORY(activation_from_config);
KERAS_LAYER_FACTORY(dropout_from_config);
KERAS_LAYER_FACTORY(embedding_from_config);

#undef KERAS_LAYER_FACTORY

}  // namespace keras::layers
