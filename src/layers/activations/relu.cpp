// The rectifier family: ReLU, LeakyReLU, ThresholdedReLU, ELU: one RectifierOp each, no weights.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/activations.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// Python's repr of a float, as Keras's messages print arguments: 0.3, -1.0, 1e-07.
std::string py_float(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);
  auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  bool neg = digits[0] == '-';
  if (neg) digits.erase(0, 1);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out;
  if (exp < -4 || exp >= 16) {
    out = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "") + "e" + (exp < 0 ? "-" : "+") +
          (std::abs(exp) < 10 ? "0" : "") + std::to_string(std::abs(exp));
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else {
    if (digits.size() <= static_cast<size_t>(exp) + 1) digits.append(static_cast<size_t>(exp) + 1 - digits.size(), '0');
    std::string frac = digits.substr(static_cast<size_t>(exp) + 1);
    out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + (frac.empty() ? "0" : frac);
  }
  return (neg ? "-" : "") + out;
}

// The rectifier layers: one RectifierOp each (ops/rectifier.h).
class RectifierLayer : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  bool supports_masking() const override { return true; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  // Described once, as ops (lower()).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    out = {graph::emit1(g, rectifier(), {in.at(0)}, g.shape(in[0]), {}, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

 protected:
  virtual ops::RectifierOp rectifier() const = 0;
};

class ReLUImpl : public RectifierLayer {
 public:
  explicit ReLUImpl(const ReLUOptions& o) : RectifierLayer(o.name, "re_lu"), o_(o) {
    if (o.max_value && *o.max_value < 0)
      throw ValueError("max_value of a ReLU layer cannot be a negative value. Received: max_value=" +
                       py_float(*o.max_value));
    if (o.negative_slope < 0)
      throw ValueError("negative_slope of a ReLU layer cannot be None or a negative value. Received: negative_slope=" +
                       py_float(o.negative_slope));
    if (o.threshold < 0)
      throw ValueError("threshold of a ReLU layer cannot be None or a negative value. Received: threshold=" +
                       py_float(o.threshold));
  }
  std::string class_name() const override { return "ReLU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["max_value"] = o_.max_value ? nlohmann::json(*o_.max_value) : nlohmann::json(nullptr);
    c["negative_slope"] = o_.negative_slope;
    c["threshold"] = o_.threshold;
    return c;
  }

 protected:
  ops::RectifierOp rectifier() const override {
    return {.negative_slope = o_.negative_slope, .threshold = o_.threshold, .max_value = o_.max_value};
  }

 private:
  ReLUOptions o_;
};

class LeakyReLUImpl : public RectifierLayer {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& o) : RectifierLayer(o.name, "leaky_re_lu"), slope_(o.negative_slope) {
    if (!(slope_ >= 0))
      throw ValueError(
          "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Expected a "
          "float. Received: negative_slope=" +
          py_float(slope_));
  }
  std::string class_name() const override { return "LeakyReLU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["negative_slope"] = slope_;
    return c;
  }

 protected:
  ops::RectifierOp rectifier() const override { return {.negative_slope = slope_}; }

 private:
  double slope_;
};

class ThresholdedReLUImpl : public RectifierLayer {
 public:
  explicit ThresholdedReLUImpl(const ThresholdedReLUOptions& o)
      : RectifierLayer(o.name, "thresholded_re_lu"), theta_(o.theta) {
    if (!(theta_ >= 0))
      throw ValueError("The theta value of a Thresholded ReLU layer should be >=0. Received: " + py_float(theta_));
  }
  std::string class_name() const override { return "ThresholdedReLU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["theta"] = theta_;
    return c;
  }

 protected:
  ops::RectifierOp rectifier() const override { return {.threshold = theta_}; }

 private:
  double theta_;
};

class ELUImpl : public RectifierLayer {
 public:
  explicit ELUImpl(const ELUOptions& o) : RectifierLayer(o.name, "elu"), alpha_(o.alpha) {}
  std::string class_name() const override { return "ELU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["alpha"] = alpha_;
    return c;
  }

 protected:
  ops::RectifierOp rectifier() const override { return {.kind = ops::RectifierOp::Kind::kElu, .alpha = alpha_}; }

 private:
  double alpha_;
};

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer ReLU(const ReLUOptions& options) { return Layer(std::make_shared<ReLUImpl>(options)); }
Layer LeakyReLU(const LeakyReLUOptions& options) { return Layer(std::make_shared<LeakyReLUImpl>(options)); }
Layer LeakyReLU(double negative_slope) { return LeakyReLU(LeakyReLUOptions{.negative_slope = negative_slope}); }
Layer ThresholdedReLU(const ThresholdedReLUOptions& options) {
  return Layer(std::make_shared<ThresholdedReLUImpl>(options));
}
Layer ThresholdedReLU(double theta) { return ThresholdedReLU(ThresholdedReLUOptions{.theta = theta}); }
Layer ELU(const ELUOptions& options) { return Layer(std::make_shared<ELUImpl>(options)); }
Layer ELU(double alpha) { return ELU(ELUOptions{.alpha = alpha}); }

Layer relu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  ReLUOptions o;
  o.name = get_string(c, "name");
  o.max_value = get_optional_double(c, "max_value");
  o.negative_slope = get_double(c, "negative_slope", get_double(c, "alpha", 0.0));
  o.threshold = get_double(c, "threshold", 0.0);
  return finish(ReLU(o), c);
}

Layer leaky_relu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  // Keras 1/2 (and TensorFlow.js) spell the slope `alpha`; Keras 3 `negative_slope`.
  double slope = get_double(c, "negative_slope", get_double(c, "alpha", 0.3));
  return finish(LeakyReLU(LeakyReLUOptions{.negative_slope = slope, .name = get_string(c, "name")}), c);
}

Layer thresholded_relu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  return finish(
      ThresholdedReLU(ThresholdedReLUOptions{.theta = get_double(c, "theta", 1.0), .name = get_string(c, "name")}), c);
}

Layer elu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  return finish(ELU(ELUOptions{.alpha = get_double(c, "alpha", 1.0), .name = get_string(c, "name")}), c);
}

}  // namespace keras::layers
