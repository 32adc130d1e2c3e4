#pragma once
// The training loop's steps (keras/src/trainers/trainer.py): what fit(), evaluate() and the
// *_on_batch calls run per batch, and the trainable variables saving and the optimizer read.
#include <string>
#include <vector>

#include "engine/functional.h"
#include "engine/train/compile_utils.h"

namespace keras::engine {

// A trainable variable of a model, with Keras's path ("dense/kernel") and its index in
// FunctionalImpl::variables() (the order backward() returns gradients in).
struct TrainableVariable {
  Variable* variable;
  std::string path;
  size_t index;
  const LayerImpl* layer;  // its owner: regularizer_of, constraint_of
};
// Keras's model.trainable_variables: variables of trainable layers that are trainable
// themselves, in model order.
std::vector<TrainableVariable> trainable_variables(FunctionalImpl& model);

// Builds the compiled optimizer for the model's trainable variables (slots named after their
// paths), as Keras does before loading saved optimizer variables. Needs compile().
void build_optimizer(FunctionalImpl& model);

// A gradient step: training forward pass, loss, backward pass, optimizer update, state updates
// (BatchNormalization), metric updates. Returns the running logs, keys sorted.
Logs train_step(FunctionalImpl& model, const Batch& batch);
// An inference forward pass updating the loss tracker and metrics; returns the running logs.
Logs test_step(FunctionalImpl& model, const Batch& batch);
// Sequential models without an Input are built by their first data, as in Keras.
void ensure_built(FunctionalImpl& f, const std::vector<Tensor>& x);

}  // namespace keras::engine
