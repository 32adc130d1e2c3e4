#include "engine/graph/plan.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <iomanip>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <sstream>

#include "backends/thread_pool.h"
#include "engine/functional.h"
#include "engine/graph/autodiff.h"
#include "engine/graph/lowering.h"
#include "keras/errors.h"
#include "ops/activations.h"

namespace keras::graph {

namespace {

constexpr size_t kAlign = 64;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

Dim elements(const Shape& s) {
  Dim n = 1;
  for (int i = 0; i < s.rank(); ++i) n *= s[i];
  return n;
}

bool concrete(const Shape& s) {
  for (int i = 0; i < s.rank(); ++i)
    if (s[i] < 0) return false;
  return true;
}

}  // namespace

struct Plan::Value {
  Shape shape;
  Dim size = 0;
  int root = 0;     // itself, or the value whose memory it views
  int parent = -1;  // for a view: the value it views
  int input = -1;   // for a root: the model input (training: then output gradient) it is, or -1 (in the arena)
  int last_use = -1;
  size_t offset = 0;  // in the arena, in bytes (roots in the arena only)
};

struct Plan::Step {
  ops::Op op;
  std::vector<int> inputs, outputs;
  std::unique_ptr<backends::Operator> impl;
  const char* backend = "";
  size_t workspace_offset = 0, workspace_bytes = 0;
};

struct Plan::Arena {
  struct Free {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t(kAlign)); }
  };
  std::unique_ptr<float, Free> memory;
  std::vector<const float*> inputs;
  std::vector<float*> outputs;
};

// The Lowering the layers see while a plan is built.
class PlanBuilder final : public Lowering {
 public:
  using StateUpdates = std::vector<std::pair<const LayerImpl*, std::vector<int>>>;
  PlanBuilder(std::vector<Plan::Value>& values, std::vector<Plan::Step>& steps,
              std::vector<std::unique_ptr<Tensor>>& constants, std::vector<const LayerImpl*>* train_slots,
              StateUpdates& state_updates, bool call_training, bool weights_change,
              std::vector<std::pair<const LayerImpl*, bool>>& trainable)
      : values_(values),
        steps_(steps),
        constants_(constants),
        train_slots_(train_slots),
        state_updates_(state_updates),
        call_training_(call_training),
        weights_change_(weights_change),
        trainable_(trainable) {}

  void update_state(const LayerImpl& layer, std::vector<ValueId> values) override {
    if (!differentiates()) throw ValueError("Layer \"" + layer.name() + "\": state updates belong to training plans");
    state_updates_.push_back({&layer, std::move(values)});
  }

  const Shape& shape(ValueId v) const override { return values_.at(static_cast<size_t>(v)).shape; }
  bool differentiates() const override { return train_slots_ != nullptr; }
  bool training() const override { return differentiates() && call_training_; }
  bool weights_change() const override { return differentiates() || weights_change_; }

  // The variables a training plan differentiates, by the address of their values.
  void add_variables(const std::vector<const Variable*>& vars) {
    for (const Variable* v : vars) variables_[&v->value] = v;
  }
  const Variable* variable_of(const Tensor* t) const {
    auto it = variables_.find(t);
    return it == variables_.end() ? nullptr : it->second;
  }

  std::vector<ValueId> lower_layer(const LayerImpl& layer, const std::vector<ValueId>& in,
                                   const std::vector<ValueId>& masks, std::vector<ValueId>* output_masks) override {
    // The layer's masks while it lowers; a layer lowering others inside (a nested model,
    // Bidirectional) gets its own back after.
    Frame frame{masks, std::nullopt};
    std::swap(frame, frame_);
    std::vector<ValueId> out = lower_unmasked(layer, in);
    std::swap(frame, frame_);
    if (output_masks) *output_masks = frame.output_masks ? *frame.output_masks : default_masks(layer, masks, out);
    return out;
  }

  ValueId input_mask(size_t i) const override { return i < frame_.input_masks.size() ? frame_.input_masks[i] : -1; }
  void set_output_masks(std::vector<ValueId> masks) override { frame_.output_masks = std::move(masks); }
  void set_output_logits(ValueId logits) override { frame_.output_logits = logits; }

  std::vector<ValueId> lower_unmasked(const LayerImpl& layer, const std::vector<ValueId>& in) {
    size_t steps = steps_.size(), values = values_.size(), constants = constants_.size();
    size_t slots = train_slots_ ? train_slots_->size() : 0, updates = state_updates_.size();
    trainable_.push_back({&layer, layer.trainable()});
    std::vector<ValueId> out;
    if (layer.lower(*this, in, out) && (!differentiates() || trainable_since(steps, constants))) {
      if (keep_logits_ && frame_.output_logits >= 0 && out.size() == 1)
        logits_of_[out[0]] = view(frame_.output_logits, shape(out[0]));
      else if (keep_logits_)
        note_logits(out, steps, values);
      note_outputs(layer, out);
      return out;
    }
    // Undo a lowering this plan cannot use; the layer runs its own call().
    frame_.output_masks.reset();
    frame_.output_logits = -1;
    steps_.resize(steps);
    values_.resize(values);
    constants_.resize(constants);
    if (train_slots_) train_slots_->resize(slots);
    state_updates_.resize(updates);
    ops::Op op{.attrs = ops::LayerCallOp{&layer}, .layer = layer.name()};
    if (differentiates()) {
      op.attrs = ops::LayerTrainOp{&layer, static_cast<int>(train_slots_->size()), call_training_};
      train_slots_->push_back(&layer);
    }
    for (ValueId v : in) op.inputs.push_back(shape(v));
    op.outputs = layer.compute_output_shape(op.inputs);
    out = emit(std::move(op), in);
    note_outputs(layer, out);
    return out;
  }

