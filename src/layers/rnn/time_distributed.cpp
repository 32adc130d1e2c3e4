#include "engine/graph/lowering.h"
#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"
#include "saving/model_config.h"

namespace keras::layers {

namespace {

class TimeDistributedImpl : public rnn::WrapperImpl {
 public:
  explicit TimeDistributedImpl(const TimeDistributedOptions& o)
      : WrapperImpl(o.name, "time_distributed"), layer_(o.layer) {
    if (!layer_)
      throw ValueError(
          "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: None");
  }
  std::string class_name() const override { return "TimeDistributed"; }
  bool supports_masking() const override { return true; }
  void set_trainable(bool trainable) override {
    LayerImpl::set_trainable(trainable);
    layer_->set_trainable(trainable);
  }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    std::vector<Shape> child = layer_->compute_output_shape({child_shape(in[0])});
    if (child.size() != 1) fail("the wrapped layer \"" + layer_.name() + "\" should have exactly one output");
    return {with_time(child[0], in[0][0], in[0][1])};
  }

  // The wrapped layer sees (batch*time, ...): it runs on every timestep of every sample at once.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    const Tensor& x = inputs.at(0);
    if (x.rank() < 3) compute_output_shape({x.shape()});
    Dim n = x.dim(0), steps = x.dim(1);
    std::vector<Dim> flat{n * steps};
    for (int d = 2; d < x.rank(); ++d) flat.push_back(x.dim(d));
    std::vector<Tensor> y = layer_->call({x.reshape(Shape(flat))}, ctx);
    if (y.size() != 1) fail("the wrapped layer \"" + layer_.name() + "\" should have exactly one output");
    Shape out = with_time(y[0].shape(), n, steps);
    return {std::move(y[0]).reshape(out)};
  }

  // The wrapped layer's backward on the same (batch*time, ...) views.
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& x = a.inputs.at(0);
    std::vector<Tensor> in{x.reshape(merged(x.shape()))};
    std::vector<Tensor> out{a.outputs.at(0).reshape(merged(a.outputs[0].shape()))};
    std::vector<Tensor> grads{a.output_grads.at(0).reshape(merged(a.output_grads[0].shape()))};
    Gradients g = layer_->backward({in, out, grads, a.saved});
    g.inputs.at(0) = std::move(g.inputs[0]).reshape(x.shape());
    return g;
  }

  // In a plan: the wrapped layer's ops (or its own call, where it has none) on the merged view.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape x = g.shape(in.at(0));
    if (x.rank() < 3) return false;
    std::vector<int> y = g.lower_layer(*layer_, {g.view(in[0], merged(x))});
    if (y.size() != 1) return false;
    out = {g.view(y[0], with_time(g.shape(y[0]), x[0], x[1]))};
    return true;
  }

  void apply_state_updates(const SavedState& saved) override { layer_->apply_state_updates(saved); }
  void reset_states() override { layer_->reset_states(); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["layer"] = saving::serialize_layer(*layer_);
    return c;
  }

  std::vector<Variable*> variables() override { return layer_->variables(); }
  std::vector<Layer> wrapped_layers() const override { return {layer_}; }
  std::vector<std::string> wrapped_attributes() const override { return {"layer"}; }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    expect_inputs(in, 1);
    layer_->build({child_shape(in[0])});
  }

 private:
  Shape child_shape(const Shape& s) const {
    if (s.rank() < 3)
      fail("`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, received: " +
           s.str());
    std::vector<Dim> d{s[0] < 0 || s[1] < 0 ? None : s[0] * s[1]};
    for (int i = 2; i < s.rank(); ++i) d.push_back(s[i]);
    return Shape(d);
  }
  // (batch, time, ...) -> (batch*time, ...) for concrete shapes.
  static Shape merged(const Shape& s) {
    std::vector<Dim> d{s[0] * s[1]};
    for (int i = 2; i < s.rank(); ++i) d.push_back(s[i]);
    return Shape(d);
  }
  // (batch*time, ...) -> (batch, time, ...)
  static Shape with_time(const Shape& child, Dim batch, Dim steps) {
    std::vector<Dim> d{batch, steps};
    for (int i = 1; i < child.rank(); ++i) d.push_back(child[i]);
    return Shape(d);
  }

  Layer layer_;
};

}  // namespace

Layer TimeDistributed(const TimeDistributedOptions& options) {
  return Layer(std::make_shared<TimeDistributedImpl>(options));
}
Layer TimeDistributed(const Layer& layer) { return TimeDistributed(TimeDistributedOptions{.layer = layer}); }

Layer time_distributed_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  TimeDistributedOptions o{.layer = rnn::nested_layer(c, "layer", ctx), .name = saving::get_string(c, "name")};
  Layer l = TimeDistributed(o);
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
