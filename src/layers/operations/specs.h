#pragma once
// The table of the operations keras.cpp computes: for each Keras 3 operation class
// (keras/src/ops/numpy.py, nn.py, core.py: its __init__ and call arguments) and each TensorFlow
// function tf.keras records (tf.math.multiply(x, y), tf.reshape(tensor, shape)...), which
// computation it is and what its arguments mean.
#include <string>
#include <vector>

namespace keras::layers::operations {

enum class Fn {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kMaximum,
  kMinimum,
  kPower,
  kMatmul,
  kReshape,
  kTranspose,
  kConcatenate,
  kStack,
  kExpandDims,
  kSqueeze,
  kSum,
  kMean,
  kMax,
  kMin,
  kUnary,
  kClip,
  kCast,
  kGetItem,
  kActivation,  // a Keras activation by name over the last axis
  kLeakyRelu,
  kElu,
  kGelu,
  kSoftmax,  // over `axis`, as log_softmax
  kLogSoftmax,
};

// A parameter as the file names it, and what it means here ("x", "y", "xs", "axis"...; "" for
// arguments that change nothing, such as TensorFlow's `name`).
struct Param {
  const char* name;
  const char* role;
};

struct Spec {
  const char* key;     // the Keras 3 class, or the TensorFlow function tf.keras records
  const char* module;  // Keras 3's module; nullptr for a TensorFlow function
  Fn fn;
  std::vector<Param> init;  // Keras 3: the __init__ arguments, in the config
  std::vector<Param> call;  // the call's parameters in positional order
  const char* defaults = "{}";
  const char* detail = "";  // the activation's name, or the unary op's kind
};

// `module`: Keras 3's (keras.src.ops.numpy...), for a Keras 3 class; nullptr for a TensorFlow
// function. Nullptr when keras.cpp does not compute it.
const Spec* find_spec(const std::string& key, const char* module);

}  // namespace keras::layers::operations