  // With keep_activity(): the outputs of layers with an activity_regularizer, whose penalty
  // (Keras's add_loss of activity_regularizer(output)) the loss adds.
  void keep_activity() { keep_activity_ = true; }
  const std::vector<std::pair<const LayerImpl*, ValueId>>& activity() const { return activity_; }

  // Keras's TensorFlow backend: the output of a softmax (over the last axis) or sigmoid
  // activation carries its logits (`_keras_logits`, keras/src/backend/tensorflow/nn.py), and the
  // crossentropies read those instead of the probabilities. A layer's output carries them when
  // the layer itself ends in such an activation (through views of its own: Dense on a sequence,
  // Softmax over rows); one passed through unchanged (the same value: Activation("linear"),
  // Dropout at inference) keeps its own; any other layer makes a new tensor without them.
  void keep_logits() { keep_logits_ = true; }
  ValueId logits_of(ValueId v) const {
    auto it = logits_of_.find(v);
    return it == logits_of_.end() ? -1 : it->second;
  }

  // Keras's default compute_mask: a layer that supports masking passes its first input's mask
  // to every output; any other drops it (Keras 3 warns that it does).
  static std::vector<ValueId> default_masks(const LayerImpl& layer, const std::vector<ValueId>& masks,
                                            const std::vector<ValueId>& out) {
    ValueId m = layer.supports_masking() && !masks.empty() ? masks[0] : -1;
    return std::vector<ValueId>(out.size(), m);
  }

  std::vector<ValueId> emit(ops::Op op, const std::vector<ValueId>& inputs) override {
    ops::Op product, activation;
    if (differentiates() && split_activation(op, product, activation, false))
      return emit(std::move(activation), emit(std::move(product), inputs));
    if (inputs.size() != op.inputs.size()) throw ValueError("Layer \"" + op.layer + "\": op input count mismatch");
    for (size_t i = 0; i < inputs.size(); ++i)
      if (shape(inputs[i]) != op.inputs[i])
        throw ValueError("Layer \"" + op.layer + "\": op input " + std::to_string(i) + " has shape " +
                         shape(inputs[i]).str() + ", expected " + op.inputs[i].str());
    std::vector<ValueId> outputs;
    for (const Shape& s : op.outputs) {
      if (!concrete(s)) throw ValueError("Layer \"" + op.layer + "\": output shape " + s.str() + " is not concrete");
      outputs.push_back(add_value(s, -1));
    }
    steps_.push_back(Plan::Step{.op = std::move(op), .inputs = inputs, .outputs = outputs});
    return outputs;
  }

  ValueId view(ValueId v, const Shape& s) override {
    if (s == shape(v)) return v;
    if (elements(s) != values_.at(static_cast<size_t>(v)).size)
      throw ValueError("A view of " + shape(v).str() + " as " + s.str() + " changes the size");
    ValueId id = add_value(s, -1);
    values_[static_cast<size_t>(id)].root = values_[static_cast<size_t>(v)].root;
    values_[static_cast<size_t>(id)].parent = v;
    return id;
  }

  const Tensor* constant(Tensor t) override {
    constants_.push_back(std::make_unique<Tensor>(std::move(t)));
    return constants_.back().get();
  }

  ValueId add_value(const Shape& s, int input) {
    Plan::Value v{.shape = s, .size = elements(s), .root = static_cast<int>(values_.size()), .input = input};
    values_.push_back(std::move(v));
    return static_cast<ValueId>(values_.size() - 1);
  }

 private:
  // A training plan differentiates the ops emitted since `steps`: every one needs a gradient
  // rule and weights that are variables (not constants derived from them).
  bool trainable_since(size_t steps, size_t constants) const {
    if (constants_.size() != constants) return false;
    for (size_t i = steps; i < steps_.size(); ++i) {
      if (!differentiable(steps_[i].op)) return false;
      if (std::holds_alternative<ops::StateOp>(steps_[i].op.attrs)) continue;  // a state, not a weight
      for (const Tensor* w : steps_[i].op.weights)
        if (!variable_of(w)) return false;
    }
    return true;
  }

  void note_outputs(const LayerImpl& layer, const std::vector<ValueId>& out) {
    layer_outputs_.insert(out.begin(), out.end());
    if (keep_activity_ && layer.activity_regularizer())
      for (ValueId v : out) activity_.push_back({&layer, v});
  }

  void note_logits(const std::vector<ValueId>& out, size_t first_step, size_t first_value) {
    for (ValueId o : out) {
      if (layer_outputs_.count(o) || static_cast<size_t>(o) < first_value) continue;  // passed through
      ValueId r = o;
      while (r >= 0 && values_[static_cast<size_t>(r)].parent >= 0) {
        r = values_[static_cast<size_t>(r)].parent;
        if (layer_outputs_.count(r) || static_cast<size_t>(r) < first_value) r = -1;  // a view of another's
      }
      for (size_t k = first_step; r >= 0 && k < steps_.size(); ++k)
        if (steps_[k].outputs.size() == 1 && steps_[k].outputs[0] == r) {
          ValueId z = activation_input(k, shape(o));
          if (z >= 0) logits_of_[o] = view(z, shape(o));
          break;
        }
    }
  }

