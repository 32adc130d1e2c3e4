#pragma once
// Keras activation functions by name (KERAS_SPEC §5.3), applied in place.
#include <string>

#include "keras/tensor.h"

namespace keras::ops {

// An activation on raw memory: `size` values, rows of `last` along the last axis (softmax and
// log_softmax work per row; the others elementwise). The engine's operators call these on
// their output buffers, layers call them through ActivationFn on tensors.
using RawActivationFn = void (*)(float* x, Dim size, Dim last);

struct ActivationFn {
  RawActivationFn fn = nullptr;
  void operator()(Tensor& t) const;
};

// The function for a Keras activation name ("relu", "softmax"...; "hard_sigmoid_keras2" is
// Keras 2's hard_sigmoid). Throws ValueError for an unknown name.
ActivationFn activation(const std::string& name);
RawActivationFn raw_activation(const std::string& name);
// Softmax over rows of `last` values.
void softmax_last(float* x, Dim size, Dim last);

// Backward of an activation: given the pre-activation z, the output y = f(z), and dL/dy in
// `grad`, replaces `grad` with dL/dz.
// The same on raw memory (size values, rows of last), as RawActivationFn; the plans' gradient
// operators call these.
using RawActivationGradFn = void (*)(const float* z, const float* y, float* grad, Dim size, Dim last);
struct ActivationGradFn {
  RawActivationGradFn fn = nullptr;
  void operator()(const Tensor& z, const Tensor& y, Tensor& grad) const;
};
ActivationGradFn activation_grad(const std::string& name);
RawActivationGradFn raw_activation_grad(const std::string& name);
// True for "linear" (and ""), whose forward and backward are the identity.
bool is_linear(const std::string& name);
// True for the activations computed per row of the last axis (softmax, log_softmax): they
// depend on the layout, the others act value by value.
bool acts_per_row(const std::string& name);
// True when activation_grad reads only the output y (relu: y > 0 exactly when z > 0; sigmoid,
// tanh, softmax, log_softmax): a layer then need not keep z and passes y for it.
bool activation_grad_from_output(const std::string& name);

}  // namespace keras::ops
