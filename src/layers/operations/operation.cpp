// keras.ops operations and tf.keras op layers as layers: the table (specs.h) says which
// computation an entry is and what its arguments mean; here they are bound to the call's
// tensors and constants and described as ops, with numpy's broadcasting and indexing rules
// (numpy_rules.h), as Keras's TensorFlow backend computes them.
#include "layers/operations/operation.h"

#include <algorithm>
#include <map>

#include "engine/graph/lowering.h"
#include "keras/errors.h"
#include "layers/operations/numpy_rules.h"
#include "layers/operations/specs.h"

namespace keras::layers::operations {

using nlohmann::json;

namespace {

bool is_op_lambda_class(const std::string& cls) { return cls == "TFOpLambda" || cls == "SlicingOpLambda"; }

bool is_keras3_operation(const json& entry) {
  if (!entry.contains("module") || !entry["module"].is_string()) return false;
  const std::string& m = entry["module"].get_ref<const std::string&>();
  return m.rfind("keras.src.ops", 0) == 0 || m.rfind("keras.ops", 0) == 0;
}

std::string entry_class(const json& entry) {
  return entry.contains("class_name") && entry["class_name"].is_string() ? entry["class_name"].get<std::string>() : "";
}

const json& entry_config(const json& entry) {
  static const json empty = json::object();
  return entry.contains("config") && entry["config"].is_object() ? entry["config"] : empty;
}

// TensorFlow drops the "tf." of the names it records; tf.keras writes them without it.
std::string tf_function(const json& entry) {
  const json& c = entry_config(entry);
  std::string f = c.contains("function") && c["function"].is_string() ? c["function"].get<std::string>() : "";
  return f.rfind("tf.", 0) == 0 ? f.substr(3) : f;
}

std::string dtype_name(const json& d) {
  if (d.is_string()) return d.get<std::string>();
  if (d.is_object() && d.contains("config") && d["config"].is_object() && d["config"].contains("name"))
    return d["config"]["name"].get<std::string>();  // a DTypePolicy entry
  return d.dump();
}

bool is_float_dtype(const std::string& d) { return d == "float32" || d == "float64" || d == "float"; }

// ---------------------------------------------------------------- the layer

// What an argument of the call is: one of the layer's inputs, one of its constants, or (for a
// list argument) several.
struct Operand {
  int input = -1;
  int constant = -1;
};

class OperationImpl : public LayerImpl {
 public:
  OperationImpl(const Spec& spec, const json& entry, const CallArguments& call, const std::string& name)
      : LayerImpl(name, spec.key), spec_(spec), call_(call), config_(entry_config(entry)) {
    if (!spec.module) {
      op_lambda_class_ = entry_class(entry);
      function_ = tf_function(entry);
      set_trainable(config_.value("trainable", true));
    }
    bind(numbered(call));
  }

  std::string class_name() const override { return spec_.module ? spec_.key : op_lambda_class_; }
  std::string module() const override { return spec_.module ? spec_.module : LayerImpl::module(); }
  bool takes_list_input() const override { return true; }

  nlohmann::json get_config() const override {
    if (!spec_.module) {
      json c = LayerImpl::get_config();
      c["function"] = function_;
      return c;
    }
    // Keras 3's Operation.get_config: the __init__ arguments, or the name for operations
    // without any (keras/src/ops/operation.py).
    json c = config_;
    if (c.contains("name") || spec_.init.empty()) c["name"] = name();
    return c;
  }

  nlohmann::json call_arguments(const std::vector<nlohmann::json>& inputs) const override {
    CallArguments c = with_tensors(call_, inputs);
    return {{"args", c.args}, {"kwargs", c.kwargs}};
  }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    if (in.size() != inputs_)
      fail("expects " + std::to_string(inputs_) + " input tensors, received " + std::to_string(in.size()));
    try {
      return {output_shape(in)};
    } catch (const ValueError& e) {
      fail(e.what());
    }
  }

  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    std::vector<Shape> shapes;
    for (int v : in) shapes.push_back(g.shape(v));
    compute_output_shape(shapes);
    try {
      out = {emit(g, in)};
    } catch (const ValueError& e) {
      fail(e.what());
    }
    return true;
  }

