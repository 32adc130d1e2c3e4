#include <algorithm>

#include "engine/graph/lowering.h"
#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"
#include "saving/model_config.h"

namespace keras::layers {

namespace {

std::string remove_prefix(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

rnn::RecurrentImpl* as_recurrent(const Layer& l, const char* what) {
  auto* r = l.as<rnn::RecurrentImpl>();
  if (!r)
    throw ValueError(std::string("Bidirectional: `") + what +
                     "` should be a recurrent layer (SimpleRNN, LSTM or GRU). Received: " +
                     (l ? l->class_name() + " \"" + l.name() + "\"" : std::string("None")));
  return r;
}

class BidirectionalImpl : public rnn::WrapperImpl {
 public:
  explicit BidirectionalImpl(const BidirectionalOptions& o)
      : WrapperImpl(o.name, "bidirectional"), merge_mode_(o.merge_mode) {
    if (!o.layer)
      throw ValueError("Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: None");
    if (merge_mode_ && *merge_mode_ != "sum" && *merge_mode_ != "mul" && *merge_mode_ != "ave" &&
        *merge_mode_ != "concat")
      throw ValueError("Invalid merge mode. Received: " + *merge_mode_ +
                       ". Merge mode should be one of {\"sum\", \"mul\", \"ave\", \"concat\", None}");
    as_recurrent(o.layer, "layer");
    // As Keras: fresh copies, so the wrapper never shares weights with the layer it was given.
    std::string base = o.layer.name();
    forward_ = rnn::clone_layer(*o.layer,
                                [&](nlohmann::json& c) { c["name"] = "forward_" + remove_prefix(base, "forward_"); });
    if (o.backward_layer) {
      backward_ = o.backward_layer;
    } else {
      bool backwards = as_recurrent(o.layer, "layer")->sequence_args().go_backwards;
      backward_ = rnn::clone_layer(*o.layer, [&](nlohmann::json& c) {
        c["go_backwards"] = !backwards;
        c["name"] = "backward_" + remove_prefix(base, "backward_");
      });
    }
    verify_layers();
    // As Keras: with return_sequences, masked steps of either direction output zeros.
    for (const Layer& l : {forward_, backward_})
      as_recurrent(l, "layer")->set_zero_output_for_mask(as_recurrent(l, "layer")->sequence_args().return_sequences);
  }
  std::string class_name() const override { return "Bidirectional"; }
  void set_trainable(bool trainable) override {
    LayerImpl::set_trainable(trainable);
    forward_->set_trainable(trainable);
    backward_->set_trainable(trainable);
  }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    auto [fwd_in, bwd_in] = split_inputs(in);
    std::vector<Shape> f = forward_->compute_output_shape(fwd_in);
    std::vector<Shape> b = backward_->compute_output_shape(bwd_in);
    std::vector<Shape> out;
    if (!merge_mode_) {
      out = {f[0], b[0]};
    } else {
      Shape y = f[0];
      if (*merge_mode_ == "concat") y[-1] = y[-1] < 0 || b[0][-1] < 0 ? None : y[-1] + b[0][-1];
      out = {y};
    }
    out.insert(out.end(), f.begin() + 1, f.end());
    out.insert(out.end(), b.begin() + 1, b.end());
    return out;
  }

  // Described once, as ops (lower()); the two recurrent layers run their own calls inside.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }
  void apply_state_updates(const SavedState& saved) override { apply_state_updates_ops(saved); }
  void reset_states() override {
    forward_->reset_states();
    backward_->reset_states();
  }

  // In a plan: both directions (their own ops, or their calls), the backward one's sequence
  // reversed in time, then the merge as ops.
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    auto [fwd_in, bwd_in] = split_inputs(in);
    // Both directions see the input's mask (the backward one reverses it with its steps).
    int mask = g.input_mask(0);
    std::vector<int> f = g.lower_layer(*forward_, fwd_in, {mask});
    std::vector<int> b = g.lower_layer(*backward_, bwd_in, {mask});
    int y = f[0], y_rev = b[0];
    const Shape s = g.shape(y_rev);
    if (fwd().sequence_args().return_sequences) {
      ops::ReverseOp rev{.outer = s[0], .steps = s[1], .inner = s.num_elements() / std::max<Dim>(s[0] * s[1], 1)};
      y_rev = graph::emit1(g, rev, {y_rev}, s, {}, name());
    }
    out.clear();
    if (!merge_mode_) {
      out = {y, y_rev};
    } else if (*merge_mode_ == "concat") {
      Shape cat = g.shape(y);
      Dim rows = cat.num_elements() / std::max<Dim>(cat[-1], 1);
      cat[-1] += s[-1];
      out = {graph::emit1(g, ops::ConcatOp{rows, {g.shape(y)[-1], s[-1]}}, {y, y_rev}, cat, {}, name())};
    } else {
      using K = ops::MergeOp::Kind;
      K kind = *merge_mode_ == "sum" ? K::kAdd : *merge_mode_ == "mul" ? K::kMultiply : K::kAverage;
      out = {graph::emit1(g, ops::MergeOp{kind, s.num_elements()}, {y, y_rev}, s, {}, name())};
    }
    // Keras's compute_mask: the sequence outputs keep the mask; states have none.
    std::vector<int> masks(out.size(), fwd().sequence_args().return_sequences ? mask : -1);
    out.insert(out.end(), f.begin() + 1, f.end());
    out.insert(out.end(), b.begin() + 1, b.end());
    masks.resize(out.size(), -1);
    g.set_output_masks(std::move(masks));
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["merge_mode"] = merge_mode_ ? nlohmann::json(*merge_mode_) : nlohmann::json(nullptr);
    c["layer"] = saving::serialize_layer(*forward_);
    c["backward_layer"] = saving::serialize_layer(*backward_);
    return c;
  }

