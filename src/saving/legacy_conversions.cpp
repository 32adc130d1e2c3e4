// Keras's preprocess_weights_for_loading (keras/engine/saving.py, Keras 2.2): weights saved by
// Keras 1 (per-gate LSTM/GRU weights, Theano-ordered kernels) or by a convolution-flipping
// backend (Theano, MXNet), turned into the Keras 2 layout the layers hold.
#include <nlohmann/json.hpp>

#include "engine/functional.h"
#include "keras/errors.h"
#include "layers/rnn/weights.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

using nlohmann::json;

std::vector<Dim> strides_of(const Shape& s) {
  std::vector<Dim> st(static_cast<size_t>(s.rank()), 1);
  for (int i = s.rank() - 2; i >= 0; --i) st[static_cast<size_t>(i)] = st[static_cast<size_t>(i) + 1] * s[i + 1];
  return st;
}

// Calls f(flat index in `shape`, multi-index) for every element, in C order.
template <class F>
void for_each_index(const Shape& shape, F f) {
  std::vector<Dim> idx(static_cast<size_t>(shape.rank()), 0);
  Dim n = shape.num_elements();
  for (Dim flat = 0; flat < n; ++flat) {
    f(flat, idx);
    for (int a = shape.rank() - 1; a >= 0; --a) {
      if (++idx[static_cast<size_t>(a)] < shape[a]) break;
      idx[static_cast<size_t>(a)] = 0;
    }
  }
}

// numpy.transpose(t, perm).
Tensor transpose(const Tensor& t, const std::vector<int>& perm) {
  if (static_cast<int>(perm.size()) != t.rank())
    throw ValueError("cannot transpose a weight of shape " + t.shape().str() + " to the Keras 2 layout");
  std::vector<Dim> dims;
  for (int p : perm) dims.push_back(t.dim(p));
  Tensor out{Shape(dims)};
  std::vector<Dim> in_strides = strides_of(t.shape());
  for_each_index(out.shape(), [&](Dim flat, const std::vector<Dim>& idx) {
    Dim src = 0;
    for (size_t a = 0; a < perm.size(); ++a) src += idx[a] * in_strides[static_cast<size_t>(perm[a])];
    out[flat] = t[src];
  });
  return out;
}

// Keras's conv_utils.convert_kernel: reverses every axis but the last two.
Tensor flip_spatial(const Tensor& t) {
  if (t.rank() < 3 || t.rank() > 5) throw ValueError("Invalid kernel shape: " + t.shape().str());
  Tensor out(t.shape());
  std::vector<Dim> strides = strides_of(t.shape());
  for_each_index(t.shape(), [&](Dim flat, const std::vector<Dim>& idx) {
    Dim src = 0;
    for (int a = 0; a < t.rank(); ++a) {
      Dim i = idx[static_cast<size_t>(a)];
      if (a < t.rank() - 2) i = t.dim(a) - 1 - i;
      src += i * strides[static_cast<size_t>(a)];
    }
    out[flat] = t[src];
  });
  return out;
}

// numpy.concatenate(parts, axis=-1).
Tensor concat_last(const std::vector<const Tensor*>& parts) {
  const Shape& first = parts[0]->shape();
  Dim rows = first.rank() ? first.num_elements() / first[-1] : 1;
  Dim total = 0;
  for (const Tensor* p : parts) {
    if (p->rank() != first.rank() || (p->rank() && p->size() / p->dim(-1) != rows))
      throw ValueError("cannot join Keras 1 gate weights of shapes " + first.str() + " and " + p->shape().str());
    total += p->rank() ? p->dim(-1) : 1;
  }
  Shape shape = first;
  if (shape.rank()) shape[-1] = total;
  std::vector<float> v;
  v.reserve(static_cast<size_t>(rows * total));
  for (Dim r = 0; r < rows; ++r)
    for (const Tensor* p : parts) {
      Dim w = p->rank() ? p->dim(-1) : 1;
      v.insert(v.end(), p->data() + r * w, p->data() + (r + 1) * w);
    }
  return Tensor(shape, std::move(v));
}

