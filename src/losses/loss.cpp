// The loss base class (Keras's Loss.__call__: weighting and reduction), the handle, and the
// name registry (keras.losses.get / deserialize / serialize).
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "keras/errors.h"
#include "keras/losses.h"
#include "losses/loss_utils.h"
#include "ops/losses.h"

namespace keras::losses {

namespace {

const std::string& checked_reduction(const std::string& r) {
  static const char* allowed[] = {"sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"};
  for (const char* a : allowed)
    if (r == a) return r;
  throw ValueError(
      "Invalid value for argument `reduction`. Expected one of {'sum_over_batch_size', 'sum', None, "
      "'none', 'mean', 'mean_with_sample_weight'}. Received: reduction=" +
      r);
}

// Weights per unreduced value: sample_weight broadcast over the values of each sample.
Tensor expand_weights(const Tensor& sample_weight, const Tensor& values, const std::string& loss) {
  if (sample_weight.size() == values.size()) return sample_weight.reshape(values.shape());
  Dim n = values.rank() > 0 ? values.dim(0) : 1;
  if (sample_weight.size() != n || (sample_weight.rank() > 0 && sample_weight.dim(0) != n))
    throw ValueError("Loss \"" + loss + "\": sample_weight of shape " + sample_weight.shape().str() +
                     " does not match the losses of shape " + values.shape().str());
  Tensor w = Tensor::empty(values.shape());
  ops::repeat_per_sample(sample_weight.data(), n, n ? values.size() / n : 0, w.data());
  return w;
}

// The weights of the unreduced values: sample_weight and y_pred's mask (Keras's
// reduce_weighted_values: apply_mask, then weights broadcast per sample).
Tensor weights_of(const Tensor& sample_weight, const Tensor& mask, const Tensor& values, const std::string& reduction,
                  const std::string& loss) {
  if (mask.empty()) return sample_weight.empty() ? Tensor() : expand_weights(sample_weight, values, loss);
  if (mask.size() != values.size())
    throw ValueError("Loss \"" + loss + "\": a mask of shape " + mask.shape().str() +
                     " does not match the losses of shape " + values.shape().str());
  bool scale = reduction == "sum_over_batch_size" || reduction == "mean";
  return detail::apply_mask(sample_weight, mask.reshape(values.shape()), scale, loss);
}

}  // namespace

Tensor detail::apply_mask(const Tensor& sample_weight, const Tensor& mask, bool scale, const std::string& who) {
  double valid = 0;
  for (float m : mask.values()) valid += m;
  // divide_no_nan(total, valid): everything masked weighs nothing.
  double factor = !scale ? 1.0 : valid == 0 ? 0.0 : double(mask.size()) / valid;
  Tensor w = Tensor::empty(mask.shape());
  for (Dim i = 0; i < mask.size(); ++i) w[i] = static_cast<float>(mask[i] * factor);
  if (!sample_weight.empty()) {
    Tensor sw = expand_weights(sample_weight, mask, who);
    for (Dim i = 0; i < w.size(); ++i) w[i] *= sw[i];
  }
  return w;
}

LossImpl::LossImpl(std::string name, std::string reduction)
    : name_(std::move(name)), reduction_(checked_reduction(reduction)) {}

nlohmann::json LossImpl::get_config() const { return {{"name", name_}, {"reduction", reduction_}}; }

double LossImpl::operator()(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight,
                            const Tensor& mask) const {
  Tensor values = call(y_true, y_pred);
  if (reduction_ == "none" && values.size() != 1)
    throw ValueError("Loss \"" + name_ + "\" has reduction=\"none\": call() gives the unreduced losses");
  Tensor w = weights_of(sample_weight, mask, values, reduction_, name_);
  auto [sum, weight_sum] = ops::weighted_sum(values.data(), w.empty() ? nullptr : w.data(), values.size());
  if (values.size() == 0 || reduction_ == "sum" || reduction_ == "none") return sum;
  if (reduction_ == "mean_with_sample_weight" && !w.empty()) return weight_sum == 0 ? 0.0 : sum / weight_sum;
  return sum / double(values.size());
}

LossValue LossImpl::value_and_grad(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight,
                                   const Tensor& mask) const {
  Tensor values = call(y_true, y_pred);
  if (reduction_ == "none" && values.size() != 1)
    throw ValueError("Loss \"" + name_ + "\" has reduction=\"none\", which cannot be trained on: give it a reduction");
  Tensor w = weights_of(sample_weight, mask, values, reduction_, name_);
  auto [sum, weight_sum] = ops::weighted_sum(values.data(), w.empty() ? nullptr : w.data(), values.size());
  double scale = 1.0;
  if (values.size() > 0 && reduction_ != "sum" && reduction_ != "none") {
    if (reduction_ == "mean_with_sample_weight" && !w.empty())
      scale = weight_sum == 0 ? 0.0 : 1.0 / weight_sum;
    else
      scale = 1.0 / double(values.size());
  }
  Tensor upstream = Tensor::empty(values.shape());
  ops::scaled_weights(w.empty() ? nullptr : w.data(), scale, values.size(), upstream.data());
  return {sum * scale, call_grad(y_true, y_pred, upstream)};
}

Loss::Loss(const char* identifier) : Loss(std::string(identifier)) {}
Loss::Loss(const std::string& identifier) : Loss(get(identifier)) { identifier_ = identifier; }
Loss::Loss(std::shared_ptr<const LossImpl> impl) : impl_(std::move(impl)) {}

namespace {

// keras.losses.get() names: the functions' names and their short aliases, mapped to classes.
const std::map<std::string, std::function<Loss()>>& named_losses() {
  static const std::map<std::string, std::function<Loss()>> table = {
      {"categorical_crossentropy", [] { return CategoricalCrossentropy(); }},
      {"sparse_categorical_crossentropy", [] { return SparseCategoricalCrossentropy(); }},
      {"binary_crossentropy", [] { return BinaryCrossentropy(); }},
      {"bce", [] { return BinaryCrossentropy(); }},
      {"BCE", [] { return BinaryCrossentropy(); }},
      {"mean_squared_error", [] { return MeanSquaredError(); }},
      {"mse", [] { return MeanSquaredError(); }},
      {"MSE", [] { return MeanSquaredError(); }},
      {"mean_absolute_error", [] { return MeanAbsoluteError(); }},
      {"mae", [] { return MeanAbsoluteError(); }},
      {"MAE", [] { return MeanAbsoluteError(); }},
      {"mean_absolute_percentage_error", [] { return MeanAbsolutePercentageError(); }},
      {"mape", [] { return MeanAbsolutePercentageError(); }},
      {"MAPE", [] { return MeanAbsolutePercentageError(); }},
      {"mean_squared_logarithmic_error", [] { return MeanSquaredLogarithmicError(); }},
      {"msle", [] { return MeanSquaredLogarithmicError(); }},
      {"MSLE", [] { return MeanSquaredLogarithmicError(); }},
      {"huber", [] { return Huber(); }},
      {"huber_loss", [] { return Huber(); }},
      {"log_cosh", [] { return LogCosh(); }},
      {"logcosh", [] { return LogCosh(); }},
      {"hinge", [] { return Hinge(); }},
      {"squared_hinge", [] { return SquaredHinge(); }},
      {"categorical_hinge", [] { return CategoricalHinge(); }},
      {"kl_divergence", [] { return KLDivergence(); }},
      {"kld", [] { return KLDivergence(); }},
      {"KLD", [] { return KLDivergence(); }},
      {"kullback_leibler_divergence", [] { return KLDivergence(); }},
      {"poisson", [] { return Poisson(); }},
      {"cosine_similarity", [] { return CosineSimilarity(); }},
  };
  return table;
}

Loss from_class_config(const std::string& class_name, const nlohmann::json& config) {
  for (auto* family : {detail::crossentropy_from_config, detail::elementwise_from_config, detail::rowwise_from_config})
    if (Loss l = family(class_name, config)) return l;
  return {};
}

}  // namespace

Loss get(const std::string& identifier) {
  const auto& table = named_losses();
  if (auto it = table.find(identifier); it != table.end()) return it->second();
  if (Loss l = from_class_config(identifier, nlohmann::json::object())) return l;
  throw ValueError("Could not interpret loss identifier: " + identifier);
}

Loss deserialize(const nlohmann::json& config) {
  if (config.is_string()) return Loss(config.get<std::string>());
  if (!config.is_object() || !config.contains("class_name"))
    throw ValueError("Could not interpret serialized loss: " + config.dump());
  std::string class_name = config["class_name"].get<std::string>();
  nlohmann::json inner = config.value("config", nlohmann::json::object());
  if (inner.is_null()) inner = nlohmann::json::object();
  // Keras 3 serializes a loss given as a function as {"class_name": "function", "config": "mse"}.
  if (class_name == "function" && inner.is_string()) return Loss(inner.get<std::string>());
  if (Loss l = from_class_config(class_name, inner)) return l;
  if (named_losses().count(class_name)) return Loss(class_name);
  throw ValueError("Could not interpret serialized loss: unknown class_name \"" + class_name + "\"");
}

nlohmann::json serialize(const Loss& loss) {
  if (!loss) return nullptr;
  if (!loss.identifier().empty()) return loss.identifier();
  return {{"module", "keras.losses"},
          {"class_name", loss->class_name()},
          {"config", loss->get_config()},
          {"registered_name", nullptr}};
}

namespace detail {

std::pair<Dim, Dim> rows_of(const Tensor& t) {
  Dim last = t.rank() > 0 ? t.dim(-1) : 1;
  return {last ? t.size() / last : 0, last};
}

Tensor match_true_to_pred(const Tensor& y_true, const Tensor& y_pred) {
  if (y_true.shape() == y_pred.shape()) return y_true;
  int rt = y_true.rank(), rp = y_pred.rank();
  bool trailing_one = (rt == rp + 1 && y_true.shape()[-1] == 1) || (rp == rt + 1 && y_pred.shape()[-1] == 1);
  if (trailing_one && y_true.size() == y_pred.size()) return y_true.reshape(y_pred.shape());
  throw ValueError("Arguments `target` and `output` must have the same shape. Received: target.shape=" +
                   y_true.shape().str() + ", output.shape=" + y_pred.shape().str());
}

Shape reduced_shape(const Shape& y_pred) {
  std::vector<Dim> dims(y_pred.dims().begin(), y_pred.dims().end());
  if (!dims.empty()) dims.pop_back();
  return Shape(std::move(dims));
}

LossOptions loss_options_from_config(const nlohmann::json& c, const std::string& default_name) {
  LossOptions o;
  o.name = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : default_name;
  // Keras 2 wrote reduction "auto", which meant sum_over_batch_size in fit().
  if (c.contains("reduction") && c["reduction"].is_string() && c["reduction"] != "auto")
    o.reduction = c["reduction"].get<std::string>();
  else if (c.contains("reduction") && c["reduction"].is_null())
    o.reduction = "none";
  return o;
}

}  // namespace detail

}  // namespace keras::losses
