// Keras's Identity (keras/src/layers/core/identity.py).
#include <nlohmann/json.hpp>

#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class IdentityImpl : public PassThroughLayerImpl {
 public:
  explicit IdentityImpl(const std::string& name) : PassThroughLayerImpl(name, "identity") {}
  std::string class_name() const override { return "Identity"; }
};

}  // namespace

Layer Identity(const std::string& name) { return Layer(std::make_shared<IdentityImpl>(name)); }

Layer identity_from_config(const nlohmann::json& c, const ConfigContext&) {
  Layer l = Identity(saving::get_string(c, "name"));
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
