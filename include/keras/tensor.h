#pragma once
// Dense float32 tensors, contiguous and row-major (C order, last axis fastest), like numpy.
#include <iosfwd>
#include <span>
#include <vector>

#include "keras/shape.h"

namespace keras {

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> values);

  static Tensor zeros(Shape shape) { return Tensor(std::move(shape), 0.0f); }
  static Tensor ones(Shape shape) { return Tensor(std::move(shape), 1.0f); }
  // Values start, start+step, ... below stop, as numpy.arange; a rank-1 tensor.
  static Tensor arange(float start, float stop, float step = 1.0f);

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  Dim dim(int axis) const { return shape_[axis]; }
  Dim size() const { return static_cast<Dim>(values_.size()); }
  bool empty() const { return values_.empty(); }

  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  float& operator[](Dim i) { return values_[static_cast<size_t>(i)]; }
  float operator[](Dim i) const { return values_[static_cast<size_t>(i)]; }
  // Element at a full multi-index (negative indices not allowed); bounds-checked.
  float at(std::initializer_list<Dim> index) const;

  // Same values, new shape (one -1 allowed); C order, so no data moves.
  Tensor reshape(Shape shape) const&;
  Tensor reshape(Shape shape) &&;

  // Rows [begin, end) of the first axis.
  Tensor slice(Dim begin, Dim end) const;
  // Joins tensors along the first axis; all other dimensions must match.
  static Tensor concatenate(std::span<const Tensor> parts);

  Tensor operator*(float s) const;
  Tensor operator/(float s) const;
  Tensor operator+(float s) const;
  Tensor operator-(float s) const;

  friend bool operator==(const Tensor&, const Tensor&) = default;

 private:
  Shape shape_;
  std::vector<float> values_;
};

// numpy-like text: [[0, 1, 2], [3, 4, 5]]; long tensors are abbreviated with "...".
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace keras
