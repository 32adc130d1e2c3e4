#pragma once
// The one table mapping Keras class names to layer factories.
#include "keras/saving.h"

namespace keras::saving {

// The factory for `class_name`, or nullptr when none is registered.
const LayerFactory* find_layer_factory(const std::string& class_name);

// A layer made by a registered factory from its config, with what every layer's config may carry
// besides its own arguments: its weights' regularizers and constraints and its
// activity_regularizer (LayerImpl::set_regularizer...).
Layer from_factory(const LayerFactory& factory, const nlohmann::json& config, const ConfigContext& ctx);

}  // namespace keras::saving
