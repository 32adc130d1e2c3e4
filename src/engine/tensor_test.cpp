#include "keras/tensor.h"

#include <gtest/gtest.h>

#include <utility>

namespace keras {
namespace {

TEST(Tensor, CopiesShareValuesUntilOneIsWritten) {
  Tensor a(Shape{2, 3}, 1.0f);
  Tensor b = a;
  EXPECT_EQ(std::as_const(a).data(), std::as_const(b).data());
  b[4] = 7.0f;
  EXPECT_NE(std::as_const(a).data(), std::as_const(b).data());
  EXPECT_EQ(a[4], 1.0f);
  EXPECT_EQ(b[4], 7.0f);
  EXPECT_EQ(b[0], 1.0f);
}

TEST(Tensor, EveryWritingAccessorDetaches) {
  Tensor a(Shape{4}, 2.0f);
  Tensor by_data = a, by_values = a, by_index = a;
  by_data.data()[0] = 3.0f;
  by_values.values()[1] = 4.0f;
  by_index[2] = 5.0f;
  EXPECT_EQ(a, Tensor(Shape{4}, 2.0f));
  EXPECT_EQ(by_data[0], 3.0f);
  EXPECT_EQ(by_values[1], 4.0f);
  EXPECT_EQ(by_index[2], 5.0f);
}

TEST(Tensor, SoleOwnerWritesInPlace) {
  Tensor a(Shape{3}, 0.0f);
  const float* before = std::as_const(a).data();
  a[1] = 1.0f;
  EXPECT_EQ(std::as_const(a).data(), before);
  Tensor moved = std::move(a);
  moved[2] = 2.0f;
  EXPECT_EQ(std::as_const(moved).data(), before);
}

TEST(Tensor, ReshapeAndWholeSliceShareButStayValues) {
  Tensor a(Shape{2, 2}, std::vector<float>{1, 2, 3, 4});
  Tensor r = a.reshape(Shape{4});
  Tensor s = a.slice(0, 2);
  EXPECT_EQ(std::as_const(r).data(), std::as_const(a).data());
  r[0] = 9.0f;
  s[3] = 8.0f;
  EXPECT_EQ(a, Tensor(Shape{2, 2}, std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(r[0], 9.0f);
  EXPECT_EQ(s[3], 8.0f);
}

TEST(Tensor, EqualityComparesValuesNotBuffers) {
  Tensor a(Shape{2}, std::vector<float>{1, 2});
  Tensor b(Shape{2}, std::vector<float>{1, 2});
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == Tensor(Shape{1, 2}, std::vector<float>{1, 2}));
  EXPECT_EQ(Tensor(), Tensor());
}

// An empty tensor has its shape and storage at once; once written it behaves as any other,
// copies included (its buffer is copied on write like a zero-filled one's).
TEST(Tensor, EmptyHasTheShapeAndIsCopiedOnWrite) {
  Tensor a = Tensor::empty(Shape{2, 3});
  EXPECT_EQ(a.shape(), Shape({2, 3}));
  ASSERT_EQ(a.size(), 6);
  for (Dim i = 0; i < 6; ++i) a[i] = static_cast<float>(i);
  Tensor b = a;
  b[0] = 7.0f;
  EXPECT_EQ(a, Tensor(Shape{2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(b, Tensor(Shape{2, 3}, std::vector<float>{7, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Tensor::empty(Shape{0, 4}).size(), 0);
}

}  // namespace
}  // namespace keras
