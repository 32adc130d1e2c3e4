#pragma once
// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution pieces (Lavin & Gray 2015), NHWC: a 3x3
// stride-1 conv as alpha^2 products (alpha = tile + 2) over alpha x alpha input tiles, 2.25
// (F(2x2)) or 4 (F(4x4)) times fewer multiply-adds than direct convolution. The transforms run
// here (vectorised over channels); the products go through igemm.
//   U = G g G^T (weights), V = B^T d B (input tiles), Y = A^T (U . V) A (output tiles).
// Layouts: u [alpha^2][C][F], v [alpha^2][tiles][C], m [alpha^2][tiles][F].
#include "backends/cpu/kernels/igemm.h"

namespace keras::backends::cpu {

struct WinogradShape {
  Dim batch = 0, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0, pad_top = 0, pad_left = 0;
  Dim tile = 2;  // output tile side: 2 or 4
  Dim alpha() const { return tile + 2; }
  Dim frequencies() const { return alpha() * alpha(); }
  Dim tiles_h() const { return (out_h + tile - 1) / tile; }
  Dim tiles_w() const { return (out_w + tile - 1) / tile; }
  Dim tiles() const { return batch * tiles_h() * tiles_w(); }
};

// Input channels [c0, c1) and filters [f0, f1) of U from the Keras kernel [3][3][C][F], into
// u with rows of `ldu` values (holding filters f0...). packed > 0: each frequency's [C][ldu]
// is written in igemm's packed strips of that many filters (IGemmArgs::packed; ldu a multiple).
// local: u holds rows c0..c1 alone ([alpha^2][c1 - c0][ldu]) instead of all C rows.
struct WinogradWeights {
  Dim c0, c1, f0, f1, ldu;
  Dim packed = 0;
  bool local = false;
};
void winograd_weights(Isa isa, const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& r);
// V for tiles [t0, t0 + count) of x; v holds `stride` tiles per frequency.
void winograd_input(Isa isa, const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride);
// Output channels [f0, f1) of tiles [t0, t0 + count) from m (`stride` tiles per frequency,
// rows of `ldm` values holding channels f0...), + bias, then relu. With `pool`, a 2x2 stride-2
// pooling aligned with the tiles follows: y is then the pooled [n][pooled_h][pooled_w][F],
// (tile / 2)^2 pixels per tile, over the tile's outputs inside out_h x out_w (Keras's valid
// and same padding).
struct WinogradOutput {
  enum class Pool { kNone, kMax, kAverage };
  const float* m;
  Dim stride, ldm, f0, f1;
  Pool pool = Pool::kNone;
  Dim pooled_h = 0, pooled_w = 0;
};
void winograd_output(Isa isa, const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias,
                     bool relu, float* y);

namespace detail {
#define KERAS_WINOGRAD_DECLARE(suffix)                                                                                 \
  void winograd_weights_##suffix(const WinogradShape& s, const float* kernel, float* u, const WinogradWeights& r);     \
  void winograd_input_##suffix(const WinogradShape& s, const float* x, Dim t0, Dim count, float* v, Dim stride);       \
  void winograd_output_##suffix(const WinogradShape& s, const WinogradOutput& o, Dim t0, Dim count, const float* bias, \
                                bool relu, float* y);
KERAS_WINOGRAD_DECLARE(avx512)
KERAS_WINOGRAD_DECLARE(avx2)
KERAS_WINOGRAD_DECLARE(generic)
#undef KERAS_WINOGRAD_DECLARE
}  // namespace detail

}  // namespace keras::backends::cpu
