#include "layers/core/input_layer.h"

#include <nlohmann/json.hpp>

#include "keras/model.h"

namespace keras {
namespace layers {

InputLayerImpl::InputLayerImpl(Shape batch_shape, std::string name)
    : LayerImpl(std::move(name), "input_layer"), batch_shape_(std::move(batch_shape)) {}

nlohmann::json InputLayerImpl::get_config() const {
  nlohmann::json shape = nlohmann::json::array();
  for (Dim d : batch_shape_) shape.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
  return {{"batch_shape", shape}, {"dtype", "float32"}, {"sparse", false},
          {"ragged", false},      {"name", name()},     {"optional", false}};
}

}  // namespace layers

KerasTensor Input(const InputOptions& options) {
  Shape batch_shape = options.shape.with_batch(options.batch_size.value_or(None));
  auto layer = std::make_shared<layers::InputLayerImpl>(batch_shape, options.name);
  return KerasTensor(layer->add_node({}), 0);
}

KerasTensor Input(Shape shape, std::string name) { return Input(InputOptions{std::move(shape), std::move(name), {}}); }

}  // namespace keras
