#include "layers/rnn/recurrent.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include "engine/random.h"
#include "layers/shape_checks.h"
#include "ops/kernels.h"
#include "saving/config_utils.h"
#include "saving/registry.h"

namespace keras::layers::rnn {

using nlohmann::json;

RecurrentImpl::RecurrentImpl(const std::string& name, const std::string& prefix, Dim units, int gates, int num_states,
                             const SequenceArgs& args)
    : LayerImpl(name, prefix), units_(units), gates_(gates), num_states_(num_states), args_(args) {}

std::vector<Shape> RecurrentImpl::compute_output_shape(const std::vector<Shape>& in) const {
  if (in.empty()) expect_inputs(in, 1);
  detail::check_ndim(name(), in[0], 3);
  if (in.size() != 1 && in.size() != static_cast<size_t>(1 + num_states_))
    fail("An `initial_state` was passed that is not compatible with the cell: it expects " +
         std::to_string(num_states_) + " state tensor(s), but received " + std::to_string(in.size() - 1));
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i].rank() != 2 || (in[i][1] >= 0 && in[i][1] != units_))
      fail("initial state " + std::to_string(i - 1) + " should have shape (batch_size, " + std::to_string(units_) +
           "), but received shape " + in[i].str());
  if (built() && in[0][-1] != kernel().dim(0))
    throw ValueError("Input 0 of layer \"" + name() +
                     "\" is incompatible with the layer: expected axis -1 of input shape to have value " +
                     std::to_string(kernel().dim(0)) + ", but received input with shape " + in[0].str());
  Dim batch = in[0][0];
  std::vector<Shape> out;
  out.push_back(args_.return_sequences ? Shape{batch, in[0][1], units_} : Shape{batch, units_});
  if (args_.return_state)
    for (int i = 0; i < num_states_; ++i) out.push_back(Shape{batch, units_});
  return out;
}

void RecurrentImpl::build_weights(const std::vector<Shape>& in) {
  compute_output_shape(in);
  Dim features = in[0][-1];
  if (features < 0)
    fail(
        "The last dimension of the inputs to a recurrent layer should be defined. Found None. Full input shape "
        "received: " +
        in[0].str());
  add_weight("kernel", {features, gates_ * units_}, kernel_initializer_);
  add_weight("recurrent_kernel", {units_, gates_ * units_}, recurrent_initializer_);
  add_bias_weight();
}

namespace {

Tensor times(const Tensor& a, const Tensor& mask) {
  Tensor out = a;
  for (Dim k = 0; k < out.size(); ++k) out[k] *= mask[k];
  return out;
}

// Inverted-dropout masks: 0 with probability `rate`, else 1/(1-rate).
Tensor dropout_mask(const Shape& shape, double rate, std::mt19937_64& rng) {
  Tensor m(shape);
  std::bernoulli_distribution keep(1.0 - rate);
  auto scale = static_cast<float>(1.0 / (1.0 - rate));
  for (float& v : m.values()) v = keep(rng) ? scale : 0.0f;
  return m;
}

bool active_rate(double rate) { return rate > 0.0 && rate < 1.0; }

}  // namespace

void RecurrentImpl::set_dropout(double dropout, double recurrent_dropout) {
  dropout_ = std::clamp(dropout, 0.0, 1.0);
  recurrent_dropout_ = std::clamp(recurrent_dropout, 0.0, 1.0);
}

DropoutMasks RecurrentImpl::draw_masks(Dim n, Dim features, uint64_t seed) const {
  DropoutMasks m;
  if (!active_rate(dropout_) && !active_rate(recurrent_dropout_)) return m;
  std::mt19937_64 rng(seed);
  int count = recurrent_dropout_ != 0.0 ? gates_ : 1;
  if (active_rate(dropout_))
    for (int g = 0; g < count; ++g) m.input.push_back(dropout_mask({n, features}, dropout_, rng));
  if (active_rate(recurrent_dropout_))
    for (int g = 0; g < gates_; ++g) m.recurrent.push_back(dropout_mask({n, units_}, recurrent_dropout_, rng));
  return m;
}