  // The input of step k's softmax or sigmoid, made a value of its own when the activation is a
  // product's epilogue (split off, as a training plan splits others); -1 for any other step.
  ValueId activation_input(size_t k, const Shape& out) {
    auto logits_activation = [&](const std::string& name, Dim last) {
      return name == "sigmoid" || (name == "softmax" && out.rank() > 0 && last == out[-1]);
    };
    if (const auto* a = std::get_if<ops::ActivationOp>(&steps_[k].op.attrs))
      return logits_activation(a->name, a->last) ? steps_[k].inputs[0] : -1;
    ops::Op product, activation;
    if (!split_activation(steps_[k].op, product, activation, true)) return -1;
    const auto& act = std::get<ops::ActivationOp>(activation.attrs);
    if (!logits_activation(act.name, act.last)) return -1;
    ValueId z = add_value(product.outputs[0], -1);
    Plan::Step split{.op = std::move(activation), .inputs = {z}, .outputs = steps_[k].outputs};
    steps_[k].op = std::move(product);
    steps_[k].outputs = {z};
    steps_.insert(steps_.begin() + static_cast<long>(k) + 1, std::move(split));
    return z;
  }

  std::vector<Plan::Value>& values_;
  std::vector<Plan::Step>& steps_;
  std::vector<std::unique_ptr<Tensor>>& constants_;
  std::vector<const LayerImpl*>* train_slots_;  // null: an inference plan
  StateUpdates& state_updates_;
  bool call_training_;  // Lowering::training() of a differentiating plan
  bool weights_change_;
  std::vector<std::pair<const LayerImpl*, bool>>& trainable_;  // Plan::stale()
  std::map<const Tensor*, const Variable*> variables_;
  // The masks of the layer being lowered.
  struct Frame {
    std::vector<ValueId> input_masks;
    std::optional<std::vector<ValueId>> output_masks;
    ValueId output_logits = -1;
  };
  Frame frame_;
  bool keep_logits_ = false;
  std::set<ValueId> layer_outputs_;       // every lowered layer's outputs so far
  std::map<ValueId, ValueId> logits_of_;  // keep_logits: a layer output's logits
  bool keep_activity_ = false;
  std::vector<std::pair<const LayerImpl*, ValueId>> activity_;
};

namespace {

// How many steps read each value (through views), and whether a model output is among them.
std::vector<int> use_counts(const std::vector<Plan::Value>& values, const std::vector<Plan::Step>& steps,
                            const std::vector<int>& outputs) {
  std::vector<int> uses(values.size(), 0);
  for (const Plan::Step& s : steps)
    for (int v : s.inputs) ++uses[static_cast<size_t>(v)];
  for (int v : outputs) uses[static_cast<size_t>(v)] += 2;  // an output is never fused away
  return uses;
}

ops::Epilogue* product_epilogue(ops::Op& op) {
  if (auto* d = std::get_if<ops::DenseOp>(&op.attrs)) return &d->epilogue;
  if (auto* c = std::get_if<ops::Conv2DOp>(&op.attrs)) return &c->epilogue;
  return nullptr;
}

// Folds y = affine(product(x)) into the product's kernel and bias: the affine's scale
// multiplies the kernel's output channels (its last axis in every Keras layout).
void fold_affine(ops::Op& product, const ops::Op& affine, PlanBuilder& b) {
  const Tensor& scale = *affine.weights[0];
  const Tensor& shift = *affine.weights[1];
  Dim channels = scale.size();
  Tensor kernel = *product.weights[0];
  for (Dim i = 0; i < kernel.size(); ++i) kernel[i] *= scale[i % channels];
  ops::Epilogue* e = product_epilogue(product);
  Tensor bias(Shape{channels});
  for (Dim c = 0; c < channels; ++c) bias[c] = (e->bias ? (*product.weights[1])[c] : 0.0f) * scale[c] + shift[c];
  product.weights = {b.constant(std::move(kernel)), b.constant(std::move(bias))};
  e->bias = true;
}

// A pooling after a convolution joins the convolution's operator when the backend runs the pair
// as one (the convolution's output then never leaves the cache).
bool fuse_pool(ops::Op& conv_op, const ops::Op& pool_op, const backends::Backend& backend) {
  const auto* pool = std::get_if<ops::Pool2DOp>(&pool_op.attrs);
  const auto* conv = std::get_if<ops::Conv2DOp>(&conv_op.attrs);
  if (!pool || !conv || conv->pool) return false;
  ops::Op fused = conv_op;
  std::get<ops::Conv2DOp>(fused.attrs).pool = *pool;
  fused.outputs = pool_op.outputs;
  if (!backend.supports(fused)) return false;
  conv_op = std::move(fused);
  return true;
}

bool pooled(const ops::Op& op) {
  const auto* c = std::get_if<ops::Conv2DOp>(&op.attrs);
  return c && c->pool;
}

// The step writing each value (-1 for inputs and views).
std::vector<int> producers(const std::vector<Plan::Step>& steps, const std::vector<Plan::Value>& values) {
  std::vector<int> producer(values.size(), -1);
  for (size_t i = 0; i < steps.size(); ++i)
    for (int v : steps[i].outputs) producer[static_cast<size_t>(v)] = static_cast<int>(i);
  return producer;
}

// Drops the steps a rewrite marked removed, keeping the others' order.
void erase_removed(std::vector<Plan::Step>& steps, const std::vector<bool>& removed) {
  std::vector<Plan::Step> kept;
  for (size_t i = 0; i < steps.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(steps[i]));
  steps = std::move(kept);
}

// A transpose of a transpose that undoes it (channels_first layers one after another: each moves
// channels last for its kernel and back) reads the first one's input instead, so a run of
// channels_first layers keeps the kernels' layout between them; a transpose left with no reader
// goes too.
void cancel_transposes(std::vector<Plan::Step>& steps, std::vector<Plan::Value>& values,
                       const std::vector<int>& outputs) {
  std::vector<int> producer = producers(steps, values);
  // Reads of each root's memory, through views too; a model output (or a view of one) stays.
  auto root_of = [&](int v) { return values[static_cast<size_t>(v)].root; };
  std::vector<int> reads(values.size(), 0);
  std::vector<bool> output(values.size(), false);
  for (const Plan::Step& s : steps)
    for (int v : s.inputs) ++reads[static_cast<size_t>(root_of(v))];
  for (int v : outputs) output[static_cast<size_t>(root_of(v))] = true;
  std::vector<bool> removed(steps.size(), false);
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto* second = std::get_if<ops::TransposeOp>(&steps[i].op.attrs);
    if (!second) continue;
    int mid = steps[i].inputs[0], out = steps[i].outputs[0];
    int p = producer[static_cast<size_t>(mid)];
    if (p < 0 || removed[static_cast<size_t>(p)] || output[static_cast<size_t>(out)]) continue;
    const auto* first = std::get_if<ops::TransposeOp>(&steps[static_cast<size_t>(p)].op.attrs);
    if (!first || first->perm.size() != second->perm.size()) continue;
    bool identity = true;
    for (size_t a = 0; a < second->perm.size(); ++a)
      identity = identity && first->perm[static_cast<size_t>(second->perm[a])] == static_cast<int>(a);
    int source = steps[static_cast<size_t>(p)].inputs[0];
    if (!identity || values[static_cast<size_t>(source)].shape != values[static_cast<size_t>(out)].shape) continue;
    // Readers of `out`, and views of it, read `source` instead.
    for (Plan::Step& s : steps)
      for (int& v : s.inputs)
        if (v == out) v = source;
    for (Plan::Value& v : values) {
      if (v.parent == out) v.parent = source;
      if (v.root == out) v.root = root_of(source);
    }
    reads[static_cast<size_t>(root_of(source))] += reads[static_cast<size_t>(out)];
    removed[i] = true;
    if (--reads[static_cast<size_t>(mid)] == 0 && !output[static_cast<size_t>(mid)]) {
      removed[static_cast<size_t>(p)] = true;
      --reads[static_cast<size_t>(root_of(source))];
    }
  }
  erase_removed(steps, removed);
}

