// Keras 1's Merge layer (merge([a, b], mode="concat")): one class whose `mode` picks what
// Keras 2 split into Concatenate, Add, Multiply, Average, Maximum and Dot. Runs through those.
#include <nlohmann/json.hpp>

#include "keras/layers/merging.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class MergeK1Impl : public LayerImpl {
 public:
  MergeK1Impl(const std::string& name, nlohmann::json config, Layer inner)
      : LayerImpl(name, "merge"), config_(std::move(config)), inner_(std::move(inner)) {}
  std::string class_name() const override { return "Merge"; }
  bool takes_list_input() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    return inner_->compute_output_shape(in);
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return inner_->call(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& args) const override { return inner_->backward(args); }
  // The inner layer's ops, in the model's plan.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    return inner_->lower(g, in, out);
  }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    for (const char* k : {"mode", "concat_axis", "dot_axes"})
      if (config_.contains(k)) c[k] = config_[k];
    return c;
  }

 private:
  nlohmann::json config_;
  Layer inner_;
};

}  // namespace

Layer merge_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  std::string name = get_string(c, "name");
  if (c.contains("layers") && !c["layers"].is_null())
    throw ValueError("Merge layer \"" + name + "\": merging Sequential branches (Keras 1 Merge(layers=[...])) is not "
                     "supported; use a functional model");
  if (get_string(c, "mode_type", "raw") != "raw" || (c.contains("mode") && !c["mode"].is_string()))
    throw ValueError("Merge layer \"" + name + "\": a mode given as Python code cannot be loaded");
  std::string mode = get_string(c, "mode", "sum");
  // The inner layer takes this layer's name so it does not advance Keras's name counters.
  MergeOptions same_name{.name = name.empty() ? "merge_inner" : name};
  Layer inner;
  if (mode == "sum")
    inner = Add(same_name);
  else if (mode == "mul")
    inner = Multiply(same_name);
  else if (mode == "ave")
    inner = Average(same_name);
  else if (mode == "max")
    inner = Maximum(same_name);
  else if (mode == "concat")
    inner = Concatenate(ConcatenateOptions{.axis = static_cast<int>(get_int(c, "concat_axis", -1)), .name = same_name.name});
  else if (mode == "dot") {
    DotOptions o{.axes = -1, .normalize = false, .name = same_name.name};
    if (c.contains("dot_axes") && c["dot_axes"].is_array())
      o.axes = Axes(c["dot_axes"].get<std::vector<int>>());
    else
      o.axes = static_cast<int>(get_int(c, "dot_axes", -1));
    inner = Dot(o);
  } else {
    throw ValueError("Merge layer \"" + name + "\": mode \"" + mode + "\" is not supported (supported: sum, mul, ave, max, "
                     "concat, dot)");
  }
  Layer l(std::make_shared<MergeK1Impl>(name, c, inner));
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
