// Crossentropy losses (keras/src/losses/losses.py and the backends' categorical_crossentropy,
// sparse_categorical_crossentropy and binary_crossentropy).
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/losses.h"
#include "losses/loss_utils.h"
#include "ops/losses.h"

namespace keras::losses {

namespace {

void check_same_shape(const Tensor& target, const Tensor& output) {
  if (target.rank() != output.rank())
    throw ValueError("Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=" +
                     target.shape().str() + ", output.shape=" + output.shape().str());
  if (target.shape() != output.shape())
    throw ValueError("Arguments `target` and `output` must have the same shape. Received: target.shape=" +
                     target.shape().str() + ", output.shape=" + output.shape().str());
}

void check_last_axis(int axis, const Tensor& y_pred, const std::string& name) {
  if (y_pred.rank() < 1 || (axis != -1 && axis != y_pred.rank() - 1))
    throw NotImplementedError("Loss \"" + name + "\": only axis=-1 is supported, got axis=" + std::to_string(axis));
}

// The loss values of op (its rows and columns from y_pred), or with `grad`, their gradient.
Tensor run_op(ops::LossOp op, const Tensor& t, const Tensor& y_pred, Tensor* grad, const Tensor* upstream) {
  auto [rows, c] = detail::rows_of(y_pred);
  op.rows = rows;
  op.cols = c;
  if (grad) {
    ops::loss_backward(op, t.data(), y_pred.data(), upstream->data(), grad->data());
    return {};
  }
  Tensor out(detail::reduced_shape(y_pred.shape()));
  ops::loss_forward(op, t.data(), y_pred.data(), out.data());
  return out;
}

class CategoricalCrossentropyImpl : public LossImpl {
 public:
  explicit CategoricalCrossentropyImpl(const CategoricalCrossentropyOptions& o)
      : LossImpl(o.name, o.reduction), o_(o) {}
  std::string class_name() const override { return "CategoricalCrossentropy"; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override { return run(y_true, y_pred, nullptr); }
  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor grad(y_pred.shape());
    run(y_true, y_pred, &grad, &upstream);
    return grad;
  }
  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    c["from_logits"] = o_.from_logits;
    c["label_smoothing"] = o_.label_smoothing;
    c["axis"] = o_.axis;
    return c;
  }

  std::shared_ptr<const LossImpl> on_logits() const override {
    CategoricalCrossentropyOptions o = o_;
    o.from_logits = true;
    return std::make_shared<CategoricalCrossentropyImpl>(o);
  }

 private:
  Tensor run(const Tensor& y_true, const Tensor& y_pred, Tensor* grad, const Tensor* upstream = nullptr) const {
    check_last_axis(o_.axis, y_pred, name());
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    check_same_shape(t, y_pred);
    return run_op({.kind = ops::LossOp::Kind::kCategoricalCrossentropy,
                   .from_logits = o_.from_logits,
                   .label_smoothing = o_.label_smoothing},
                  t, y_pred, grad, upstream);
  }
  CategoricalCrossentropyOptions o_;
};

class SparseCategoricalCrossentropyImpl : public LossImpl {
 public:
  explicit SparseCategoricalCrossentropyImpl(const SparseCategoricalCrossentropyOptions& o)
      : LossImpl(o.name, o.reduction), o_(o) {}
  std::string class_name() const override { return "SparseCategoricalCrossentropy"; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override { return run(y_true, y_pred, nullptr); }
  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor grad(y_pred.shape());
    run(y_true, y_pred, &grad, &upstream);
    return grad;
  }
  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    c["from_logits"] = o_.from_logits;
    c["ignore_class"] = nullptr;
    return c;
  }

  std::shared_ptr<const LossImpl> on_logits() const override {
    SparseCategoricalCrossentropyOptions o = o_;
    o.from_logits = true;
    return std::make_shared<SparseCategoricalCrossentropyImpl>(o);
  }

