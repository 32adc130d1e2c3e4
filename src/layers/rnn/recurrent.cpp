#include "layers/rnn/recurrent.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include "engine/graph/lowering.h"
#include "engine/random.h"
#include "layers/shape_checks.h"
#include "ops/recurrent.h"
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
  if (args_.stateful) {
    if (in[0][0] < 0)
      fail(
          "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic batch size: "
          "sequence.shape=" +
          in[0].str());
    states_.assign(static_cast<size_t>(num_states_), Tensor());
    for (Tensor& t : states_) t = Tensor::zeros(Shape{in[0][0], units_});
  }
  add_weight("kernel", {features, gates_ * units_}, kernel_initializer_);
  add_weight("recurrent_kernel", {units_, gates_ * units_}, recurrent_initializer_);
  add_bias_weight();
}

void RecurrentImpl::set_dropout(double dropout, double recurrent_dropout) {
  dropout_ = std::clamp(dropout, 0.0, 1.0);
  recurrent_dropout_ = std::clamp(recurrent_dropout, 0.0, 1.0);
}

bool RecurrentImpl::lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const {
  std::vector<Shape> shapes;
  for (int v : in) shapes.push_back(g.shape(v));
  std::vector<Shape> results = compute_output_shape(shapes);
  const Shape x = shapes[0];  // a copy: `shapes` grows below
  Dim n = x[0], steps = x[1];
  if (steps == 0) fail("cannot run on a sequence of 0 timesteps. Received input shape " + x.str());
  for (size_t i = 1; i < shapes.size(); ++i)
    if (shapes[i] != Shape{n, units_})
      fail("initial state " + std::to_string(i - 1) + " should have shape " + Shape{n, units_}.str() +
           ", but received shape " + shapes[i].str());
  auto vars = variables();
  bool has_bias = vars.size() > 2;
  std::vector<int> reads = in;
  // Stateful: the states the last call left are this call's initial states (unless it passes
  // its own), and its final states are left for the next.
  if (args_.stateful) {
    if (states_.empty() || states_[0].dim(0) != n)
      fail("is stateful for a batch of " + (states_.empty() ? std::string("None") : std::to_string(states_[0].dim(0))) +
           " (its fixed batch size), but received input of shape " + x.str());
    for (size_t i = 0; in.size() == 1 && i < states_.size(); ++i) {
      reads.push_back(
          graph::emit1(g, ops::StateOp{ops::StateOp::Mode::kRead}, {}, states_[i].shape(), {&states_[i]}, name()));
      shapes.push_back(states_[i].shape());
    }
  }
  int mask = g.input_mask(0);
  if (mask >= 0 && g.shape(mask) != Shape{n, steps})
    fail("a mask of shape " + g.shape(mask).str() + " does not fit the input's steps " + x.str());
  ops::RecurrentOp op{.batch = n,
                      .steps = steps,
                      .features = x[2],
                      .units = units_,
                      .bias = has_bias,
                      .go_backwards = args_.go_backwards,
                      .return_sequences = args_.return_sequences,
                      .initial_state = reads.size() > 1,
                      .masked = mask >= 0,
                      .zero_output_for_mask = args_.zero_output_for_mask,
                      .dropout = g.training() ? dropout_ : 0.0,
                      .recurrent_dropout = g.training() ? recurrent_dropout_ : 0.0,
                      .save = g.differentiates()};
  describe_cell(op);
  // y and the final states, then what the gradient reads.
  std::vector<Shape> outputs{results[0]};
  for (int i = 0; i < num_states_; ++i) outputs.push_back(Shape{n, units_});
  if (op.save) {
    outputs.push_back(Shape{n * steps, gates_ * units_});
    for (int i = 0; i < num_states_; ++i) outputs.push_back(Shape{steps + 1, n, units_});
  }
  if (int k = ops::input_masks(op)) outputs.push_back(Shape{k, n, x[2]});
  if (int k = ops::recurrent_masks(op)) outputs.push_back(Shape{k, n, units_});
  if (op.masked) {
    shapes.push_back(g.shape(mask));
    reads.push_back(mask);
  }
  ops::Op o{.attrs = op, .inputs = shapes, .outputs = outputs, .layer = name()};
  for (const Variable* v : vars) o.weights.push_back(&v->value);
  std::vector<int> values = g.emit(std::move(o), reads);
  for (size_t i = 0; args_.stateful && i < states_.size(); ++i)
    g.emit(ops::Op{.attrs = ops::StateOp{ops::StateOp::Mode::kWrite},
                   .inputs = {states_[i].shape()},
                   .weights = {&states_[i]},
                   .layer = name()},
           {values[1 + i]});
  out = {values[0]};
  if (args_.return_state) out.insert(out.end(), values.begin() + 1, values.begin() + 1 + num_states_);
  std::vector<int> masks(out.size(), -1);
  if (args_.return_sequences) masks[0] = mask;
  g.set_output_masks(std::move(masks));
  return true;
}