// Inference rewrites: BatchNormalization (an affine op) folded into the product before it,
// activations fused into the product's epilogue, then poolings into the convolution, each when
// the product's output feeds nothing else.
void fuse(std::vector<Plan::Step>& steps, const std::vector<Plan::Value>& values, const std::vector<int>& outputs,
          PlanBuilder& b, const backends::Backend& backend) {
  std::vector<int> producer = producers(steps, values);
  std::vector<int> uses = use_counts(values, steps, outputs);
  std::vector<bool> removed(steps.size(), false);
  for (size_t i = 0; i < steps.size(); ++i) {
    Plan::Step& s = steps[i];
    if (s.inputs.size() != 1) continue;
    int v = s.inputs[0];
    int p = producer[static_cast<size_t>(v)];
    if (p < 0 || removed[static_cast<size_t>(p)] || uses[static_cast<size_t>(v)] != 1) continue;
    Plan::Step& prod = steps[static_cast<size_t>(p)];
    if (prod.outputs.size() != 1 || prod.outputs[0] != v) continue;
    if (std::holds_alternative<ops::Pool2DOp>(s.op.attrs)) {
      if (!fuse_pool(prod.op, s.op, backend)) continue;
    } else {
      ops::Epilogue* e = product_epilogue(prod.op);
      if (!e || !ops::is_linear(e->activation) || pooled(prod.op)) continue;
      if (const auto* a = std::get_if<ops::AffineOp>(&s.op.attrs)) {
        if (a->channels != prod.op.outputs[0][-1]) continue;
        fold_affine(prod.op, s.op, b);
      } else if (const auto* act = std::get_if<ops::ActivationOp>(&s.op.attrs)) {
        if (act->last != prod.op.outputs[0][-1]) continue;
        e->activation = act->name;
      } else {
        continue;
      }
    }
    // The product now writes the rewritten step's output.
    prod.outputs[0] = s.outputs[0];
    producer[static_cast<size_t>(s.outputs[0])] = p;
    removed[i] = true;
  }
  erase_removed(steps, removed);
}

// First-fit placement of [first, last] lifetimes in one arena (ggml-alloc's idea).
class ArenaPlanner {
 public:
  size_t place(size_t bytes, int first, int last) {
    bytes = align_up(std::max<size_t>(bytes, 1));
    std::vector<std::pair<size_t, size_t>> busy;
    for (const Block& b : blocks_)
      if (!(b.last < first || b.first > last)) busy.push_back({b.offset, b.offset + b.bytes});
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + bytes <= begin) break;
      offset = std::max(offset, end);
    }
    blocks_.push_back({offset, bytes, first, last});
    total_ = std::max(total_, offset + bytes);
    return offset;
  }
  size_t total() const { return total_; }

 private:
  struct Block {
    size_t offset, bytes;
    int first, last;
  };
  std::vector<Block> blocks_;
  size_t total_ = 0;
};

}  // namespace

namespace {

// A model's variables (its layers', nested models' included), or one layer's.
std::vector<const Variable*> root_variables(const LayerImpl& root) { return root.variables(); }

}  // namespace