// Joins per-gate weights: `order` lists, for each new weight, the old indices to concatenate.
std::vector<Tensor> join_gates(const std::vector<Tensor>& w, const std::vector<std::vector<size_t>>& order) {
  std::vector<Tensor> out;
  for (const auto& idx : order) {
    std::vector<const Tensor*> parts;
    for (size_t i : idx) parts.push_back(&w[i]);
    out.push_back(concat_last(parts));
  }
  return out;
}

bool is_keras1(const WeightsOrigin& o) { return !o.keras_version.empty() && o.keras_version[0] == '1'; }

bool channels_first(const json& config) { return config.value("data_format", "") == "channels_first"; }

// Keras 1 Conv1D kernels are 2-D kernels (k, 1, in, filters), or (filters, in, k, 1) before 1.2.
Tensor keras1_conv1d_kernel(const Tensor& w, const json& config) {
  if (w.rank() != 4) return w;
  Tensor k = w;
  Dim filters = config.value("filters", Dim{-1});
  if (!(w.dim(1) == 1 && w.dim(3) == filters)) k = transpose(w, {2, 3, 1, 0});
  return k.reshape(Shape{k.dim(0), k.dim(2), k.dim(3)});
}

std::vector<Tensor> keras1_to_keras2(const std::string& cls, const json& config, std::vector<Tensor> w) {
  bool cf = channels_first(config);
  if (cls == "Conv1D" && !w.empty()) w[0] = keras1_conv1d_kernel(w[0], config);
  if (cls == "Conv2D" && cf && !w.empty()) w[0] = transpose(w[0], {2, 3, 1, 0});
  if (cls == "Conv2DTranspose" && !w.empty()) w[0] = transpose(w[0], cf ? std::vector<int>{2, 3, 0, 1} : std::vector<int>{0, 1, 3, 2});
  if (cls == "Conv3D" && cf && !w.empty()) w[0] = transpose(w[0], {2, 3, 4, 1, 0});
  // Keras 1 saves ConvLSTM2D gates as i, c, f, o; Keras 2 keeps i, f, c, o. (LSTM and GRU:
  // layers::rnn::convert_keras1_weights.)
  if (cls == "ConvLSTM2D" && w.size() == 12) w = join_gates(w, {{0, 6, 3, 9}, {1, 7, 4, 10}, {2, 8, 5, 11}});
  if (cls == "ConvLSTM2D" && cf && w.size() == 3) {
    w[0] = transpose(w[0], {2, 3, 1, 0});
    w[1] = transpose(w[1], {2, 3, 1, 0});
  }
  return w;
}

bool is_conv(const std::string& cls) {
  return cls == "Conv1D" || cls == "Conv2D" || cls == "Conv3D" || cls == "Conv2DTranspose" || cls == "ConvLSTM2D";
}

// Theano and MXNet computed true convolutions: their kernels are flipped for TensorFlow's correlation.
bool flips_kernels(const std::string& backend) { return backend == "theano" || backend == "mxnet"; }

std::vector<Tensor> convert(const std::string& cls, const json& config, const std::vector<Shape>& shapes,
                            std::vector<Tensor> w, const WeightsOrigin& origin);

std::vector<Tensor> convert_wrapped(const json& layer_entry, const std::vector<Shape>& shapes, std::vector<Tensor> w,
                                    const WeightsOrigin& origin) {
  if (!layer_entry.is_object()) return w;
  return convert(layer_entry.value("class_name", ""), layer_entry.value("config", json::object()), shapes,
                 std::move(w), origin);
}

