#pragma once
// The pooling windows of a Pool2DArgs geometry, shared by the reference and fast kernels.
#include <vector>

#include "ops/kernels.h"

namespace keras::ops {

// Calls f(cells, count, y_offset) for every output pixel: the x offsets of its window's real
// cells (padding left out) in window order (row-major), for channel 0 (add the channel to
// each), their count, and the offset of the pixel's output channels.
template <class F>
void for_each_window(const Pool2DArgs& g, F&& f) {
  std::vector<Dim> cells(static_cast<size_t>(g.pool_h * g.pool_w));
  for (Dim n = 0; n < g.batch; ++n)
    for (Dim oh = 0; oh < g.out_h; ++oh)
      for (Dim ow = 0; ow < g.out_w; ++ow) {
        Dim count = 0;
        for (Dim p = 0; p < g.pool_h; ++p) {
          Dim ih = oh * g.stride_h + p - g.pad_top;
          if (ih < 0 || ih >= g.in_h) continue;
          for (Dim q = 0; q < g.pool_w; ++q) {
            Dim iw = ow * g.stride_w + q - g.pad_left;
            if (iw >= 0 && iw < g.in_w)
              cells[static_cast<size_t>(count++)] = ((n * g.in_h + ih) * g.in_w + iw) * g.channels;
          }
        }
        f(cells.data(), count, ((n * g.out_h + oh) * g.out_w + ow) * g.channels);
      }
}

}  // namespace keras::ops
