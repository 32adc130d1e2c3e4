#include "layers/operations/specs.h"

#include <tuple>

namespace keras::layers::operations {

namespace {

constexpr const char* kNumpy = "keras.src.ops.numpy";
constexpr const char* kNn = "keras.src.ops.nn";
constexpr const char* kCore = "keras.src.ops.core";

std::vector<Spec> make_specs() {
  std::vector<Spec> s;
  auto binary = [&](const char* cls, Fn fn, std::initializer_list<const char*> tf) {
    s.push_back({cls, kNumpy, fn, {}, {{"x1", "x"}, {"x2", "y"}}});
    for (const char* f : tf) s.push_back({f, nullptr, fn, {}, {{"x", "x"}, {"y", "y"}, {"name", ""}}});
  };
  binary("Add", Fn::kAdd, {"__operators__.add", "math.add"});
  binary("Subtract", Fn::kSubtract, {"math.subtract"});
  binary("Multiply", Fn::kMultiply, {"math.multiply"});
  binary("Divide", Fn::kDivide, {"math.truediv", "math.divide"});
  binary("TrueDivide", Fn::kDivide, {});
  binary("Maximum", Fn::kMaximum, {"math.maximum"});
  binary("Minimum", Fn::kMinimum, {"math.minimum"});
  binary("Power", Fn::kPower, {"math.pow"});
  s.push_back({"Matmul", kNumpy, Fn::kMatmul, {}, {{"x1", "x"}, {"x2", "y"}}});
  s.push_back({"linalg.matmul",
               nullptr,
               Fn::kMatmul,
               {},
               {{"a", "x"},
                {"b", "y"},
                {"transpose_a", "transpose_a"},
                {"transpose_b", "transpose_b"},
                {"adjoint_a", "transpose_a"},
                {"adjoint_b", "transpose_b"},
                {"a_is_sparse", ""},
                {"b_is_sparse", ""},
                {"output_type", ""},
                {"name", ""}}});
  s.push_back({"Reshape", kNumpy, Fn::kReshape, {{"newshape", "shape"}}, {{"x", "x"}}});
  s.push_back({"reshape", nullptr, Fn::kReshape, {}, {{"tensor", "x"}, {"shape", "shape"}, {"name", ""}}});
  s.push_back({"Transpose", kNumpy, Fn::kTranspose, {{"axes", "axes"}}, {{"x", "x"}}});
  s.push_back(
      {"transpose", nullptr, Fn::kTranspose, {}, {{"a", "x"}, {"perm", "axes"}, {"conjugate", ""}, {"name", ""}}});
  s.push_back({"Concatenate", kNumpy, Fn::kConcatenate, {{"axis", "axis"}}, {{"xs", "xs"}}, R"({"axis": 0})"});
  s.push_back({"concat", nullptr, Fn::kConcatenate, {}, {{"values", "xs"}, {"axis", "axis"}, {"name", ""}}});
  s.push_back({"Stack", kNumpy, Fn::kStack, {{"axis", "axis"}}, {{"xs", "xs"}}, R"({"axis": 0})"});
  s.push_back({"stack", nullptr, Fn::kStack, {}, {{"values", "xs"}, {"axis", "axis"}, {"name", ""}}, R"({"axis": 0})"});
  s.push_back({"ExpandDims", kNumpy, Fn::kExpandDims, {{"axis", "axis"}}, {{"x", "x"}}});
  s.push_back({"expand_dims", nullptr, Fn::kExpandDims, {}, {{"input", "x"}, {"axis", "axis"}, {"name", ""}}});
  s.push_back({"Squeeze", kNumpy, Fn::kSqueeze, {{"axis", "axis"}}, {{"x", "x"}}});
  s.push_back({"squeeze", nullptr, Fn::kSqueeze, {}, {{"input", "x"}, {"axis", "axis"}, {"name", ""}}});
  auto reduction = [&](const char* cls, const char* tf, Fn fn, bool initial) {
    std::vector<Param> init{{"axis", "axis"}, {"keepdims", "keepdims"}};
    if (initial) init.push_back({"initial", "initial"});
    s.push_back({cls, kNumpy, fn, init, {{"x", "x"}}});
    s.push_back(
        {tf, nullptr, fn, {}, {{"input_tensor", "x"}, {"axis", "axis"}, {"keepdims", "keepdims"}, {"name", ""}}});
  };
  reduction("Sum", "math.reduce_sum", Fn::kSum, false);
  reduction("Mean", "math.reduce_mean", Fn::kMean, false);
  reduction("Max", "math.reduce_max", Fn::kMax, true);
  reduction("Min", "math.reduce_min", Fn::kMin, true);
  auto unary = [&](const char* cls, const char* tf, const char* kind) {
    if (cls) s.push_back({cls, kNumpy, Fn::kUnary, {}, {{"x", "x"}}, "{}", kind});
    if (tf) s.push_back({tf, nullptr, Fn::kUnary, {}, {{"x", "x"}, {"name", ""}}, "{}", kind});
  };
  unary("Exp", "math.exp", "exp");
  unary("Log", "math.log", "log");
  unary("Sqrt", "math.sqrt", "sqrt");
  unary("Square", "math.square", "square");
  unary("Absolute", "math.abs", "abs");
  unary("Abs", nullptr, "abs");
  unary("Negative", "math.negative", "negative");
  s.push_back({"Clip", kNumpy, Fn::kClip, {{"x_min", "x_min"}, {"x_max", "x_max"}}, {{"x", "x"}}});
  s.push_back({"clip_by_value",
               nullptr,
               Fn::kClip,
               {},
               {{"t", "x"}, {"clip_value_min", "x_min"}, {"clip_value_max", "x_max"}, {"name", ""}}});
  s.push_back({"Cast", kCore, Fn::kCast, {{"dtype", "dtype"}}, {{"x", "x"}}});
  s.push_back({"cast", nullptr, Fn::kCast, {}, {{"x", "x"}, {"dtype", "dtype"}, {"name", ""}}});
  s.push_back({"GetItem", kNumpy, Fn::kGetItem, {}, {{"x", "x"}, {"key", "key"}}});
  s.push_back(
      {"__operators__.getitem", nullptr, Fn::kGetItem, {}, {{"tensor", "x"}, {"slice_spec", "key"}, {"var", ""}}});
  // Activations: Keras 3's nn ops (and numpy's Tanh), TensorFlow's functions by each name
  // tf.keras may record for them.
  auto act = [&](const char* cls, const char* module, std::initializer_list<const char*> tf, const char* name) {
    if (cls) s.push_back({cls, module, Fn::kActivation, {}, {{"x", "x"}}, "{}", name});
    for (const char* f : tf)
      s.push_back({f, nullptr, Fn::kActivation, {}, {{"features", "x"}, {"name", ""}}, "{}", name});
  };
  act("Relu", kNn, {"nn.relu"}, "relu");
  act("Relu6", kNn, {"nn.relu6"}, "relu6");
  act("Softplus", kNn, {"math.softplus", "nn.softplus"}, "softplus");
  act("Softsign", kNn, {"nn.softsign", "math.softsign"}, "softsign");
  act("Selu", kNn, {"nn.selu"}, "selu");
  act("HardSigmoid", kNn, {}, "hard_sigmoid");
  act("HardSilu", kNn, {}, "hard_silu");
  act(nullptr, kNn, {"nn.elu"}, "elu");  // TensorFlow's has no alpha; Keras 3's Elu is below
  // Their TensorFlow functions name the argument x.
  for (auto [cls, module, name, tfs] :
       std::initializer_list<std::tuple<const char*, const char*, const char*, std::vector<const char*>>>{
           {"Sigmoid", kNn, "sigmoid", {"math.sigmoid", "nn.sigmoid"}},
           {"Tanh", kNumpy, "tanh", {"math.tanh", "nn.tanh"}},
           {"LogSigmoid", kNn, "log_sigmoid", {"math.log_sigmoid"}}}) {
    s.push_back({cls, module, Fn::kActivation, {}, {{"x", "x"}}, "{}", name});
    for (const char* f : tfs) s.push_back({f, nullptr, Fn::kActivation, {}, {{"x", "x"}, {"name", ""}}, "{}", name});
  }
  s.push_back({"Silu", kNn, Fn::kActivation, {}, {{"x", "x"}}, "{}", "silu"});
  for (const char* f : {"nn.silu", "nn.swish"})
    s.push_back({f, nullptr, Fn::kActivation, {}, {{"features", "x"}, {"beta", "beta"}, {"name", ""}}, "{}", "silu"});
  s.push_back({"LeakyRelu",
               kNn,
               Fn::kLeakyRelu,
               {{"negative_slope", "negative_slope"}},
               {{"x", "x"}},
               R"({"negative_slope": 0.2})"});
  s.push_back({"nn.leaky_relu",
               nullptr,
               Fn::kLeakyRelu,
               {},
               {{"features", "x"}, {"alpha", "negative_slope"}, {"name", ""}},
               R"({"negative_slope": 0.2})"});
  s.push_back({"Elu", kNn, Fn::kElu, {{"alpha", "alpha"}}, {{"x", "x"}}, R"({"alpha": 1.0})"});
  s.push_back({"Gelu", kNn, Fn::kGelu, {{"approximate", "approximate"}}, {{"x", "x"}}, R"({"approximate": true})"});
  s.push_back({"nn.gelu",
               nullptr,
               Fn::kGelu,
               {},
               {{"features", "x"}, {"approximate", "approximate"}, {"name", ""}},
               R"({"approximate": false})"});
  s.push_back({"Softmax", kNn, Fn::kSoftmax, {{"axis", "axis"}}, {{"x", "x"}}, R"({"axis": -1})"});
  s.push_back({"LogSoftmax", kNn, Fn::kLogSoftmax, {{"axis", "axis"}}, {{"x", "x"}}, R"({"axis": -1})"});
  for (const char* f : {"nn.softmax", "math.softmax"})
    s.push_back({f, nullptr, Fn::kSoftmax, {}, {{"logits", "x"}, {"axis", "axis"}, {"name", ""}}, R"({"axis": -1})"});
  for (const char* f : {"nn.log_softmax", "math.log_softmax"})
    s.push_back(
        {f, nullptr, Fn::kLogSoftmax, {}, {{"logits", "x"}, {"axis", "axis"}, {"name", ""}}, R"({"axis": -1})"});
  return s;
}

}  // namespace

const Spec* find_spec(const std::string& key, const char* module) {
  static const std::vector<Spec> specs = make_specs();
  for (const Spec& s : specs)
    if (key == s.key && (module ? s.module && std::string(module) == s.module : !s.module)) return &s;
  return nullptr;
}
}  // namespace keras::layers::operations
