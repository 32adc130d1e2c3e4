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

std::vector<Tensor> convert_keras1_weights(const LayerImpl& layer, std::vector<Tensor> weights) {
  if (auto* w = dynamic_cast<const WrapperImpl*>(&layer)) {
    auto inner = w->wrapped_layers();
    if (inner.size() == 1) return convert_keras1_weights(*inner[0], std::move(weights));
    size_t half = weights.size() / 2;
    std::vector<Tensor> f(weights.begin(), weights.begin() + static_cast<long>(half));
    std::vector<Tensor> b(weights.begin() + static_cast<long>(half), weights.end());
    f = convert_keras1_weights(*inner[0], std::move(f));
    b = convert_keras1_weights(*inner[1], std::move(b));
    f.insert(f.end(), b.begin(), b.end());
    return f;
  }
  // Keras 1 wrote the LSTM gates as i, c, f, o; today's order is i, f, c, o.
  if (layer.class_name() == "LSTM" && weights.size() == 12) return join_gates(weights, {0, 2, 1, 3});
  if (layer.class_name() == "GRU" && weights.size() == 9) return join_gates(weights, {0, 1, 2});
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