// The masked inputs of one gate group: x (N, T, F) times a mask (N, F) at every timestep.
static Tensor mask_over_time(const Tensor& x, const Tensor& mask) {
  Dim n = x.dim(0), steps = x.dim(1), f = x.dim(2);
  Tensor out = x;
  for (Dim b = 0; b < n; ++b)
    for (Dim t = 0; t < steps; ++t)
      for (Dim j = 0; j < f; ++j) out[(b * steps + t) * f + j] *= mask[b * f + j];
  return out;
}

Tensor RecurrentImpl::project_inputs(const Tensor& x, const std::vector<Tensor>& masks) const {
  Dim rows = x.dim(0) * x.dim(1), features = x.dim(2), g = gates_ * units_;
  // Gate groups: all columns at once, or one group of `units` columns per gate mask.
  Dim cols = masks.size() > 1 ? units_ : g;
  Tensor xw({rows, g});
  for (Dim c0 = 0, k = 0; c0 < g; c0 += cols, ++k) {
    Tensor xm = masks.empty() ? Tensor() : mask_over_time(x, masks[static_cast<size_t>(k)]);
    ops::kernels().gemm(false, false, rows, cols, features, 1.0f, masks.empty() ? x.data() : xm.data(), features,
                        kernel().data() + c0, g, 0.0f, xw.data() + c0, g);
  }
  if (const float* b = input_bias())
    for (Dim r = 0; r < rows; ++r)
      for (Dim j = 0; j < g; ++j) xw[r * g + j] += b[j];
  return xw;
}

Tensor RecurrentImpl::project_inputs_backward(const Tensor& x, const std::vector<Tensor>& masks, const Tensor& d_xw,
                                              Tensor& d_kernel) const {
  Dim rows = x.dim(0) * x.dim(1), features = x.dim(2), g = gates_ * units_;
  Dim cols = masks.size() > 1 ? units_ : g;
  Tensor dx(x.shape()), part(x.shape());
  for (Dim c0 = 0, k = 0; c0 < g; c0 += cols, ++k) {
    Tensor xm = masks.empty() ? Tensor() : mask_over_time(x, masks[static_cast<size_t>(k)]);
    ops::kernels().gemm(true, false, features, cols, rows, 1.0f, masks.empty() ? x.data() : xm.data(), features,
                        d_xw.data() + c0, g, 0.0f, d_kernel.data() + c0, g);
    ops::kernels().gemm(false, true, rows, features, cols, 1.0f, d_xw.data() + c0, g, kernel().data() + c0, g, 0.0f,
                        part.data(), features);
    if (!masks.empty()) part = mask_over_time(part, masks[static_cast<size_t>(k)]);
    for (Dim i = 0; i < dx.size(); ++i) dx[i] += part[i];
  }
  return dx;
}

void RecurrentImpl::recurrent_product(const Tensor& h, Dim col0, Dim cols, Tensor& z, bool accumulate,
                                      const std::vector<Tensor>* masks) const {
  Dim ld = gates_ * units_;
  if (!masks || masks->empty()) {
    ops::kernels().gemm(false, false, h.dim(0), cols, units_, 1.0f, h.data(), units_, recurrent_kernel().data() + col0,
                        ld, accumulate ? 1.0f : 0.0f, z.data(), z.dim(1));
    return;
  }
  for (Dim c = col0; c < col0 + cols; c += units_) {
    Tensor hm = times(h, (*masks)[static_cast<size_t>(c / units_)]);
    ops::kernels().gemm(false, false, h.dim(0), units_, units_, 1.0f, hm.data(), units_, recurrent_kernel().data() + c,
                        ld, accumulate ? 1.0f : 0.0f, z.data() + (c - col0), z.dim(1));
  }
}

