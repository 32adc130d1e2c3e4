#pragma once
// Shapes with an optional unknown dimension (Keras's None), printed as Python tuples.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace keras {

using Dim = std::int64_t;
// An unknown dimension (Python's None), usually the batch.
inline constexpr Dim None = -1;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<Dim> dims) : dims_(dims) {}
  explicit Shape(std::vector<Dim> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  // Negative axes count from the end, as in Python.
  Dim operator[](int axis) const { return dims_[static_cast<size_t>(normalize_axis(axis))]; }
  Dim& operator[](int axis) { return dims_[static_cast<size_t>(normalize_axis(axis))]; }
  const std::vector<Dim>& dims() const { return dims_; }
  auto begin() const { return dims_.begin(); }
  auto end() const { return dims_.end(); }

  bool fully_defined() const;
  // Product of all dimensions; throws ValueError when one is unknown.
  Dim num_elements() const;
  // Axis in [0, rank); throws ValueError when out of range.
  int normalize_axis(int axis) const;

  Shape with_batch(Dim batch) const;  // prepend a batch dimension
  Shape without_batch() const;        // drop the first dimension
  void push_back(Dim d) { dims_.push_back(d); }

  // "(None, 26, 26, 32)", "(None,)", "()" — Python's tuple repr.
  std::string str() const;
  // "[None, 26, 26, 32]" — Python's list repr, used by Keras 2 error messages.
  std::string list_str() const;

  friend bool operator==(const Shape&, const Shape&) = default;

 private:
  std::vector<Dim> dims_;
};

}  // namespace keras
