#include "ops/recurrent.h"

#include <algorithm>
#include <cstring>

#include "engine/random.h"
#include "keras/errors.h"
#include "ops/activations.h"
#include "ops/dropout.h"

namespace keras::ops {

namespace {

bool active(double rate) { return rate > 0.0 && rate < 1.0; }

// The sizes of one op: a state is m = batch*rows rows of u values; the projection has
// gates*units = gu columns.
struct Dims {
  Dim n, t, r, u, g, gu, m, f;
  int states;
  explicit Dims(const RecurrentOp& op)
      : n(op.batch),
        t(op.steps),
        r(op.rows),
        u(op.units),
        g(recurrent_gates(op)),
        gu(g * op.units),
        m(op.batch * op.rows),
        f(op.features),
        states(recurrent_states(op)) {}
  Dim state() const { return m * u; }
  // Row of xw holding sample b's row r at timestep `step`.
  Dim xw_row(Dim b, Dim step, Dim row) const { return (b * t + step) * r + row; }
};

// Hands out consecutive pieces of the workspace; with no workspace it only counts, so the
// sizes come from the same code that uses them.
class Scratch {
 public:
  explicit Scratch(float* base) : base_(base) {}
  float* take(Dim n) {
    float* p = base_ ? base_ + used_ : nullptr;
    used_ += static_cast<size_t>(n);
    return p;
  }
  size_t used() const { return used_; }

 private:
  float* base_;
  size_t used_ = 0;
};

struct Activations {
  RawActivationFn act, ract;
  RawActivationGradFn act_grad, ract_grad;
  explicit Activations(const RecurrentOp& op)
      : act(raw_activation(op.activation)),
        ract(raw_activation(op.recurrent_activation)),
        act_grad(raw_activation_grad(op.activation)),
        ract_grad(raw_activation_grad(op.recurrent_activation)) {}
};

// x [n, t, f] times a mask [n, f] at every timestep, into out.
void mask_over_time(const Dims& d, const float* x, const float* mask, float* out) {
  for (Dim b = 0; b < d.n; ++b)
    for (Dim s = 0; s < d.t; ++s)
      for (Dim j = 0; j < d.f; ++j) out[(b * d.t + s) * d.f + j] = x[(b * d.t + s) * d.f + j] * mask[b * d.f + j];
}

// Everything a run works on besides its inputs and outputs.
struct Work {
  const RecurrentOp& op;
  Dims d;
  const Products& p;
  const RecurrentWeights& w;
  Activations fns;
  const float* input_masks = nullptr;      // [count, n, f]
  const float* recurrent_masks = nullptr;  // [gates, n, u]

  const float* recurrent_mask(Dim gate) const { return recurrent_masks ? recurrent_masks + gate * d.state() : nullptr; }

  // xw = (x, masked per gate group) @ kernel + input bias, or the input convolution.
  void project(const float* x, float* xm, float* xw) const {
    Dim rows = d.n * d.t * d.r;
    if (op.conv) {
      p.conv2d(op.input_conv, x, w.kernel, xw);
    } else {
      int count = input_masks_count();
      Dim cols = count > 1 ? d.u : d.gu;
      for (Dim c0 = 0, k = 0; c0 < d.gu; c0 += cols, ++k) {
        const float* a = x;
        if (count) {
          mask_over_time(d, x, input_masks + k * d.n * d.f, xm);
          a = xm;
        }
        p.gemm(false, false, rows, cols, d.f, 1.0f, a, d.f, w.kernel + c0, d.gu, 0.0f, xw + c0, d.gu);
      }
    }
    if (w.bias)
      for (Dim i = 0; i < rows; ++i)
        for (Dim j = 0; j < d.gu; ++j) xw[i * d.gu + j] += w.bias[j];
  }

