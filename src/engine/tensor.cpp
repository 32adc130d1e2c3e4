#include "keras/tensor.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>

#include "keras/errors.h"

namespace keras {

Tensor::Tensor(Shape shape, float fill)
    : shape_(std::move(shape)),
      storage_(std::make_shared<Buffer>(std::vector<float>(static_cast<size_t>(shape_.num_elements()), fill))) {}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(std::move(shape)) {
  if (shape_.num_elements() != static_cast<Dim>(values.size()))
    throw ValueError("Cannot make a tensor of shape " + shape_.str() + " from " + std::to_string(values.size()) +
                     " values");
  storage_ = std::make_shared<Buffer>(std::move(values));
}

std::shared_ptr<Buffer> Buffer::uninitialized(size_t n) {
  // new float[n] (not make_unique, which value-initializes): the point is to skip the zeroing.
  return std::shared_ptr<Buffer>(new Buffer(std::unique_ptr<float[]>(new float[n]), n));
}

Tensor Tensor::empty(Shape shape) {
  Tensor t;
  t.storage_ = Buffer::uninitialized(static_cast<size_t>(shape.num_elements()));
  t.shape_ = std::move(shape);
  return t;
}

float* Tensor::own_shared() {
  if (!storage_) return nullptr;
  std::shared_ptr<Buffer> copy = Buffer::uninitialized(storage_->size());
  std::copy(storage_->data(), storage_->data() + storage_->size(), copy->data());
  storage_ = std::move(copy);
  return storage_->data();
}

bool operator==(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.size() != b.size()) return false;
  return std::equal(a.data(), a.data() + a.size(), b.data());
}

Tensor Tensor::arange(float start, float stop, float step) {
  if (step == 0) throw ValueError("arange: step must not be zero");
  Dim n = std::max<Dim>(0, static_cast<Dim>(std::ceil((stop - start) / step)));
  std::vector<float> v(static_cast<size_t>(n));
  for (Dim i = 0; i < n; ++i) v[static_cast<size_t>(i)] = start + static_cast<float>(i) * step;
  return Tensor(Shape{n}, std::move(v));
}

float Tensor::at(std::initializer_list<Dim> index) const {
  if (static_cast<int>(index.size()) != rank())
    throw ValueError("Index of rank " + std::to_string(index.size()) + " for a tensor of shape " + shape_.str());
  Dim flat = 0;
  int axis = 0;
  for (Dim i : index) {
    Dim n = shape_[axis++];
    if (i < 0 || i >= n) throw ValueError("Index out of range for a tensor of shape " + shape_.str());
    flat = flat * n + i;
  }
  return data()[flat];
}

// Resolves a single -1 in `target` so the element count matches `size`.
static Shape resolve_reshape(const Shape& from, Shape target, Dim size) {
  int unknown = -1;
  Dim known = 1;
  for (int i = 0; i < target.rank(); ++i) {
    if (target[i] < 0) {
      if (unknown >= 0) throw ValueError("Can only specify one unknown dimension in reshape to " + target.str());
      unknown = i;
    } else {
      known *= target[i];
    }
  }
  if (unknown >= 0 && known > 0 && size % known == 0) target[unknown] = size / known;
  if (!target.fully_defined() || target.num_elements() != size)
    throw ValueError("Cannot reshape a tensor of shape " + from.str() + " into shape " + target.str());
  return target;
}

Tensor Tensor::reshape(Shape shape) const& {
  Tensor t = *this;
  return std::move(t).reshape(std::move(shape));
}

Tensor Tensor::reshape(Shape shape) && {
  shape_ = resolve_reshape(shape_, std::move(shape), size());
  return std::move(*this);
}

Tensor Tensor::slice(Dim begin, Dim end) const {
  if (rank() == 0) throw ValueError("Cannot slice a scalar tensor");
  Dim n = shape_[0];
  begin = std::clamp<Dim>(begin, 0, n);
  end = std::clamp<Dim>(end, begin, n);
  Dim row = n ? size() / n : 0;
  Shape s = shape_;
  s[0] = end - begin;
  if (begin == 0 && end == n) {
    Tensor whole = *this;
    whole.shape_ = std::move(s);
    return whole;
  }
  return Tensor(s, std::vector<float>(data() + begin * row, data() + end * row));
}

Tensor Tensor::concatenate(std::span<const Tensor> parts) {
  if (parts.empty()) throw ValueError("concatenate needs at least one tensor");
  Shape s = parts[0].shape();
  Dim total = 0;
  for (const Tensor& p : parts) {
    if (p.rank() != s.rank() || p.rank() == 0 || p.shape().without_batch() != s.without_batch())
      throw ValueError("Cannot concatenate tensors of shapes " + s.str() + " and " + p.shape().str());
    total += p.dim(0);
  }
  s[0] = total;
  std::vector<float> v;
  v.reserve(static_cast<size_t>(s.num_elements()));
  for (const Tensor& p : parts) v.insert(v.end(), p.data(), p.data() + p.size());
  return Tensor(s, std::move(v));
}

static Tensor map(const Tensor& t, const std::function<float(float)>& f) {
  Tensor r = t;
  for (float& v : r.values()) v = f(v);
  return r;
}

Tensor Tensor::operator*(float s) const {
  return map(*this, [s](float v) { return v * s; });
}
Tensor Tensor::operator/(float s) const {
  return map(*this, [s](float v) { return v / s; });
}
Tensor Tensor::operator+(float s) const {
  return map(*this, [s](float v) { return v + s; });
}
Tensor Tensor::operator-(float s) const {
  return map(*this, [s](float v) { return v - s; });
}

// Prints like numpy: nested brackets, integers without a decimal point.
static void print_axis(std::ostream& os, const Tensor& t, int axis, Dim offset, Dim stride) {
  Dim n = t.dim(axis);
  Dim inner = stride / std::max<Dim>(n, 1);
  const Dim edge = 3;
  bool abbreviate = t.size() > 1000 && n > 2 * edge;
  os << '[';
  for (Dim i = 0; i < n; ++i) {
    if (abbreviate && i == edge) {
      os << "..., ";
      i = n - edge;
    }
    if (i && !(abbreviate && i == n - edge)) os << ", ";
    if (axis + 1 == t.rank())
      os << t[offset + i];
    else
      print_axis(os, t, axis + 1, offset + i * inner, inner);
  }
  os << ']';
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (t.rank() == 0) return os << (t.size() ? t[0] : 0.0f);
  print_axis(os, t, 0, 0, t.size());
  return os;
}

}  // namespace keras
