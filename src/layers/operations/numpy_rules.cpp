#include "layers/operations/numpy_rules.h"

#include <algorithm>
#include <functional>

#include "keras/errors.h"

namespace keras::layers::operations {

using nlohmann::json;

json plain(const json& j) {
  if (j.is_object() && j.value("class_name", "") == "__tuple__" && j.contains("items")) return plain(j["items"]);
  if (j.is_array()) {
    json out = json::array();
    for (const json& e : j) out.push_back(plain(e));
    return out;
  }
  return j;
}

// ---------------------------------------------------------------- constants

Tensor constant_tensor(const json& j, Shape& shape) {
  json value = plain(j);
  if (value.is_object() &&
      (value.value("class_name", "") == "__numpy__" || value.value("class_name", "") == "__tensor__"))
    value = plain(value.at("config").at("value"));
  std::vector<Dim> dims;
  for (const json* p = &value; p->is_array(); p = &(*p)[0]) {
    dims.push_back(static_cast<Dim>(p->size()));
    if (p->empty()) break;
  }
  std::vector<float> data;
  std::function<void(const json&, size_t)> walk = [&](const json& v, size_t depth) {
    if (depth == dims.size()) {
      if (!v.is_number() && !v.is_boolean()) throw ValueError("a constant argument is not a number: " + v.dump());
      data.push_back(v.is_boolean() ? (v.get<bool>() ? 1.0f : 0.0f) : v.get<float>());
      return;
    }
    if (!v.is_array() || static_cast<Dim>(v.size()) != dims[depth])
      throw ValueError("a constant argument is not a rectangular array: " + value.dump().substr(0, 200));
    for (const json& e : v) walk(e, depth + 1);
  };
  walk(value, 0);
  shape = Shape(dims);
  return Tensor(dims.empty() ? Shape{1} : Shape(dims), std::move(data));
}

// ---------------------------------------------------------------- shapes

Dim product(const Shape& s, int from, int to) {
  Dim p = 1;
  for (int i = from; i < to; ++i) p *= s[i];
  return p;
}

std::vector<int> axes_of(const json& axis, int rank, const std::string& what) {
  std::vector<int> out;
  json a = plain(axis);
  if (a.is_number_integer()) a = json::array({a});
  if (!a.is_array()) throw ValueError(what + " must be an integer or a list of integers, got " + a.dump());
  for (const json& e : a) {
    if (!e.is_number_integer()) throw ValueError(what + " must hold integers, got " + a.dump());
    int v = e.get<int>();
    if (v < -rank || v >= rank)
      throw ValueError(what + " " + std::to_string(v) + " is out of bounds for a tensor of rank " +
                       std::to_string(rank));
    out.push_back(v < 0 ? v + rank : v);
  }
  return out;
}

namespace {

Dim broadcast_dim(Dim a, Dim b, const Shape& x, const Shape& y) {
  if (a == 1) return b;
  if (b == 1 || a == b) return a;
  if (a == None) return b;
  if (b == None) return a;
  throw ValueError("Cannot broadcast shapes " + x.str() + " and " + y.str());
}

}  // namespace

Shape broadcast_shapes(const Shape& x, const Shape& y) {
  int r = std::max(x.rank(), y.rank());
  std::vector<Dim> out(static_cast<size_t>(r));
  for (int i = 1; i <= r; ++i) {
    Dim a = i <= x.rank() ? x[x.rank() - i] : 1, b = i <= y.rank() ? y[y.rank() - i] : 1;
    out[static_cast<size_t>(r - i)] = broadcast_dim(a, b, x, y);
  }
  return Shape(out);
}

namespace {

std::optional<int64_t> optional_int(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number_integer()) throw ValueError(std::string("slice ") + key + " must be an integer or None");
  return j[key].get<int64_t>();
}

IndexItem index_item(const json& j) {
  IndexItem it;
  if (j.is_null()) {
    it.kind = IndexItem::Kind::kNewAxis;
  } else if (j.is_number_integer()) {
    it.index = j.get<int64_t>();
  } else if (j.is_string() && j == "...") {
    it.kind = IndexItem::Kind::kEllipsis;
  } else if (j.is_object() && j.value("class_name", "") == "__ellipsis__") {
    it.kind = IndexItem::Kind::kEllipsis;
  } else if (j.is_object()) {
    // Keras 3: {"class_name": "__slice__", "config": {...}}; tf.keras: {"start", "stop", "step"}.
    const json& c = j.value("class_name", "") == "__slice__" ? j.at("config") : j;
    if (!c.contains("start") && !c.contains("stop") && !c.contains("step"))
      throw ValueError("unsupported index " + j.dump());
    it.kind = IndexItem::Kind::kSlice;
    it.start = optional_int(c, "start");
    it.stop = optional_int(c, "stop");
    it.step = optional_int(c, "step");
    if (it.step && *it.step == 0) throw ValueError("slice step cannot be zero");
  } else {
    throw ValueError("unsupported index " + j.dump() + " (integers, slices, None and ... are)");
  }
  return it;
}

}  // namespace