void RecurrentImpl::recurrent_product_backward(const Tensor& h, const Tensor& dz, Dim col0, Tensor& d_recurrent_kernel,
                                               Tensor& dh, const std::vector<Tensor>* masks) const {
  Dim ld = gates_ * units_, n = h.dim(0), cols = dz.dim(1);
  if (!masks || masks->empty()) {
    ops::kernels().gemm(true, false, units_, cols, n, 1.0f, h.data(), units_, dz.data(), cols, 1.0f,
                        d_recurrent_kernel.data() + col0, ld);
    ops::kernels().gemm(false, true, n, units_, cols, 1.0f, dz.data(), cols, recurrent_kernel().data() + col0, ld, 1.0f,
                        dh.data(), units_);
    return;
  }
  Tensor dhm({n, units_});
  for (Dim c = col0; c < col0 + cols; c += units_) {
    const Tensor& mask = (*masks)[static_cast<size_t>(c / units_)];
    Tensor hm = times(h, mask);
    ops::kernels().gemm(true, false, units_, units_, n, 1.0f, hm.data(), units_, dz.data() + (c - col0), cols, 1.0f,
                        d_recurrent_kernel.data() + c, ld);
    ops::kernels().gemm(false, true, n, units_, units_, 1.0f, dz.data() + (c - col0), cols,
                        recurrent_kernel().data() + c, ld, 0.0f, dhm.data(), units_);
    for (Dim k = 0; k < dh.size(); ++k) dh[k] += dhm[k] * mask[k];
  }
}

void put_gate(const Tensor& in, int g, Dim units, float* out, Dim stride) {
  Dim n = in.dim(0);
  for (Dim r = 0; r < n; ++r)
    std::memcpy(out + r * stride + g * units, in.data() + r * units, static_cast<size_t>(units) * sizeof(float));
}

void take_gate(const Tensor& z, const float* xw, Dim xw_stride, int g, Dim units, Tensor& out) {
  Dim n = out.dim(0), zcols = z.dim(1), off = g * units;
  for (Dim r = 0; r < n; ++r) {
    const float* zr = z.data() + r * zcols + off;
    float* o = out.data() + r * units;
    if (xw) {
      const float* xr = xw + r * xw_stride + off;
      for (Dim j = 0; j < units; ++j) o[j] = zr[j] + xr[j];
    } else {
      std::memcpy(o, zr, static_cast<size_t>(units) * sizeof(float));
    }
  }
}

void lstm_update(std::vector<Tensor>& gates, Tensor& h, Tensor& c, Tensor& tmp, ops::ActivationFn activation,
                 ops::ActivationFn recurrent_activation) {
  Tensor &i = gates[0], &f = gates[1], &cand = gates[2], &o = gates[3];
  recurrent_activation(i);
  recurrent_activation(f);
  activation(cand);
  recurrent_activation(o);
  for (Dim k = 0; k < c.size(); ++k) c[k] = f[k] * c[k] + i[k] * cand[k];
  tmp = c;
  activation(tmp);
  for (Dim k = 0; k < h.size(); ++k) h[k] = o[k] * tmp[k];
}

void lstm_update_backward(const std::vector<Tensor>& pre, const Tensor& c_prev, const Tensor& dh, const Tensor& dc_in,
                          const LSTMActivations& fns, Tensor& dz, Tensor& dc_prev) {
  Dim rows = c_prev.dim(0), u = c_prev.dim(1);
  std::vector<Tensor> act = pre;
  Tensor &i = act[0], &f = act[1], &cand = act[2], &o = act[3];
  fns.recurrent_activation(i);
  fns.recurrent_activation(f);
  fns.activation(cand);
  fns.recurrent_activation(o);
  Tensor c({rows, u});
  for (Dim k = 0; k < c.size(); ++k) c[k] = f[k] * c_prev[k] + i[k] * cand[k];
  Tensor tc = c;
  fns.activation(tc);
  // h = o * activation(c), c = f * c_prev + i * c~.
  std::vector<Tensor> d(4, Tensor({rows, u}));
  Tensor dc({rows, u});
  for (Dim k = 0; k < c.size(); ++k) {
    d[3][k] = dh[k] * tc[k];
    dc[k] = dh[k] * o[k];
  }
  fns.activation_grad(c, tc, dc);
  for (Dim k = 0; k < c.size(); ++k) {
    dc[k] += dc_in[k];
    d[0][k] = dc[k] * cand[k];
    d[1][k] = dc[k] * c_prev[k];
    d[2][k] = dc[k] * i[k];
    dc_prev[k] = dc[k] * f[k];
  }
  fns.recurrent_activation_grad(pre[0], i, d[0]);
  fns.recurrent_activation_grad(pre[1], f, d[1]);
  fns.activation_grad(pre[2], cand, d[2]);
  fns.recurrent_activation_grad(pre[3], o, d[3]);
  for (int g = 0; g < 4; ++g) put_gate(d[static_cast<size_t>(g)], g, u, dz.data(), 4 * u);
}

