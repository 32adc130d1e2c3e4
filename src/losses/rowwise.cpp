// Losses computed over whole rows of the last axis: KL divergence, cosine similarity,
// categorical hinge (keras/src/losses/losses.py).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/losses.h"
#include "losses/loss_utils.h"

namespace keras::losses {

namespace {

using detail::kEpsilon;

// A loss of one row (t, p of length c); writes d loss / d p into `grad` when non-null.
using RowFn = double (*)(const float* t, const float* p, Dim c, double* grad);

// sum(t * log(t / p)) with t and p clipped to [eps, 1].
double kl_row(const float* t, const float* p, Dim c, double* grad) {
  double loss = 0;
  for (Dim j = 0; j < c; ++j) {
    double tc = std::clamp(t[j], kEpsilon, 1.0f), pc = std::clamp(p[j], kEpsilon, 1.0f);
    loss += tc * std::log(tc / pc);
    if (grad) grad[j] = (p[j] >= kEpsilon && p[j] <= 1.0f) ? -tc / pc : 0.0;
  }
  return loss;
}

// -sum(t/max(|t|, eps) * p/max(|p|, eps)): ops.normalize divides by the norm floored at epsilon.
double cosine_row(const float* t, const float* p, Dim c, double* grad) {
  double nt = 0, np = 0, dot = 0;
  for (Dim j = 0; j < c; ++j) {
    nt += double(t[j]) * t[j];
    np += double(p[j]) * p[j];
    dot += double(t[j]) * p[j];
  }
  nt = std::max(std::sqrt(nt), double(kEpsilon));
  double np_raw = std::sqrt(np);
  np = std::max(np_raw, double(kEpsilon));
  double cos = dot / (nt * np);
  if (grad)
    for (Dim j = 0; j < c; ++j) {
      double that = t[j] / nt, phat = p[j] / np;
      // Above the floor the norm depends on p: d(p/|p|) removes the component along p.
      grad[j] = np_raw > kEpsilon ? -(that - cos * phat) / np : -that / np;
    }
  return -cos;
}

// max(max((1 - t) * p) - sum(t * p) + 1, 0).
double categorical_hinge_row(const float* t, const float* p, Dim c, double* grad) {
  double pos = 0, neg = -INFINITY;
  Dim arg = 0;
  for (Dim j = 0; j < c; ++j) {
    pos += double(t[j]) * p[j];
    double n = (1.0 - t[j]) * p[j];
    if (n > neg) {
      neg = n;
      arg = j;
    }
  }
  double loss = std::max(neg - pos + 1.0, 0.0);
  if (grad)
    for (Dim j = 0; j < c; ++j) grad[j] = loss > 0 ? -double(t[j]) + (j == arg ? 1.0 - t[j] : 0.0) : 0.0;
  return loss;
}

class RowLoss : public LossImpl {
 public:
  RowLoss(std::string class_name, const LossOptions& o, RowFn fn, int axis = -1)
      : LossImpl(o.name, o.reduction), class_name_(std::move(class_name)), fn_(fn), axis_(axis) {}
  std::string class_name() const override { return class_name_; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override {
    Tensor t = prepare(y_true, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor out(detail::reduced_shape(y_pred.shape()));
    for (Dim r = 0; r < rows; ++r)
      out[r] = static_cast<float>(fn_(t.data() + r * c, y_pred.data() + r * c, c, nullptr));
    return out;
  }

  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor t = prepare(y_true, y_pred);
    auto [rows, c] = detail::rows_of(y_pred);
    Tensor grad(y_pred.shape());
    std::vector<double> g(static_cast<size_t>(c));
    for (Dim r = 0; r < rows; ++r) {
      fn_(t.data() + r * c, y_pred.data() + r * c, c, g.data());
      for (Dim j = 0; j < c; ++j) grad[r * c + j] = static_cast<float>(upstream[r] * g[size_t(j)]);
    }
    return grad;
  }

  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    if (fn_ == cosine_row) c["axis"] = axis_;
    return c;
  }

 private:
  Tensor prepare(const Tensor& y_true, const Tensor& y_pred) const {
    if (y_pred.rank() < 1 || (axis_ != -1 && axis_ != y_pred.rank() - 1))
      throw NotImplementedError("Loss \"" + name() +
                                "\": only axis=-1 is supported, got axis=" + std::to_string(axis_));
    return detail::match_true_to_pred(y_true, y_pred);
  }

  std::string class_name_;
  RowFn fn_;
  int axis_;
};

LossOptions named(const LossOptions& o, const char* default_name) {
  LossOptions r = o;
  if (r.name.empty()) r.name = default_name;
  return r;
}

}  // namespace

Loss KLDivergence(const LossOptions& o) {
  return Loss(std::make_shared<RowLoss>("KLDivergence", named(o, "kl_divergence"), kl_row));
}
Loss CategoricalHinge(const LossOptions& o) {
  return Loss(std::make_shared<RowLoss>("CategoricalHinge", named(o, "categorical_hinge"), categorical_hinge_row));
}
Loss CosineSimilarity(const CosineSimilarityOptions& o) {
  return Loss(std::make_shared<RowLoss>("CosineSimilarity", LossOptions{o.reduction, o.name}, cosine_row, o.axis));
}

namespace detail {

Loss rowwise_from_config(const std::string& class_name, const nlohmann::json& c) {
  if (class_name == "KLDivergence") return KLDivergence(loss_options_from_config(c, "kl_divergence"));
  if (class_name == "CategoricalHinge") return CategoricalHinge(loss_options_from_config(c, "categorical_hinge"));
  if (class_name == "CosineSimilarity") {
    auto base = loss_options_from_config(c, "cosine_similarity");
    int axis = c.contains("axis") && c["axis"].is_number_integer() ? c["axis"].get<int>() : -1;
    return CosineSimilarity({axis, base.reduction, base.name});
  }
  return {};
}

}  // namespace detail

}  // namespace keras::losses
