#pragma once
// How ops run. A Backend says which ops it supports and makes Operators for them; the plan
// (engine/graph/plan.h) asks the model's backend first and falls back to the reference
// backend op by op, as ggml's supports_op and scheduler. Nothing here is global: a model's
// Runtime (keras/runtime.h) names its backend and thread pool.
//
// An operator's life is XNNPACK's: create (weights packed into the backend's layout, epilogue
// fused, shapes fixed: a plan is built per input shape, so creating is also reshaping) ->
// workspace_bytes (the scratch the plan reserves in its arena) -> run (pointers only: no
// allocation, no lookups). run() is const and keeps no state, so one operator runs on many
// threads at once, each with its own buffers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ops/op.h"

namespace keras {
struct SavedState;
}

namespace keras::backends {

class ThreadPool;

struct RunContext {
  ThreadPool* pool = nullptr;  // never null while a plan runs
  // A training run's: one SavedState per LayerTrainOp slot, and the step's seed (dropout
  // masks). Null and 0 at inference.
  std::vector<SavedState>* saved = nullptr;
  uint64_t seed = 0;
};

class Operator {
 public:
  virtual ~Operator() = default;
  virtual size_t workspace_bytes() const { return 0; }
  // inputs/outputs: one buffer per op input/output, sized by the op's shapes; outputs never
  // alias inputs. workspace: workspace_bytes(), 64-byte aligned.
  virtual void run(std::span<const float* const> inputs, std::span<float* const> outputs, void* workspace,
                   const RunContext& ctx) const = 0;
};

struct CreateOptions {
  int threads = 1;  // of the runtime the operator will run on: sizes per-thread scratch
  // The weights change between runs (a training plan: every optimizer step): read them at run
  // time, in Keras's layout, and keep no packed or transformed copy.
  bool weights_change = false;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual bool supports(const ops::Op& op) const = 0;
  // Throws NotImplementedError for an op it does not support.
  virtual std::unique_ptr<Operator> create(const ops::Op& op, const CreateOptions& options = {}) const = 0;
};

// Plain loops for every op; what tests compare the fast backends with.
const Backend& reference_backend();
// The fast CPU backend: own AVX-512/AVX2 kernels chosen by the CPU's features at run time.
const Backend& cpu_backend();

}  // namespace keras::backends