std::vector<Tensor> convert_bidirectional(const json& config, const std::vector<Shape>& shapes, std::vector<Tensor> w,
                                          const WeightsOrigin& origin) {
  size_t half = w.size() / 2;
  std::vector<Tensor> fw(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(half));
  std::vector<Tensor> bw(w.begin() + static_cast<std::ptrdiff_t>(half), w.end());
  size_t shape_half = shapes.size() / 2;
  std::vector<Shape> fs(shapes.begin(), shapes.begin() + static_cast<std::ptrdiff_t>(shape_half));
  std::vector<Shape> bs(shapes.begin() + static_cast<std::ptrdiff_t>(shape_half), shapes.end());
  const json& fl = config.contains("layer") ? config["layer"] : json();
  const json& bl = config.contains("backward_layer") && config["backward_layer"].is_object() ? config["backward_layer"] : fl;
  fw = convert_wrapped(fl, fs, std::move(fw), origin);
  bw = convert_wrapped(bl, bs, std::move(bw), origin);
  fw.insert(fw.end(), std::make_move_iterator(bw.begin()), std::make_move_iterator(bw.end()));
  return fw;
}

std::vector<Tensor> convert(const std::string& cls, const json& config, const std::vector<Shape>& shapes,
                            std::vector<Tensor> w, const WeightsOrigin& origin) {
  if (cls == "Bidirectional") return convert_bidirectional(config, shapes, std::move(w), origin);
  if (cls == "TimeDistributed") return convert_wrapped(config.value("layer", json()), shapes, std::move(w), origin);
  if (is_keras1(origin)) w = keras1_to_keras2(cls, config, std::move(w));
  if (!is_conv(cls) || w.empty()) return w;
  size_t kernels = cls == "ConvLSTM2D" && w.size() > 1 ? 2 : 1;
  if (flips_kernels(origin.backend))
    for (size_t i = 0; i < kernels; ++i) w[i] = flip_spatial(w[i]);
  // Keras 2's last resort for kernels saved in Theano order (filters, in, rows, cols).
  if (!shapes.empty() && w[0].rank() == 4 && w[0].shape() != shapes[0])
    for (size_t i = 0; i < kernels; ++i) w[i] = transpose(w[i], {3, 2, 0, 1});
  return w;
}

std::vector<Shape> shapes_of(const std::vector<Variable*>& vars) {
  std::vector<Shape> s;
  for (const Variable* v : vars) s.push_back(v->value.shape());
  return s;
}

// Nested models: Keras converts each sublayer's trainable slice, then each non-trainable slice.
std::vector<Tensor> convert_nested_model(FunctionalImpl& model, std::vector<Tensor> w, const WeightsOrigin& origin) {
  std::vector<Tensor> out;
  size_t pos = 0;
  for (bool trainable_pass : {true, false}) {
    for (const Layer& sub : model.layers()) {
      std::vector<Variable*> vars;
      for (Variable* v : legacy_weights(*sub)) {
        bool t = v->trainable && sub->trainable() && model.trainable();
        if (t == trainable_pass) vars.push_back(v);
      }
      if (vars.empty() || pos + vars.size() > w.size()) continue;
      std::vector<Tensor> part(std::make_move_iterator(w.begin() + static_cast<std::ptrdiff_t>(pos)),
                               std::make_move_iterator(w.begin() + static_cast<std::ptrdiff_t>(pos + vars.size())));
      pos += vars.size();
      part = preprocess_legacy_weights(*sub, std::move(part), origin);
      out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
    }
  }
  for (; pos < w.size(); ++pos) out.push_back(std::move(w[pos]));  // a count mismatch is reported by the caller
  return out;
}

}  // namespace

std::vector<Tensor> preprocess_legacy_weights(LayerImpl& layer, std::vector<Tensor> weights,
                                              const WeightsOrigin& origin) {
  if (auto* model = dynamic_cast<FunctionalImpl*>(&layer)) return convert_nested_model(*model, std::move(weights), origin);
  if (is_keras1(origin)) weights = layers::rnn::convert_keras1_weights(layer, std::move(weights));
  weights = layers::rnn::convert_cudnn_weights(layer, std::move(weights));
  return convert(layer.class_name(), layer.get_config(), shapes_of(legacy_weights(layer)), std::move(weights), origin);
}

}  // namespace keras::saving
