#include "layers/rnn/weights.h"

#include <cstring>

#include "layers/rnn/recurrent.h"

namespace keras::layers::rnn {

namespace {

// Joins tensors along their last axis; nullopt when their leading dimensions differ.
std::optional<Tensor> concat_last(const std::vector<const Tensor*>& parts) {
  const Shape& first = parts[0]->shape();
  if (first.rank() == 0) return std::nullopt;
  Dim rows = first.num_elements() / std::max<Dim>(first[-1], 1), total = 0;
  for (const Tensor* p : parts) {
    if (p->rank() != first.rank()) return std::nullopt;
    for (int d = 0; d + 1 < first.rank(); ++d)
      if (p->dim(d) != first[d]) return std::nullopt;
    total += p->dim(-1);
  }
  Shape s = first;
  s[-1] = total;
  Tensor out(s);
  Dim offset = 0;
  for (const Tensor* p : parts) {
    Dim cols = p->dim(-1);
    for (Dim r = 0; r < rows; ++r)
      std::memcpy(out.data() + r * total + offset, p->data() + r * cols, static_cast<size_t>(cols) * sizeof(float));
    offset += cols;
  }
  return out;
}

// Keras 1's per-gate arrays [W_g, U_g, b_g] for the gates in file order, taken in `order`.
std::vector<Tensor> join_gates(const std::vector<Tensor>& w, const std::vector<size_t>& order) {
  std::vector<Tensor> out;
  for (size_t kind = 0; kind < 3; ++kind) {
    std::vector<const Tensor*> parts;
    for (size_t gate : order) parts.push_back(&w[gate * 3 + kind]);
    auto joined = concat_last(parts);
    if (!joined) return w;
    out.push_back(std::move(*joined));
  }
  return out;
}

}  // namespace

namespace {

// A wrapper's weights converted layer by layer: TimeDistributed's all for its layer,
// Bidirectional's halves for its forward and backward layers. False for other layers.
template <class Convert>
bool convert_wrapped(const LayerImpl& layer, std::vector<Tensor>& weights, Convert convert) {
  auto* w = dynamic_cast<const WrapperImpl*>(&layer);
  if (!w) return false;
  auto inner = w->wrapped_layers();
  if (inner.size() == 1) {
    weights = convert(*inner[0], std::move(weights));
    return true;
  }
  size_t half = weights.size() / 2;
  std::vector<Tensor> f(weights.begin(), weights.begin() + static_cast<long>(half));
  std::vector<Tensor> b(weights.begin() + static_cast<long>(half), weights.end());
  f = convert(*inner[0], std::move(f));
  b = convert(*inner[1], std::move(b));
  f.insert(f.end(), b.begin(), b.end());
  weights = std::move(f);
  return true;
}

}  // namespace

std::vector<Tensor> convert_keras1_weights(const LayerImpl& layer, std::vector<Tensor> weights) {
  if (convert_wrapped(layer, weights, convert_keras1_weights)) return weights;
  // Keras 1 wrote the LSTM gates as i, c, f, o; today's order is i, f, c, o.
  if (layer.class_name() == "LSTM" && weights.size() == 12) return join_gates(weights, {0, 2, 1, 3});
  if (layer.class_name() == "GRU" && weights.size() == 9) return join_gates(weights, {0, 1, 2});
  return weights;
}

namespace {

// Each gate's block of a [rows, gates * cols] kernel through `f` (block, rows, cols) -> block.
template <class F>
Tensor per_gate(const Tensor& k, Dim gates, F f) {
  Dim rows = k.dim(0), cols = k.dim(1) / gates;
  Tensor out(k.shape());
  std::vector<float> block(static_cast<size_t>(rows * cols));
  for (Dim g = 0; g < gates; ++g) {
    for (Dim r = 0; r < rows; ++r)
      for (Dim c = 0; c < cols; ++c) block[size_t(r * cols + c)] = k.data()[r * k.dim(1) + g * cols + c];
    std::vector<float> t = f(block, rows, cols);
    for (Dim r = 0; r < rows; ++r)
      for (Dim c = 0; c < cols; ++c) out.data()[r * k.dim(1) + g * cols + c] = t[size_t(r * cols + c)];
  }
  return out;
}

// numpy's block.T.reshape(block.shape, order="F"): element (p, q) is the F-order element p + q*rows
// of the transpose, i.e. block[b][a] for a + b*cols = p + q*rows.
std::vector<float> from_cudnn_input(const std::vector<float>& block, Dim rows, Dim cols) {
  std::vector<float> out(block.size());
  for (Dim p = 0; p < rows; ++p)
    for (Dim q = 0; q < cols; ++q) {
      Dim t = p + q * rows, a = t % cols, b = t / cols;
      out[size_t(p * cols + q)] = block[size_t(b * cols + a)];
    }
  return out;
}

std::vector<float> transposed(const std::vector<float>& block, Dim rows, Dim cols) {
  std::vector<float> out(block.size());
  for (Dim r = 0; r < rows; ++r)
    for (Dim c = 0; c < cols; ++c) out[size_t(c * rows + r)] = block[size_t(r * cols + c)];
  return out;
}

}  // namespace

std::vector<Tensor> convert_cudnn_weights(const LayerImpl& layer, std::vector<Tensor> weights) {
  if (convert_wrapped(layer, weights, convert_cudnn_weights)) return weights;
  bool lstm = layer.class_name() == "LSTM", gru = layer.class_name() == "GRU";
  if ((!lstm && !gru) || weights.size() != 3 || weights[1].rank() != 2 || weights[0].rank() != 2) return weights;
  Dim units = weights[1].dim(0), gates = lstm ? 4 : 3;
  if (weights[2].shape() != Shape{2 * units * gates}) return weights;  // not CuDNN's
  if (weights[0].dim(1) != gates * units || weights[1].dim(1) != gates * units)
    throw ValueError("Layer \"" + layer.name() + "\": CuDNN weights of shapes " + weights[0].shape().str() + " and " +
                     weights[1].shape().str() + " do not hold " + std::to_string(gates) + " gates of " +
                     std::to_string(units) + " units");
  weights[0] = per_gate(weights[0], gates, from_cudnn_input);
  weights[1] = per_gate(weights[1], gates, transposed);
  if (lstm) {
    Tensor bias(Shape{gates * units});
    for (Dim i = 0; i < gates * units; ++i)
      bias.data()[i] = weights[2].data()[i] + weights[2].data()[i + gates * units];
    weights[2] = std::move(bias);
  } else {
    if (layer.get_config().value("reset_after", true) == false)
      throw ValueError("Layer \"" + layer.name() + "\": CuDNNGRU is not compatible with GRU(reset_after=False)");
    weights[2] = weights[2].reshape(Shape{2, gates * units});
  }
  return weights;
}

std::vector<VariableGroup> keras3_variable_groups(LayerImpl& layer) {
  if (dynamic_cast<RecurrentImpl*>(&layer) || layer.class_name() == "ConvLSTM2D")
    return {{"", {}}, {"cell", layer.variables()}};
  if (auto* w = dynamic_cast<WrapperImpl*>(&layer)) {
    std::vector<VariableGroup> out{{"", {}}};
    auto inner = w->wrapped_layers();
    auto attrs = w->wrapped_attributes();
    for (size_t i = 0; i < inner.size(); ++i)
      for (auto& g : keras3_variable_groups(*inner[i]))
        out.push_back({attrs[i] + (g.path.empty() ? "" : "/" + g.path), std::move(g.variables)});
    return out;
  }
  return {{"", layer.variables()}};
}

}  // namespace keras::layers::rnn
