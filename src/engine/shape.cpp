#include "keras/shape.h"

#include <sstream>

#include "keras/errors.h"

namespace keras {

bool Shape::fully_defined() const {
  for (Dim d : dims_)
    if (d < 0) return false;
  return true;
}

Dim Shape::num_elements() const {
  Dim n = 1;
  for (Dim d : dims_) {
    if (d < 0) throw ValueError("Shape " + str() + " has an unknown dimension");
    n *= d;
  }
  return n;
}

int Shape::normalize_axis(int axis) const {
  int r = rank();
  int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r)
    throw ValueError("Axis " + std::to_string(axis) + " is out of bounds for shape " + str());
  return a;
}

Shape Shape::with_batch(Dim batch) const {
  std::vector<Dim> d{batch};
  d.insert(d.end(), dims_.begin(), dims_.end());
  return Shape(std::move(d));
}

Shape Shape::without_batch() const {
  if (dims_.empty()) return {};
  return Shape(std::vector<Dim>(dims_.begin() + 1, dims_.end()));
}

static std::string join_dims(const std::vector<Dim>& dims) {
  std::ostringstream os;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) os << ", ";
    if (dims[i] < 0)
      os << "None";
    else
      os << dims[i];
  }
  return os.str();
}

// (Built with append: GCC 12 warns falsely on "(" + std::string under -O2.)
std::string Shape::str() const {
  std::string s(1, '(');
  s.append(join_dims(dims_)).append(dims_.size() == 1 ? ",)" : ")");
  return s;
}

std::string Shape::list_str() const {
  std::string s(1, '[');
  s.append(join_dims(dims_)).push_back(']');
  return s;
}

}  // namespace keras