 private:
  // ---- binding: each parameter's role to its value ({"__input__": i}, a constant, a number...)

  void bind(const CallArguments& call) {
    roles_ = json::parse(spec_.defaults);
    if (spec_.module) {
      for (const auto& [k, v] : config_.items()) {
        if (k == "name" || k == "trainable" || (k == "dtype" && spec_.fn != Fn::kCast)) continue;
        set_role(spec_.init, k, v);
      }
    }
    if (call.args.size() > spec_.call.size())
      throw ValueError("Operation \"" + name() + "\" (" + spec_.key + ") was called with " +
                       std::to_string(call.args.size()) + " positional arguments; it takes " +
                       std::to_string(spec_.call.size()));
    for (size_t i = 0; i < call.args.size(); ++i)
      if (*spec_.call[i].role) roles_[spec_.call[i].role] = call.args[i];
    for (const auto& [k, v] : call.kwargs.items()) set_role(spec_.call, k, v);
    for (const char* role : {"x", "y", "xs"})
      if (roles_.contains(role)) roles_[role] = operands(roles_[role], role == std::string("xs"));
    if (!roles_.contains("x") && !roles_.contains("xs"))
      throw ValueError("Operation \"" + name() + "\" (" + spec_.key + ") was called without its input");
    check_arguments();
  }

  void set_role(const std::vector<Param>& params, const std::string& key, const json& value) {
    for (const Param& p : params)
      if (key == p.name) {
        if (*p.role) roles_[p.role] = value;
        return;
      }
    throw ValueError("Operation \"" + name() + "\" (" + spec_.key + ") has no argument \"" + key + "\"");
  }

  // Tensors become {"__input__": i} (counted), anything else a constant of the layer.
  json operands(const json& v, bool list) {
    if (list) {
      json items = plain(v);
      if (!items.is_array()) items = json::array({items});
      json out = json::array();
      for (const json& e : items) out.push_back(operands(e, false));
      return out;
    }
    if (is_input_entry(v)) {
      inputs_ = std::max(inputs_, input_index(v) + 1);
      return v;
    }
    json single = plain(v);
    if (single.is_array() && single.size() == 1 && is_input_entry(single[0])) return operands(single[0], false);
    Shape shape;
    constants_.push_back(constant_tensor(v, shape));
    constant_shapes_.push_back(shape);
    return {{"__constant__", constants_.size() - 1}};
  }

  void check_arguments() const {
    if (spec_.fn == Fn::kCast && !is_float_dtype(dtype_name(roles_.value("dtype", json("float32")))))
      throw UnsupportedLayers("cast to " + dtype_name(roles_["dtype"]));
    if ((spec_.fn == Fn::kMax || spec_.fn == Fn::kMin) && roles_.contains("initial") && !roles_["initial"].is_null())
      throw UnsupportedLayers(std::string(spec_.key) + " with initial=" + roles_["initial"].dump());
    if (roles_.contains("beta") && roles_["beta"] != 1.0 && roles_["beta"] != 1)
      throw UnsupportedLayers(std::string(spec_.key) + " with beta=" + roles_["beta"].dump());
    if (spec_.fn == Fn::kClip)
      for (const char* r : {"x_min", "x_max"})
        if (!roles_.contains(r) || !roles_[r].is_number())
          throw UnsupportedLayers(std::string(spec_.key) + " with a " + r + " that is not a number");
  }

  Operand operand(const json& v) const {
    if (v.contains("__input__")) return {.input = static_cast<int>(input_index(v))};
    return {.constant = v.at("__constant__").get<int>()};
  }
  const Shape& shape_of(const Operand& o, const std::vector<Shape>& in) const {
    return o.input >= 0 ? in[static_cast<size_t>(o.input)] : constant_shapes_[static_cast<size_t>(o.constant)];
  }
  std::vector<Operand> list_operands() const {
    std::vector<Operand> out;
    for (const json& e : roles_["xs"]) out.push_back(operand(e));
    return out;
  }
  bool flag(const char* role) const {
    return roles_.contains(role) && roles_[role].is_boolean() && roles_[role].get<bool>();
  }

