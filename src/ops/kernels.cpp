#include "ops/kernels.h"

#include <algorithm>

#include "keras/errors.h"

namespace keras::ops {

Padding1D conv_padding(Dim in, Dim kernel, Dim stride, Dim dilation, const std::string& padding) {
  Dim effective = dilation * (kernel - 1) + 1;
  if (in < 0) return {None, 0};  // unknown length stays unknown
  Padding1D p;
  if (padding == "valid") {
    p.out = in >= effective ? (in - effective) / stride + 1 : 0;
  } else if (padding == "same") {
    p.out = (in + stride - 1) / stride;
    Dim total = std::max<Dim>((p.out - 1) * stride + effective - in, 0);
    p.pad_before = total / 2;  // the odd extra pixel goes at the end (TensorFlow's rule)
  } else if (padding == "causal") {
    p.pad_before = effective - 1;
    p.out = (in + p.pad_before - effective) / stride + 1;
  } else {
    throw ValueError("Invalid padding \"" + padding + "\"; expected \"valid\", \"same\" or \"causal\"");
  }
  if (p.out <= 0)
    throw ValueError("Computed output size would be zero or negative. Received input length " + std::to_string(in) +
                     ", kernel size " + std::to_string(kernel) + ", dilation_rate " + std::to_string(dilation) +
                     ", strides " + std::to_string(stride) + ", padding=" + padding + ".");
  return p;
}

}  // namespace keras::ops