std::vector<Tensor> RecurrentImpl::call(const std::vector<Tensor>& inputs, const CallContext& ctx) const {
  const Tensor& x = inputs.at(0);
  if (x.rank() != 3) detail::check_ndim(name(), x.shape(), 3);
  Dim n = x.dim(0), steps = x.dim(1), features = x.dim(2), g = gates_ * units_;
  if (features != kernel().dim(0)) compute_output_shape({x.shape()});
  if (steps == 0) fail("cannot run on a sequence of 0 timesteps. Received input shape " + x.shape().str());

  DropoutMasks masks = ctx.training ? draw_masks(n, features, engine::layer_seed(ctx.seed, name())) : DropoutMasks{};
  // The input projection of every timestep at once: row b*steps + t.
  Tensor xw = project_inputs(x, masks.input);

  std::vector<Tensor> states;
  for (int i = 0; i < num_states_; ++i) {
    if (inputs.size() > 1) {
      const Tensor& s = inputs.at(static_cast<size_t>(1 + i));
      if (s.shape() != Shape{n, units_})
        fail("initial state " + std::to_string(i) + " should have shape " + Shape{n, units_}.str() +
             ", but received shape " + s.shape().str());
      states.push_back(s);
    } else {
      states.push_back(Tensor::zeros({n, units_}));
    }
  }

  StepScratch scratch{Tensor({n, g}), std::vector<Tensor>(static_cast<size_t>(gates_), Tensor({n, units_})),
                      Tensor({n, units_}), &masks.recurrent};
  Tensor sequence;
  if (args_.return_sequences) sequence = Tensor({n, steps, units_});
  // For backward(): the states before each step and after the last, (steps+1, N, units) each.
  std::vector<Tensor> history;
  auto record = [&](Dim i) {
    for (int k = 0; k < num_states_; ++k)
      std::memcpy(history[static_cast<size_t>(k)].data() + i * n * units_, states[static_cast<size_t>(k)].data(),
                  static_cast<size_t>(n * units_) * sizeof(float));
  };
  if (ctx.saved) {
    history.assign(static_cast<size_t>(num_states_), Tensor({steps + 1, n, units_}));
    record(0);
  }
  for (Dim i = 0; i < steps; ++i) {
    // go_backwards reads the input from the end and, as Keras, returns the outputs in that order.
    Dim t = args_.go_backwards ? steps - 1 - i : i;
    step(xw.data() + t * g, steps * g, states, scratch);
    if (ctx.saved) record(i + 1);
    if (args_.return_sequences)
      for (Dim b = 0; b < n; ++b)
        std::memcpy(sequence.data() + (b * steps + i) * units_, states[0].data() + b * units_,
                    static_cast<size_t>(units_) * sizeof(float));
  }

  if (ctx.saved) {
    ctx.saved->tensors = {std::move(xw)};
    for (Tensor& h : history) ctx.saved->tensors.push_back(std::move(h));
    if (!masks.empty()) ctx.saved->extra = std::make_shared<DropoutMasks>(std::move(masks));
  }
  std::vector<Tensor> out;
  out.push_back(args_.return_sequences ? std::move(sequence) : states[0]);
  if (args_.return_state)
    for (Tensor& s : states) out.push_back(std::move(s));
  return out;
}

