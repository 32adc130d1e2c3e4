#include "ops/regularizers.h"

#include <algorithm>
#include <cmath>

#include "ops/losses.h"

namespace keras::ops {

double l1_l2_penalty(const float* x, Dim n, double l1, double l2, float* grad) {
  double abs_sum = 0, square_sum = 0;
  for (Dim i = 0; i < n; ++i) {
    abs_sum += std::abs(double(x[i]));
    square_sum += double(x[i]) * x[i];
    if (grad) {
      double sign = x[i] > 0 ? 1.0 : x[i] < 0 ? -1.0 : 0.0;
      grad[i] = static_cast<float>(grad[i] + l1 * sign + 2.0 * l2 * x[i]);
    }
  }
  return l1 * abs_sum + l2 * square_sum;
}

double orthogonal_penalty(const float* x, Dim rows, Dim cols, bool by_rows, double factor, float* grad) {
  // The k vectors of length d, element j of vector i at x[i * vs + j * es].
  Dim k = by_rows ? rows : cols, d = by_rows ? cols : rows;
  Dim vs = by_rows ? cols : 1, es = by_rows ? 1 : cols;
  std::vector<double> v(static_cast<size_t>(k * d)), norm(static_cast<size_t>(k));
  for (Dim i = 0; i < k; ++i) {
    double s = 0;
    for (Dim j = 0; j < d; ++j) s += double(x[i * vs + j * es]) * x[i * vs + j * es];
    norm[size_t(i)] = std::max(std::sqrt(s), double(kLossEpsilon));
    for (Dim j = 0; j < d; ++j) v[size_t(i * d + j)] = x[i * vs + j * es] / norm[size_t(i)];
  }
  double pairs = double(k) * (double(k) - 1.0) / 2.0, scale = factor * 0.5 / pairs, sum = 0;
  // dv: the gradient w.r.t. the normalized vectors, 2 * scale * sum over j != i of sign(p_ij) v_j.
  std::vector<double> dv(grad ? v.size() : 0, 0.0);
  for (Dim i = 0; i < k; ++i)
    for (Dim j = 0; j < k; ++j) {
      if (i == j) continue;
      double p = 0;
      for (Dim e = 0; e < d; ++e) p += v[size_t(i * d + e)] * v[size_t(j * d + e)];
      sum += std::abs(p);
      if (grad && p != 0)
        for (Dim e = 0; e < d; ++e) dv[size_t(i * d + e)] += 2.0 * scale * (p > 0 ? 1 : -1) * v[size_t(j * d + e)];
    }
  if (grad)
    for (Dim i = 0; i < k; ++i) {
      // Through v = x / |x|: dx = (dv - v <v, dv>) / |x|.
      double dot = 0;
      for (Dim e = 0; e < d; ++e) dot += v[size_t(i * d + e)] * dv[size_t(i * d + e)];
      for (Dim e = 0; e < d; ++e) {
        float& g = grad[i * vs + e * es];
        g = static_cast<float>(g + (dv[size_t(i * d + e)] - v[size_t(i * d + e)] * dot) / norm[size_t(i)]);
      }
    }
  return scale * sum;
}

void norm_constraint(float* w, const Shape& shape, const std::vector<bool>& reduced, const NormConstraint& c) {
  // Each element's group: its index over the axes not reduced.
  Dim n = shape.num_elements();
  std::vector<Dim> group(static_cast<size_t>(n), 0);
  Dim groups = 1;
  Dim inner = 1;
  for (int a = shape.rank() - 1; a >= 0; --a) {
    if (!reduced[size_t(a)]) {
      for (Dim i = 0; i < n; ++i) group[size_t(i)] += ((i / inner) % shape[a]) * groups;
      groups *= shape[a];
    }
    inner *= shape[a];
  }
  std::vector<double> sq(static_cast<size_t>(groups), 0.0);
  for (Dim i = 0; i < n; ++i) sq[size_t(group[size_t(i)])] += double(w[i]) * w[i];
  for (Dim i = 0; i < n; ++i) {
    double norm = std::sqrt(sq[size_t(group[size_t(i)])]);
    double desired = c.unit ? 1.0 : c.rate * std::clamp(norm, c.min_value, c.max_value) + (1 - c.rate) * norm;
    w[i] = static_cast<float>(w[i] * (desired / (double(kLossEpsilon) + norm)));
  }
}

void non_negative(float* w, Dim n) {
  for (Dim i = 0; i < n; ++i) w[i] = w[i] >= 0 ? w[i] : 0.0f;
}

}  // namespace keras::ops
