#pragma once
// The one table mapping Keras class names to layer factories.
#include "keras/saving.h"

namespace keras::saving {

// The factory for `class_name`, or nullptr when none is registered.
const LayerFactory* find_layer_factory(const std::string& class_name);

}  // namespace keras::saving
