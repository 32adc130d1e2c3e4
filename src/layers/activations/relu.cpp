// The rectifier family: ReLU, LeakyReLU, ThresholdedReLU, ELU. Elementwise, no weights.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

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

// Elementwise layers that keep the shape.
class ElementwiseActivation : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    return in;
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    Tensor y = inputs.at(0);
    for (float& v : y.values()) v = apply(v);
    return {std::move(y)};
  }
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& x = a.inputs.at(0);
    Tensor g = a.output_grads.at(0);
    for (Dim i = 0; i < g.size(); ++i) g[i] *= derivative(x[i]);
    return {{std::move(g)}, {}};
  }

 protected:
  virtual float apply(float x) const = 0;
  // d apply / dx; at a kink, the side the backends' gradients take (0 for relu at 0).
  virtual float derivative(float x) const = 0;
};

class ReLUImpl : public ElementwiseActivation {
 public:
  explicit ReLUImpl(const ReLUOptions& o) : ElementwiseActivation(o.name, "re_lu"), o_(o) {
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
  // Keras's activations.relu, step by step in float32 as the backends do it.
  float apply(float x) const override {
    const float slope = static_cast<float>(o_.negative_slope), thr = static_cast<float>(o_.threshold);
    if (slope != 0 && !o_.max_value && thr == 0) return x > 0 ? x : slope * x;
    float y = thr != 0 ? (x > thr ? x : 0.0f) : std::max(x, 0.0f);
    if (o_.max_value) y = std::clamp(y, 0.0f, static_cast<float>(*o_.max_value));
    if (slope != 0) y -= slope * std::max(thr - x, 0.0f);
    return y;
  }
  float derivative(float x) const override {
    const float slope = static_cast<float>(o_.negative_slope), thr = static_cast<float>(o_.threshold);
    if (slope != 0 && !o_.max_value && thr == 0) return x > 0 ? 1.0f : slope;
    float d = (thr != 0 ? x > thr : x > 0) ? 1.0f : 0.0f;
    if (o_.max_value && x >= static_cast<float>(*o_.max_value)) d = 0;
    if (slope != 0 && x < thr) d += slope;
    return d;
  }

 private:
  ReLUOptions o_;
};

class LeakyReLUImpl : public ElementwiseActivation {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& o)
      : ElementwiseActivation(o.name, "leaky_re_lu"), slope_(o.negative_slope) {
    if (!(slope_ >= 0))
      throw ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Expected a "
                       "float. Received: negative_slope=" + py_float(slope_));
  }
  std::string class_name() const override { return "LeakyReLU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["negative_slope"] = slope_;
    return c;
  }

 protected:
  float apply(float x) const override { return x > 0 ? x : static_cast<float>(slope_) * x; }
  float derivative(float x) const override { return x > 0 ? 1.0f : static_cast<float>(slope_); }

 private:
  double slope_;
};

class ThresholdedReLUImpl : public ElementwiseActivation {
 public:
  explicit ThresholdedReLUImpl(const ThresholdedReLUOptions& o)
      : ElementwiseActivation(o.name, "thresholded_re_lu"), theta_(o.theta) {
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
  float apply(float x) const override { return x > static_cast<float>(theta_) ? x : 0.0f; }
  float derivative(float x) const override { return x > static_cast<float>(theta_) ? 1.0f : 0.0f; }

 private:
  double theta_;
};

class ELUImpl : public ElementwiseActivation {
 public:
  explicit ELUImpl(const ELUOptions& o) : ElementwiseActivation(o.name, "elu"), alpha_(o.alpha) {}
  std::string class_name() const override { return "ELU"; }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["alpha"] = alpha_;
    return c;
  }

 protected:
  float apply(float x) const override { return x >= 0 ? x : static_cast<float>(alpha_) * std::expm1(x); }
  float derivative(float x) const override { return x >= 0 ? 1.0f : static_cast<float>(alpha_) * std::exp(x); }

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
  return finish(ThresholdedReLU(ThresholdedReLUOptions{.theta = get_double(c, "theta", 1.0), .name = get_string(c, "name")}), c);
}

Layer elu_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  return finish(ELU(ELUOptions{.alpha = get_double(c, "alpha", 1.0), .name = get_string(c, "name")}), c);
}

}  // namespace keras::layers
