#include "ops/transpose.h"

#include "test_helpers.h"

namespace keras {
namespace {

TEST(OpsTranspose, ChannelsFirstToLastAndBack) {
  // (N, C, H, W) = (1, 3, 2, 2) holding 0..11: channels last puts c fastest, as numpy's
  // transpose(0, 2, 3, 1): [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11] (KERAS_SPEC §1).
  Tensor x = Tensor::arange(0, 12).reshape({1, 3, 2, 2});
  Tensor last = ops::to_channels_last(x);
  EXPECT_EQ(last, Tensor({1, 2, 2, 3}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(ops::to_channels_first(last), x);
}

TEST(OpsTranspose, Rank3And5AndShapes) {
  Tensor x({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});  // (N, C, L)
  EXPECT_EQ(ops::to_channels_last(x), Tensor({2, 3, 2}, {1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12}));
  Tensor v = Tensor::arange(0, 48).reshape({2, 3, 2, 2, 2});
  EXPECT_EQ(ops::to_channels_first(ops::to_channels_last(v)), v);
  EXPECT_EQ(ops::to_channels_last(Shape{None, 3, 5, 7}), (Shape{None, 5, 7, 3}));
  EXPECT_EQ(ops::to_channels_first(Shape{None, 5, 7, 3}), (Shape{None, 3, 5, 7}));
  EXPECT_THROW(ops::to_channels_last(Tensor({2, 3})), ValueError);
}

}  // namespace
}  // namespace keras
