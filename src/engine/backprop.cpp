// Reverse-mode differentiation of a functional graph: walk the calls recorded by a training
// forward pass backwards, asking each layer for its gradients and summing them where a
// tensor feeds several calls or a layer is called several times.
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "engine/functional.h"
#include "keras/errors.h"

namespace keras {

namespace {

using TensorKey = std::pair<const Node*, int>;

void accumulate(Tensor& into, const Tensor& g) {
  if (g.empty()) return;  // a gradient nobody asked for (BackwardArgs::need_input_grads)
  if (into.empty() && into.rank() == 0) {
    into = g;
    return;
  }
  if (into.shape() != g.shape())
    throw ValueError("Gradient of shape " + g.shape().str() + " does not match " + into.shape().str());
  float* a = into.data();
  const float* b = g.data();
  for (Dim i = 0; i < g.size(); ++i) a[i] += b[i];
}

const Tape& tape_of(const SavedState& saved, const std::string& model) {
  if (!saved.extra)
    throw ValueError("Model \"" + model + "\": backward() needs a forward pass run with CallContext::saved");
  return *static_cast<const Tape*>(saved.extra.get());
}

}  // namespace

Gradients FunctionalImpl::backward(const BackwardArgs& args) const {
  const Tape& tape = tape_of(args.saved, name());
  std::map<TensorKey, Tensor> grads;
  for (size_t i = 0; i < outputs_.size(); ++i)
    accumulate(grads[{outputs_[i].node().get(), outputs_[i].index()}], args.output_grads.at(i));

  std::unordered_map<const LayerImpl*, std::vector<Tensor>> layer_grads;
  // Calls that read only model inputs need no input gradients unless the caller wants them.
  std::set<const Node*> input_nodes;
  for (const KerasTensor& t : inputs_) input_nodes.insert(t.node().get());
  for (auto it = tape.entries.rbegin(); it != tape.entries.rend(); ++it) {
    const Node* node = it->node;
    std::vector<Tensor> output_grads;
    bool reached = false;
    for (size_t i = 0; i < it->outputs.size(); ++i) {
      auto g = grads.find({node, static_cast<int>(i)});
      if (g != grads.end()) {
        reached = true;
        output_grads.push_back(std::move(g->second));
        grads.erase(g);
      } else {
        output_grads.push_back(Tensor::zeros(it->outputs[i].shape()));
      }
    }
    if (!reached) continue;  // this call does not influence the loss
    bool need = args.need_input_grads;
    for (const KerasTensor& in : node->inputs) need = need || !input_nodes.count(in.node().get());
    Gradients g = node->layer->backward({it->inputs, it->outputs, output_grads, it->saved, need});
    for (size_t i = 0; i < node->inputs.size(); ++i)
      accumulate(grads[{node->inputs[i].node().get(), node->inputs[i].index()}], g.inputs.at(i));
    auto& lg = layer_grads[node->layer.get()];
    if (lg.empty()) {
      lg = std::move(g.variables);
    } else {
      for (size_t v = 0; v < lg.size(); ++v) accumulate(lg[v], g.variables.at(v));
    }
  }

  Gradients result;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    auto g = grads.find({inputs_[i].node().get(), inputs_[i].index()});
    result.inputs.push_back(g != grads.end() ? std::move(g->second) : Tensor::zeros(args.inputs.at(i).shape()));
  }
  for (const Layer& l : layers()) {
    auto found = layer_grads.find(l.impl().get());
    for (size_t v = 0; const Variable* var : std::as_const(*l).variables()) {
      bool have = found != layer_grads.end() && v < found->second.size();
      result.variables.push_back(have ? std::move(found->second[v]) : Tensor::zeros(var->value.shape()));
      ++v;
    }
  }
  return result;
}

void FunctionalImpl::apply_state_updates(const SavedState& saved) {
  for (const Tape::Entry& e : tape_of(saved, name()).entries) e.node->layer->apply_state_updates(e.saved);
}

}  // namespace keras