Gradients RecurrentImpl::backward(const BackwardArgs& a) const {
  const Tensor& x = a.inputs.at(0);
  const auto& saved = a.saved.tensors;
  if (saved.size() != static_cast<size_t>(1 + num_states_))
    fail("backward() needs the states of a forward pass run with CallContext::saved");
  Dim n = x.dim(0), steps = x.dim(1), g = gates_ * units_;
  const Tensor& xw = saved[0];
  static const DropoutMasks no_masks;
  const auto* masks = a.saved.extra ? static_cast<const DropoutMasks*>(a.saved.extra.get()) : &no_masks;
  auto vars = variables();
  bool has_bias = vars.size() > 2;

  // dL/d(states after the last step): the returned states and, without return_sequences, the output.
  std::vector<Tensor> d_states;
  for (int k = 0; k < num_states_; ++k) {
    d_states.push_back(Tensor::zeros({n, units_}));
    if (args_.return_state) d_states.back() = a.output_grads.at(static_cast<size_t>(1 + k));
  }
  if (!args_.return_sequences)
    for (Dim j = 0; j < n * units_; ++j) d_states[0][j] += a.output_grads.at(0)[j];

  Tensor d_xw({n * steps, g});
  Tensor d_recurrent(vars[1]->value.shape());
  Tensor d_bias = has_bias ? Tensor(vars[2]->value.shape()) : Tensor();
  std::vector<Tensor> prev(static_cast<size_t>(num_states_));
  for (Dim i = steps - 1; i >= 0; --i) {
    Dim t = args_.go_backwards ? steps - 1 - i : i;
    if (args_.return_sequences) {
      const Tensor& gs = a.output_grads.at(0);
      for (Dim b = 0; b < n; ++b)
        for (Dim j = 0; j < units_; ++j) d_states[0][b * units_ + j] += gs[(b * steps + i) * units_ + j];
    }
    for (int k = 0; k < num_states_; ++k)
      prev[static_cast<size_t>(k)] = saved[static_cast<size_t>(1 + k)].slice(i, i + 1).reshape({n, units_});
    step_backward(xw.data() + t * g, steps * g, prev, d_states, d_xw.data() + t * g, d_recurrent, d_bias,
                  &masks->recurrent);
  }

  // xw = (masked) x @ kernel + input bias over all timesteps at once.
  Gradients grads;
  grads.variables.emplace_back(kernel().shape());
  grads.inputs.push_back(project_inputs_backward(x, masks->input, d_xw, grads.variables[0]));
  if (a.inputs.size() > 1)
    for (Tensor& d : d_states) grads.inputs.push_back(std::move(d));
  grads.variables.push_back(std::move(d_recurrent));
  if (has_bias) {
    for (Dim r = 0; r < n * steps; ++r)
      for (Dim j = 0; j < g; ++j) d_bias[j] += d_xw[r * g + j];
    grads.variables.push_back(std::move(d_bias));
  }
  return grads;
}

json RecurrentImpl::get_config() const {
  json c = LayerImpl::get_config();
  c["return_sequences"] = args_.return_sequences;
  c["return_state"] = args_.return_state;
  c["go_backwards"] = args_.go_backwards;
  c["stateful"] = args_.stateful;
  c["unroll"] = args_.unroll;
  c["zero_output_for_mask"] = false;
  c["units"] = units_;
  c["kernel_initializer"] = initializer_to_config(kernel_initializer_);
  c["recurrent_initializer"] = initializer_to_config(recurrent_initializer_);
  c["bias_initializer"] = initializer_to_config(bias_initializer_);
  for (const char* k : {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                        "kernel_constraint", "recurrent_constraint", "bias_constraint"})
    c[k] = nullptr;
  return c;
}

// ---------------------------------------------------------------- config reading

SequenceArgs sequence_args_from_config(const json& c) {
  using saving::get_bool;
  if (get_bool(c, "time_major", false))
    throw ValueError("time_major=True (inputs of shape (timesteps, batch, features)) is not supported");
  return {get_bool(c, "return_sequences", false), get_bool(c, "return_state", false),
          get_bool(c, "go_backwards", false), get_bool(c, "stateful", false), get_bool(c, "unroll", false)};
}

