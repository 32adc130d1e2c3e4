#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "ops/transpose.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class FlattenImpl : public LayerImpl {
 public:
  explicit FlattenImpl(const FlattenOptions& o)
      : LayerImpl(o.name, "flatten"), data_format_(detail::standardize_data_format(o.data_format)) {}
  std::string class_name() const override { return "Flatten"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_min_ndim(name(), in[0], 1);
    Dim flat = 1;
    for (int i = 1; i < in[0].rank(); ++i) {
      if (in[0][i] < 0) return {Shape{in[0][0], None}};
      flat *= in[0][i];
    }
    return {Shape{in[0][0], flat}};
  }

  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    int x = in.at(0);
    const Shape& s = g.shape(x);
    Shape flat = compute_output_shape({s})[0];
    if (data_format_ == "channels_first" && s.rank() > 2) x = graph::to_channels_last(g, x, name());
    out = {g.view(x, flat)};
    return true;
  }

  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["data_format"] = data_format_;
    return c;
  }

 private:
  std::string data_format_;
};

}  // namespace

Layer Flatten(const FlattenOptions& options) { return Layer(std::make_shared<FlattenImpl>(options)); }

Layer flatten_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  Layer l = Flatten({.data_format = get_data_format(c), .name = get_string(c, "name")});
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