  // dx and dkernel from d_xw: project()'s backward.
  void project_backward(const float* x, const float* d_xw, float* xm, float* dxm, float* dx, float* dkernel) const {
    if (op.conv) {
      p.conv2d_backward_input(op.input_conv, d_xw, w.kernel, dx);
      p.conv2d_backward_filter(op.input_conv, x, d_xw, dkernel);
      return;
    }
    Dim rows = d.n * d.t;
    int count = input_masks_count();
    if (!count) {
      p.gemm(true, false, d.f, d.gu, rows, 1.0f, x, d.f, d_xw, d.gu, 0.0f, dkernel, d.gu);
      p.gemm(false, true, rows, d.f, d.gu, 1.0f, d_xw, d.gu, w.kernel, d.gu, 0.0f, dx, d.f);
      return;
    }
    std::fill(dx, dx + rows * d.f, 0.0f);
    Dim cols = count > 1 ? d.u : d.gu;
    for (Dim c0 = 0, k = 0; c0 < d.gu; c0 += cols, ++k) {
      const float* mask = input_masks + k * d.n * d.f;
      mask_over_time(d, x, mask, xm);
      p.gemm(true, false, d.f, cols, rows, 1.0f, xm, d.f, d_xw + c0, d.gu, 0.0f, dkernel + c0, d.gu);
      p.gemm(false, true, rows, d.f, cols, 1.0f, d_xw + c0, d.gu, w.kernel + c0, d.gu, 0.0f, dxm, d.f);
      for (Dim b = 0; b < d.n; ++b)
        for (Dim s = 0; s < d.t; ++s)
          for (Dim j = 0; j < d.f; ++j) dx[(b * d.t + s) * d.f + j] += dxm[(b * d.t + s) * d.f + j] * mask[b * d.f + j];
    }
  }

  int input_masks_count() const { return input_masks ? ops::input_masks(op) : 0; }

  // z[:, :cols] (rows ldz apart) = h @ recurrent_kernel[:, col0:col0+cols], gate g's columns
  // reading h * (recurrent mask g) when there are masks; the recurrent convolution for ConvLSTM2D.
  void product(const float* h, Dim col0, Dim cols, float* z, Dim ldz, bool masked, float* hm) const {
    if (op.conv) {
      p.conv2d(op.recurrent_conv, h, w.recurrent_kernel, z);
      return;
    }
    if (!masked || !recurrent_masks) {
      p.gemm(false, false, d.m, cols, d.u, 1.0f, h, d.u, w.recurrent_kernel + col0, d.gu, 0.0f, z, ldz);
      return;
    }
    for (Dim c = col0; c < col0 + cols; c += d.u) {
      const float* mask = recurrent_mask(c / d.u);
      for (Dim k = 0; k < d.state(); ++k) hm[k] = h[k] * mask[k];
      p.gemm(false, false, d.m, d.u, d.u, 1.0f, hm, d.u, w.recurrent_kernel + c, d.gu, 0.0f, z + (c - col0), ldz);
    }
  }

  // product()'s backward for dz = dL/dz[:, :cols]: d_rk[:, col0:col0+cols] += h^T dz and
  // dh += dz @ recurrent_kernel[:, col0:col0+cols]^T, masked as product().
  void product_backward(const float* h, const float* dz, Dim ldz, Dim col0, Dim cols, float* d_rk, float* dh,
                        bool masked, float* hm, float* dhm, float* part) const {
    if (op.conv) {
      p.conv2d_backward_filter(op.recurrent_conv, h, dz, part);
      Dim size = op.recurrent_conv.k_h * op.recurrent_conv.k_w * d.u * d.gu;
      for (Dim k = 0; k < size; ++k) d_rk[k] += part[k];
      p.conv2d_backward_input(op.recurrent_conv, dz, w.recurrent_kernel, dhm);
      for (Dim k = 0; k < d.state(); ++k) dh[k] += dhm[k];
      return;
    }
    if (!masked || !recurrent_masks) {
      p.gemm(true, false, d.u, cols, d.m, 1.0f, h, d.u, dz, ldz, 1.0f, d_rk + col0, d.gu);
      p.gemm(false, true, d.m, d.u, cols, 1.0f, dz, ldz, w.recurrent_kernel + col0, d.gu, 1.0f, dh, d.u);
      return;
    }
    for (Dim c = col0; c < col0 + cols; c += d.u) {
      const float* mask = recurrent_mask(c / d.u);
      for (Dim k = 0; k < d.state(); ++k) hm[k] = h[k] * mask[k];
      p.gemm(true, false, d.u, d.u, d.m, 1.0f, hm, d.u, dz + (c - col0), ldz, 1.0f, d_rk + c, d.gu);
      p.gemm(false, true, d.m, d.u, d.u, 1.0f, dz + (c - col0), ldz, w.recurrent_kernel + c, d.gu, 0.0f, dhm, d.u);
      for (Dim k = 0; k < d.state(); ++k) dh[k] += dhm[k] * mask[k];
    }
  }