std::vector<IndexItem> index_items(const json& key) {
  std::vector<IndexItem> items;
  json k = key.is_object() && key.value("class_name", "") == "__tuple__" ? key["items"] : key;
  if (k.is_array()) {
    for (const json& e : k) items.push_back(index_item(e));
  } else {
    items.push_back(index_item(k));
  }
  return items;
}

namespace {

// Python's slice.indices(n) and the resulting length.
void slice_bounds(const IndexItem& it, Dim n, Dim& begin, Dim& step, Dim& length) {
  step = it.step.value_or(1);
  auto clamp_to = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v += n;
    return std::clamp<int64_t>(v, lo, hi);
  };
  Dim stop = 0;
  if (step > 0) {
    begin = it.start ? clamp_to(*it.start, 0, n) : 0;
    stop = it.stop ? clamp_to(*it.stop, 0, n) : n;
    length = stop > begin ? (stop - begin + step - 1) / step : 0;
  } else {
    begin = it.start ? clamp_to(*it.start, -1, n - 1) : n - 1;
    stop = it.stop ? clamp_to(*it.stop, -1, n - 1) : -1;
    length = begin > stop ? (begin - stop - step - 1) / -step : 0;
  }
}

}  // namespace

Indexing plan_indexing(const std::vector<IndexItem>& items, const Shape& in) {
  int used = 0, ellipses = 0;
  for (const IndexItem& it : items) {
    if (it.kind == IndexItem::Kind::kIndex || it.kind == IndexItem::Kind::kSlice) ++used;
    if (it.kind == IndexItem::Kind::kEllipsis) ++ellipses;
  }
  if (ellipses > 1) throw ValueError("an index can only have a single ellipsis ('...')");
  if (used > in.rank())
    throw ValueError("too many indices for a tensor of rank " + std::to_string(in.rank()) + " (shape " + in.str() +
                     ")");
  Indexing r;
  std::vector<Dim> out;
  int axis = 0;
  auto keep_whole = [&]() {
    r.begin.push_back(0);
    r.step.push_back(1);
    r.length.push_back(in[axis]);
    out.push_back(in[axis]);
    ++axis;
  };
  for (const IndexItem& it : items) {
    switch (it.kind) {
      case IndexItem::Kind::kNewAxis:
        out.push_back(1);
        break;
      case IndexItem::Kind::kEllipsis:
        for (int k = 0; k < in.rank() - used; ++k) keep_whole();
        break;
      case IndexItem::Kind::kIndex: {
        Dim n = in[axis];
        int64_t i = it.index < 0 && n != None ? it.index + n : it.index;
        if (n != None && (i < 0 || i >= n))
          throw ValueError("index " + std::to_string(it.index) + " is out of bounds for axis " + std::to_string(axis) +
                           " with size " + std::to_string(n));
        r.begin.push_back(i);
        r.step.push_back(1);
        r.length.push_back(1);
        r.identity = false;
        ++axis;
        break;
      }
      case IndexItem::Kind::kSlice: {
        Dim n = in[axis], begin = 0, step = 1, length = None;
        if (n != None) slice_bounds(it, n, begin, step, length);
        r.identity = r.identity && n != None && begin == 0 && step == 1 && length == n;
        r.begin.push_back(begin);
        r.step.push_back(step);
        r.length.push_back(length);
        out.push_back(length);
        ++axis;
        break;
      }
    }
  }
  while (axis < in.rank()) keep_whole();
  r.sliced = Shape(r.length);
  r.output = Shape(out);
  return r;
}

Shape reshape_target(const Shape& in, const json& shape_arg) {
  json s = plain(shape_arg);
  if (s.is_number_integer()) s = json::array({s});
  if (!s.is_array()) throw ValueError("the new shape must be a list of integers, got " + s.dump());
  std::vector<Dim> dims;
  int unknown = -1;
  Dim known = 1;
  for (const json& d : s) {
    if (!d.is_number_integer()) throw ValueError("the new shape must be a list of integers, got " + s.dump());
    Dim v = d.get<Dim>();
    if (v == -1) {
      if (unknown >= 0) throw ValueError("the new shape " + s.dump() + " has more than one -1");
      unknown = static_cast<int>(dims.size());
    } else if (v < 0) {
      throw ValueError("the new shape " + s.dump() + " has a negative size");
    } else {
      known *= v;
    }
    dims.push_back(v);
  }
  if (!in.fully_defined()) {
    if (unknown >= 0) dims[static_cast<size_t>(unknown)] = None;
    return Shape(dims);
  }
  Dim total = in.num_elements();
  if (unknown >= 0) {
    if (known == 0 || total % known != 0)
      throw ValueError("cannot reshape a tensor of shape " + in.str() + " into " + s.dump());
    dims[static_cast<size_t>(unknown)] = total / known;
  } else if (known != total) {
    throw ValueError("cannot reshape a tensor of shape " + in.str() + " (" + std::to_string(total) + " values) into " +
                     s.dump());
  }
  return Shape(dims);
}

}  // namespace keras::layers::operations
