#pragma once
// Dense float32 tensors, contiguous and row-major (C order, last axis fastest), like numpy.
#include <iosfwd>
#include <memory>
#include <span>
#include <vector>

#include "keras/shape.h"

namespace keras {

// The memory a tensor's values live in. Host memory today; it is a separate object so that a
// device backend can own memory of its own kind behind the same Tensor.
class Buffer {
 public:
  explicit Buffer(std::vector<float> values) : host_(std::move(values)), data_(host_.data()), size_(host_.size()) {}
  // n floats whose values are unspecified until written (as numpy.empty).
  static std::shared_ptr<Buffer> uninitialized(size_t n);
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  Buffer(std::unique_ptr<float[]> raw, size_t n) : raw_(std::move(raw)), data_(raw_.get()), size_(n) {}

  std::vector<float> host_;       // when built from values
  std::unique_ptr<float[]> raw_;  // when uninitialized: a vector would zero it first
  float* data_;
  size_t size_;
};

// A value, as numpy arrays are not: copies are independent. They share one Buffer until one of
// them is written (copy on write), so keeping a tensor for later (the training tape, a saved
// activation) costs no copy. As with std::string, reading one Tensor from many threads is
// safe; writing one Tensor object while another thread uses it is not.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> values);

  static Tensor zeros(Shape shape) { return Tensor(std::move(shape), 0.0f); }
  static Tensor ones(Shape shape) { return Tensor(std::move(shape), 1.0f); }
  // Values unspecified until written, as numpy.empty: for outputs a kernel overwrites whole.
  static Tensor empty(Shape shape);
  // Values start, start+step, ... below stop, as numpy.arange; a rank-1 tensor.
  static Tensor arange(float start, float stop, float step = 1.0f);

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  Dim dim(int axis) const { return shape_[axis]; }
  Dim size() const { return storage_ ? static_cast<Dim>(storage_->size()) : 0; }
  bool empty() const { return size() == 0; }

  // The non-const accessors give this tensor its own buffer first if it shares one.
  float* data() { return own(); }
  const float* data() const { return storage_ ? storage_->data() : nullptr; }
  std::span<float> values() { return {own(), static_cast<size_t>(size())}; }
  std::span<const float> values() const { return {data(), static_cast<size_t>(size())}; }
  float& operator[](Dim i) { return own()[i]; }
  float operator[](Dim i) const { return storage_->data()[i]; }
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

  // Same shape and values.
  friend bool operator==(const Tensor& a, const Tensor& b);

 private:
  // This tensor's buffer, copied first if another tensor shares it.
  float* own() { return storage_ && storage_.use_count() == 1 ? storage_->data() : own_shared(); }
  float* own_shared();

  Shape shape_;
  std::shared_ptr<Buffer> storage_;
};

// numpy-like text: [[0, 1, 2], [3, 4, 5]]; long tensors are abbreviated with "...".
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace keras