VersionDefaults version_defaults(const ConfigContext& ctx) {
  if (ctx.keras_major == 1) return {"hard_sigmoid", false};
  if (ctx.keras_major >= 3) return {"sigmoid", true};
  int major = 0, minor = 0;
  if (std::sscanf(ctx.keras_version.c_str(), "%d.%d", &major, &minor) != 2) return {"sigmoid", true};
  bool tf_keras = ctx.keras_version.find("-tf") != std::string::npos;
  // Standalone Keras 2.0-2.2 defaulted to hard_sigmoid, 2.3 to sigmoid; both had
  // reset_after=False. tf.keras ("2.x.y-tf", then 2.4+) switched to sigmoid/True with TF 2.
  if (!tf_keras && major == 2 && minor < 3) return {"hard_sigmoid", false};
  if (!tf_keras && major == 2 && minor == 3) return {"sigmoid", false};
  return {"sigmoid", true};
}

void check_units(Dim units) {
  if (units <= 0)
    throw ValueError("Received an invalid value for argument `units`, expected a positive integer, got " +
                     std::to_string(units) + ".");
}

CellConfig cell_config(const json& c, const ConfigContext& ctx) {
  using namespace saving;
  auto activation_or = [&](const char* key, const char* k1_key, const std::string& fallback) {
    if (c.contains(key)) return get_activation(c, key, ctx);
    if (c.contains(k1_key)) return get_activation(c, k1_key, ctx);
    return get_activation(json{{"a", fallback}}, "a", ctx);  // same Keras 2 hard_sigmoid mapping
  };
  CellConfig cell;
  cell.units = c.contains("units") ? get_int(c, "units", 0) : get_int(c, "output_dim", 0);
  cell.activation = activation_or("activation", "activation", "tanh");
  cell.recurrent_activation =
      activation_or("recurrent_activation", "inner_activation", version_defaults(ctx).recurrent_activation);
  cell.use_bias = get_bool(c, "use_bias", true);
  cell.kernel_initializer = get_initializer(c, "kernel_initializer", get_initializer(c, "init", "glorot_uniform"));
  cell.recurrent_initializer =
      get_initializer(c, "recurrent_initializer", get_initializer(c, "inner_init", "orthogonal"));
  cell.bias_initializer = get_initializer(c, "bias_initializer", "zeros");
  cell.dropout = get_double(c, "dropout", get_double(c, "dropout_W", 0.0));
  cell.recurrent_dropout = get_double(c, "recurrent_dropout", get_double(c, "dropout_U", 0.0));
  if (c.contains("seed") && !c["seed"].is_null()) cell.seed = get_int(c, "seed", 0);
  return cell;
}

bool takes_initial_state(const LayerImpl& layer) {
  return dynamic_cast<const RecurrentImpl*>(&layer) != nullptr || layer.class_name() == "Bidirectional" ||
         layer.class_name() == "ConvLSTM2D";
}

Layer clone_layer(const LayerImpl& layer, const std::function<void(json&)>& edit) {
  json config = layer.get_config();
  if (edit) edit(config);
  const LayerFactory* factory = saving::find_layer_factory(layer.class_name());
  if (!factory)
    throw ValueError("Cannot copy layer \"" + layer.name() + "\": class " + layer.class_name() + " is not registered");
  return (*factory)(config, ConfigContext{.keras_major = 3});
}

Layer nested_layer(const json& c, const std::string& key, const ConfigContext& ctx) {
  if (!c.contains(key) || !c.at(key).is_object() || !c.at(key).contains("class_name"))
    throw ValueError("Config argument `" + key + "` should be a serialized layer, received: " +
                     (c.contains(key) ? c.at(key).dump().substr(0, 200) : std::string("nothing")));
  const json& entry = c.at(key);
  std::string cls = entry.at("class_name").get<std::string>();
  const LayerFactory* factory = saving::find_layer_factory(cls);
  if (!factory)
    throw UnsupportedLayers("the model uses layers keras.cpp cannot run: " + cls + " \"" +
                            saving::get_string(entry.value("config", json::object()), "name", "?") + "\"");
  return (*factory)(entry.value("config", json::object()), ctx);
}

}  // namespace keras::layers::rnn
