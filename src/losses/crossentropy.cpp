// Crossentropy losses (keras/src/losses/losses.py and the backends' categorical_crossentropy,
// sparse_categorical_crossentropy and binary_crossentropy).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/losses.h"
#include "losses/loss_utils.h"

namespace keras::losses {

namespace {

using detail::kEpsilon;
using detail::kOneMinusEpsilon;

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

// Categorical crossentropy of one row against a target row (already smoothed). `grad`, when
// given, receives d loss / d output scaled by `upstream`.
double categorical_row(const float* t, const float* out, Dim c, bool from_logits, float* grad, float upstream) {
  if (from_logits) {
    double m = *std::max_element(out, out + c), s = 0, tsum = 0;
    for (Dim j = 0; j < c; ++j) s += std::exp(double(out[j]) - m);
    double lse = m + std::log(s), loss = 0;
    for (Dim j = 0; j < c; ++j) {
      loss -= double(t[j]) * (double(out[j]) - lse);
      tsum += t[j];
    }
    if (grad)
      for (Dim j = 0; j < c; ++j)
        grad[j] = static_cast<float>(upstream * (std::exp(double(out[j]) - lse) * tsum - t[j]));
    return loss;
  }
  // Probabilities: p / sum(p), clipped to [eps, 1 - eps]; the clip passes no gradient outside.
  double s = 0;
  for (Dim j = 0; j < c; ++j) s += out[j];
  double loss = 0, dot = 0;
  std::vector<double> gq(grad ? size_t(c) : 0);
  for (Dim j = 0; j < c; ++j) {
    float q = static_cast<float>(out[j] / s);
    float qc = std::clamp(q, kEpsilon, kOneMinusEpsilon);
    loss -= double(t[j]) * std::log(double(qc));
    if (grad) {
      gq[size_t(j)] = (q >= kEpsilon && q <= kOneMinusEpsilon) ? -double(t[j]) / qc : 0.0;
      dot += gq[size_t(j)] * (out[j] / s);
    }
  }
  if (grad)
    for (Dim j = 0; j < c; ++j) grad[j] = static_cast<float>(upstream * (gq[size_t(j)] - dot) / s);
  return loss;
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

 private:
  Tensor run(const Tensor& y_true, const Tensor& y_pred, Tensor* grad, const Tensor* upstream = nullptr) const {
    check_last_axis(o_.axis, y_pred, name());
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    check_same_shape(t, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    if (o_.label_smoothing != 0)
      for (float& v : t.values())
        v = static_cast<float>(v * (1.0 - o_.label_smoothing) + o_.label_smoothing / double(c));
    Tensor out(detail::reduced_shape(y_pred.shape()));
    for (Dim r = 0; r < rows; ++r)
      out[r] =
          static_cast<float>(categorical_row(t.data() + r * c, y_pred.data() + r * c, c, o_.from_logits,
                                             grad ? grad->data() + r * c : nullptr, upstream ? (*upstream)[r] : 0.0f));
    return out;
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
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor out(expected);
    std::vector<float> onehot(size_t(c), 0.0f);
    for (Dim r = 0; r < rows; ++r) {
      float label = y_true[r];
      auto k = static_cast<Dim>(std::lround(label));
      if (k < 0 || k >= c || std::isnan(label))
        throw ValueError("Received a label value of " + std::to_string(k) +
                         " which is outside the valid range of [0, " + std::to_string(c) + ").");
      onehot[size_t(k)] = 1.0f;
      out[r] =
          static_cast<float>(categorical_row(onehot.data(), y_pred.data() + r * c, c, o_.from_logits,
                                             grad ? grad->data() + r * c : nullptr, upstream ? (*upstream)[r] : 0.0f));
      onehot[size_t(k)] = 0.0f;
    }
    return out;
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

 private:
  // Per element: the loss, and its derivative with respect to the output.
  std::pair<double, double> element(double t, float out) const {
    if (o_.from_logits) {
      double z = out, sig = 1.0 / (1.0 + std::exp(-z));
      return {std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z))), sig - t};
    }
    float p = std::clamp(out, kEpsilon, kOneMinusEpsilon);
    double loss = -(t * std::log(double(p)) + (1 - t) * std::log(1.0 - double(p)));
    bool inside = out >= kEpsilon && out <= kOneMinusEpsilon;
    return {loss, inside ? -t / p + (1 - t) / (1.0 - double(p)) : 0.0};
  }

  Tensor run(const Tensor& y_true, const Tensor& y_pred, Tensor* grad, const Tensor* upstream = nullptr) const {
    check_last_axis(o_.axis, y_pred, name());
    Tensor t = detail::match_true_to_pred(y_true, y_pred);
    check_same_shape(t, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor out(detail::reduced_shape(y_pred.shape()));
    for (Dim r = 0; r < rows; ++r) {
      double sum = 0;
      for (Dim j = 0; j < c; ++j) {
        double tv = t[r * c + j];
        if (o_.label_smoothing != 0) tv = tv * (1.0 - o_.label_smoothing) + 0.5 * o_.label_smoothing;
        auto [loss, d] = element(tv, y_pred[r * c + j]);
        sum += loss;
        if (grad) (*grad)[r * c + j] = static_cast<float>((*upstream)[r] * d / double(c));
      }
      out[r] = static_cast<float>(sum / double(c));
    }
    return out;
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
