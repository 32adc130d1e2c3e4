#include "engine/graph/plan.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <sstream>

#include "backends/thread_pool.h"
#include "engine/functional.h"
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
  int root = 0;    // itself, or the value whose memory it views
  int input = -1;  // for a root: the model input it is, or -1 (in the arena)
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
  PlanBuilder(std::vector<Plan::Value>& values, std::vector<Plan::Step>& steps,
              std::vector<std::unique_ptr<Tensor>>& constants)
      : values_(values), steps_(steps), constants_(constants) {}

  const Shape& shape(ValueId v) const override { return values_.at(static_cast<size_t>(v)).shape; }

  std::vector<ValueId> emit(ops::Op op, const std::vector<ValueId>& inputs) override {
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
  std::vector<Plan::Value>& values_;
  std::vector<Plan::Step>& steps_;
  std::vector<std::unique_ptr<Tensor>>& constants_;
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

// Inference rewrites: BatchNormalization (an affine op) folded into the product before it,
// activations fused into the product's epilogue, then poolings into the convolution, each when
// the product's output feeds nothing else.
void fuse(std::vector<Plan::Step>& steps, const std::vector<Plan::Value>& values, const std::vector<int>& outputs,
          PlanBuilder& b, const backends::Backend& backend) {
  std::vector<int> producer(values.size(), -1);
  for (size_t i = 0; i < steps.size(); ++i)
    for (int v : steps[i].outputs) producer[static_cast<size_t>(v)] = static_cast<int>(i);
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
  std::vector<Plan::Step> kept;
  for (size_t i = 0; i < steps.size(); ++i)
    if (!removed[i]) kept.push_back(std::move(steps[i]));
  steps = std::move(kept);
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

Plan::Plan(const FunctionalImpl& model, const std::vector<Shape>& input_shapes, std::shared_ptr<Runtime> runtime)
    : runtime_(std::move(runtime)), input_shapes_(input_shapes) {
  PlanBuilder b(values_, steps_, constants_);
  std::vector<ValueId> in;
  for (size_t i = 0; i < input_shapes.size(); ++i) in.push_back(b.add_value(input_shapes[i], static_cast<int>(i)));
  outputs_ = model.lower_graph(b, in);
  for (int v : outputs_) output_shapes_.push_back(values_[static_cast<size_t>(v)].shape);
  // Operators: the runtime's backend where it can, the reference backend elsewhere.
  const backends::Backend& fast = runtime_->backend();
  fuse(steps_, values_, outputs_, b, fast);
  for (Step& s : steps_) {
    const backends::Backend& be = fast.supports(s.op) ? fast : backends::reference_backend();
    s.impl = be.create(s.op, {.threads = runtime_->threads()});
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
  for (const Layer& l : model.layers())
    for (const Variable* v : std::as_const(*l).variables()) weight_versions_.push_back({v, v->version});
}

Plan::~Plan() = default;

bool Plan::stale() const {
  for (const auto& [v, version] : weight_versions_)
    if (v->version != version) return true;
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

void Plan::run(std::span<const float* const> inputs, std::span<float* const> outputs) const {
  std::unique_ptr<Arena> arena = acquire_arena();
  char* base = reinterpret_cast<char*>(arena->memory.get());
  auto address = [&](int v) -> float* {
    const Value& r = values_[static_cast<size_t>(values_[static_cast<size_t>(v)].root)];
    if (r.input >= 0) return const_cast<float*>(inputs[static_cast<size_t>(r.input)]);
    return reinterpret_cast<float*>(base + r.offset);
  };
  backends::RunContext ctx{.pool = &runtime_->pool()};
  try {
    for (const Step& s : steps_) {
      for (size_t i = 0; i < s.inputs.size(); ++i) arena->inputs[i] = address(s.inputs[i]);
      for (size_t i = 0; i < s.outputs.size(); ++i) arena->outputs[i] = address(s.outputs[i]);
      s.impl->run({arena->inputs.data(), s.inputs.size()}, {arena->outputs.data(), s.outputs.size()},
                  base + s.workspace_offset, ctx);
    }
    for (size_t i = 0; i < outputs_.size(); ++i) {
      const float* src = address(outputs_[i]);
      std::memcpy(outputs[i], src, static_cast<size_t>(values_[static_cast<size_t>(outputs_[i])].size) * sizeof(float));
    }
  } catch (...) {
    release_arena(std::move(arena));
    throw;
  }
  release_arena(std::move(arena));
}

double Plan::flops() const {
  double total = 0;
  for (const Step& s : steps_) total += ops::flops(s.op);
  return total;
}

std::string Plan::describe() const {
  std::ostringstream os;
  for (const Step& s : steps_)
    os << ops::kind_name(s.op) << (pooled(s.op) ? "+pool2d" : "") << " " << s.op.layer << " [" << s.backend << "] -> "
       << (s.op.outputs.empty() ? std::string("()") : s.op.outputs[0].str()) << "\n";
  os << "arena: " << arena_bytes_ << " bytes\n";
  return os.str();
}

std::shared_ptr<const Plan> PlanCache::get(const FunctionalImpl& model, std::span<const Shape* const> input_shapes,
                                           const std::shared_ptr<Runtime>& runtime) {
  auto same = [&](const std::vector<Shape>& shapes) {
    if (shapes.size() != input_shapes.size()) return false;
    for (size_t i = 0; i < shapes.size(); ++i)
      if (shapes[i] != *input_shapes[i]) return false;
    return true;
  };
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = plans_.begin(); it != plans_.end(); ++it) {
    const Plan& p = **it;
    if (p.runtime() != runtime.get() || !same(p.input_shapes())) continue;
    if (!p.stale()) return *it;
    plans_.erase(it);
    break;
  }
  // Plans for runtimes no longer in use go (set_num_threads replaced the default).
  std::erase_if(plans_, [](const auto& p) { return p->orphaned(); });
  std::vector<Shape> shapes;
  for (const Shape* s : input_shapes) shapes.push_back(*s);
  plans_.push_back(std::make_shared<Plan>(model, shapes, runtime));
  return plans_.back();
}

void PlanCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  plans_.clear();
}

}  // namespace keras::graph
