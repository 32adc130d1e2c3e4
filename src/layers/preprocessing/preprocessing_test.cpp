// Normalization.adapt() against numpy's mean and var written out, and the layer's argument
// errors; what the layers compute is checked by the oracle fixtures (normalization_k3_*,
// rescaling_*).
#include <gtest/gtest.h>

#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

// np.mean(data, axis=(0, 1)) and np.var(data, axis=(0, 1)) for axis=-1 on (5, 3, 4) data: one
// statistic per last-axis position; then the layer maps data to mean 0, variance 1 there.
TEST(Normalization, AdaptTakesNumpysMomentsOverTheOtherAxes) {
  Tensor data = testing::random_tensor({5, 3, 4}, 17, -3.0f, 5.0f);
  Layer norm = layers::Normalization();
  layers::adapt(norm, data);
  std::vector<Tensor> w = norm.get_weights();  // mean, variance, count
  ASSERT_EQ(w.size(), 3u);
  for (Dim c = 0; c < 4; ++c) {
    double mean = 0, var = 0;
    for (Dim i = 0; i < 15; ++i) mean += data[i * 4 + c] / 15.0;
    for (Dim i = 0; i < 15; ++i) var += (data[i * 4 + c] - mean) * (data[i * 4 + c] - mean) / 15.0;
    EXPECT_NEAR(w[0][c], mean, 1e-5);
    EXPECT_NEAR(w[1][c], var, 1e-5);
  }
  Tensor y = Sequential({Input({3, 4}), norm}).predict(data);
  for (Dim c = 0; c < 4; ++c) {
    double s = 0, s2 = 0;
    for (Dim i = 0; i < 15; ++i) s += y[i * 4 + c], s2 += double(y[i * 4 + c]) * y[i * 4 + c];
    EXPECT_NEAR(s / 15, 0.0, 1e-5);
    EXPECT_NEAR(s2 / 15, 1.0, 1e-4);
  }
}

TEST(Normalization, ArgumentErrors) {
  EXPECT_NE(testing::value_error_of([] { layers::Normalization({.mean = {1.0f}}); }).find("both `mean` and `variance`"),
            std::string::npos);
  Layer given = layers::Normalization({.mean = {1, 2}, .variance = {1, 1}});
  EXPECT_NE(testing::value_error_of([&] {
              layers::adapt(given, Tensor(Shape{2, 2}));
            }).find("given mean"),
            std::string::npos);
  EXPECT_NE(testing::value_error_of([&] {
              Sequential({Input({3}), given});
            }).find("2 values cannot be reshaped to (3,)"),
            std::string::npos);
  EXPECT_NE(testing::value_error_of([] {
              layers::adapt(layers::Dense(2), Tensor(Shape{2, 2}));
            }).find("adapt() takes a Normalization layer"),
            std::string::npos);
}

}  // namespace
}  // namespace keras
