// Reference kernels: plain loops, written for clarity; tests compare fast kernels to these.
#include <algorithm>
#include <limits>
#include <vector>

#include "ops/kernels.h"
#include "ops/pool_windows.h"
#include "ops/products.h"

namespace keras::ops {

namespace {

void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
          float beta, float* c, Dim ldc) {
  for (Dim i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    for (Dim j = 0; j < n; ++j) ci[j] = beta == 0 ? 0.0f : beta * ci[j];
    for (Dim p = 0; p < k; ++p) {
      float av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
      if (av == 0) continue;
      if (!tb) {
        const float* bp = b + p * ldb;
        for (Dim j = 0; j < n; ++j) ci[j] += av * bp[j];
      } else {
        for (Dim j = 0; j < n; ++j) ci[j] += av * b[j * ldb + p];
      }
    }
  }
}

// Calls f(x_pixel, y_pixel, tap) for every (output pixel, kernel tap) pair of a convolution
// that reads a real input pixel: pixel indices into x and y (NHW order), tap = p * k_w + q.
template <class F>
void for_each_tap(const Conv2DArgs& g, F&& f) {
  for (Dim n = 0; n < g.batch; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh)
      for (Dim ow = 0; ow < g.out_w; ++ow) {
        Dim out = (n * g.out_h + oh) * g.out_w + ow;
        for (Dim p = 0; p < g.k_h; ++p) {
          Dim ih = oh * g.stride_h + p * g.dilation_h - g.pad_top;
          if (ih < 0 || ih >= g.in_h) continue;
          for (Dim q = 0; q < g.k_w; ++q) {
            Dim iw = ow * g.stride_w + q * g.dilation_w - g.pad_left;
            if (iw < 0 || iw >= g.in_w) continue;
            f((n * g.in_h + ih) * g.in_w + iw, out, p * g.k_w + q);
          }
        }
      }
}

void conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) {
  Dim cg = g.in_c / g.groups, fg = g.out_c / g.groups;
  std::fill(y, y + g.batch * g.out_h * g.out_w * g.out_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    const float* in = x + xi * g.in_c;
    const float* kern = w + tap * cg * g.out_c;
    float* out = y + yi * g.out_c;
    for (Dim f = 0; f < g.out_c; ++f) {
      Dim group = f / fg;
      float acc = 0;
      for (Dim c = 0; c < cg; ++c) acc += in[group * cg + c] * kern[c * g.out_c + f];
      out[f] += acc;
    }
  });
}

void depthwise_conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) {
  Dim mult = g.out_c / g.in_c;
  std::fill(y, y + g.batch * g.out_h * g.out_w * g.out_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    const float* in = x + xi * g.in_c;
    const float* kern = w + tap * g.in_c * mult;
    float* out = y + yi * g.out_c;
    for (Dim c = 0; c < g.in_c; ++c)
      for (Dim m = 0; m < mult; ++m) out[c * mult + m] += in[c] * kern[c * mult + m];
  });
}

void conv2d_transpose(const Conv2DArgs& g, const float* x, const float* w, float* y) {
  // Scatter each input pixel through the kernel: the adjoint of conv2d from y to x.
  std::fill(y, y + g.batch * g.out_h * g.out_w * g.out_c, 0.0f);
  for (Dim n = 0; n < g.batch; ++n)
    for (Dim ih = 0; ih < g.in_h; ++ih)
      for (Dim iw = 0; iw < g.in_w; ++iw) {
        const float* in = x + ((n * g.in_h + ih) * g.in_w + iw) * g.in_c;
        for (Dim p = 0; p < g.k_h; ++p) {
          Dim oh = ih * g.stride_h + p * g.dilation_h - g.pad_top;
          if (oh < 0 || oh >= g.out_h) continue;
          for (Dim q = 0; q < g.k_w; ++q) {
            Dim ow = iw * g.stride_w + q * g.dilation_w - g.pad_left;
            if (ow < 0 || ow >= g.out_w) continue;
            float* out = y + ((n * g.out_h + oh) * g.out_w + ow) * g.out_c;
            const float* kern = w + (p * g.k_w + q) * g.out_c * g.in_c;
            for (Dim f = 0; f < g.out_c; ++f) {
              float acc = 0;
              for (Dim c = 0; c < g.in_c; ++c) acc += in[c] * kern[f * g.in_c + c];
              out[f] += acc;
            }
          }
        }
      }
}

template <bool kMax>
void pool2d(const Pool2DArgs& g, const float* x, float* y) {
  for (Dim n = 0; n < g.batch; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh)
      for (Dim ow = 0; ow < g.out_w; ++ow)
        for (Dim c = 0; c < g.channels; ++c) {
          float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.0f;
          Dim count = 0;
          for (Dim p = 0; p < g.pool_h; ++p) {
            Dim ih = oh * g.stride_h + p - g.pad_top;
            if (ih < 0 || ih >= g.in_h) continue;
            for (Dim q = 0; q < g.pool_w; ++q) {
              Dim iw = ow * g.stride_w + q - g.pad_left;
              if (iw < 0 || iw >= g.in_w) continue;
              float v = x[((n * g.in_h + ih) * g.in_w + iw) * g.channels + c];
              acc = kMax ? std::max(acc, v) : acc + v;
              ++count;
            }
          }
          y[((n * g.out_h + oh) * g.out_w + ow) * g.channels + c] =
              kMax ? acc : acc / static_cast<float>(std::max<Dim>(count, 1));
        }
}

void conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) {
  Dim cg = g.in_c / g.groups, fg = g.out_c / g.groups;
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.in_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    float* d = dx + xi * g.in_c;
    const float* grad = dy + yi * g.out_c;
    const float* kern = w + tap * cg * g.out_c;
    for (Dim f = 0; f < g.out_c; ++f) {
      float* dgroup = d + (f / fg) * cg;
      for (Dim c = 0; c < cg; ++c) dgroup[c] += grad[f] * kern[c * g.out_c + f];
    }
  });
}

void conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) {
  Dim cg = g.in_c / g.groups, fg = g.out_c / g.groups;
  std::fill(dw, dw + g.k_h * g.k_w * cg * g.out_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    const float* in = x + xi * g.in_c;
    const float* grad = dy + yi * g.out_c;
    float* d = dw + tap * cg * g.out_c;
    for (Dim f = 0; f < g.out_c; ++f) {
      const float* group = in + (f / fg) * cg;
      for (Dim c = 0; c < cg; ++c) d[c * g.out_c + f] += group[c] * grad[f];
    }
  });
}

void depthwise_conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) {
  Dim mult = g.out_c / g.in_c;
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.in_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    float* d = dx + xi * g.in_c;
    const float* grad = dy + yi * g.out_c;
    const float* kern = w + tap * g.out_c;
    for (Dim c = 0; c < g.in_c; ++c)
      for (Dim m = 0; m < mult; ++m) d[c] += grad[c * mult + m] * kern[c * mult + m];
  });
}

void depthwise_conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) {
  Dim mult = g.out_c / g.in_c;
  std::fill(dw, dw + g.k_h * g.k_w * g.out_c, 0.0f);
  for_each_tap(g, [&](Dim xi, Dim yi, Dim tap) {
    const float* in = x + xi * g.in_c;
    const float* grad = dy + yi * g.out_c;
    float* d = dw + tap * g.out_c;
    for (Dim c = 0; c < g.in_c; ++c)
      for (Dim m = 0; m < mult; ++m) d[c * mult + m] += in[c] * grad[c * mult + m];
  });
}

void max_pool2d_backward(const Pool2DArgs& g, const float* x, const float* dy, float* dx) {
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.channels, 0.0f);
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yi) {
    if (count == 0) return;
    for (Dim c = 0; c < g.channels; ++c) {
      Dim best = cells[0] + c;  // a strict > keeps the first maximum
      for (Dim i = 1; i < count; ++i)
        if (x[cells[i] + c] > x[best]) best = cells[i] + c;
      dx[best] += dy[yi + c];
    }
  });
}

void avg_pool2d_backward(const Pool2DArgs& g, const float* dy, float* dx) {
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.channels, 0.0f);
  for_each_window(g, [&](const Dim* cells, Dim count, Dim yi) {
    for (Dim c = 0; c < g.channels; ++c) {
      float share = dy[yi + c] / static_cast<float>(std::max<Dim>(count, 1));
      for (Dim i = 0; i < count; ++i) dx[cells[i] + c] += share;
    }
  });
}

}  // namespace

const Kernels& reference_kernels() {
  static const Kernels k{.name = "reference",
                         .gemm = gemm,
                         .conv2d = conv2d,
                         .depthwise_conv2d = depthwise_conv2d,
                         .conv2d_transpose = conv2d_transpose,
                         .max_pool2d = pool2d<true>,
                         .avg_pool2d = pool2d<false>,
                         .conv2d_backward_input = conv2d_backward_input,
                         .conv2d_backward_filter = conv2d_backward_filter,
                         .depthwise_conv2d_backward_input = depthwise_conv2d_backward_input,
                         .depthwise_conv2d_backward_filter = depthwise_conv2d_backward_filter,
                         .max_pool2d_backward = max_pool2d_backward,
                         .avg_pool2d_backward = avg_pool2d_backward};
  return k;
}

const Products& reference_products() {
  class Reference final : public Products {
   public:
    void gemm(bool ta, bool tb, Dim m, Dim n, Dim k, float alpha, const float* a, Dim lda, const float* b, Dim ldb,
              float beta, float* c, Dim ldc) const override {
      ops::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    void conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) const override {
      ops::conv2d(g, x, w, y);
    }
    void conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) const override {
      ops::conv2d_backward_input(g, dy, w, dx);
    }
    void conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) const override {
      ops::conv2d_backward_filter(g, x, dy, dw);
    }
  };
  static const Reference products;
  return products;
}

}  // namespace keras::ops
