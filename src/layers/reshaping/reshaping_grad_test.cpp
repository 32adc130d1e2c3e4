// Gradients of the reshaping layers through the shared finite-difference checker. These
// layers are linear, so the check is exact up to float rounding.
#include "test_helpers.h"

namespace keras {
namespace {

using layers::IntPair;
using layers::Sides2D;
using testing::GradientCheck;
using testing::random_tensor;

TEST(ReshapingGradient, FlattenReshapePermuteRepeatVector) {
  EXPECT_TRUE(GradientCheck(layers::Flatten(), {random_tensor({2, 3, 4, 2}, 1)}));
  EXPECT_TRUE(GradientCheck(layers::Flatten({.data_format = "channels_first"}), {random_tensor({2, 3, 4, 2}, 2)}));
  EXPECT_TRUE(GradientCheck(layers::Flatten({.data_format = "channels_first"}), {random_tensor({2, 5}, 3)}));
  EXPECT_TRUE(GradientCheck(layers::Reshape({3, -1}), {random_tensor({2, 2, 6}, 4)}));
  EXPECT_TRUE(GradientCheck(layers::Permute({2, 1}), {random_tensor({2, 3, 4}, 5)}));
  EXPECT_TRUE(GradientCheck(layers::Permute({3, 1, 2}), {random_tensor({2, 2, 3, 4}, 6)}));
  EXPECT_TRUE(GradientCheck(layers::Permute({2, 3, 1}), {random_tensor({2, 2, 3, 4}, 7)}));
  EXPECT_TRUE(GradientCheck(layers::RepeatVector(3), {random_tensor({2, 4}, 8)}));
}

TEST(ReshapingGradient, PaddingAndCropping) {
  EXPECT_TRUE(GradientCheck(layers::ZeroPadding1D(IntPair(1, 2)), {random_tensor({2, 4, 3}, 11)}));
  EXPECT_TRUE(
      GradientCheck(layers::ZeroPadding2D(Sides2D(IntPair(1, 0), IntPair(2, 1))), {random_tensor({2, 3, 4, 2}, 12)}));
  EXPECT_TRUE(GradientCheck(
      layers::ZeroPadding2D({.padding = Sides2D(IntPair(0, 2), IntPair(1, 1)), .data_format = "channels_first"}),
      {random_tensor({2, 2, 3, 4}, 13)}));
  EXPECT_TRUE(GradientCheck(layers::Cropping1D(IntPair(1, 2)), {random_tensor({2, 6, 3}, 14)}));
  EXPECT_TRUE(
      GradientCheck(layers::Cropping2D(Sides2D(IntPair(1, 0), IntPair(2, 1))), {random_tensor({2, 4, 6, 2}, 15)}));
  EXPECT_TRUE(GradientCheck(
      layers::Cropping2D({.cropping = Sides2D(IntPair(0, 2), IntPair(1, 1)), .data_format = "channels_first"}),
      {random_tensor({2, 2, 5, 4}, 16)}));
}

TEST(ReshapingGradient, UpSampling) {
  EXPECT_TRUE(GradientCheck(layers::UpSampling1D(3), {random_tensor({2, 4, 3}, 21)}));
  for (const char* interpolation : {"nearest", "bilinear"})
    for (const char* format : {"channels_last", "channels_first"}) {
      SCOPED_TRACE(std::string(interpolation) + " " + format);
      EXPECT_TRUE(GradientCheck(
          layers::UpSampling2D({.size = IntPair(2, 3), .data_format = format, .interpolation = interpolation}),
          {random_tensor({2, 3, 4, 2}, 22)}));
      EXPECT_TRUE(
          GradientCheck(layers::UpSampling2D({.size = 2, .data_format = format, .interpolation = interpolation}),
                        {random_tensor({1, 2, 5, 3}, 23)}));
    }
}

}  // namespace
}  // namespace keras
