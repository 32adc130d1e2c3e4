// Keras's Rescaling (keras/src/layers/preprocessing/rescaling.py): inputs * scale + offset, the
// constants broadcast as numpy does.
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/preprocessing.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

// A scalar's logical shape is (), a list's (n,).
Shape logical_shape(const std::vector<float>& v, bool scalar) { return scalar ? Shape{} : Shape{Dim(v.size())}; }

class RescalingImpl : public SameShapeLayerImpl {
 public:
  RescalingImpl(const RescalingOptions& o, bool scalar_scale, bool scalar_offset)
      : SameShapeLayerImpl(o.name, "rescaling"),
        scale_(Shape{Dim(o.scale.size())}, o.scale),
        offset_(Shape{Dim(o.offset.size())}, o.offset),
        scale_shape_(logical_shape(o.scale, scalar_scale)),
        offset_shape_(logical_shape(o.offset, scalar_offset)) {
    if (o.scale.empty() || o.offset.empty()) throw ValueError("Rescaling needs a scale and an offset");
  }
  std::string class_name() const override { return "Rescaling"; }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    check_input(s);
    Shape flat{s.num_elements()};
    auto merge = [&](ops::MergeOp::Kind kind, int x, const Tensor& c, const Shape& c_shape) {
      int k = graph::broadcast_constant(g, c, c_shape, s, name());
      return graph::emit1(g, ops::MergeOp{kind, s.num_elements()}, {g.view(x, flat), g.view(k, flat)}, flat, {},
                          name());
    };
    int y = merge(ops::MergeOp::Kind::kMultiply, in[0], scale_, scale_shape_);
    y = merge(ops::MergeOp::Kind::kAdd, y, offset_, offset_shape_);
    out = {g.view(y, s)};
    return true;
  }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    auto value = [](const Tensor& t, const Shape& logical) {
      if (logical.rank() == 0) return nlohmann::json(t[0]);
      return nlohmann::json(std::vector<float>(t.values().begin(), t.values().end()));
    };
    c["scale"] = value(scale_, scale_shape_);
    c["offset"] = value(offset_, offset_shape_);
    return c;
  }

 protected:
  void check_input(const Shape& s) const override {
    for (const Shape* c : {&scale_shape_, &offset_shape_})
      if (c->rank() == 1 && (s.rank() == 0 || (s[-1] >= 0 && s[-1] != (*c)[0] && (*c)[0] != 1)))
        fail("a scale or offset of " + std::to_string((*c)[0]) + " values does not broadcast to an input of shape " +
             s.str());
  }

 private:
  Tensor scale_, offset_;
  Shape scale_shape_, offset_shape_;
};

// A number or a list of numbers.
std::vector<float> numbers(const nlohmann::json& c, const char* key, float fallback, bool& scalar) {
  scalar = true;
  if (!c.contains(key) || c[key].is_null()) return {fallback};
  const nlohmann::json& v = c[key];
  if (v.is_number()) return {v.get<float>()};
  if (v.is_array()) {
    scalar = false;
    std::vector<float> out;
    for (const auto& e : v) {
      if (!e.is_number()) throw ValueError(std::string("Rescaling's ") + key + " must hold numbers, got " + v.dump());
      out.push_back(e.get<float>());
    }
    return out;
  }
  throw ValueError(std::string("Rescaling's ") + key + " must be a number or a list of numbers, got " + v.dump());
}

}  // namespace

Layer Rescaling(const RescalingOptions& options) {
  return Layer(std::make_shared<RescalingImpl>(options, options.scale.size() == 1, options.offset.size() == 1));
}
Layer Rescaling(float scale, float offset) { return Rescaling(RescalingOptions{.scale = {scale}, .offset = {offset}}); }

Layer rescaling_from_config(const nlohmann::json& c, const ConfigContext&) {
  bool scalar_scale = true, scalar_offset = true;
  RescalingOptions o{.scale = numbers(c, "scale", 1.0f, scalar_scale),
                     .offset = numbers(c, "offset", 0.0f, scalar_offset),
                     .name = saving::get_string(c, "name")};
  Layer l(std::make_shared<RescalingImpl>(o, scalar_scale, scalar_offset));
  l->set_trainable(saving::get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
