// Losses computed over whole rows of the last axis: KL divergence, cosine similarity,
// categorical hinge (keras/src/losses/losses.py).
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/losses.h"
#include "losses/loss_utils.h"
#include "ops/losses.h"

namespace keras::losses {

namespace {

using Kind = ops::LossOp::Kind;

// A loss of whole rows of the last axis (ops::LossOp).
class RowLoss : public LossImpl {
 public:
  RowLoss(std::string class_name, const LossOptions& o, Kind kind, int axis = -1)
      : LossImpl(o.name, o.reduction), class_name_(std::move(class_name)), kind_(kind), axis_(axis) {}
  std::string class_name() const override { return class_name_; }

  Tensor call(const Tensor& y_true, const Tensor& y_pred) const override {
    Tensor t = prepare(y_true, y_pred);
    Tensor out(detail::reduced_shape(y_pred.shape()));
    ops::loss_forward(op(y_pred), t.data(), y_pred.data(), out.data());
    return out;
  }

  Tensor call_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& upstream) const override {
    Tensor t = prepare(y_true, y_pred);
    Tensor grad(y_pred.shape());
    ops::loss_backward(op(y_pred), t.data(), y_pred.data(), upstream.data(), grad.data());
    return grad;
  }

  nlohmann::json get_config() const override {
    auto c = LossImpl::get_config();
    if (kind_ == Kind::kCosineSimilarity) c["axis"] = axis_;
    return c;
  }

 private:
  Tensor prepare(const Tensor& y_true, const Tensor& y_pred) const {
    if (y_pred.rank() < 1 || (axis_ != -1 && axis_ != y_pred.rank() - 1))
      throw NotImplementedError("Loss \"" + name() +
                                "\": only axis=-1 is supported, got axis=" + std::to_string(axis_));
    return detail::match_true_to_pred(y_true, y_pred);
  }
  ops::LossOp op(const Tensor& y_pred) const {
    auto [rows, c] = detail::rows_of(y_pred);
    return {.kind = kind_, .rows = rows, .cols = c};
  }

  std::string class_name_;
  Kind kind_;
  int axis_;
};

LossOptions named(const LossOptions& o, const char* default_name) {
  LossOptions r = o;
  if (r.name.empty()) r.name = default_name;
  return r;
}

}  // namespace

Loss KLDivergence(const LossOptions& o) {
  return Loss(std::make_shared<RowLoss>("KLDivergence", named(o, "kl_divergence"), Kind::kKLDivergence));
}
Loss CategoricalHinge(const LossOptions& o) {
  return Loss(std::make_shared<RowLoss>("CategoricalHinge", named(o, "categorical_hinge"), Kind::kCategoricalHinge));
}
Loss CosineSimilarity(const CosineSimilarityOptions& o) {
  return Loss(
      std::make_shared<RowLoss>("CosineSimilarity", LossOptions{o.reduction, o.name}, Kind::kCosineSimilarity, o.axis));
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