 private:
  Tensor run(const Tensor& y_true, const Tensor& y_pred, Tensor* grad, const Tensor* upstream = nullptr) const {
    if (y_pred.rank() < 1)
      throw ValueError("Argument `output` must be at least rank 1. Received: output.shape=" + y_pred.shape().str());
    Shape labels_shape = y_true.shape();
    if (y_true.rank() == y_pred.rank() && y_true.rank() > 0 && y_true.dim(-1) == 1)
      labels_shape = detail::reduced_shape(labels_shape);
    Shape expected = detail::reduced_shape(y_pred.shape());
    if (labels_shape != expected)
      throw ValueError(
          "Arguments `target` and `output` must have the same shape up until the last dimension: "
          "target.shape=" +
          y_true.shape().str() + ", output.shape=" + y_pred.shape().str());
    return run_op({.kind = ops::LossOp::Kind::kSparseCategoricalCrossentropy, .from_logits = o_.from_logits}, y_true,
                  y_pred, grad, upstream);
  }
  SparseCategoricalCrossentropyOptions o_;
};

class BinaryCrossentropyImpl : public LossImpl {
 public:
  explicit BinaryCrossentropyImpl(const BinaryCrossentropyOptions& o) : LossImpl(o.name, o.reduction), o_(o) {}
  std::string class_name() const override { return "BinaryCrossentropy"; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override { return run(y_true, y_pred, nullptr); }
  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor grad(y_pred.shape());
    run(y_true, y_pred, &grad, &upstream);
    return grad;
  }
  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    c["from_logits"] = o_.from_logits;
    c["label_smoothing"] = o_.label_smoothing;
    c["axis"] = o_.axis;
    return c;
  }

  std::shared_ptr<const LossImpl> on_logits() const override {
    BinaryCrossentropyOptions o = o_;
    o.from_logits = true;
    return std::make_shared<BinaryCrossentropyImpl>(o);
  }

 private:
  Tensor run(const Tensor& y_true, const Tensor& y_pred, Tensor* grad, const Tensor* upstream = nullptr) const {
    check_last_axis(o_.axis, y_pred, name());
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    check_same_shape(t, y_pred);
    return run_op({.kind = ops::LossOp::Kind::kBinaryCrossentropy,
                   .from_logits = o_.from_logits,
                   .label_smoothing = o_.label_smoothing},
                  t, y_pred, grad, upstream);
  }
  BinaryCrossentropyOptions o_;
};

}  // namespace

Loss CategoricalCrossentropy(const CategoricalCrossentropyOptions& o) {
  return Loss(std::make_shared<CategoricalCrossentropyImpl>(o));
}
Loss SparseCategoricalCrossentropy(const SparseCategoricalCrossentropyOptions& o) {
  return Loss(std::make_shared<SparseCategoricalCrossentropyImpl>(o));
}
Loss BinaryCrossentropy(const BinaryCrossentropyOptions& o) {
  return Loss(std::make_shared<BinaryCrossentropyImpl>(o));
}

namespace detail {

Loss crossentropy_from_config(const std::string& class_name, const nlohmann::json& c) {
  auto bool_of = [&](const char* k) { return c.contains(k) && c[k].is_boolean() && c[k].get<bool>(); };
  auto double_of = [&](const char* k) { return c.contains(k) && c[k].is_number() ? c[k].get<double>() : 0.0; };
  auto axis_of = [&] { return c.contains("axis") && c["axis"].is_number_integer() ? c["axis"].get<int>() : -1; };
  if (class_name == "CategoricalCrossentropy") {
    auto base = loss_options_from_config(c, "categorical_crossentropy");
    return CategoricalCrossentropy(
        {bool_of("from_logits"), double_of("label_smoothing"), axis_of(), base.reduction, base.name});
  }
  if (class_name == "SparseCategoricalCrossentropy") {
    if (c.contains("ignore_class") && !c["ignore_class"].is_null())
      throw NotImplementedError("SparseCategoricalCrossentropy(ignore_class=...) is not supported");
    auto base = loss_options_from_config(c, "sparse_categorical_crossentropy");
    return SparseCategoricalCrossentropy({bool_of("from_logits"), base.reduction, base.name});
  }
  if (class_name == "BinaryCrossentropy") {
    auto base = loss_options_from_config(c, "binary_crossentropy");
    return BinaryCrossentropy(
        {bool_of("from_logits"), double_of("label_smoothing"), axis_of(), base.reduction, base.name});
  }
  return {};
}

}  // namespace detail

}  // namespace keras::losses
