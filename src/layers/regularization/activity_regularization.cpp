// Keras's ActivityRegularization (keras/src/layers/regularization/activity_regularization.py):
// the identity, with an L1L2 activity regularizer on its output.
#include <nlohmann/json.hpp>

#include "keras/layers/regularization.h"
#include "keras/regularizers.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class ActivityRegularizationImpl : public PassThroughLayerImpl {
 public:
  explicit ActivityRegularizationImpl(const ActivityRegularizationOptions& o)
      : PassThroughLayerImpl(o.name, "activity_regularization"), options_(o) {
    set_activity_regularizer(regularizers::L1L2(o.l1, o.l2));
  }
  std::string class_name() const override { return "ActivityRegularization"; }
  // Keras writes l1 and l2, not the activity_regularizer they make.
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["l1"] = options_.l1;
    c["l2"] = options_.l2;
    return c;
  }

 private:
  ActivityRegularizationOptions options_;
};

}  // namespace

Layer ActivityRegularization(const ActivityRegularizationOptions& options) {
  return Layer(std::make_shared<ActivityRegularizationImpl>(options));
}

Layer activity_regularization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Layer l = ActivityRegularization(
      {.l1 = get_double(c, "l1", 0.0), .l2 = get_double(c, "l2", 0.0), .name = get_string(c, "name")});
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
