#include <cstring>

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

// Reverses the time axis of (N, T, ...) in place.
void flip_time(Tensor& t) {
  Dim n = t.dim(0), steps = t.dim(1), row = t.size() / std::max<Dim>(n * steps, 1);
  std::vector<float> tmp(static_cast<size_t>(row));
  for (Dim b = 0; b < n; ++b)
    for (Dim i = 0, j = steps - 1; i < j; ++i, --j) {
      float* a = t.data() + (b * steps + i) * row;
      float* c = t.data() + (b * steps + j) * row;
      std::memcpy(tmp.data(), a, static_cast<size_t>(row) * sizeof(float));
      std::memcpy(a, c, static_cast<size_t>(row) * sizeof(float));
      std::memcpy(c, tmp.data(), static_cast<size_t>(row) * sizeof(float));
    }
}

// What a training forward pass keeps for each direction: its saved state and its outputs
// before merging and time reversal.
struct BidirectionalSaved {
  SavedState forward, backward;
  std::vector<Tensor> forward_outputs, backward_outputs;
};

class BidirectionalImpl : public rnn::WrapperImpl {
 public:
  explicit BidirectionalImpl(const BidirectionalOptions& o) : WrapperImpl(o.name, "bidirectional"), merge_mode_(o.merge_mode) {
    if (!o.layer)
      throw ValueError("Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: None");
    if (merge_mode_ && *merge_mode_ != "sum" && *merge_mode_ != "mul" && *merge_mode_ != "ave" &&
        *merge_mode_ != "concat")
      throw ValueError("Invalid merge mode. Received: " + *merge_mode_ +
                       ". Merge mode should be one of {\"sum\", \"mul\", \"ave\", \"concat\", None}");
    as_recurrent(o.layer, "layer");
    // As Keras: fresh copies, so the wrapper never shares weights with the layer it was given.
    std::string base = o.layer.name();
    forward_ = rnn::clone_layer(*o.layer, [&](nlohmann::json& c) { c["name"] = "forward_" + remove_prefix(base, "forward_"); });
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

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    auto [fwd_in, bwd_in] = split_inputs(inputs);
    std::shared_ptr<BidirectionalSaved> keep = ctx.saved ? std::make_shared<BidirectionalSaved>() : nullptr;
    std::vector<Tensor> f = forward_->call(fwd_in, {ctx.training, keep ? &keep->forward : nullptr});
    std::vector<Tensor> b = backward_->call(bwd_in, {ctx.training, keep ? &keep->backward : nullptr});
    if (keep) {
      keep->forward_outputs = f;
      keep->backward_outputs = b;
      ctx.saved->extra = keep;
    }
    Tensor& y = f[0];
    Tensor& y_rev = b[0];
    if (fwd().sequence_args().return_sequences) flip_time(y_rev);
    std::vector<Tensor> out;
    if (!merge_mode_) {
      out = {std::move(y), std::move(y_rev)};
    } else {
      out.push_back(merge(y, y_rev));
    }
    for (size_t i = 1; i < f.size(); ++i) out.push_back(std::move(f[i]));
    for (size_t i = 1; i < b.size(); ++i) out.push_back(std::move(b[i]));
    return out;
  }