Plan::Plan(const LayerImpl& root, const std::vector<Shape>& input_shapes, std::shared_ptr<Runtime> runtime,
           Options options)
    : runtime_(std::move(runtime)), input_shapes_(input_shapes), options_(options) {
  bool training = options.training;
  std::vector<const Variable*> variables = root_variables(root);
  PlanBuilder b(values_, steps_, constants_, training ? &train_slots_ : nullptr, state_updates_,
                !options.inference_mode, options.weights_change, trainable_);
  if (training) b.add_variables(variables);
  std::vector<ValueId> in;
  for (size_t i = 0; i < input_shapes.size(); ++i) in.push_back(b.add_value(input_shapes[i], static_cast<int>(i)));
  if (options.logits) b.keep_logits();
  if (options.activity) b.keep_activity();
  outputs_ = b.lower_layer(root, in, {}, &output_masks_);
  activity_ = b.activity();
  for (int v : outputs_) {
    output_shapes_.push_back(values_[static_cast<size_t>(v)].shape);
    output_logits_.push_back(b.logits_of(v));
  }
  // Operators: the runtime's backend where it can, the reference backend elsewhere.
  const backends::Backend& fast = runtime_->backend();
  if (training)
    build_backward(b, variables, in);
  else {
    std::vector<int> kept = outputs_;  // values the rewrites must leave in place
    for (int v : output_masks_)
      if (v >= 0) kept.push_back(v);
    for (int v : output_logits_)
      if (v >= 0) kept.insert(kept.end(), {v, values_[static_cast<size_t>(v)].root});
    for (const auto& [layer, v] : activity_) kept.insert(kept.end(), {v, values_[static_cast<size_t>(v)].root});
    cancel_transposes(steps_, values_, kept);
    fuse(steps_, values_, kept, b, fast);
  }
  for (Step& s : steps_) {
    const backends::Backend& be = fast.supports(s.op) ? fast : backends::reference_backend();
    s.impl = be.create(s.op, {.threads = runtime_->threads(), .weights_change = training || options.weights_change});
    s.backend = be.name();
    s.workspace_bytes = s.impl->workspace_bytes();
    max_step_inputs_ = std::max(max_step_inputs_, s.inputs.size());
    max_step_outputs_ = std::max(max_step_outputs_, s.outputs.size());
  }

  // Lifetimes of arena roots: from the step that writes them to the last step that reads
  // them (or the end, for outputs).
  int end = static_cast<int>(steps_.size());
  for (int i = 0; i < end; ++i) {
    for (int v : steps_[static_cast<size_t>(i)].inputs) {
      Value& r = values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)];
      r.last_use = std::max(r.last_use, i);
    }
  }
  for (int v : outputs_) values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  for (const std::vector<int>* kept : {&output_masks_, &output_logits_})
    for (int v : *kept)
      if (v >= 0) values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  for (const auto& [layer, v] : activity_)
    values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  for (int v : gradient_values_) values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  for (int v : input_gradient_values_)
    if (v >= 0) values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  for (const auto& [layer, state] : state_updates_)
    for (int v : state) values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)].last_use = end;
  ArenaPlanner planner;
  for (int i = 0; i < end; ++i) {
    Step& s = steps_[static_cast<size_t>(i)];
    for (int v : s.outputs) {
      Value& r = values_[static_cast<size_t>(v)];
      r.offset = planner.place(static_cast<size_t>(r.size) * sizeof(float), i, std::max(i, r.last_use));
    }
    if (s.workspace_bytes) s.workspace_offset = planner.place(s.workspace_bytes, i, i);
  }
  arena_bytes_ = planner.total();

  // The weights the operators read, to notice when they change.
  if (!training && !options.weights_change)
    for (const Variable* v : variables) weight_versions_.push_back({v, v->version});
}

Plan::~Plan() = default;