  // ---- shapes

  Shape output_shape(const std::vector<Shape>& in) const {
    switch (spec_.fn) {
      case Fn::kAdd:
      case Fn::kSubtract:
      case Fn::kMultiply:
      case Fn::kDivide:
      case Fn::kMaximum:
      case Fn::kMinimum:
      case Fn::kPower:
        return broadcast_shapes(shape_of(operand(roles_["x"]), in), shape_of(operand(roles_["y"]), in));
      case Fn::kMatmul:
        return matmul_shape(in);
      case Fn::kReshape:
        return reshape_target(shape_of(operand(roles_["x"]), in), roles_.value("shape", json()));
      case Fn::kTranspose: {
        const Shape& x = shape_of(operand(roles_["x"]), in);
        std::vector<Dim> d;
        for (int a : permutation(x.rank())) d.push_back(x[a]);
        return Shape(d);
      }
      case Fn::kConcatenate:
      case Fn::kStack:
        return joined_shape(in);
      case Fn::kExpandDims:
        return expanded_shape(shape_of(operand(roles_["x"]), in));
      case Fn::kSqueeze:
        return squeezed_shape(shape_of(operand(roles_["x"]), in));
      case Fn::kSum:
      case Fn::kMean:
      case Fn::kMax:
      case Fn::kMin:
        return reduced_shape(shape_of(operand(roles_["x"]), in));
      case Fn::kGetItem:
        return plan_indexing(index_items(roles_.value("key", json())), shape_of(operand(roles_["x"]), in)).output;
      case Fn::kSoftmax:
      case Fn::kLogSoftmax: {
        const Shape& x = shape_of(operand(roles_["x"]), in);
        axes_of(roles_["axis"].is_null() ? json(-1) : roles_["axis"], x.rank(), "axis");
        return x;
      }
      default:  // elementwise on one tensor
        return shape_of(operand(roles_["x"]), in);
    }
  }

