#pragma once
// Losses with Keras's names, arguments and formulas (keras.losses, KERAS_SPEC §9.3).
// A loss gives per-sample values (Keras's Loss.call), reduces them with sample weights, and
// gives the gradient of the reduced value with respect to y_pred for training.
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "keras/tensor.h"

namespace keras::losses {

// The reduced loss of a batch and its gradient with respect to y_pred (y_pred's shape).
struct LossValue {
  double value = 0;
  Tensor grad;
};

// Base class of every loss; subclass it for a custom loss (call() and call_grad()).
class LossImpl {
 public:
  // reduction: "sum_over_batch_size" (the mean over all per-sample values), "mean" (the
  // same), "sum", "mean_with_sample_weight" (divided by the sum of the weights) or "none".
  LossImpl(std::string name, std::string reduction);
  virtual ~LossImpl() = default;

  // Keras's class name, e.g. "CategoricalCrossentropy".
  virtual std::string class_name() const = 0;
  const std::string& name() const { return name_; }
  const std::string& reduction() const { return reduction_; }

  // The unreduced losses: y_pred's shape without its last axis for the usual losses.
  virtual Tensor call(const Tensor& y_true, const Tensor& y_pred) const = 0;
  // The gradient with respect to y_pred of sum(upstream * call(y_true, y_pred)).
  virtual Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const = 0;

  // Keras's loss(y_true, y_pred, sample_weight): the reduced value. sample_weight is empty,
  // or one weight per sample ((N,) or (N, 1)), or the shape of the unreduced losses. mask: y_pred's
  // Keras mask (0/1 in the shape of the unreduced losses, e.g. from Embedding(mask_zero=True)),
  // empty for none: masked losses count for nothing and the mean is over the unmasked ones.
  double operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {},
                    const Tensor& mask = {}) const;
  LossValue value_and_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {},
                           const Tensor& mask = {}) const;

  // Keras 3's get_config(): name, reduction and the loss's own arguments.
  virtual nlohmann::json get_config() const;
  // This loss as Keras's TensorFlow backend computes it when y_pred is the output of a softmax
  // or sigmoid activation: from that activation's logits (`_keras_logits`, read whatever the
  // activation and whatever `from_logits` says; no clipping). Null for a loss that never reads
  // logits (all but the three crossentropies).
  virtual std::shared_ptr<const LossImpl> on_logits() const { return nullptr; }

 private:
  std::string name_;
  std::string reduction_;
};

// A shared handle to a loss; a string is looked up as keras.losses.get() does.
class Loss {
 public:
  Loss() = default;
  Loss(const char* identifier);                // NOLINT: "categorical_crossentropy", "mse"...
  Loss(const std::string& identifier);         // NOLINT
  Loss(std::shared_ptr<const LossImpl> impl);  // NOLINT

  const LossImpl* operator->() const { return impl_.get(); }
  const LossImpl& operator*() const { return *impl_; }
  const std::shared_ptr<const LossImpl>& impl() const { return impl_; }
  explicit operator bool() const { return impl_ != nullptr; }
  // The string this loss was given as, or "" (compile_config writes strings back as given).
  const std::string& identifier() const { return identifier_; }

  double operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight = {},
                    const Tensor& mask = {}) const {
    return (*impl_)(y_true, y_pred, sample_weight, mask);
  }

 private:
  std::shared_ptr<const LossImpl> impl_;
  std::string identifier_;
};

// keras.losses.get(): a name ("mse", "categorical_crossentropy"...) or a class name
// ("MeanSquaredError"). Throws ValueError for an unknown name.
Loss get(const std::string& identifier);
// A loss from its serialized form: a string or {"class_name": ..., "config": {...}}.
Loss deserialize(const nlohmann::json& config);
// The Keras 3 serialized form ({"module": "keras.losses", "class_name", "config", ...}),
// or the identifier string the loss was made from.
nlohmann::json serialize(const Loss& loss);

inline constexpr const char* kSumOverBatchSize = "sum_over_batch_size";

struct CategoricalCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;
  int axis = -1;
  std::string reduction = kSumOverBatchSize;
  std::string name = "categorical_crossentropy";
};
// -sum(y_true * log(p)) over the last axis; p = y_pred / sum(y_pred) clipped to [1e-7, 1 - 1e-7],
// or log_softmax(y_pred) when from_logits.
Loss CategoricalCrossentropy(const CategoricalCrossentropyOptions& options = {});

struct SparseCategoricalCrossentropyOptions {
  bool from_logits = false;
  std::string reduction = kSumOverBatchSize;
  std::string name = "sparse_categorical_crossentropy";
};
// Categorical crossentropy with integer labels of shape (N,) or (N, 1).
Loss SparseCategoricalCrossentropy(const SparseCategoricalCrossentropyOptions& options = {});

struct BinaryCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;
  int axis = -1;
  std::string reduction = kSumOverBatchSize;
  std::string name = "binary_crossentropy";
};
// -(y log p + (1-y) log(1-p)) with p clipped to [1e-7, 1 - 1e-7], then the mean over the last axis.
Loss BinaryCrossentropy(const BinaryCrossentropyOptions& options = {});

// Arguments of the losses that have no others; an empty name is the Keras default name.
struct LossOptions {
  std::string reduction = kSumOverBatchSize;
  std::string name;
};
Loss MeanSquaredError(const LossOptions& options = {});
Loss MeanAbsoluteError(const LossOptions& options = {});
Loss MeanAbsolutePercentageError(const LossOptions& options = {});
Loss MeanSquaredLogarithmicError(const LossOptions& options = {});
Loss LogCosh(const LossOptions& options = {});
Loss Hinge(const LossOptions& options = {});
Loss SquaredHinge(const LossOptions& options = {});
Loss CategoricalHinge(const LossOptions& options = {});
Loss KLDivergence(const LossOptions& options = {});
Loss Poisson(const LossOptions& options = {});

struct HuberOptions {
  double delta = 1.0;
  std::string reduction = kSumOverBatchSize;
  std::string name = "huber_loss";
};
Loss Huber(const HuberOptions& options = {});

struct CosineSimilarityOptions {
  int axis = -1;
  std::string reduction = kSumOverBatchSize;
  std::string name = "cosine_similarity";
};
// -sum(l2_normalize(y_true) * l2_normalize(y_pred)) over the last axis.
Loss CosineSimilarity(const CosineSimilarityOptions& options = {});

}  // namespace keras::losses
