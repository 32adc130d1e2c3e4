// Reshape, Permute and RepeatVector: layers that only move (or copy) values.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/reshaping.h"
#include "layers/from_config.h"
#include "layers/shape_checks.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class ReshapeImpl : public LayerImpl {
 public:
  explicit ReshapeImpl(const ReshapeOptions& o) : LayerImpl(o.name, "reshape"), target_(o.target_shape) {
    for (Dim d : target_)
      if (d < -1)
        throw ValueError(
            "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single "
            "unknown dimension. Received: target_shape=" +
            detail::tuple_str(target_) + ".");
    if (std::count(target_.begin(), target_.end(), Dim{-1}) > 1)
      throw ValueError("There must be at most one unknown dimension (-1) in `target_shape`. Received: target_shape=" +
                       detail::tuple_str(target_) + ".");
  }
  std::string class_name() const override { return "Reshape"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_min_ndim(name(), in[0], 1);
    Shape out{in[0][0]};
    for (Dim d : resolve(in[0].without_batch())) out.push_back(d);
    return {out};
  }

  // A view of the same values (C order), as ops.
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }

  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    out = {g.view(in.at(0), compute_output_shape({g.shape(in.at(0))})[0])};
    return true;
  }

  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["target_shape"] = target_;
    return c;
  }

 private:
  // Keras's compute_reshape_output_shape on the per-sample shape: the -1 becomes the
  // inferred size, or None while the input has unknown dimensions.
  std::vector<Dim> resolve(const Shape& sample) const {
    std::vector<Dim> out = target_;
    auto unknown = std::find(out.begin(), out.end(), Dim{-1});
    if (!sample.fully_defined()) {
      if (unknown != out.end()) *unknown = None;
      return out;
    }
    Dim size = sample.num_elements(), known = 1;
    for (Dim d : out)
      if (d != -1) known *= d;
    if (unknown == out.end()) {
      if (known != size)
        fail("The total size of the tensor must be unchanged. Received: input_shape=" + sample.str() +
             ", target_shape=" + detail::tuple_str(target_));
      return out;
    }
    if (known == 0 || size % known != 0)
      fail(
          "The total size of the tensor must be unchanged, however, the input size cannot by divided by the "
          "specified dimensions in target_shape. Received: input_shape=" +
          sample.str() + ", target_shape=" + detail::tuple_str(target_));
    *unknown = size / known;
    return out;
  }

  std::vector<Dim> target_;
};

class PermuteImpl : public LayerImpl {
 public:
  explicit PermuteImpl(const PermuteOptions& o) : LayerImpl(o.name, "permute"), dims_(o.dims) {
    std::vector<int> sorted = dims_;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != static_cast<int>(i) + 1)
        throw ValueError(
            "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
            "consecutive and start from 1. Received dims=" +
            detail::tuple_str(std::vector<Dim>(dims_.begin(), dims_.end())));
  }
  std::string class_name() const override { return "Permute"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], static_cast<int>(dims_.size()) + 1);
    Shape out{in[0][0]};
    for (int d : dims_) out.push_back(in[0][d]);
    return {out};
  }

  // One transpose op (its gradient the inverse transpose).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    std::vector<int> perm{0};
    perm.insert(perm.end(), dims_.begin(), dims_.end());
    ops::Op op{.attrs = ops::TransposeOp{perm}, .inputs = {x}, .outputs = compute_output_shape({x}), .layer = name()};
    out = g.emit(std::move(op), in);
    return true;
  }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["dims"] = dims_;
    return c;
  }

 private:
  std::vector<int> dims_;
};

class RepeatVectorImpl : public LayerImpl {
 public:
  explicit RepeatVectorImpl(const RepeatVectorOptions& o) : LayerImpl(o.name, "repeat_vector"), n_(o.n) {
    if (n_ < 0) throw ValueError("Expected a non-negative integer value for `n`. Received: n=" + std::to_string(n_));
  }
  std::string class_name() const override { return "RepeatVector"; }

  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    detail::check_ndim(name(), in[0], 2);
    return {Shape{in[0][0], n_, in[0][1]}};
  }

  // Described once, as ops: (batch, features) viewed as (batch, 1, features) and broadcast n
  // times (its gradient sums over the repeats).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    Shape y = compute_output_shape({x})[0];
    int v = g.view(in[0], Shape{x[0], 1, x[1]});
    out = {graph::emit1(g, ops::BroadcastOp{}, {v}, std::move(y), {}, name())};
    return true;
  }
  Gradients backward(const BackwardArgs& args) const override { return backward_ops(args); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["n"] = n_;
    return c;
  }

 private:
  Dim n_;
};

std::vector<Dim> ints_of(const nlohmann::json& c, const std::string& key) {
  if (!c.contains(key) || !c.at(key).is_array())
    throw ValueError("Config argument `" + key +
                     "` should be a list of integers, received: " + (c.contains(key) ? c.at(key).dump() : "nothing"));
  std::vector<Dim> v;
  for (const auto& e : c.at(key)) {
    if (!e.is_number_integer())
      throw ValueError("Config argument `" + key + "` should be a list of integers, received: " + c.at(key).dump());
    v.push_back(e.get<Dim>());
  }
  return v;
}

Layer finish(Layer l, const nlohmann::json& c) {
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace

Layer Reshape(const ReshapeOptions& options) { return Layer(std::make_shared<ReshapeImpl>(options)); }
Layer Reshape(std::vector<Dim> target_shape) {
  return Reshape(ReshapeOptions{.target_shape = std::move(target_shape)});
}
Layer Permute(const PermuteOptions& options) { return Layer(std::make_shared<PermuteImpl>(options)); }
Layer Permute(std::vector<int> dims) { return Permute(PermuteOptions{.dims = std::move(dims)}); }
Layer RepeatVector(const RepeatVectorOptions& options) { return Layer(std::make_shared<RepeatVectorImpl>(options)); }
Layer RepeatVector(Dim n) { return RepeatVector(RepeatVectorOptions{.n = n}); }

Layer reshape_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(Reshape({.target_shape = ints_of(c, "target_shape"), .name = saving::get_string(c, "name")}), c);
}

Layer permute_from_config(const nlohmann::json& c, const ConfigContext&) {
  auto dims = ints_of(c, "dims");
  return finish(Permute({.dims = std::vector<int>(dims.begin(), dims.end()), .name = saving::get_string(c, "name")}),
                c);
}

Layer repeat_vector_from_config(const nlohmann::json& c, const ConfigContext&) {
  return finish(RepeatVector({.n = saving::get_int(c, "n", 0), .name = saving::get_string(c, "name")}), c);
}

}  // namespace keras::layers
