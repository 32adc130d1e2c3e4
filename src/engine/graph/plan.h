#pragma once
// A model compiled for one set of input shapes: the ordered operators, the values they read and
// write, and one arena holding every value at an offset chosen by liveness (as ggml-alloc).
// Built once per input shape and cached by the model (PlanCache); run() then makes no heap
// allocation and takes no lock but the arena pool's.
//
// Building: every node of the graph lowers itself to ops (LayerImpl::lower, or a LayerCallOp);
// the inference rewrites fold BatchNormalization into the product before it and fuse
// activations into products' epilogues; each op goes to the runtime's backend when it
// supports it, else to the reference backend.
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "keras/layer.h"
#include "keras/runtime.h"

namespace keras {
class FunctionalImpl;
}

namespace keras::graph {

class Plan {
 public:
  Plan(const FunctionalImpl& model, const std::vector<Shape>& input_shapes, std::shared_ptr<Runtime> runtime);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const std::vector<Shape>& output_shapes() const { return output_shapes_; }
  const Runtime* runtime() const { return runtime_.get(); }
  // True when a weight the plan read has changed since (Variable::version).
  bool stale() const;
  // inputs: one buffer per model input, shaped as input_shapes(); outputs: one per model
  // output, shaped as output_shapes(). Safe to call from many threads at once.
  void run(std::span<const float* const> inputs, std::span<float* const> outputs) const;

  size_t arena_bytes() const { return arena_bytes_; }
  double flops() const;
  // One line per step: op kind, layer, backend, output shape.
  std::string describe() const;
  // True when no one but this plan holds its runtime any more.
  bool orphaned() const { return runtime_.use_count() == 1; }

  // Defined in plan.cpp; named here for the builder there.
  struct Step;
  struct Value;

 private:
  struct Arena;
  std::unique_ptr<Arena> acquire_arena() const;
  void release_arena(std::unique_ptr<Arena> arena) const;

  std::shared_ptr<Runtime> runtime_;
  std::vector<Shape> input_shapes_, output_shapes_;
  std::vector<Value> values_;
  std::vector<Step> steps_;
  std::vector<int> outputs_;  // the value of each model output
  std::vector<std::unique_ptr<Tensor>> constants_;
  std::vector<std::pair<const Variable*, uint64_t>> weight_versions_;
  size_t arena_bytes_ = 0;
  size_t max_step_inputs_ = 0, max_step_outputs_ = 0;
  mutable std::mutex arenas_mutex_;
  mutable std::vector<std::unique_ptr<Arena>> free_arenas_;
};

// The plans of one model, by input shapes and runtime. Thread-safe; a stale plan is rebuilt.
class PlanCache {
 public:
  // Finding a plan copies no shape: a repeated call allocates nothing.
  std::shared_ptr<const Plan> get(const FunctionalImpl& model, std::span<const Shape* const> input_shapes,
                                  const std::shared_ptr<Runtime>& runtime);
  void clear();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<const Plan>> plans_;
};

}  // namespace keras::graph
