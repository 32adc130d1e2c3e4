// Keras's UnitNormalization (keras/src/layers/normalization/unit_normalization.py): x *
// rsqrt(max(sum(x^2), 1e-12)) over the axes, as one L2NormalizeOp capped at 1e6 on the axes
// moved last.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
#include "keras/layers/normalization.h"
#include "layers/from_config.h"
#include "layers/ops_layer.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class UnitNormalizationImpl : public SameShapeLayerImpl {
 public:
  explicit UnitNormalizationImpl(const UnitNormalizationOptions& o)
      : SameShapeLayerImpl(o.name, "unit_normalization"), options_(o) {
    if (o.axis.size() == 0) throw ValueError("UnitNormalization needs at least one axis; received axis=[]");
  }
  std::string class_name() const override { return "UnitNormalization"; }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape s = g.shape(in.at(0));
    std::vector<bool> axes = normalized(s);
    std::vector<int> perm;
    int x = graph::move_axes_last(g, in[0], axes, perm, name());
    const Shape t = g.shape(x);
    Dim n = 1;
    for (int d = 0; d < s.rank(); ++d)
      if (axes[size_t(d)]) n *= s[d];
    if (n == 0 || t.num_elements() == 0) return false;
    ops::L2NormalizeOp op{.outer = t.num_elements() / n, .n = n, .inner = 1, .max_scale = 1e6};
    int y = graph::emit1(g, op, {x}, t, {}, name());
    out = {graph::move_axes_back(g, y, perm, name())};
    return true;
  }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    const auto& a = options_.axis.values;
    c["axis"] = a.size() == 1 ? nlohmann::json(a[0]) : nlohmann::json(a);
    return c;
  }

 protected:
  void check_input(const Shape& s) const override { normalized(s); }

 private:
  std::vector<bool> normalized(const Shape& s) const {
    std::vector<bool> r(static_cast<size_t>(s.rank()), false);
    for (int a : options_.axis.values) {
      int d = a < 0 ? a + s.rank() : a;
      if (d < 0 || d >= s.rank())
        fail("axis " + std::to_string(a) + " is out of bounds for an input of rank " + std::to_string(s.rank()));
      r[size_t(d)] = true;
    }
    return r;
  }
  UnitNormalizationOptions options_;
};

}  // namespace

Layer UnitNormalization(const UnitNormalizationOptions& options) {
  return Layer(std::make_shared<UnitNormalizationImpl>(options));
}

Layer unit_normalization_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  UnitNormalizationOptions o{.name = get_string(c, "name")};
  if (c.contains("axis") && c["axis"].is_array())
    o.axis = Axes(c["axis"].get<std::vector<int>>());
  else
    o.axis = static_cast<int>(get_int(c, "axis", -1));
  Layer l = UnitNormalization(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