void RecurrentImpl::reset_states() {
  for (Tensor& t : states_) std::fill(t.data(), t.data() + t.size(), 0.0f);
}

json RecurrentImpl::get_config() const {
  json c = LayerImpl::get_config();
  c["return_sequences"] = args_.return_sequences;
  c["return_state"] = args_.return_state;
  c["go_backwards"] = args_.go_backwards;
  c["stateful"] = args_.stateful;
  c["unroll"] = args_.unroll;
  c["zero_output_for_mask"] = args_.zero_output_for_mask;
  c["units"] = units_;
  c["kernel_initializer"] = initializer_to_config(kernel_initializer_);
  c["recurrent_initializer"] = initializer_to_config(recurrent_initializer_);
  c["bias_initializer"] = initializer_to_config(bias_initializer_);
  for (const char* k : {"kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
                        "kernel_constraint", "recurrent_constraint", "bias_constraint"})
    c[k] = rule_config(k);
  return c;
}

void RecurrentImpl::wrap_in_rnn(std::string cell_class, std::string cell_name) {
  cell_class_ = std::move(cell_class);
  cell_name_ = std::move(cell_name);
}

// keras/src/layers/rnn/rnn.py get_config: the RNN's own arguments and its serialized cell,
// whose config holds the rest (the cell has no activity_regularizer).
json RecurrentImpl::rnn_form(json config) const {
  if (cell_class_.empty()) return config;
  json rnn = json::object(), cell = config;
  for (const char* k : {"name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful",
                        "unroll", "zero_output_for_mask", "activity_regularizer"}) {
    if (!config.contains(k)) continue;
    if (!config[k].is_null()) rnn[k] = config[k];  // Keras writes no activity_regularizer unless set
    cell.erase(k);
  }
  json head = {{"name", cell_name_}, {"trainable", config.value("trainable", true)}};
  // Keras 3 serializes a nested layer's dtype as its policy, as the model's layers.
  if (config.contains("dtype"))
    head["dtype"] = config["dtype"] == "float32" ? json{{"module", "keras"},
                                                        {"class_name", "DTypePolicy"},
                                                        {"config", {{"name", "float32"}}},
                                                        {"registered_name", nullptr}}
                                                 : config["dtype"];
  head.update(cell);
  rnn["cell"] = {
      {"module", "keras.layers"}, {"class_name", cell_class_}, {"config", head}, {"registered_name", nullptr}};
  return rnn;
}

// ---------------------------------------------------------------- config reading

SequenceArgs sequence_args_from_config(const json& c) {
  using saving::get_bool;
  if (get_bool(c, "time_major", false))
    throw ValueError("time_major=True (inputs of shape (timesteps, batch, features)) is not supported");
  return {get_bool(c, "return_sequences", false), get_bool(c, "return_state", false),
          get_bool(c, "go_backwards", false),     get_bool(c, "stateful", false),
          get_bool(c, "unroll", false),           get_bool(c, "zero_output_for_mask", false)};
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
  return saving::from_factory(*factory, config, ConfigContext{.keras_major = 3});
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
  return saving::from_factory(*factory, entry.value("config", json::object()), ctx);
}

}  // namespace keras::layers::rnn