// Walks the forward steps backwards, asking each for its gradients (autodiff.h) and summing
// those that reach one value from several readers (and its views) or one variable from
// several ops (a shared layer), in the order the walk meets them.
void Plan::build_backward(PlanBuilder& b, const std::vector<const Variable*>& variables,
                          const std::vector<int>& inputs) {
  backward_begin_ = steps_.size();
  size_t forward_values = values_.size();
  auto at = [&](int v) -> Value& { return values_[static_cast<size_t>(v)]; };
  // Which values depend on a variable: only they need gradients.
  std::vector<bool> requires_grad(forward_values, false);
  if (options_.input_gradients)
    for (int v : inputs) requires_grad[static_cast<size_t>(v)] = true;
  auto needs_grad = [&](int v) {
    while (at(v).parent >= 0) v = at(v).parent;
    return bool(requires_grad[static_cast<size_t>(v)]);
  };
  const std::set<const Variable*> differentiated(variables.begin(), variables.end());
  for (const Step& s : steps_) {
    const auto* t = std::get_if<ops::LayerTrainOp>(&s.op.attrs);
    bool r = !s.op.weights.empty() || (t && !std::as_const(*t->layer).variables().empty());
    // A variable read as a value needs a gradient only when the plan differentiates it.
    if (std::holds_alternative<ops::VariableOp>(s.op.attrs))
      r = differentiated.count(b.variable_of(s.op.weights[0])) > 0;
    for (int v : s.inputs) r = r || needs_grad(v);
    // Masks and RNN states have no gradient.
    if (std::holds_alternative<ops::MaskOp>(s.op.attrs) || std::holds_alternative<ops::StateOp>(s.op.attrs)) r = false;
    for (int v : s.outputs) requires_grad[static_cast<size_t>(v)] = r;
  }
  std::vector<std::vector<int>> views(forward_values), parts(forward_values);
  for (size_t v = 0; v < forward_values; ++v)
    if (values_[v].parent >= 0) views[static_cast<size_t>(values_[v].parent)].push_back(static_cast<int>(v));
  int model_inputs = static_cast<int>(input_shapes_.size());
  // The loss's gradients come in as inputs: w.r.t. each output, then w.r.t. each output's logits.
  int n = static_cast<int>(outputs_.size());
  for (int i = 0; i < n; ++i) {
    parts[static_cast<size_t>(outputs_[i])].push_back(b.add_value(output_shapes_[i], model_inputs + i));
    if (int z = output_logits_[static_cast<size_t>(i)]; z >= 0)
      parts[static_cast<size_t>(z)].push_back(b.add_value(at(z).shape, model_inputs + n + i));
  }
  for (size_t j = 0; j < activity_.size(); ++j) {
    int v = activity_[j].second;
    parts[static_cast<size_t>(v)].push_back(b.add_value(at(v).shape, model_inputs + 2 * n + static_cast<int>(j)));
  }
  std::function<int(int)> gradient = [&](int v) {
    std::vector<int> all = parts[static_cast<size_t>(v)];
    for (int w : views[static_cast<size_t>(v)])
      if (int gw = gradient(w); gw >= 0) all.push_back(b.view(gw, at(v).shape));
    return all.empty() ? -1 : sum_gradients(b, all, "");
  };
  std::map<const Variable*, std::vector<int>> variable_parts;
  for (size_t i = backward_begin_; i-- > 0;) {
    const ops::Op op = steps_[i].op;  // copies: emitting grows steps_
    const std::vector<int> inputs = steps_[i].inputs, outputs = steps_[i].outputs;
    std::vector<int> dy;
    bool reached = false;
    for (int v : outputs) reached = (dy.emplace_back(gradient(v)) >= 0) || reached;
    if (!reached || !requires_grad[static_cast<size_t>(outputs[0])]) continue;
    std::vector<bool> need;
    for (int v : inputs) need.push_back(needs_grad(v));
    OpGradients g = emit_gradients(b, op, inputs, outputs, dy, need);
    for (size_t k = 0; k < inputs.size(); ++k)
      if (need[k] && g.inputs[k] >= 0) parts[static_cast<size_t>(inputs[k])].push_back(g.inputs[k]);
    std::vector<const Variable*> vars;
    if (const auto* t = std::get_if<ops::LayerTrainOp>(&op.attrs))
      vars = std::as_const(*t->layer).variables();
    else
      for (const Tensor* w : op.weights) vars.push_back(b.variable_of(w));
    for (size_t k = 0; k < vars.size(); ++k) variable_parts[vars[k]].push_back(g.weights.at(k));
  }
  for (int v : inputs) input_gradient_values_.push_back(options_.input_gradients ? gradient(v) : -1);
  for (const Variable* v : variables) {
    auto it = variable_parts.find(v);
    if (it == variable_parts.end()) continue;
    gradient_variables_.push_back(v);
    gradient_values_.push_back(sum_gradients(b, it->second, ""));
    variable_parts.erase(it);  // a layer listed twice (shared) gets one gradient
  }
}

bool Plan::stale() const {
  for (const auto& [v, version] : weight_versions_)
    if (v->version != version) return true;
  for (const auto& [layer, trainable] : trainable_)
    if (layer->trainable() != trainable) return true;
  return false;
}

std::unique_ptr<Plan::Arena> Plan::acquire_arena() const {
  {
    std::lock_guard<std::mutex> lock(arenas_mutex_);
    if (!free_arenas_.empty()) {
      auto a = std::move(free_arenas_.back());
      free_arenas_.pop_back();
      return a;
    }
    // Room for every concurrent caller's arena to come back without growing the vector.
    free_arenas_.reserve(free_arenas_.capacity() + 1);
  }
  auto a = std::make_unique<Arena>();
  a->memory.reset(
      static_cast<float*>(::operator new(std::max<size_t>(arena_bytes_, kAlign), std::align_val_t(kAlign))));
  a->inputs.resize(max_step_inputs_);
  a->outputs.resize(max_step_outputs_);
  return a;
}

void Plan::release_arena(std::unique_ptr<Arena> arena) const {
  std::lock_guard<std::mutex> lock(arenas_mutex_);
  free_arenas_.push_back(std::move(arena));
}

float* Plan::address(const Arena& arena, std::span<const float* const> inputs, int v) const {
  const Value& r = values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)];
  if (r.input >= 0) return const_cast<float*>(inputs[static_cast<size_t>(r.input)]);
  return reinterpret_cast<float*>(reinterpret_cast<char*>(arena.memory.get()) + r.offset);
}

void Plan::run_steps(Arena& arena, std::span<const float* const> inputs, size_t begin, size_t end,
                     const backends::RunContext& ctx) const {
  char* base = reinterpret_cast<char*>(arena.memory.get());
  for (size_t i = begin; i < end; ++i) {
    const Step& s = steps_[i];
    for (size_t k = 0; k < s.inputs.size(); ++k) arena.inputs[k] = address(arena, inputs, s.inputs[k]);
    for (size_t k = 0; k < s.outputs.size(); ++k) arena.outputs[k] = address(arena, inputs, s.outputs[k]);
    s.impl->run({arena.inputs.data(), s.inputs.size()}, {arena.outputs.data(), s.outputs.size()},
                base + s.workspace_offset, ctx);
  }
}

