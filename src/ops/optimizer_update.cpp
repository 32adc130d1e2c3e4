#include "ops/optimizer_update.h"

#include <algorithm>
#include <cmath>

namespace keras::ops {

namespace {

using Kind = UpdateOp::Kind;

// w -= lr g, or with momentum m = mu m - lr g; w += m (Nesterov: w += mu m - lr g).
void sgd(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  double lr = o.learning_rate;
  if (o.momentum == 0) {
    for (Dim i = b; i < e; ++i) p[i] = static_cast<float>(p[i] - lr * g[i]);
    return;
  }
  float* m = s[0];
  double mu = o.momentum;
  for (Dim i = b; i < e; ++i) {
    double mi = mu * m[i] - lr * g[i];
    m[i] = static_cast<float>(mi);
    p[i] = static_cast<float>(p[i] + (o.nesterov ? mu * mi - lr * g[i] : mi));
  }
}

// alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t); epsilon outside the root ("epsilon hat").
void adam(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  float *m = s[0], *v = s[1], *vh = o.amsgrad ? s[2] : nullptr;
  for (Dim i = b; i < e; ++i) {
    double mi = m[i] + (g[i] - double(m[i])) * (1 - o.beta_1);
    double vi = v[i] + (double(g[i]) * g[i] - v[i]) * (1 - o.beta_2);
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    if (vh) {
      vh[i] = std::max(vh[i], v[i]);
      vi = vh[i];
    }
    p[i] = static_cast<float>(p[i] - mi * o.step[0] / (std::sqrt(vi) + o.epsilon));
  }
}

// m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|); w -= lr m / ((1 - beta_1^t)(u + epsilon)).
void adamax(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  float *m = s[0], *u = s[1];
  for (Dim i = b; i < e; ++i) {
    double mi = m[i] + (g[i] - double(m[i])) * (1 - o.beta_1);
    double ui = std::max(o.beta_2 * u[i], std::abs(double(g[i])));
    m[i] = static_cast<float>(mi);
    u[i] = static_cast<float>(ui);
    p[i] = static_cast<float>(p[i] - o.learning_rate * mi / (o.step[0] * (ui + o.epsilon)));
  }
}

// step: u_t, u_{t+1}, the momentum products to t and t+1, 1 - beta_2^t.
void nadam(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  float *m = s[0], *v = s[1];
  double u_t = o.step[0], u_t1 = o.step[1], u_prod = o.step[2], u_prod_1 = o.step[3], bias_2 = o.step[4];
  for (Dim i = b; i < e; ++i) {
    double mi = m[i] + (g[i] - double(m[i])) * (1 - o.beta_1);
    double vi = v[i] + (double(g[i]) * g[i] - v[i]) * (1 - o.beta_2);
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    double m_hat = u_t1 * mi / (1 - u_prod_1) + (1 - u_t) * g[i] / (1 - u_prod);
    double v_hat = vi / bias_2;
    p[i] = static_cast<float>(p[i] - m_hat * o.learning_rate / (std::sqrt(v_hat) + o.epsilon));
  }
}

// v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + epsilon) (centered: v - avg_g^2 +
// epsilon); with momentum m = momentum m + increment is the step.
void rmsprop(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  size_t next = 0;
  float* v = s[next++];
  float* mom = o.momentum > 0 ? s[next++] : nullptr;
  float* avg = o.centered ? s[next++] : nullptr;
  double rho = o.rho;
  for (Dim i = b; i < e; ++i) {
    double vi = rho * v[i] + (1 - rho) * double(g[i]) * g[i];
    v[i] = static_cast<float>(vi);
    double denom = vi + o.epsilon;
    if (avg) {
      double ai = rho * avg[i] + (1 - rho) * g[i];
      avg[i] = static_cast<float>(ai);
      denom = vi - ai * ai + o.epsilon;
    }
    double increment = o.learning_rate * g[i] / std::sqrt(denom);
    if (mom) {
      double mi = o.momentum * mom[i] + increment;
      mom[i] = static_cast<float>(mi);
      increment = mi;
    }
    p[i] = static_cast<float>(p[i] - increment);
  }
}

// acc += g^2; w -= lr g / sqrt(acc + epsilon).
void adagrad(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  float* a = s[0];
  for (Dim i = b; i < e; ++i) {
    double ai = a[i] + double(g[i]) * g[i];
    a[i] = static_cast<float>(ai);
    p[i] = static_cast<float>(p[i] - o.learning_rate * g[i] / std::sqrt(ai + o.epsilon));
  }
}

// Running averages of g^2 and of the squared steps; step = -sqrt(ad + eps) g / sqrt(ag + eps).
void adadelta(const UpdateOp& o, const float* g, float* p, float* const* s, Dim b, Dim e) {
  float *ag = s[0], *ad = s[1];
  double rho = o.rho, eps = o.epsilon;
  for (Dim i = b; i < e; ++i) {
    double agi = rho * ag[i] + (1 - rho) * double(g[i]) * g[i];
    ag[i] = static_cast<float>(agi);
    double delta = -std::sqrt(ad[i] + eps) * g[i] / std::sqrt(agi + eps);
    ad[i] = static_cast<float>(rho * ad[i] + (1 - rho) * delta * delta);
    p[i] = static_cast<float>(p[i] + o.learning_rate * delta);
  }
}

}  // namespace

size_t update_slots(const UpdateOp& op) {
  switch (op.kind) {
    case Kind::kSGD:
      return op.momentum != 0 ? 1 : 0;
    case Kind::kAdam:
      return op.amsgrad ? 3 : 2;
    case Kind::kRMSprop:
      return 1 + (op.momentum > 0 ? 1 : 0) + (op.centered ? 1 : 0);
    case Kind::kAdagrad:
      return 1;
    default:  // Adamax, Nadam, Adadelta
      return 2;
  }
}

void apply_update(const UpdateOp& op, const float* g, float* w, float* const* slots, Dim begin, Dim end) {
  switch (op.kind) {
    case Kind::kSGD:
      return sgd(op, g, w, slots, begin, end);
    case Kind::kAdam:
      return adam(op, g, w, slots, begin, end);
    case Kind::kAdamax:
      return adamax(op, g, w, slots, begin, end);
    case Kind::kNadam:
      return nadam(op, g, w, slots, begin, end);
    case Kind::kRMSprop:
      return rmsprop(op, g, w, slots, begin, end);
    case Kind::kAdagrad:
      return adagrad(op, g, w, slots, begin, end);
    case Kind::kAdadelta:
      return adadelta(op, g, w, slots, begin, end);
  }
}

double sum_of_squares(const float* x, Dim n) {
  double sq = 0;
  for (Dim i = 0; i < n; ++i) sq += double(x[i]) * x[i];
  return sq;
}

void scale_values(float* x, Dim n, double scale) {
  for (Dim i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] * scale);
}

void clip_values(float* x, Dim n, float limit) {
  for (Dim i = 0; i < n; ++i) x[i] = std::clamp(x[i], -limit, limit);
}

void decay_values(float* w, Dim n, double decay) {
  for (Dim i = 0; i < n; ++i) w[i] = static_cast<float>(w[i] - w[i] * decay);
}

}  // namespace keras::ops
