#include "saving/registry.h"

#include <map>
#include <mutex>

#include "layers/from_config.h"

namespace keras::saving {

namespace {

std::mutex registry_mutex;

// Built-in layers by Keras class name (aliases included). Keep sorted by category.
std::map<std::string, LayerFactory>& table() {
  static std::map<std::string, LayerFactory> t = {
      // core
      {"InputLayer", layers::input_layer_from_config},
      {"Dense", layers::dense_from_config},
      {"Activation", layers::activation_from_config},
      {"Dropout", layers::dropout_from_config},
      {"Embedding", layers::embedding_from_config},
      // activations
      // convolutional
      // pooling
      // normalization
      // reshaping
      // merging
  };
  return t;
}

}  // namespace

const LayerFactory* find_layer_factory(const std::string& class_name) {
  std::lock_guard lock(registry_mutex);
  auto it = table().find(class_name);
  return it == table().end() ? nullptr : &it->second;
}

}  // namespace keras::saving

namespace keras {

void register_layer(const std::string& class_name, LayerFactory factory) {
  std::lock_guard lock(saving::registry_mutex);
  saving::table()[class_name] = std::move(factory);
}

}  // namespace keras