  std::vector<int> permutation(int rank) const {
    json axes = roles_.value("axes", json());
    std::vector<int> perm;
    if (axes.is_null()) {
      for (int a = rank - 1; a >= 0; --a) perm.push_back(a);
      return perm;
    }
    perm = axes_of(axes, rank, "axes");
    std::vector<int> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < rank; ++i)
      if (static_cast<int>(sorted.size()) != rank || sorted[static_cast<size_t>(i)] != i)
        throw ValueError("axes " + plain(axes).dump() + " is not a permutation of the " + std::to_string(rank) +
                         " axes of the input");
    return perm;
  }

  Shape matmul_shape(const std::vector<Shape>& in) const {
    Shape a = shape_of(operand(roles_["x"]), in), b = shape_of(operand(roles_["y"]), in);
    if (a.rank() == 0 || b.rank() == 0) throw ValueError("matmul does not take scalars");
    if (flag("transpose_a") && a.rank() >= 2) std::swap(a[-1], a[-2]);
    if (flag("transpose_b") && b.rank() >= 2) std::swap(b[-1], b[-2]);
    Shape a2 = a.rank() == 1 ? Shape{1, a[0]} : a, b2 = b.rank() == 1 ? Shape{b[0], 1} : b;
    if (a2[-1] != None && b2[-2] != None && a2[-1] != b2[-2])
      throw ValueError("matmul of shapes " + a.str() + " and " + b.str() + ": the inner sizes differ");
    Shape batch = broadcast_shapes(Shape(std::vector<Dim>(a2.begin(), a2.end() - 2)),
                                   Shape(std::vector<Dim>(b2.begin(), b2.end() - 2)));
    std::vector<Dim> out = batch.dims();
    if (a.rank() > 1) out.push_back(a2[-2]);
    if (b.rank() > 1) out.push_back(b2[-1]);
    return Shape(out);
  }

  Shape joined_shape(const std::vector<Shape>& in) const {
    std::vector<Operand> xs = list_operands();
    if (xs.empty()) throw ValueError("needs at least one tensor to join");
    Shape first = shape_of(xs[0], in);
    bool stack = spec_.fn == Fn::kStack;
    if (!roles_.contains("axis") || !roles_["axis"].is_number_integer())
      throw ValueError("needs an integer axis, got " + roles_.value("axis", json()).dump());
    int rank = first.rank() + (stack ? 1 : 0);
    int axis = axes_of(roles_["axis"], rank, "axis")[0];
    std::vector<Dim> out = first.dims();
    if (stack) out.insert(out.begin() + axis, static_cast<Dim>(xs.size()));
    for (size_t i = 1; i < xs.size(); ++i) {
      const Shape& s = shape_of(xs[i], in);
      bool fits = s.rank() == first.rank();
      for (int d = 0; fits && d < s.rank(); ++d)
        if ((stack || d != axis) && s[d] != first[d] && s[d] != None && first[d] != None) fits = false;
      if (!fits)
        throw ValueError("cannot join shapes " + first.str() + " and " + s.str() + " along axis " +
                         std::to_string(axis));
      if (!stack) out[size_t(axis)] = out[size_t(axis)] == None || s[axis] == None ? None : out[size_t(axis)] + s[axis];
    }
    return Shape(out);
  }

  Shape expanded_shape(const Shape& x) const {
    json a = plain(roles_.value("axis", json()));
    size_t n = a.is_array() ? a.size() : 1;
    std::vector<int> axes = axes_of(a, x.rank() + static_cast<int>(n), "axis");
    std::vector<Dim> out(static_cast<size_t>(x.rank()) + n, 0);
    std::vector<bool> is_new(out.size(), false);
    for (int v : axes) is_new[static_cast<size_t>(v)] = true;
    int from = 0;
    for (size_t d = 0; d < out.size(); ++d) out[d] = is_new[d] ? 1 : x[from++];
    return Shape(out);
  }

  // The axes Squeeze removes, decided on the shape the layer was built for (a batch of one must
  // not lose its batch axis when the model runs).
  std::vector<bool> squeezed_axes(const Shape& x) const {
    std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
    json a = roles_.value("axis", json());
    if (a.is_null()) {
      for (int d = 0; d < x.rank(); ++d) drop[size_t(d)] = x[d] == 1;
      return drop;
    }
    for (int v : axes_of(a, x.rank(), "axis")) {
      if (x[v] != 1 && x[v] != None)
        throw ValueError("cannot squeeze axis " + std::to_string(v) + " of shape " + x.str() + ": its size is not 1");
      drop[size_t(v)] = true;
    }
    return drop;
  }
  Shape squeezed_shape(const Shape& x) const {
    std::vector<bool> drop = squeezed_axes(x);
    std::vector<Dim> out;
    for (int d = 0; d < x.rank(); ++d)
      if (!drop[size_t(d)]) out.push_back(x[d]);
    return Shape(out);
  }

  std::vector<bool> reduced_axes(int rank) const {
    std::vector<bool> r(static_cast<size_t>(rank), false);
    json a = roles_.value("axis", json());
    if (a.is_null()) {
      r.assign(r.size(), true);
    } else {
      for (int v : axes_of(a, rank, "axis")) r[size_t(v)] = true;
    }
    return r;
  }
  Shape reduced_shape(const Shape& x) const {
    std::vector<bool> r = reduced_axes(x.rank());
    std::vector<Dim> out;
    for (int d = 0; d < x.rank(); ++d)
      if (!r[size_t(d)])
        out.push_back(x[d]);
      else if (flag("keepdims"))
        out.push_back(1);
    return Shape(out);
  }

  // ---- ops

  int value_of(graph::Lowering& g, const std::vector<int>& in, const Operand& o) const {
    if (o.input >= 0) return in[static_cast<size_t>(o.input)];
    const Tensor& c = constants_[static_cast<size_t>(o.constant)];
    return graph::emit1(g, ops::StateOp{ops::StateOp::Mode::kRead}, {}, c.shape(), {&c}, name());
  }

  int emit(graph::Lowering& g, const std::vector<int>& in) const {
    std::vector<Shape> shapes;
    for (int v : in) shapes.push_back(g.shape(v));
    Shape y = output_shape(shapes);
    auto x = [&] { return operand(roles_["x"]); };
    using K = ops::MergeOp::Kind;
    switch (spec_.fn) {
      case Fn::kAdd:
      case Fn::kSubtract:
      case Fn::kMultiply:
      case Fn::kDivide:
      case Fn::kMaximum:
      case Fn::kMinimum:
      case Fn::kPower: {
        static const std::map<Fn, K> kinds = {{Fn::kAdd, K::kAdd},           {Fn::kSubtract, K::kSubtract},
                                              {Fn::kMultiply, K::kMultiply}, {Fn::kDivide, K::kDivide},
                                              {Fn::kMaximum, K::kMaximum},   {Fn::kMinimum, K::kMinimum},
                                              {Fn::kPower, K::kPower}};
        return binary(g, in, shapes, y, kinds.at(spec_.fn));
      }
      case Fn::kMatmul:
        return matmul(g, in, shapes, y);
      case Fn::kReshape:
      case Fn::kExpandDims:
      case Fn::kSqueeze:
      case Fn::kCast:
        return g.view(value_of(g, in, x()), y);
      case Fn::kTranspose:
        return graph::transpose(g, value_of(g, in, x()), permutation(shape_of(x(), shapes).rank()), name());
      case Fn::kConcatenate:
      case Fn::kStack:
        return join(g, in, shapes, y);
      case Fn::kSum:
      case Fn::kMean:
      case Fn::kMax:
      case Fn::kMin:
        return reduce(g, value_of(g, in, x()), y);
      case Fn::kUnary:
      case Fn::kClip:
        return unary(g, value_of(g, in, x()));
      case Fn::kGetItem:
        return get_item(g, value_of(g, in, x()));
      case Fn::kActivation:
        return graph::activation(g, value_of(g, in, x()), spec_.detail, name());
      case Fn::kGelu:
        return graph::activation(g, value_of(g, in, x()), flag("approximate") ? "gelu_approximate" : "gelu", name());
      case Fn::kLeakyRelu:
      case Fn::kElu: {
        ops::RectifierOp r;
        if (spec_.fn == Fn::kElu) {
          r.kind = ops::RectifierOp::Kind::kElu;
          r.alpha = roles_.value("alpha", 1.0);
        } else {
          r.negative_slope = roles_.value("negative_slope", 0.2);
        }
        return graph::emit1(g, r, {value_of(g, in, x())}, y, {}, name());
      }
      case Fn::kSoftmax:
      case Fn::kLogSoftmax:
        return softmax(g, value_of(g, in, x()), spec_.fn == Fn::kSoftmax ? "softmax" : "log_softmax");
    }
    throw ValueError("no computation");
  }

  int binary(graph::Lowering& g, const std::vector<int>& in, const std::vector<Shape>& shapes, const Shape& y,
             ops::MergeOp::Kind kind) const {
    Operand a = operand(roles_["x"]), b = operand(roles_["y"]);
    int va = graph::broadcast_to(g, value_of(g, in, a), shape_of(a, shapes), y, name());
    int vb = graph::broadcast_to(g, value_of(g, in, b), shape_of(b, shapes), y, name());
    Shape flat{y.num_elements()};
    return g.view(
        graph::emit1(g, ops::MergeOp{kind, y.num_elements()}, {g.view(va, flat), g.view(vb, flat)}, flat, {}, name()),
        y);
  }

  int swap_last(graph::Lowering& g, int v) const {
    int r = g.shape(v).rank();
    std::vector<int> perm;
    for (int i = 0; i < r; ++i) perm.push_back(i);
    std::swap(perm[size_t(r - 1)], perm[size_t(r - 2)]);
    return graph::transpose(g, v, perm, name());
  }

  int matmul(graph::Lowering& g, const std::vector<int>& in, const std::vector<Shape>& shapes, const Shape& y) const {
    Operand oa = operand(roles_["x"]), ob = operand(roles_["y"]);
    int a = value_of(g, in, oa), b = value_of(g, in, ob);
    Shape sa = shape_of(oa, shapes), sb = shape_of(ob, shapes);
    a = g.view(a, sa.rank() == 1 ? Shape{1, sa[0]} : sa);
    b = g.view(b, sb.rank() == 1 ? Shape{sb[0], 1} : sb);
    if (flag("transpose_a") && sa.rank() >= 2) a = swap_last(g, a);
    if (flag("transpose_b") && sb.rank() >= 2) b = swap_last(g, b);
    sa = g.shape(a);
    sb = g.shape(b);
    Dim m = sa[-2], k = sa[-1], n = sb[-1];
    Shape batch_a(std::vector<Dim>(sa.begin(), sa.end() - 2)), batch_b(std::vector<Dim>(sb.begin(), sb.end() - 2));
    Shape batch = broadcast_shapes(batch_a, batch_b);
    int c;
    if (batch_b.num_elements() == 1 && batch == batch_a) {  // one matrix on the right: one product
      Dim rows = batch.num_elements() * m;
      c = graph::emit1(g, ops::MatMulOp{.m = rows, .n = n, .k = k}, {g.view(a, Shape{rows, k}), g.view(b, Shape{k, n})},
                       Shape{rows, n}, {}, name());
    } else {
      std::vector<Dim> da = batch.dims(), db = batch.dims();
      da.insert(da.end(), {m, k});
      db.insert(db.end(), {k, n});
      a = graph::broadcast_to(g, a, sa, Shape(da), name());
      b = graph::broadcast_to(g, b, sb, Shape(db), name());
      Dim count = batch.num_elements();
      c = graph::emit1(g, ops::MatMulOp{.m = m, .n = n, .k = k, .batch = count},
                       {g.view(a, Shape{count * m, k}), g.view(b, Shape{count * k, n})}, Shape{count * m, n}, {},
                       name());
    }
    return g.view(c, y);
  }

  int join(graph::Lowering& g, const std::vector<int>& in, const std::vector<Shape>& shapes, const Shape& y) const {
    std::vector<Operand> xs = list_operands();
    int axis = axes_of(roles_["axis"], y.rank(), "axis")[0];
    Dim outer = product(y, 0, axis);
    ops::ConcatOp op{.outer = outer};
    std::vector<int> values;
    std::vector<Shape> parts;
    for (const Operand& o : xs) {
      Shape s = shape_of(o, shapes);
      if (spec_.fn == Fn::kStack) {
        std::vector<Dim> d = s.dims();
        d.insert(d.begin() + axis, 1);
        s = Shape(d);
      }
      values.push_back(g.view(value_of(g, in, o), s));
      parts.push_back(s);
      op.widths.push_back(s.num_elements() / std::max<Dim>(outer, 1));
    }
    return g.emit(ops::Op{.attrs = std::move(op), .inputs = parts, .outputs = {y}, .layer = name()}, values)[0];
  }

  int reduce(graph::Lowering& g, int v, const Shape& y) const {
    const Shape x = g.shape(v);
    std::vector<bool> r = reduced_axes(x.rank());
    int first = -1, last = -1;
    for (int d = 0; d < x.rank(); ++d)
      if (r[size_t(d)]) {
        if (first < 0) first = d;
        last = d;
      }
    if (first < 0) return g.view(v, y);  // no axes: numpy's identity
    bool contiguous = true;
    for (int d = first; d <= last; ++d) contiguous = contiguous && r[size_t(d)];
    std::vector<int> perm;
    if (!contiguous) {
      v = graph::move_axes_last(g, v, r, perm, name());
      first = x.rank() - static_cast<int>(std::count(r.begin(), r.end(), true));
      last = x.rank() - 1;
    }
    const Shape t = g.shape(v);
    ops::ReduceOp op{
        .outer = product(t, 0, first), .n = product(t, first, last + 1), .inner = product(t, last + 1, t.rank())};
    using K = ops::ReduceOp::Kind;
    op.kind = spec_.fn == Fn::kSum    ? K::kSum
              : spec_.fn == Fn::kMean ? K::kMean
              : spec_.fn == Fn::kMax  ? K::kMax
                                      : K::kMin;
    int out = graph::emit1(g, op, {g.view(v, Shape{op.outer, op.n, op.inner})}, Shape{op.outer, op.inner}, {}, name());
    return g.view(out, y);
  }

  int unary(graph::Lowering& g, int v) const {
    using K = ops::UnaryOp::Kind;
    static const std::map<std::string, K> kinds = {{"exp", K::kExp},   {"log", K::kLog},
                                                   {"sqrt", K::kSqrt}, {"square", K::kSquare},
                                                   {"abs", K::kAbs},   {"negative", K::kNegative}};
    ops::UnaryOp op{.size = g.shape(v).num_elements()};
    if (spec_.fn == Fn::kClip) {
      op.kind = K::kClip;
      op.lo = roles_["x_min"].get<double>();
      op.hi = roles_["x_max"].get<double>();
    } else {
      op.kind = kinds.at(spec_.detail);
    }
    return graph::emit1(g, op, {v}, g.shape(v), {}, name());
  }

  int get_item(graph::Lowering& g, int v) const {
    Indexing ix = plan_indexing(index_items(roles_.value("key", json())), g.shape(v));
    if (!ix.identity) v = graph::emit1(g, ops::StridedSliceOp{ix.begin, ix.step}, {v}, ix.sliced, {}, name());
    return g.view(v, ix.output);
  }

  int softmax(graph::Lowering& g, int v, const char* activation) const {
    const Shape s = g.shape(v);
    int axis = axes_of(roles_["axis"].is_null() ? json(-1) : roles_["axis"], s.rank(), "axis")[0];
    std::vector<bool> moved(static_cast<size_t>(s.rank()), false);
    moved[size_t(axis)] = true;
    std::vector<int> perm;
    v = graph::move_axes_last(g, v, moved, perm, name());
    v = graph::activation(g, v, activation, name());
    return graph::move_axes_back(g, v, perm, name());
  }

  const Spec& spec_;
  CallArguments call_;
  json config_;  // Keras 3: as the file has it (the __init__ arguments); tf.keras: the layer's
  std::string op_lambda_class_, function_;
  json roles_ = json::object();
  size_t inputs_ = 0;
  std::vector<Tensor> constants_;
  std::vector<Shape> constant_shapes_;
};