  // out (m, u) = z's gate `gate` columns (+ xw's at timestep `step` when xw is given).
  void take_gate(const float* z, const float* xw, Dim step, Dim gate, float* out) const {
    for (Dim b = 0; b < d.n; ++b)
      for (Dim row = 0; row < d.r; ++row) {
        Dim i = b * d.r + row;
        const float* zr = z + i * d.gu + gate * d.u;
        float* o = out + i * d.u;
        if (xw) {
          const float* xr = xw + d.xw_row(b, step, row) * d.gu + gate * d.u;
          for (Dim j = 0; j < d.u; ++j) o[j] = zr[j] + xr[j];
        } else {
          std::memcpy(o, zr, static_cast<size_t>(d.u) * sizeof(float));
        }
      }
  }
  // Gate `gate`'s columns of the (m, gu) rows at `out` (step < 0), or of xw's rows at timestep
  // `step`, from in (m, u).
  void put_gate(const float* in, Dim gate, float* out, Dim step = -1) const {
    for (Dim b = 0; b < d.n; ++b)
      for (Dim row = 0; row < d.r; ++row) {
        Dim i = b * d.r + row;
        float* o = out + (step < 0 ? i : d.xw_row(b, step, row)) * d.gu + gate * d.u;
        std::memcpy(o, in + i * d.u, static_cast<size_t>(d.u) * sizeof(float));
      }
  }
};

// ---- forward

struct ForwardBuffers {
  float *z, *gates, *tmp, *hm, *xm;
  float *keep_h, *keep_c, *seen;  // masked: the states before a step, whether a step was kept
  ForwardBuffers(const Work& k, Scratch& s)
      : z(s.take(k.d.m * k.d.gu)),
        gates(s.take(k.d.g * k.d.state())),
        tmp(s.take(k.d.state())),
        hm(s.take(recurrent_masks(k.op) ? k.d.state() : 0)),
        xm(s.take(input_masks(k.op) ? k.d.n * k.d.t * k.d.f : 0)),
        keep_h(s.take(k.op.masked ? k.d.state() : 0)),
        keep_c(s.take(k.op.masked ? k.d.state() : 0)),
        seen(s.take(k.op.masked ? k.d.n : 0)) {}
};

// Keras's masked steps (ops::RecurrentOp::masked): m [batch, steps] in time order.
struct StepMask {
  const float* m = nullptr;
  Dim steps = 0;
  bool zero_output = false;
  bool kept(Dim b, Dim t) const { return !m || m[b * steps + t] != 0.0f; }
  // Whether the output at a step is the state (else zeros): a kept step, or a masked one after
  // a kept one that repeats its output.
  bool emits(Dim b, Dim t, bool seen) const { return kept(b, t) || (!zero_output && seen); }
};

// Copies sample b's rows (per_sample values) of each of `n` buffers from[i] to to[i].
void copy_sample(Dim b, Dim per_sample, std::initializer_list<std::pair<const float*, float*>> buffers) {
  for (auto [from, to] : buffers)
    if (from) std::copy(from + b * per_sample, from + (b + 1) * per_sample, to + b * per_sample);
}

// One timestep for the whole batch: h (and c) updated in place.
void step(const Work& k, const float* xw, Dim t, float* h, float* c, const ForwardBuffers& b) {
  const Dims& d = k.d;
  Dim size = d.state();
  float* g = b.gates;
  switch (k.op.cell) {
    case RecurrentOp::Cell::kSimpleRNN:
      k.product(h, 0, d.u, b.z, d.gu, true, b.hm);
      k.take_gate(b.z, xw, t, 0, h);
      k.fns.act(h, size, d.u);
      return;
    case RecurrentOp::Cell::kLSTM: {
      k.product(h, 0, d.gu, b.z, d.gu, true, b.hm);
      for (Dim q = 0; q < 4; ++q) k.take_gate(b.z, xw, t, q, g + q * size);
      float *i = g, *f = g + size, *cand = g + 2 * size, *o = g + 3 * size;
      k.fns.ract(i, size, d.u);
      k.fns.ract(f, size, d.u);
      k.fns.act(cand, size, d.u);
      k.fns.ract(o, size, d.u);
      for (Dim j = 0; j < size; ++j) c[j] = f[j] * c[j] + i[j] * cand[j];
      std::copy(c, c + size, b.tmp);
      k.fns.act(b.tmp, size, d.u);
      for (Dim j = 0; j < size; ++j) h[j] = o[j] * b.tmp[j];
      return;
    }
    case RecurrentOp::Cell::kGRU: {
      // Keras's GRUCell: z, r = recurrent_activation(x_z + h@U_z (+b), x_r + h@U_r (+b));
      // hh = activation(x_h + r*(h@U_h + b_h)) with reset_after, else activation(x_h + (r*h)@U_h);
      // h = z*h + (1-z)*hh.
      bool after = k.op.reset_after;
      k.product(h, 0, after ? d.gu : 2 * d.u, b.z, d.gu, true, b.hm);
      if (after && k.w.bias)
        for (Dim i = 0; i < d.m; ++i)
          for (Dim j = 0; j < d.gu; ++j) b.z[i * d.gu + j] += k.w.bias[d.gu + j];
      float *zg = g, *r = g + size, *hh = g + 2 * size;
      k.take_gate(b.z, xw, t, 0, zg);
      k.take_gate(b.z, xw, t, 1, r);
      k.fns.ract(zg, size, d.u);
      k.fns.ract(r, size, d.u);
      if (after) {
        k.take_gate(b.z, nullptr, 0, 2, hh);
        for (Dim j = 0; j < size; ++j) hh[j] *= r[j];
      } else {
        // With recurrent dropout the candidate's h is masked too: r * (h * mask_h).
        const float* mh = k.recurrent_mask(2);
        for (Dim j = 0; j < size; ++j) b.tmp[j] = r[j] * h[j] * (mh ? mh[j] : 1.0f);
        k.p.gemm(false, false, d.m, d.u, d.u, 1.0f, b.tmp, d.u, k.w.recurrent_kernel + 2 * d.u, d.gu, 0.0f, hh, d.u);
      }
      for (Dim bi = 0; bi < d.n; ++bi)
        for (Dim row = 0; row < d.r; ++row) {
          const float* xr = xw + d.xw_row(bi, t, row) * d.gu + 2 * d.u;
          float* o = hh + (bi * d.r + row) * d.u;
          for (Dim j = 0; j < d.u; ++j) o[j] += xr[j];
        }
      k.fns.act(hh, size, d.u);
      for (Dim j = 0; j < size; ++j) h[j] = zg[j] * h[j] + (1.0f - zg[j]) * hh[j];
      return;
    }
  }
}

// The outputs after y and the states: the saved values, then the masks.
struct SavedOutputs {
  float* xw = nullptr;
  float* history[2] = {nullptr, nullptr};
  float* input_masks = nullptr;
  float* recurrent_masks = nullptr;
};

SavedOutputs saved_outputs(const RecurrentOp& op, const Dims& d, std::span<float* const> out, Scratch& s) {
  SavedOutputs o;
  size_t next = 1 + static_cast<size_t>(d.states);
  if (op.save) {
    o.xw = out[next++];
    for (int i = 0; i < d.states; ++i) o.history[i] = out[next++];
  } else {
    o.xw = s.take(d.n * d.t * d.r * d.gu);
  }
  if (input_masks(op)) o.input_masks = out[next++];
  if (recurrent_masks(op)) o.recurrent_masks = out[next++];
  return o;
}

// ---- backward

struct BackwardBuffers {
  float *d_xw, *z, *drec, *pre, *act, *dgate, *cnew, *tc, *dh, *dc, *dh_prev, *dc_prev, *hm, *dhm, *part, *xm, *dxm;
  float *keep_dh, *keep_dc, *first_kept;  // masked: gradients passed through, first kept step
  BackwardBuffers(const Work& k, Scratch& s) {
    const Dims& d = k.d;
    Dim size = d.state();
    d_xw = s.take(d.n * d.t * d.r * d.gu);
    z = s.take(d.m * d.gu);
    drec = s.take(d.m * d.gu);
    pre = s.take(d.g * size);
    act = s.take(d.g * size);
    dgate = s.take(4 * size);
    cnew = s.take(size);
    tc = s.take(size);
    dh = s.take(size);
    dc = s.take(size);
    dh_prev = s.take(size);
    dc_prev = s.take(size);
    hm = s.take(size);
    dhm = s.take(size);
    part = s.take(k.op.conv ? k.op.recurrent_conv.k_h * k.op.recurrent_conv.k_w * d.u * d.gu : 0);
    xm = s.take(input_masks(k.op) ? d.n * d.t * d.f : 0);
    dxm = s.take(input_masks(k.op) ? d.n * d.t * d.f : 0);
    keep_dh = s.take(k.op.masked ? size : 0);
    keep_dc = s.take(k.op.masked ? size : 0);
    first_kept = s.take(k.op.masked ? d.n : 0);
  }
};

// The backward of step() at timestep t from the states before it: b.dh (and b.dc) hold
// dL/d(states after) on entry, dL/d(states before) on return (via dh_prev/dc_prev, swapped by
// the caller); dL/d(xw at t) into b.d_xw; recurrent weight gradients added into d_rk, d_bias.
void step_backward(const Work& k, const float* xw, Dim t, const float* h, const float* c_prev, BackwardBuffers& b,
                   float* d_rk, float* d_bias) {
  const Dims& d = k.d;
  Dim size = d.state();
  std::fill(b.dh_prev, b.dh_prev + size, 0.0f);
  switch (k.op.cell) {
    case RecurrentOp::Cell::kSimpleRNN: {
      // h = activation(z), z = xw + h_prev @ U.
      k.product(h, 0, d.u, b.z, d.gu, true, b.hm);
      float *pre = b.pre, *y = b.act, *dz = b.dh;
      k.take_gate(b.z, xw, t, 0, pre);
      std::copy(pre, pre + size, y);
      k.fns.act(y, size, d.u);
      k.fns.act_grad(pre, y, dz, size, d.u);
      k.put_gate(dz, 0, b.d_xw, t);
      k.product_backward(h, dz, d.u, 0, d.u, d_rk, b.dh_prev, true, b.hm, b.dhm, b.part);
      return;
    }
    case RecurrentOp::Cell::kLSTM: {
      k.product(h, 0, d.gu, b.z, d.gu, true, b.hm);
      for (Dim q = 0; q < 4; ++q) {
        k.take_gate(b.z, xw, t, q, b.pre + q * size);
        std::copy(b.pre + q * size, b.pre + (q + 1) * size, b.act + q * size);
      }
      float *i = b.act, *f = b.act + size, *cand = b.act + 2 * size, *o = b.act + 3 * size;
      k.fns.ract(i, size, d.u);
      k.fns.ract(f, size, d.u);
      k.fns.act(cand, size, d.u);
      k.fns.ract(o, size, d.u);
      for (Dim j = 0; j < size; ++j) b.cnew[j] = f[j] * c_prev[j] + i[j] * cand[j];
      std::copy(b.cnew, b.cnew + size, b.tc);
      k.fns.act(b.tc, size, d.u);
      // h = o * activation(c), c = f * c_prev + i * c~.
      float *di = b.dgate, *df = b.dgate + size, *dcand = b.dgate + 2 * size, *dout = b.dgate + 3 * size;
      float* dcell = b.dhm;  // free until product_backward
      for (Dim j = 0; j < size; ++j) {
        dout[j] = b.dh[j] * b.tc[j];
        dcell[j] = b.dh[j] * o[j];
      }
      k.fns.act_grad(b.cnew, b.tc, dcell, size, d.u);
      for (Dim j = 0; j < size; ++j) {
        dcell[j] += b.dc[j];
        di[j] = dcell[j] * cand[j];
        df[j] = dcell[j] * c_prev[j];
        dcand[j] = dcell[j] * i[j];
        b.dc_prev[j] = dcell[j] * f[j];
      }
      k.fns.ract_grad(b.pre, i, di, size, d.u);
      k.fns.ract_grad(b.pre + size, f, df, size, d.u);
      k.fns.act_grad(b.pre + 2 * size, cand, dcand, size, d.u);
      k.fns.ract_grad(b.pre + 3 * size, o, dout, size, d.u);
      for (Dim q = 0; q < 4; ++q) {
        k.put_gate(b.dgate + q * size, q, b.drec);
        k.put_gate(b.dgate + q * size, q, b.d_xw, t);
      }
      k.product_backward(h, b.drec, d.gu, 0, d.gu, d_rk, b.dh_prev, true, b.hm, b.dhm, b.part);
      return;
    }
    case RecurrentOp::Cell::kGRU: {
      bool after = k.op.reset_after;
      Dim cols = after ? d.gu : 2 * d.u;
      k.product(h, 0, cols, b.z, d.gu, true, b.hm);
      if (after && k.w.bias)
        for (Dim i = 0; i < d.m; ++i)
          for (Dim j = 0; j < d.gu; ++j) b.z[i * d.gu + j] += k.w.bias[d.gu + j];
      const float* mh = k.recurrent_mask(2);  // the candidate gate's recurrent mask
      float *pz = b.pre, *pr = b.pre + size, *ph = b.pre + 2 * size;
      float *zg = b.act, *r = b.act + size, *hh = b.act + 2 * size;
      float* rh = b.tc;  // h@U_h + b_h with reset_after, r*h (masked) without
      k.take_gate(b.z, xw, t, 0, pz);
      k.take_gate(b.z, xw, t, 1, pr);
      std::copy(pz, pz + size, zg);
      std::copy(pr, pr + size, r);
      k.fns.ract(zg, size, d.u);
      k.fns.ract(r, size, d.u);
      if (after) {
        k.take_gate(b.z, nullptr, 0, 2, rh);
        for (Dim j = 0; j < size; ++j) ph[j] = r[j] * rh[j];
      } else {
        for (Dim j = 0; j < size; ++j) rh[j] = r[j] * h[j] * (mh ? mh[j] : 1.0f);
        k.p.gemm(false, false, d.m, d.u, d.u, 1.0f, rh, d.u, k.w.recurrent_kernel + 2 * d.u, d.gu, 0.0f, ph, d.u);
      }
      for (Dim bi = 0; bi < d.n; ++bi)
        for (Dim row = 0; row < d.r; ++row) {
          const float* xr = xw + d.xw_row(bi, t, row) * d.gu + 2 * d.u;
          float* o = ph + (bi * d.r + row) * d.u;
          for (Dim j = 0; j < d.u; ++j) o[j] += xr[j];
        }
      std::copy(ph, ph + size, hh);
      k.fns.act(hh, size, d.u);

      float *dz = b.dgate, *dr = b.dgate + size, *dph = b.dgate + 2 * size, *drh = b.dgate + 3 * size;
      for (Dim j = 0; j < size; ++j) {
        dz[j] = b.dh[j] * (h[j] - hh[j]);
        b.dh_prev[j] = b.dh[j] * zg[j];
        dph[j] = b.dh[j] * (1.0f - zg[j]);
      }
      k.fns.act_grad(ph, hh, dph, size, d.u);
      std::fill(b.drec, b.drec + d.m * d.gu, 0.0f);
      if (after) {
        for (Dim j = 0; j < size; ++j) {
          drh[j] = dph[j] * r[j];
          dr[j] = dph[j] * rh[j];
        }
        k.put_gate(drh, 2, b.drec);
      } else {
        // ph = rh @ U_h: U_h's gradient and d(rh), then through rh = r * h * mask_h.
        std::fill(drh, drh + size, 0.0f);
        k.p.gemm(true, false, d.u, d.u, d.m, 1.0f, rh, d.u, dph, d.u, 1.0f, d_rk + 2 * d.u, d.gu);
        k.p.gemm(false, true, d.m, d.u, d.u, 1.0f, dph, d.u, k.w.recurrent_kernel + 2 * d.u, d.gu, 0.0f, drh, d.u);
        for (Dim j = 0; j < size; ++j) {
          float m = mh ? mh[j] : 1.0f;
          dr[j] = drh[j] * h[j] * m;
          b.dh_prev[j] += drh[j] * r[j] * m;
        }
      }
      k.fns.ract_grad(pz, zg, dz, size, d.u);
      k.fns.ract_grad(pr, r, dr, size, d.u);
      k.put_gate(dz, 0, b.drec);
      k.put_gate(dr, 1, b.drec);
      k.put_gate(dz, 0, b.d_xw, t);
      k.put_gate(dr, 1, b.d_xw, t);
      k.put_gate(dph, 2, b.d_xw, t);
      k.product_backward(h, b.drec, d.gu, 0, cols, d_rk, b.dh_prev, true, b.hm, b.dhm, b.part);
      if (after && d_bias)
        for (Dim i = 0; i < d.m; ++i)
          for (Dim j = 0; j < d.gu; ++j) d_bias[d.gu + j] += b.drec[i * d.gu + j];
      return;
    }
  }
}

}  // namespace

int recurrent_gates(const RecurrentOp& op) {
  switch (op.cell) {
    case RecurrentOp::Cell::kLSTM:
      return 4;
    case RecurrentOp::Cell::kGRU:
      return 3;
    default:
      return 1;
  }
}

int recurrent_states(const RecurrentOp& op) { return op.cell == RecurrentOp::Cell::kLSTM ? 2 : 1; }

int input_masks(const RecurrentOp& op) {
  if (!active(op.dropout) || op.conv) return 0;
  return op.recurrent_dropout != 0.0 ? recurrent_gates(op) : 1;
}

int recurrent_masks(const RecurrentOp& op) {
  return active(op.recurrent_dropout) && !op.conv ? recurrent_gates(op) : 0;
}

size_t recurrent_workspace_floats(const RecurrentOp& op) {
  Scratch s(nullptr);
  RecurrentWeights none;
  Work k{op, Dims(op), reference_products(), none, Activations(op)};
  ForwardBuffers b(k, s);
  if (!op.save) s.take(k.d.n * k.d.t * k.d.r * k.d.gu);  // xw, unsaved
  return s.used();
}

size_t recurrent_grad_workspace_floats(const RecurrentOp& op) {
  Scratch s(nullptr);
  RecurrentWeights none;
  Work k{op, Dims(op), reference_products(), none, Activations(op)};
  BackwardBuffers b(k, s);
  return s.used();
}

void recurrent_forward(const RecurrentOp& op, const Products& p, const RecurrentWeights& w,
                       std::span<const float* const> in, std::span<float* const> out, uint64_t seed, float* workspace) {
  Work k{op, Dims(op), p, w, Activations(op)};
  const Dims& d = k.d;
  Scratch s(workspace);
  ForwardBuffers b(k, s);
  SavedOutputs saved = saved_outputs(op, d, out, s);
  for (int q = 0; q < input_masks(op); ++q)
    draw_dropout_mask(op.dropout, engine::mix_seed(seed, static_cast<uint64_t>(q)), saved.input_masks + q * d.n * d.f,
                      d.n * d.f);
  for (int q = 0; q < recurrent_masks(op); ++q)
    draw_dropout_mask(op.recurrent_dropout, engine::mix_seed(seed, 64 + static_cast<uint64_t>(q)),
                      saved.recurrent_masks + q * d.state(), d.state());
  k.input_masks = saved.input_masks;
  k.recurrent_masks = saved.recurrent_masks;

  // The input projection of every timestep at once: rows (b, t, row).
  k.project(in[0], b.xm, saved.xw);
  // The states live in the final-state outputs.
  float* h = out[1];
  float* c = d.states > 1 ? out[2] : nullptr;
  for (int i = 0; i < d.states; ++i) {
    if (op.initial_state)
      std::copy(in[1 + static_cast<size_t>(i)], in[1 + static_cast<size_t>(i)] + d.state(), out[1 + i]);
    else
      std::fill(out[1 + i], out[1 + i] + d.state(), 0.0f);
  }
  auto record = [&](Dim i) {
    if (!op.save) return;
    for (int q = 0; q < d.states; ++q) std::copy(out[1 + q], out[1 + q] + d.state(), saved.history[q] + i * d.state());
  };
  record(0);
  Dim per_sample = d.r * d.u;
  StepMask mask{op.masked ? in[1 + (op.initial_state ? static_cast<size_t>(d.states) : 0)] : nullptr, d.t,
                op.zero_output_for_mask};
  if (mask.m) std::fill(b.seen, b.seen + d.n, 0.0f);
  for (Dim i = 0; i < d.t; ++i) {
    // go_backwards reads the input from the end and, as Keras, returns the outputs in that order.
    Dim t = op.go_backwards ? d.t - 1 - i : i;
    if (mask.m) {
      std::copy(h, h + d.state(), b.keep_h);
      if (c) std::copy(c, c + d.state(), b.keep_c);
    }
    step(k, saved.xw, t, h, c, b);
    // A masked step leaves the states as they were.
    for (Dim bi = 0; mask.m && bi < d.n; ++bi) {
      if (mask.kept(bi, t))
        b.seen[bi] = 1.0f;
      else
        copy_sample(bi, per_sample, {{b.keep_h, h}, {c ? b.keep_c : nullptr, c}});
    }
    record(i + 1);
    if (!op.return_sequences && i + 1 < d.t) continue;
    for (Dim bi = 0; bi < d.n; ++bi) {
      float* o = out[0] + (op.return_sequences ? bi * d.t + i : bi) * per_sample;
      if (mask.emits(bi, t, mask.m && b.seen[bi] != 0.0f))
        std::copy(h + bi * per_sample, h + (bi + 1) * per_sample, o);
      else
        std::fill(o, o + per_sample, 0.0f);
    }
  }
}

void recurrent_backward(const RecurrentGradOp& g, const Products& p, const RecurrentWeights& w,
                        std::span<const float* const> in, std::span<float* const> out, float* workspace) {
  const RecurrentOp& op = g.forward;
  if (!op.save) throw ValueError("recurrent_grad: its forward op did not save the states it needs");
  Work k{op, Dims(op), p, w, Activations(op)};
  const Dims& d = k.d;
  Scratch s(workspace);
  BackwardBuffers b(k, s);

  size_t next = 0;
  const float* x = in[next++];
  next += op.initial_state ? static_cast<size_t>(d.states) : 0;
  StepMask mask{op.masked ? in[next++] : nullptr, d.t, op.zero_output_for_mask};
  const float* xw = in[next++];
  const float* history[2] = {nullptr, nullptr};
  for (int q = 0; q < d.states; ++q) history[q] = in[next++];
  if (input_masks(op)) k.input_masks = in[next++];
  if (recurrent_masks(op)) k.recurrent_masks = in[next++];
  const float* dy = g.output_grads.at(0) ? in[next++] : nullptr;
  const float* d_final[2] = {nullptr, nullptr};
  for (int q = 0; q < d.states; ++q)
    if (g.output_grads.at(1 + static_cast<size_t>(q))) d_final[q] = in[next++];

  size_t o = 0;
  float* dx = out[o++];
  float* d_init[2] = {nullptr, nullptr};
  if (op.initial_state)
    for (int q = 0; q < d.states; ++q) d_init[q] = out[o++];
  float* d_kernel = out[o++];
  float* d_rk = out[o++];
  float* d_bias = w.bias ? out[o++] : nullptr;
  Dim rk_size = op.conv ? op.recurrent_conv.k_h * op.recurrent_conv.k_w * d.u * d.gu : d.u * d.gu;
  std::fill(d_rk, d_rk + rk_size, 0.0f);
  if (d_bias) std::fill(d_bias, d_bias + (op.reset_after ? 2 : 1) * d.gu, 0.0f);

  // dL/d(states after the last step): the final states' gradients and, without
  // return_sequences, the output's (a copy of h).
  Dim size = d.state();
  for (int q = 0; q < d.states; ++q) {
    float* ds = q == 0 ? b.dh : b.dc;
    if (d_final[q])
      std::copy(d_final[q], d_final[q] + size, ds);
    else
      std::fill(ds, ds + size, 0.0f);
  }
  Dim per_sample = d.r * d.u;
  // Masked: each sample's first kept step in processing order (d.t: none), for the outputs that
  // repeat an earlier one.
  auto time_of = [&](Dim i) { return op.go_backwards ? d.t - 1 - i : i; };
  for (Dim bi = 0; mask.m && bi < d.n; ++bi) {
    Dim first = 0;
    while (first < d.t && !mask.kept(bi, time_of(first))) ++first;
    b.first_kept[bi] = static_cast<float>(first);
  }
  auto seen = [&](Dim bi, Dim i) { return mask.m && static_cast<float>(i) >= b.first_kept[bi]; };
  // The output's gradient reaches the state after step i where the output was the state.
  auto add_dy = [&](Dim i, const float* dy_i, Dim stride) {
    for (Dim bi = 0; bi < d.n; ++bi)
      if (mask.emits(bi, time_of(i), seen(bi, i)))
        for (Dim j = 0; j < per_sample; ++j) b.dh[bi * per_sample + j] += dy_i[bi * stride + j];
  };
  if (dy && !op.return_sequences) add_dy(d.t - 1, dy, per_sample);

  for (Dim i = d.t - 1; i >= 0; --i) {
    Dim t = time_of(i);
    if (dy && op.return_sequences) add_dy(i, dy + i * per_sample, d.t * per_sample);
    // A masked step passes the gradients of its states through unchanged, and takes none.
    float* dc_in = d.states > 1 ? b.dc : nullptr;
    for (Dim bi = 0; mask.m && bi < d.n; ++bi)
      if (!mask.kept(bi, t)) {
        copy_sample(bi, per_sample, {{b.dh, b.keep_dh}, {dc_in, b.keep_dc}});
        std::fill(b.dh + bi * per_sample, b.dh + (bi + 1) * per_sample, 0.0f);
        if (dc_in) std::fill(dc_in + bi * per_sample, dc_in + (bi + 1) * per_sample, 0.0f);
      }
    const float* c_prev = d.states > 1 ? history[1] + i * size : nullptr;
    step_backward(k, xw, t, history[0] + i * size, c_prev, b, d_rk, d_bias);
    for (Dim bi = 0; mask.m && bi < d.n; ++bi)
      if (!mask.kept(bi, t))
        copy_sample(bi, per_sample, {{b.keep_dh, b.dh_prev}, {dc_in ? b.keep_dc : nullptr, b.dc_prev}});
    std::swap(b.dh, b.dh_prev);
    if (d.states > 1) std::swap(b.dc, b.dc_prev);
  }

  k.project_backward(x, b.d_xw, b.xm, b.dxm, dx, d_kernel);
  if (op.initial_state) {
    std::copy(b.dh, b.dh + size, d_init[0]);
    if (d.states > 1) std::copy(b.dc, b.dc + size, d_init[1]);
  }
  if (d_bias) {
    Dim rows = d.n * d.t * d.r;
    for (Dim i = 0; i < rows; ++i)
      for (Dim j = 0; j < d.gu; ++j) d_bias[j] += b.d_xw[i * d.gu + j];
  }
}

}  // namespace keras::ops
