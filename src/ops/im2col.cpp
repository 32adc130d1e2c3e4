// im2col lowering (ops/im2col.h). The column buffer is cut into chunks of images so a large
// image never needs a whole batch's buffer.
#include "ops/im2col.h"

#include <algorithm>
#include <vector>

namespace keras::ops {

namespace {

// Rows of the column buffer per chunk of images: at most this many floats at a time, so a
// large image (VGG16's 224x224x64) never needs a whole batch's buffer.
constexpr Dim kMaxColumnFloats = Dim{1} << 22;

struct Lowering {
  Dim pixels, taps, cg, fg;  // output pixels per image, K = k_h*k_w*cg, channels and filters per group
  Dim images_per_chunk;
};

Lowering lowering(const Conv2DArgs& g) {
  Lowering l;
  l.pixels = g.out_h * g.out_w;
  l.cg = g.in_c / g.groups;
  l.fg = g.out_c / g.groups;
  l.taps = g.k_h * g.k_w * l.cg;
  l.images_per_chunk = std::clamp<Dim>(kMaxColumnFloats / std::max<Dim>(l.pixels * l.taps, 1), 1, g.batch);
  return l;
}

// A 1x1 convolution with unit strides, no padding and one group reads x as it is: no copy.
bool is_pointwise(const Conv2DArgs& g) {
  return g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
         g.groups == 1 && g.out_h == g.in_h && g.out_w == g.in_w;
}

// Calls f(column, x_offset) for each tap of output pixel (oh, ow) of image n: the column
// index (p*k_w + q) and the x offset of that input pixel, or -1 for padding.
template <class F>
void for_each_tap(const Conv2DArgs& g, Dim n, Dim oh, Dim ow, F&& f) {
  for (Dim p = 0; p < g.k_h; ++p) {
    Dim ih = oh * g.stride_h + p * g.dilation_h - g.pad_top;
    for (Dim q = 0; q < g.k_w; ++q) {
      Dim iw = ow * g.stride_w + q * g.dilation_w - g.pad_left;
      bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
      f(p * g.k_w + q, inside ? ((n * g.in_h + ih) * g.in_w + iw) * g.in_c : Dim{-1});
    }
  }
}

// cols[(n - n0) * pixels + pixel, tap * cg + c] = x[n, ih, iw, group * cg + c] (0 in padding).
void im2col(const Conv2DArgs& g, const Lowering& l, const float* x, Dim n0, Dim n1, Dim group, float* cols) {
  for (Dim n = n0; n < n1; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh)
      for (Dim ow = 0; ow < g.out_w; ++ow) {
        float* row = cols + ((n - n0) * l.pixels + oh * g.out_w + ow) * l.taps;
        for_each_tap(g, n, oh, ow, [&](Dim tap, Dim at) {
          float* dst = row + tap * l.cg;
          if (at < 0)
            std::fill(dst, dst + l.cg, 0.0f);
          else
            std::copy_n(x + at + group * l.cg, l.cg, dst);
        });
      }
}

// The adjoint of im2col: dx[n, ih, iw, group * cg + c] += cols[...]; dx is not cleared.
void col2im(const Conv2DArgs& g, const Lowering& l, const float* cols, Dim n0, Dim n1, Dim group, float* dx) {
  for (Dim n = n0; n < n1; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh)
      for (Dim ow = 0; ow < g.out_w; ++ow) {
        const float* row = cols + ((n - n0) * l.pixels + oh * g.out_w + ow) * l.taps;
        for_each_tap(g, n, oh, ow, [&](Dim tap, Dim at) {
          if (at < 0) return;
          const float* src = row + tap * l.cg;
          float* dst = dx + at + group * l.cg;
          for (Dim c = 0; c < l.cg; ++c) dst[c] += src[c];
        });
      }
}

}  // namespace

void im2col_conv2d(const Products& p, const Conv2DArgs& g, const float* x, const float* w, float* y) {
  auto gemm = [&p](auto... a) { p.gemm(a...); };
  Lowering l = lowering(g);
  if (is_pointwise(g)) {
    gemm(false, false, g.batch * l.pixels, g.out_c, g.in_c, 1.0f, x, g.in_c, w, g.out_c, 0.0f, y, g.out_c);
    return;
  }
  std::vector<float> cols(static_cast<size_t>(l.images_per_chunk * l.pixels * l.taps));
  for (Dim n0 = 0; n0 < g.batch; n0 += l.images_per_chunk) {
    Dim n1 = std::min(g.batch, n0 + l.images_per_chunk), rows = (n1 - n0) * l.pixels;
    for (Dim group = 0; group < g.groups; ++group) {
      im2col(g, l, x, n0, n1, group, cols.data());
      // y[rows, group's filters] = cols[rows, K] @ w[K, group's filters] (w is (K, out_c) row-major).
      gemm(false, false, rows, l.fg, l.taps, 1.0f, cols.data(), l.taps, w + group * l.fg, g.out_c, 0.0f,
           y + n0 * l.pixels * g.out_c + group * l.fg, g.out_c);
    }
  }
}

void im2col_conv2d_backward_input(const Products& p, const Conv2DArgs& g, const float* dy, const float* w, float* dx) {
  auto gemm = [&p](auto... a) { p.gemm(a...); };
  Lowering l = lowering(g);
  if (is_pointwise(g)) {
    gemm(false, true, g.batch * l.pixels, g.in_c, g.out_c, 1.0f, dy, g.out_c, w, g.out_c, 0.0f, dx, g.in_c);
    return;
  }
  std::fill(dx, dx + g.batch * g.in_h * g.in_w * g.in_c, 0.0f);
  std::vector<float> cols(static_cast<size_t>(l.images_per_chunk * l.pixels * l.taps));
  for (Dim n0 = 0; n0 < g.batch; n0 += l.images_per_chunk) {
    Dim n1 = std::min(g.batch, n0 + l.images_per_chunk), rows = (n1 - n0) * l.pixels;
    for (Dim group = 0; group < g.groups; ++group) {
      gemm(false, true, rows, l.taps, l.fg, 1.0f, dy + n0 * l.pixels * g.out_c + group * l.fg, g.out_c,
           w + group * l.fg, g.out_c, 0.0f, cols.data(), l.taps);
      col2im(g, l, cols.data(), n0, n1, group, dx);
    }
  }
}

void im2col_conv2d_backward_filter(const Products& p, const Conv2DArgs& g, const float* x, const float* dy, float* dw) {
  auto gemm = [&p](auto... a) { p.gemm(a...); };
  Lowering l = lowering(g);
  if (is_pointwise(g)) {
    gemm(true, false, g.in_c, g.out_c, g.batch * l.pixels, 1.0f, x, g.in_c, dy, g.out_c, 0.0f, dw, g.out_c);
    return;
  }
  std::fill(dw, dw + l.taps * g.out_c, 0.0f);
  std::vector<float> cols(static_cast<size_t>(l.images_per_chunk * l.pixels * l.taps));
  for (Dim n0 = 0; n0 < g.batch; n0 += l.images_per_chunk) {
    Dim n1 = std::min(g.batch, n0 + l.images_per_chunk), rows = (n1 - n0) * l.pixels;
    for (Dim group = 0; group < g.groups; ++group) {
      im2col(g, l, x, n0, n1, group, cols.data());
      gemm(true, false, l.taps, l.fg, rows, 1.0f, cols.data(), l.taps, dy + n0 * l.pixels * g.out_c + group * l.fg,
           g.out_c, 1.0f, dw + group * l.fg, g.out_c);
    }
  }
}

void Products::conv2d(const Conv2DArgs& g, const float* x, const float* w, float* y) const {
  im2col_conv2d(*this, g, x, w, y);
}
void Products::conv2d_backward_input(const Conv2DArgs& g, const float* dy, const float* w, float* dx) const {
  im2col_conv2d_backward_input(*this, g, dy, w, dx);
}
void Products::conv2d_backward_filter(const Conv2DArgs& g, const float* x, const float* dy, float* dw) const {
  im2col_conv2d_backward_filter(*this, g, x, dy, dw);
}

}  // namespace keras::ops
