// keras.utils.to_categorical and set_random_seed.
#include <cmath>
#include <string>

#include "keras/errors.h"
#include "keras/initializers.h"
#include "keras/utils.h"

namespace keras::utils {

Tensor to_categorical(const Tensor& labels, int num_classes) {
  float max_label = -1;
  for (float v : labels.values()) {
    if (!(v >= 0) || v != std::floor(v))
      throw ValueError("to_categorical: labels must be non-negative integers, received " + std::to_string(v));
    max_label = std::max(max_label, v);
  }
  if (num_classes < 0) num_classes = static_cast<int>(max_label) + 1;
  if (max_label >= static_cast<float>(num_classes))
    throw ValueError("to_categorical: label " + std::to_string(static_cast<long long>(max_label)) +
                     " is out of range for num_classes=" + std::to_string(num_classes));
  // As Keras: a trailing axis of size 1 is replaced, any other shape gains a class axis.
  std::vector<Dim> dims = labels.shape().dims();
  if (dims.size() > 1 && dims.back() == 1) dims.pop_back();
  dims.push_back(num_classes);
  Tensor out(Shape(dims), 0.0f);
  for (Dim i = 0; i < labels.size(); ++i) out[i * num_classes + static_cast<Dim>(labels[i])] = 1.0f;
  return out;
}

void set_random_seed(uint64_t seed) { keras::set_random_seed(seed); }

}  // namespace keras::utils
