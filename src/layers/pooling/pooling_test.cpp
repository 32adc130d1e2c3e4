// Pooling layers against hand computations from Keras's formulas (KERAS_SPEC §3); the oracle
// fixtures (tests/fixtures/layers/*pooling*) run in tests/layer_oracle_test.cpp.
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "saving/registry.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

// Runs `layer` on `x` as Keras would inside a model (batch dimension unknown at build time).
Tensor run(const Layer& layer, const Tensor& x) { return layer(x); }

TEST(AveragePooling2D, SameMatchesKerasDoctestAndExcludesPaddingFromDivisor) {
  // tf.keras AveragePooling2D doctest: pool 2, strides 1, 'same'; the pad goes bottom/right.
  Tensor x({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto pool = layers::AveragePooling2D({.pool_size = 2, .strides = 1, .padding = "same"});
  EXPECT_TRUE(AllClose(run(pool, x), Tensor({1, 3, 3, 1}, {3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9})));
}

TEST(MaxPooling2D, StridesDefaultToPoolSize) {
  Tensor x = Tensor::arange(0, 16).reshape({1, 4, 4, 1});
  auto pool = layers::MaxPooling2D(2);
  EXPECT_EQ(run(pool, x), Tensor({1, 2, 2, 1}, {5, 7, 13, 15}));
  EXPECT_EQ(pool->get_config()["strides"], nlohmann::json({2, 2}));
  EXPECT_EQ(pool->count_params(), 0);
}

TEST(MaxPooling2D, ValidDropsTheLastRowAndColumn) {
  Tensor x = Tensor::arange(0, 25).reshape({1, 5, 5, 1});
  EXPECT_EQ(run(layers::MaxPooling2D(2), x), Tensor({1, 2, 2, 1}, {6, 8, 16, 18}));
}

TEST(MaxPooling2D, MnistShapesFloor) {
  auto x = Input({26, 26, 32});
  EXPECT_EQ(layers::MaxPooling2D({.pool_size = {2, 2}})(x).shape(), (Shape{None, 13, 13, 32}));
  auto y = Input({11, 11, 64});
  EXPECT_EQ(layers::MaxPooling2D(2)(y).shape(), (Shape{None, 5, 5, 64}));
  // A braced pair is pool_size, as Keras's MaxPooling2D((2, 3)).
  EXPECT_EQ(layers::MaxPooling2D({2, 3})(Input({4, 6, 1})).shape(), (Shape{None, 2, 2, 1}));
  EXPECT_EQ(layers::AvgPool2D({3, 2})(Input({7, 4, 1})).shape(), (Shape{None, 2, 2, 1}));
  auto z = Input({None, 7, 3});
  EXPECT_EQ(layers::MaxPooling2D(2, std::nullopt, "same")(z).shape(), (Shape{None, None, 4, 3}));
}

TEST(MaxPooling2D, SamePaddingNeverWins) {
  // All values negative: a zero pad would win. 3x3, pool 2, stride 2 'same': pad 1 at bottom/right.
  Tensor x({1, 3, 3, 1}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  EXPECT_EQ(run(layers::MaxPooling2D(2, 2, "SAME"), x), Tensor({1, 2, 2, 1}, {-1, -3, -7, -9}));
}

TEST(MaxPooling2D, ChannelsFirst) {
  Tensor x = Tensor::arange(0, 16).reshape({1, 2, 2, 4});  // (N, C, H, W)
  auto pool = layers::MaxPooling2D({.pool_size = 2, .data_format = "channels_first"});
  // Channel 0 rows [0 1 2 3], [4 5 6 7]: windows -> 5, 7; channel 1 -> 13, 15.
  EXPECT_EQ(run(pool, x), Tensor({1, 2, 1, 2}, {5, 7, 13, 15}));
}

TEST(AveragePooling2D, ChannelsFirstSameMatchesChannelsLast) {
  Tensor cl({1, 3, 3, 2}, {1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60, 7, 70, 8, 80, 9, 90});
  Tensor cf({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90});
  auto a = layers::AveragePooling2D({.pool_size = 2, .strides = 1, .padding = "same", .data_format = "channels_first"});
  EXPECT_TRUE(AllClose(run(a, cf), Tensor({1, 2, 3, 3}, {3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9,  //
                                                         30, 40, 45, 60, 70, 75, 75, 85, 90})));
  auto b = layers::AveragePooling2D({.pool_size = 2, .strides = 1, .padding = "same"});
  EXPECT_EQ(run(b, cl).shape(), (Shape{1, 3, 3, 2}));
}

TEST(MaxPooling1D, ValidAndSame) {
  Tensor x({1, 5, 1}, {1, 3, 2, 5, 4});
  EXPECT_EQ(run(layers::MaxPooling1D(2), x), Tensor({1, 2, 1}, {3, 5}));
  EXPECT_EQ(run(layers::MaxPooling1D(2, std::nullopt, "same"), x), Tensor({1, 3, 1}, {3, 5, 4}));
}

TEST(AveragePooling1D, SameDividesByRealSteps) {
  // length 4, pool 3, stride 2 'same': out 2, one pad step at the end.
  Tensor x({1, 4, 1}, {1, 2, 3, 4});
  EXPECT_TRUE(AllClose(run(layers::AveragePooling1D(3, 2, "same"), x), Tensor({1, 2, 1}, {2, 3.5})));
}

TEST(AveragePooling1D, ChannelsFirst) {
  Tensor x({1, 2, 4}, {1, 2, 3, 4, 10, 20, 30, 40});  // (N, C, steps)
  auto pool = layers::AveragePooling1D({.pool_size = 2, .data_format = "channels_first"});
  EXPECT_TRUE(AllClose(run(pool, x), Tensor({1, 2, 2}, {1.5, 3.5, 15, 35})));
}

TEST(Pooling, Errors) {
  EXPECT_NE(testing::value_error_of([] {
              run(layers::MaxPooling2D(3), Tensor({1, 2, 2, 1}));
            }).find("Computed output size would be zero or negative"),
            std::string::npos);
  EXPECT_NE(testing::value_error_of([] {
              run(layers::MaxPooling2D({.name = "p"}), Tensor({1, 4, 4}));
            })
                .find("Input 0 of layer \"p\" is incompatible with the layer: expected ndim=4, found ndim=3. Full "
                      "shape received: (None, 4, 4)"),
            std::string::npos);
  EXPECT_NE(testing::value_error_of([] {
              layers::MaxPooling2D(2, std::nullopt, "full");
            }).find("Argument `padding` must be either 'valid' or 'same'. Received: padding=full"),
            std::string::npos);
  EXPECT_NE(testing::value_error_of([] {
              layers::AveragePooling2D({.pool_size = {0, 2}});
            })
                .find("The `pool_size` argument must be a tuple of 2 integers. Received pool_size=(0, 2), including "
                      "values {0} that do not satisfy `value > 0`"),
            std::string::npos);
  EXPECT_THROW(layers::MaxPooling1D({.data_format = "channels_middle"}), ValueError);
}

TEST(GlobalPooling, AverageAndMaxOverSpatialAxes) {
  Tensor x = Tensor::arange(0, 8).reshape({1, 2, 2, 2});
  // channels_last: channel 0 = {0, 2, 4, 6}, channel 1 = {1, 3, 5, 7}.
  EXPECT_TRUE(AllClose(run(layers::GlobalAveragePooling2D(), x), Tensor({1, 2}, {3, 4})));
  EXPECT_EQ(run(layers::GlobalMaxPooling2D(), x), Tensor({1, 2}, {6, 7}));
  // channels_first: channel 0 = {0..3}, channel 1 = {4..7}.
  EXPECT_TRUE(
      AllClose(run(layers::GlobalAveragePooling2D({.data_format = "channels_first"}), x), Tensor({1, 2}, {1.5, 5.5})));
  EXPECT_EQ(run(layers::GlobalMaxPooling2D({.data_format = "channels_first", .keepdims = true}), x),
            Tensor({1, 2, 1, 1}, {3, 7}));
  EXPECT_EQ(run(layers::GlobalAvgPool2D({.keepdims = true}), x).shape(), (Shape{1, 1, 1, 2}));
}

TEST(GlobalPooling, OneDimensional) {
  Tensor x({1, 3, 2}, {1, -1, 5, -5, 3, -3});
  EXPECT_TRUE(AllClose(run(layers::GlobalAveragePooling1D(), x), Tensor({1, 2}, {3, -3})));
  EXPECT_EQ(run(layers::GlobalMaxPooling1D({.keepdims = true}), x), Tensor({1, 1, 2}, {5, -1}));
  EXPECT_EQ(run(layers::GlobalMaxPool1D({.data_format = "channels_first", .keepdims = true}), x),
            Tensor({1, 3, 1}, {1, 5, 3}));
  auto in = Input({None, 4});
  EXPECT_EQ(layers::GlobalAveragePooling1D()(in).shape(), (Shape{None, 4}));
  EXPECT_THROW(layers::GlobalAveragePooling2D()(in), ValueError);
}

TEST(Pooling, AutomaticNames) {
  clear_session();
  EXPECT_EQ(layers::MaxPooling2D().name(), "max_pooling2d");
  EXPECT_EQ(layers::MaxPool2D().name(), "max_pooling2d_1");
  EXPECT_EQ(layers::AvgPool1D()->class_name(), "AveragePooling1D");
  EXPECT_EQ(layers::GlobalAveragePooling2D().name(), "global_average_pooling2d");
}

TEST(Pooling, ConfigReadsKeras1And3Spellings) {
  ConfigContext ctx;
  auto k1 = layers::average_pooling1d_from_config(
      {{"name", "a"}, {"pool_length", 3}, {"stride", 2}, {"border_mode", "same"}, {"trainable", true}}, ctx);
  EXPECT_EQ(k1->get_config()["pool_size"], nlohmann::json({3}));
  EXPECT_EQ(k1->get_config()["strides"], nlohmann::json({2}));
  EXPECT_EQ(k1->get_config()["padding"], "same");
  auto k1_none = layers::max_pooling1d_from_config({{"pool_length", 4}, {"stride", nullptr}}, ctx);
  EXPECT_EQ(k1_none->get_config()["strides"], nlohmann::json({4}));
  auto th = layers::max_pooling2d_from_config(
      {{"pool_size", {2, 2}}, {"strides", nullptr}, {"border_mode", "valid"}, {"dim_ordering", "th"}}, ctx);
  EXPECT_EQ(th->get_config()["data_format"], "channels_first");
  auto k3 = layers::global_max_pooling2d_from_config({{"data_format", "channels_last"}, {"keepdims", true}}, ctx);
  EXPECT_EQ(k3->get_config()["keepdims"], true);
  for (const char* name : {"MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
                           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPooling1D", "AveragePooling2D"})
    EXPECT_NE(saving::find_layer_factory(name), nullptr) << name;
}

}  // namespace
}  // namespace keras