  // Splits the merged output's gradient between the two directions, undoes the time
  // reversal, and runs each layer's backward; the input's gradient is the sum of both.
  Gradients backward(const BackwardArgs& a) const override {
    const auto* keep = static_cast<const BidirectionalSaved*>(a.saved.extra.get());
    if (!keep) fail("backward() needs a forward pass run with CallContext::saved");
    auto [fwd_in, bwd_in] = split_inputs(a.inputs);
    const Tensor& y = keep->forward_outputs[0];
    Tensor y_rev = keep->backward_outputs[0];
    bool sequences = fwd().sequence_args().return_sequences;
    if (sequences) flip_time(y_rev);
    auto [gy, gy_rev] = split_output_grad(a.output_grads, y, y_rev);
    if (sequences) flip_time(gy_rev);
    size_t first_state = merge_mode_ ? 1 : 2, f_states = keep->forward_outputs.size() - 1;
    std::vector<Tensor> f_grads{std::move(gy)}, b_grads{std::move(gy_rev)};
    for (size_t i = 0; i < f_states; ++i) f_grads.push_back(a.output_grads.at(first_state + i));
    for (size_t i = 0; i + 1 < keep->backward_outputs.size(); ++i)
      b_grads.push_back(a.output_grads.at(first_state + f_states + i));
    Gradients gf = forward_->backward({fwd_in, keep->forward_outputs, f_grads, keep->forward});
    Gradients gb = backward_->backward({bwd_in, keep->backward_outputs, b_grads, keep->backward});
    Gradients g;
    g.inputs.push_back(std::move(gf.inputs[0]));
    for (Dim k = 0; k < g.inputs[0].size(); ++k) g.inputs[0][k] += gb.inputs[0][k];
    g.inputs.insert(g.inputs.end(), std::make_move_iterator(gf.inputs.begin() + 1), std::make_move_iterator(gf.inputs.end()));
    g.inputs.insert(g.inputs.end(), std::make_move_iterator(gb.inputs.begin() + 1), std::make_move_iterator(gb.inputs.end()));
    g.variables = std::move(gf.variables);
    g.variables.insert(g.variables.end(), std::make_move_iterator(gb.variables.begin()),
                       std::make_move_iterator(gb.variables.end()));
    return g;
  }

  void apply_state_updates(const SavedState& saved) override {
    if (const auto* keep = static_cast<const BidirectionalSaved*>(saved.extra.get())) {
      forward_->apply_state_updates(keep->forward);
      backward_->apply_state_updates(keep->backward);
    }
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
                                     "attribute \"") + attr + "\", got \"" + (fv ? "True" : "False") +
                         "\" for forward layer and \"" + (bv ? "True" : "False") + "\" for backward layer");
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

  Tensor merge(Tensor& y, const Tensor& y_rev) const {
    const std::string& m = *merge_mode_;
    if (m == "concat") {
      Dim rows = y.size() / y.dim(-1), a = y.dim(-1), b = y_rev.dim(-1);
      Shape s = y.shape();
      s[-1] = a + b;
      Tensor out(s);
      for (Dim r = 0; r < rows; ++r) {
        std::memcpy(out.data() + r * (a + b), y.data() + r * a, static_cast<size_t>(a) * sizeof(float));
        std::memcpy(out.data() + r * (a + b) + a, y_rev.data() + r * b, static_cast<size_t>(b) * sizeof(float));
      }
      return out;
    }
    for (Dim k = 0; k < y.size(); ++k) {
      if (m == "sum") y[k] += y_rev[k];
      else if (m == "mul") y[k] *= y_rev[k];
      else y[k] = (y[k] + y_rev[k]) / 2.0f;
    }
    return std::move(y);
  }

  // dL/dy and dL/dy_rev (y_rev in output time order) from the output gradients.
  std::pair<Tensor, Tensor> split_output_grad(const std::vector<Tensor>& grads, const Tensor& y,
                                              const Tensor& y_rev) const {
    const Tensor& g = grads.at(0);
    if (!merge_mode_) return {g, grads.at(1)};
    const std::string& m = *merge_mode_;
    if (m == "concat") {
      Dim rows = y.size() / y.dim(-1), na = y.dim(-1), nb = y_rev.dim(-1);
      Tensor ga(y.shape()), gb(y_rev.shape());
      for (Dim r = 0; r < rows; ++r) {
        std::memcpy(ga.data() + r * na, g.data() + r * (na + nb), static_cast<size_t>(na) * sizeof(float));
        std::memcpy(gb.data() + r * nb, g.data() + r * (na + nb) + na, static_cast<size_t>(nb) * sizeof(float));
      }
      return {std::move(ga), std::move(gb)};
    }
    if (m == "sum") return {g, g};
    if (m == "ave") return {g * 0.5f, g * 0.5f};
    Tensor ga = g, gb = g;  // mul
    for (Dim k = 0; k < g.size(); ++k) {
      ga[k] *= y_rev[k];
      gb[k] *= y[k];
    }
    return {std::move(ga), std::move(gb)};
  }

  std::optional<std::string> merge_mode_;
  Layer forward_;
  Layer backward_;
};

}  // namespace

Layer Bidirectional(const BidirectionalOptions& options) {
  return Layer(std::make_shared<BidirectionalImpl>(options));
}
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