void Plan::run(std::span<const float* const> inputs, std::span<float* const> outputs, std::span<float* const> masks,
               std::span<float* const> logits, double* activity_penalty) const {
  if (options_.training) throw ValueError("A training plan runs through Plan::TrainingRun");
  std::unique_ptr<Arena> arena = acquire_arena();
  auto copy = [&](int v, float* to) {
    std::memcpy(to, address(*arena, inputs, v),
                static_cast<size_t>(values_[static_cast<size_t>(v)].size) * sizeof(float));
  };
  try {
    run_steps(*arena, inputs, 0, steps_.size(), backends::RunContext{.pool = &runtime_->pool()});
    for (size_t i = 0; i < outputs_.size(); ++i) copy(outputs_[i], outputs[i]);
    for (size_t i = 0; i < masks.size() && i < output_masks_.size(); ++i)
      if (masks[i] && output_masks_[i] >= 0) copy(output_masks_[i], masks[i]);
    for (size_t i = 0; i < logits.size() && i < output_logits_.size(); ++i)
      if (logits[i] && output_logits_[i] >= 0) copy(output_logits_[i], logits[i]);
    if (activity_penalty) *activity_penalty = this->activity_penalty(*arena, inputs, nullptr);
  } catch (...) {
    release_arena(std::move(arena));
    throw;
  }
  release_arena(std::move(arena));
}

Plan::TrainingRun::TrainingRun(const Plan& plan)
    : plan_(plan),
      arena_(plan.acquire_arena()),
      inputs_(plan.input_shapes_.size() + 2 * plan.outputs_.size() + plan.activity_.size(), nullptr),
      saved_(plan.train_slots_.size()) {
  if (!plan.options_.training) throw ValueError("An inference plan cannot run a training step");
}

Plan::TrainingRun::~TrainingRun() { plan_.release_arena(std::move(arena_)); }

void Plan::TrainingRun::forward(std::span<const float* const> inputs, uint64_t seed) {
  std::copy(inputs.begin(), inputs.end(), inputs_.begin());
  seed_ = seed;
  backends::RunContext ctx{.pool = &plan_.runtime_->pool(), .saved = &saved_, .seed = seed_};
  plan_.run_steps(*arena_, inputs_, 0, plan_.backward_begin_, ctx);
}

const float* Plan::TrainingRun::output(size_t i) const { return plan_.address(*arena_, inputs_, plan_.outputs_.at(i)); }

const float* Plan::TrainingRun::output_mask(size_t i) const {
  int v = plan_.output_masks_.at(i);
  return v < 0 ? nullptr : plan_.address(*arena_, inputs_, v);
}

double Plan::activity_penalty(const Arena& arena, std::span<const float* const> inputs,
                              std::vector<Tensor>* grads) const {
  double total = 0;
  for (const auto& [layer, v] : activity_) {
    const Value& value = values_[static_cast<size_t>(v)];
    Tensor out = Tensor::empty(value.shape);
    const float* from = address(arena, inputs, v);
    std::copy(from, from + out.size(), out.data());
    Tensor* grad = grads ? &grads->emplace_back(Tensor::zeros(value.shape)) : nullptr;
    total += layer->activity_regularizer()->penalty(out, grad);
  }
  return total;
}

double Plan::TrainingRun::activity_penalty(std::vector<Tensor>* grads) const {
  return plan_.activity_penalty(*arena_, inputs_, grads);
}

const float* Plan::TrainingRun::output_logits(size_t i) const {
  int v = plan_.output_logits_.at(i);
  return v < 0 ? nullptr : plan_.address(*arena_, inputs_, v);
}

std::optional<Shape> Plan::output_logits_shape(size_t i) const {
  int v = output_logits_.at(i);
  if (v < 0) return std::nullopt;
  return values_[static_cast<size_t>(v)].shape;
}

std::optional<Shape> Plan::output_mask_shape(size_t i) const {
  int v = output_masks_.at(i);
  if (v < 0) return std::nullopt;
  return values_[static_cast<size_t>(v)].shape;
}

std::vector<Tensor> Plan::TrainingRun::outputs() const {
  std::vector<Tensor> out;
  for (size_t i = 0; i < plan_.output_shapes_.size(); ++i) {
    Tensor& t = out.emplace_back(Tensor::empty(plan_.output_shapes_[i]));
    std::copy(output(i), output(i) + t.size(), t.data());
  }
  return out;
}

void Plan::TrainingRun::backward(std::span<const float* const> output_grads, std::span<const float* const> logits_grads,
                                 std::span<const float* const> activity_grads) {
  if (activity_grads.size() != plan_.activity_.size())
    throw ValueError("A training step needs one gradient per activity-regularized output");
  size_t n = plan_.outputs_.size();
  if (output_grads.size() != n || (logits_grads.size() != n && !logits_grads.empty()))
    throw ValueError("A training step needs one gradient per model output (and per output's logits)");
  for (size_t i = 0; i < n; ++i)
    if (plan_.output_logits_[i] >= 0 && (logits_grads.empty() || !logits_grads[i]))
      throw ValueError("Model output " + std::to_string(i) + " carries logits: its step needs their gradient too");
  auto at = inputs_.begin() + static_cast<long>(plan_.input_shapes_.size());
  std::copy(output_grads.begin(), output_grads.end(), at);
  std::copy(logits_grads.begin(), logits_grads.end(), at + static_cast<long>(n));
  std::copy(activity_grads.begin(), activity_grads.end(), at + static_cast<long>(2 * n));
  backends::RunContext ctx{.pool = &plan_.runtime_->pool(), .saved = &saved_, .seed = seed_};
  plan_.run_steps(*arena_, inputs_, plan_.backward_begin_, plan_.steps_.size(), ctx);
}