const Spec* spec_of(const json& entry) {
  if (!is_keras3_operation(entry)) return find_spec(tf_function(entry), nullptr);
  // Keras 3 writes its operations' modules as keras.src.ops.<name>.
  std::string module = entry["module"].get<std::string>();
  if (module.rfind("keras.ops.", 0) == 0) module = "keras.src.ops." + module.substr(10);
  return find_spec(entry_class(entry), module.c_str());
}

// keras.cpp's names for the entry's operation in messages.
std::string what(const json& entry) {
  if (is_keras3_operation(entry)) return entry["module"].get<std::string>() + "." + entry_class(entry);
  return "tf." + tf_function(entry);
}

}  // namespace

bool is_operation_entry(const json& entry) {
  return is_keras3_operation(entry) || is_op_lambda_class(entry_class(entry));
}

std::string unsupported_reason(const json& entry) {
  if (!spec_of(entry)) return what(entry);
  const json& nodes = entry.value("inbound_nodes", json::array());
  if (!nodes.is_array() || nodes.empty()) return "";
  try {
    from_entry(entry, read_node(nodes[0]));
  } catch (const UnsupportedLayers& e) {
    return what(entry) + ": " + e.what();
  } catch (const std::exception&) {
    // Any other fault of the entry is reported with its layer when the model is built.
  }
  return "";
}

Layer from_entry(const json& entry, const CallArguments& call) {
  const Spec* spec = spec_of(entry);
  if (!spec) throw UnsupportedLayers("the model uses an operation keras.cpp cannot run: " + what(entry));
  std::string name = entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>()
                                                                         : entry_config(entry).value("name", "");
  return Layer(std::make_shared<OperationImpl>(*spec, entry, call, name));
}

bool same_constants(const CallArguments& a, const CallArguments& b) {
  CallArguments na = numbered(a), nb = numbered(b);
  return na.args == nb.args && na.kwargs == nb.kwargs;
}

}  // namespace keras::layers::operations