  std::vector<Variable*> variables() override {
    auto v = forward_->variables();
    auto b = backward_->variables();
    v.insert(v.end(), b.begin(), b.end());
    return v;
  }

  std::vector<Layer> wrapped_layers() const override { return {forward_, backward_}; }
  std::vector<std::string> wrapped_attributes() const override { return {"forward_layer", "backward_layer"}; }

 protected:
  void build_weights(const std::vector<Shape>& in) override {
    auto [fwd_in, bwd_in] = split_inputs(in);
    forward_->build(fwd_in);
    backward_->build(bwd_in);
  }

 private:
  const rnn::RecurrentImpl& fwd() const { return *forward_.as<rnn::RecurrentImpl>(); }

  void verify_layers() const {
    const auto& f = fwd().sequence_args();
    const auto& b = as_recurrent(backward_, "backward_layer")->sequence_args();
    if (f.go_backwards == b.go_backwards)
      throw ValueError(std::string("Forward layer and backward layer should have different `go_backwards` value. "
                                   "Received: forward_layer.go_backwards ") +
                       (f.go_backwards ? "True" : "False") +
                       ", backward_layer.go_backwards=" + (b.go_backwards ? "True" : "False"));
    auto same = [](const char* attr, bool fv, bool bv) {
      if (fv != bv)
        throw ValueError(std::string("Forward layer and backward layer are expected to have the same value for "
                                     "attribute \"") +
                         attr + "\", got \"" + (fv ? "True" : "False") + "\" for forward layer and \"" +
                         (bv ? "True" : "False") + "\" for backward layer");
    };
    same("stateful", f.stateful, b.stateful);
    same("return_sequences", f.return_sequences, b.return_sequences);
    same("return_state", f.return_state, b.return_state);
  }

  // [x, forward states..., backward states...] -> the two layers' inputs.
  template <class T>
  std::pair<std::vector<T>, std::vector<T>> split_inputs(const std::vector<T>& in) const {
    if (in.empty()) fail("expects at least 1 input, but it received 0 input tensors");
    size_t states = in.size() - 1, half = states / 2;
    if (states % 2 != 0)
      fail("received " + std::to_string(states) +
           " initial state tensor(s); the first half go to the forward layer and the second half to the backward "
           "layer, so their number must be even");
    std::vector<T> f{in[0]}, b{in[0]};
    f.insert(f.end(), in.begin() + 1, in.begin() + 1 + static_cast<long>(half));
    b.insert(b.end(), in.begin() + 1 + static_cast<long>(half), in.end());
    return {f, b};
  }

  std::optional<std::string> merge_mode_;
  Layer forward_;
  Layer backward_;
};

}  // namespace

Layer Bidirectional(const BidirectionalOptions& options) { return Layer(std::make_shared<BidirectionalImpl>(options)); }
Layer Bidirectional(const Layer& layer, std::optional<std::string> merge_mode) {
  return Bidirectional(BidirectionalOptions{.layer = layer, .merge_mode = std::move(merge_mode)});
}

Layer bidirectional_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  BidirectionalOptions o;
  o.name = get_string(c, "name");
  o.layer = rnn::nested_layer(c, "layer", ctx);
  if (c.contains("merge_mode") && c["merge_mode"].is_null())
    o.merge_mode = std::nullopt;
  else
    o.merge_mode = get_string(c, "merge_mode", "concat");
  if (c.contains("backward_layer") && !c["backward_layer"].is_null())
    o.backward_layer = rnn::nested_layer(c, "backward_layer", ctx);
  Layer l = Bidirectional(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