const float* Plan::TrainingRun::input_gradient(size_t i) const {
  int v = plan_.input_gradient_values_.empty() ? -1 : plan_.input_gradient_values_.at(i);
  return v < 0 ? nullptr : plan_.address(*arena_, inputs_, v);
}

bool Plan::calls_layer(const LayerImpl& layer) const {
  for (const Step& s : steps_) {
    if (const auto* c = std::get_if<ops::LayerCallOp>(&s.op.attrs); c && c->layer == &layer) return true;
    if (const auto* t = std::get_if<ops::LayerTrainOp>(&s.op.attrs); t && t->layer == &layer) return true;
  }
  return false;
}

const float* Plan::TrainingRun::gradient(size_t i) const {
  return plan_.address(*arena_, inputs_, plan_.gradient_values_.at(i));
}

void Plan::TrainingRun::apply_state_updates() const {
  // The plan reads the model as const; the trainer that runs this step owns it and lets the
  // layers update their state, as after a step without a plan.
  for (size_t i = 0; i < saved_.size(); ++i)
    const_cast<LayerImpl*>(plan_.train_slots_[i])->apply_state_updates(saved_[i]);
  for (const auto& [layer, state] : plan_.state_updates_) {
    SavedState values;
    for (int v : state) {
      Tensor& t = values.tensors.emplace_back(Tensor::empty(plan_.values_[static_cast<size_t>(v)].shape));
      const float* src = plan_.address(*arena_, inputs_, v);
      std::copy(src, src + t.size(), t.data());
    }
    const_cast<LayerImpl*>(layer)->apply_state_updates(values);
  }
}

double Plan::flops() const {
  double total = 0;
  for (const Step& s : steps_) total += ops::flops(s.op);
  return total;
}

std::string Plan::profile(std::span<const float* const> inputs, int runs) const {
  if (options_.training) throw ValueError("Plan::profile times inference plans");
  std::unique_ptr<Arena> arena = acquire_arena();
  backends::RunContext ctx{.pool = &runtime_->pool()};
  std::vector<std::vector<double>> times(steps_.size());
  for (int r = 0; r < std::max(runs, 1); ++r)
    for (size_t i = 0; i < steps_.size(); ++i) {
      auto t0 = std::chrono::steady_clock::now();
      run_steps(*arena, inputs, i, i + 1, ctx);
      times[i].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  release_arena(std::move(arena));
  std::vector<double> median(steps_.size());
  double total = 0;
  for (size_t i = 0; i < steps_.size(); ++i) {
    std::sort(times[i].begin(), times[i].end());
    median[i] = times[i][times[i].size() / 2];
    total += median[i];
  }
  std::istringstream lines(describe());
  std::ostringstream os;
  os << std::fixed;
  std::string line;
  for (size_t i = 0; i < steps_.size() && std::getline(lines, line); ++i) {
    double flops = ops::flops(steps_[i].op);
    os << std::setprecision(3) << std::setw(9) << median[i] * 1e3 << " ms " << std::setprecision(1) << std::setw(5)
       << 100 * median[i] / std::max(total, 1e-12) << " % ";
    if (flops > 0)
      os << std::setw(7) << flops / median[i] / 1e9 << " GFLOP/s  ";
    else
      os << std::string(17, ' ');
    os << line << "\n";
  }
  os << std::setprecision(3) << std::setw(9) << total * 1e3 << " ms in all (medians of " << std::max(runs, 1)
     << " runs)\n";
  return os.str();
}

std::string Plan::describe() const {
  std::ostringstream os;
  for (const Step& s : steps_)
    os << ops::kind_name(s.op) << (pooled(s.op) ? "+pool2d" : "") << " " << s.op.layer << " [" << s.backend << "] -> "
       << (s.op.outputs.empty() ? std::string("()") : s.op.outputs[0].str()) << "\n";
  os << "arena: " << arena_bytes_ << " bytes\n";
  return os.str();
}

std::shared_ptr<const Plan> PlanCache::get(const LayerImpl& root, std::span<const Shape* const> input_shapes,
                                           const std::shared_ptr<Runtime>& runtime, Plan::Options options) {
  auto same = [&](const std::vector<Shape>& shapes) {
    if (shapes.size() != input_shapes.size()) return false;
    for (size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i] != *input_shapes[i]) return false;
    return true;
  };
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    const Plan& p = **it;
    if (p.runtime() != runtime.get() || p.options().training != options.training ||
        p.options().input_gradients != options.input_gradients ||
        p.options().weights_change != options.weights_change || p.options().inference_mode != options.inference_mode ||
        p.options().logits != options.logits || p.options().activity != options.activity || !same(p.input_shapes()))
      continue;
    if (!p.stale()) return *it;
    plans_.erase(it);
    break;
  }
  // Plans for runtimes no longer in use go (set_num_threads replaced the default).
  std::erase_if(plans_, [](const auto& p) { return p->orphaned(); });
  std::vector<Shape> shapes;
  for (const Shape* s : input_shapes) shapes.push_back(*s);
  plans_.push_back(std::make_shared<Plan>(root, shapes, runtime, options));
  return plans_.back();
}

void PlanCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  plans_.clear();
}

}  // namespace keras::graph
