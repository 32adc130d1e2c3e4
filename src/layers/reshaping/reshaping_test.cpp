// Reshaping layers against hand computations and the examples in Keras's docstrings
// (KERAS_SPEC §1, §5.4); the oracle fixtures run in tests/layer_oracle_test.cpp.
#include <functional>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The seed question: Flatten keeps C order; channels_first moves channels last first.
TEST(Flatten, SeedExampleChannelsLastAndFirst) {
  auto inputs = Input({3, 2, 4});
  Tensor x = Tensor::arange(0, 24).reshape({1, 3, 2, 4});
  Model last(inputs, layers::Flatten()(inputs));
  EXPECT_EQ(last.outputs()[0].shape(), (Shape{None, 24}));
  EXPECT_EQ(last.predict(x), Tensor::arange(0, 24).reshape({1, 24}));
  // transpose (0, 2, 3, 1) of x: element (h, w, c) is x[c, h, w] = 8c + 4h + w.
  Model first(inputs, layers::Flatten({.data_format = "channels_first"})(inputs));
  EXPECT_EQ(first.predict(x),
            Tensor({1, 24}, {0, 8, 16, 1, 9, 17, 2, 10, 18, 3, 11, 19, 4, 12, 20, 5, 13, 21, 6, 14, 22, 7, 15, 23}));
}

TEST(Flatten, KerasVerifiedChannelsFirstExample) {
  // KERAS_SPEC §1: K3 on arange(12).reshape(1, 3, 2, 2).
  Tensor x = Tensor::arange(0, 12).reshape({1, 3, 2, 2});
  EXPECT_EQ(layers::Flatten({.data_format = "channels_first"})(x),
            Tensor({1, 12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST(Flatten, ShapesOfEveryRank) {
  EXPECT_EQ(layers::Flatten()(Input({5})).shape(), (Shape{None, 5}));
  EXPECT_EQ(layers::Flatten()(Input({None, None, 3})).shape(), (Shape{None, None}));
  EXPECT_EQ(layers::Flatten()(Input({13, 13, 64})).shape(), (Shape{None, 10816}));
  // (batch,) gains a feature axis: (batch, 1).
  EXPECT_EQ(layers::Flatten()(Tensor({3}, {1, 2, 3})), Tensor({3, 1}, {1, 2, 3}));
  // Rank 2: channels_first has nothing to move.
  EXPECT_EQ(layers::Flatten({.data_format = "channels_first"})(Tensor({2, 3}, {1, 2, 3, 4, 5, 6})),
            Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  // Rank 3 channels_first (N, C, steps) flattens steps-major.
  EXPECT_EQ(layers::Flatten({.data_format = "channels_first"})(Tensor({1, 2, 3}, {0, 1, 2, 3, 4, 5})),
            Tensor({1, 6}, {0, 3, 1, 4, 2, 5}));
  // An unknown spatial size is resolved per call.
  auto in = Input({None, 2});
  Model flat(in, layers::Flatten()(in));
  EXPECT_EQ(flat.predict(Tensor({2, 3, 2})).shape(), (Shape{2, 6}));
}

TEST(Reshape, InfersTheUnknownDimension) {
  auto x = Input({12});
  EXPECT_EQ(layers::Reshape({3, 4})(x).shape(), (Shape{None, 3, 4}));
  EXPECT_EQ(layers::Reshape({-1, 2, 2})(x).shape(), (Shape{None, 3, 2, 2}));
  auto y = Input({None, 4});
  auto r = layers::Reshape({-1, 2});
  EXPECT_EQ(r(y).shape(), (Shape{None, None, 2}));
  Model m(y, r(y));
  EXPECT_EQ(m.predict(Tensor::arange(0, 24).reshape({2, 3, 4})), Tensor::arange(0, 24).reshape({2, 6, 2}));
}

TEST(Reshape, KerasErrors) {
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Reshape({-1, -1});
                       }),
                       "There must be at most one unknown dimension (-1) in `target_shape`. Received: "
                       "target_shape=(-1, -1)"));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Reshape({5, 5})(Input({12}));
                       }),
                       "The total size of the tensor must be unchanged. Received: input_shape=(12,), "
                       "target_shape=(5, 5)"));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Reshape({-1, 5})(Input({3, 4}));
                       }),
                       "input size cannot by divided by the specified dimensions in target_shape. Received: "
                       "input_shape=(3, 4), target_shape=(-1, 5)"));
  EXPECT_THROW(layers::Reshape({-2, 6}), ValueError);
}

TEST(Permute, SwapsAxesOneBased) {
  EXPECT_EQ(layers::Permute({2, 1})(Input({10, 64})).shape(), (Shape{None, 64, 10}));
  EXPECT_EQ(layers::Permute({2, 1})(Tensor::arange(0, 6).reshape({1, 2, 3})), Tensor({1, 3, 2}, {0, 3, 1, 4, 2, 5}));
  // dims (3, 1, 2) on (2, 3, 4): out[k, i, j] = x[i, j, k] = 12i + 4j + k.
  Tensor got = layers::Permute({3, 1, 2})(Tensor::arange(0, 24).reshape({1, 2, 3, 4}));
  ASSERT_EQ(got.shape(), (Shape{1, 4, 2, 3}));
  for (Dim k = 0; k < 4; ++k)
    for (Dim i = 0; i < 2; ++i)
      for (Dim j = 0; j < 3; ++j) EXPECT_EQ(got.at({0, k, i, j}), static_cast<float>(12 * i + 4 * j + k));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Permute({1, 3});
                       }),
                       "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                       "consecutive and start from 1. Received dims=(1, 3)"));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Permute({2, 1})(Input({2, 3, 4}));
                       }),
                       "expected ndim=3, found ndim=4"));
}

TEST(RepeatVector, RepeatsEachSample) {
  EXPECT_EQ(layers::RepeatVector(3)(Input({32})).shape(), (Shape{None, 3, 32}));
  EXPECT_EQ(layers::RepeatVector(2)(Tensor({2, 2}, {1, 2, 3, 4})), Tensor({2, 2, 2}, {1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(ZeroPadding2D, KerasDocstringExample) {
  Tensor x = Tensor::arange(0, 4).reshape({1, 1, 2, 2});
  EXPECT_EQ(layers::ZeroPadding2D(1)(x),
            Tensor({1, 3, 4, 2}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(ZeroPadding2D, AsymmetricAndChannelsFirst) {
  Tensor x({1, 1, 2, 1}, {1, 2});
  auto pad = layers::ZeroPadding2D({.padding = {{1, 0}, {0, 2}}});
  EXPECT_EQ(pad(x), Tensor({1, 2, 4, 1}, {0, 0, 0, 0, 1, 2, 0, 0}));
  EXPECT_EQ(pad->get_config()["padding"], nlohmann::json({{1, 0}, {0, 2}}));
  auto cf = layers::ZeroPadding2D({.padding = {1, 0}, .data_format = "channels_first"});
  EXPECT_EQ(cf(Tensor({1, 2, 1, 1}, {5, 6})), Tensor({1, 2, 3, 1}, {0, 5, 0, 0, 6, 0}));
  EXPECT_EQ(layers::ZeroPadding2D({{1, 2}, {0, 3}})(Input({3, 4, 2})).shape(), (Shape{None, 6, 7, 2}));
  EXPECT_EQ(layers::ZeroPadding2D(2)(Input({None, 4, 2})).shape(), (Shape{None, None, 8, 2}));
}

TEST(ZeroPadding1D, KerasDocstringExample) {
  Tensor x = Tensor::arange(0, 12).reshape({2, 2, 3});
  Tensor want({2, 6, 3}, {0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4,  5,  0, 0, 0, 0, 0, 0,
                          0, 0, 0, 0, 0, 0, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(layers::ZeroPadding1D(2)(x), want);
  EXPECT_EQ(layers::ZeroPadding1D({1, 0})(Tensor({1, 2, 1}, {7, 8})), Tensor({1, 3, 1}, {0, 7, 8}));
}

TEST(Cropping2D, RemovesRowsAndColumns) {
  EXPECT_EQ(layers::Cropping2D({{2, 2}, {4, 4}})(Tensor({2, 28, 28, 3})).shape(), (Shape{2, 24, 20, 3}));
  Tensor x({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  EXPECT_EQ(layers::Cropping2D({.cropping = {{1, 0}, {0, 1}}})(x), Tensor({1, 2, 2, 1}, {4, 5, 7, 8}));
  auto cf = layers::Cropping2D({.cropping = 1, .data_format = "channels_first"});
  EXPECT_EQ(cf(Tensor::arange(0, 9).reshape({1, 1, 3, 3})), Tensor({1, 1, 1, 1}, {4}));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Cropping2D({{2, 1}, {0, 0}})(Input({3, 4, 1}));
                       }),
                       "Values in `cropping` argument should be smaller than the corresponding spatial dimension of "
                       "the input. Received: input_shape=(None, 3, 4, 1), cropping=((2, 1), (0, 0))"));
  EXPECT_THROW(layers::Cropping2D(-1), ValueError);
}

TEST(Cropping1D, KerasTestCases) {
  Tensor x = Tensor::arange(0, 10).reshape({1, 5, 2});
  EXPECT_EQ(layers::Cropping1D({1, 2})(x), Tensor({1, 2, 2}, {2, 3, 4, 5}));
  EXPECT_EQ(layers::Cropping1D()(x).shape(), (Shape{1, 3, 2}));
  EXPECT_TRUE(contains(testing::value_error_of([] {
                         layers::Cropping1D({2, 3})(Input({5, 7}));
                       }),
                       "`cropping` parameter of `Cropping1D` layer must be smaller than the input length"));
}

TEST(UpSampling2D, NearestKerasDocstringExample) {
  Tensor x = Tensor::arange(0, 12).reshape({2, 2, 1, 3});
  EXPECT_EQ(layers::UpSampling2D({1, 2})(x),
            Tensor({2, 2, 2, 3}, {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 6, 7, 8, 9, 10, 11, 9, 10, 11}));
  EXPECT_EQ(layers::UpSampling2D(2)(Tensor({1, 2, 2, 1}, {1, 2, 3, 4})),
            Tensor({1, 4, 4, 1}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(UpSampling2D, BilinearUsesHalfPixelCentres) {
  // Source coordinate (o + 0.5) / 2 - 0.5 clamped: weights 0, .25, .75, 1 along each axis,
  // so [0 4; 8 12] -> 8*ry + 4*cx (PyTorch interpolate(align_corners=False) gives the same).
  Tensor x({1, 2, 2, 1}, {0, 4, 8, 12});
  auto up = layers::UpSampling2D({.size = 2, .interpolation = "bilinear"});
  EXPECT_TRUE(AllClose(up(x), Tensor({1, 4, 4, 1}, {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12})));
  auto cf = layers::UpSampling2D({.size = {1, 2}, .data_format = "channels_first", .interpolation = "BILINEAR"});
  EXPECT_TRUE(
      AllClose(cf(Tensor({1, 2, 1, 2}, {0, 4, 10, 20})), Tensor({1, 2, 1, 4}, {0, 1, 3, 4, 10, 12.5, 17.5, 20})));
  EXPECT_THROW(layers::UpSampling2D({.interpolation = "bicubic"}), ValueError);
  EXPECT_THROW(layers::UpSampling2D({.interpolation = "linear"}), ValueError);
  EXPECT_EQ(layers::UpSampling2D({2, 3})(Input({None, 4, 5})).shape(), (Shape{None, None, 12, 5}));
}

TEST(UpSampling1D, RepeatsSteps) {
  Tensor x = Tensor::arange(0, 12).reshape({2, 2, 3});
  EXPECT_EQ(layers::UpSampling1D(2)(x),
            Tensor({2, 4, 3}, {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 6, 7, 8, 9, 10, 11, 9, 10, 11}));
  EXPECT_THROW(layers::UpSampling1D(0), ValueError);
}

TEST(Reshaping, ConfigsOfEveryKerasVersion) {
  ConfigContext ctx;
  // Keras 1 ZeroPadding2D: (top, bottom, left, right) or a dictionary; dim_ordering.
  auto k1 = layers::zero_padding2d_from_config({{"padding", {1, 2, 3, 4}}, {"dim_ordering", "th"}}, ctx);
  EXPECT_EQ(k1->get_config()["padding"], nlohmann::json({{1, 2}, {3, 4}}));
  EXPECT_EQ(k1->get_config()["data_format"], "channels_first");
  auto dict = layers::zero_padding2d_from_config(
      {{"padding", {{"top_pad", 1}, {"bottom_pad", 0}, {"left_pad", 2}, {"right_pad", 3}}}}, ctx);
  EXPECT_EQ(dict->get_config()["padding"], nlohmann::json({{1, 0}, {2, 3}}));
  auto sym = layers::zero_padding2d_from_config({{"padding", {2, 1}}}, ctx);
  EXPECT_EQ(sym->get_config()["padding"], nlohmann::json({{2, 2}, {1, 1}}));
  auto up1 = layers::up_sampling1d_from_config({{"length", 3}}, ctx);
  EXPECT_EQ(up1->get_config()["size"], 3);
  auto up2 = layers::up_sampling2d_from_config({{"size", {2, 3}}, {"interpolation", "bilinear"}}, ctx);
  EXPECT_EQ(up2->get_config()["size"], nlohmann::json({2, 3}));
  EXPECT_EQ(up2->get_config()["interpolation"], "bilinear");
  auto flat =
      layers::flatten_from_config({{"name", "f"}, {"data_format", "channels_first"}, {"trainable", false}}, ctx);
  EXPECT_EQ(flat.name(), "f");
  EXPECT_FALSE(flat->trainable());
  EXPECT_EQ(layers::reshape_from_config({{"target_shape", {3, -1}}}, ctx)->get_config()["target_shape"],
            nlohmann::json({3, -1}));
  EXPECT_EQ(layers::permute_from_config({{"dims", {2, 1}}}, ctx)->get_config()["dims"], nlohmann::json({2, 1}));
  EXPECT_EQ(layers::cropping1d_from_config({{"cropping", {0, 2}}}, ctx)->get_config()["cropping"],
            nlohmann::json({0, 2}));
  EXPECT_EQ(layers::repeat_vector_from_config({{"n", 4}}, ctx)->get_config()["n"], 4);
}

TEST(Reshaping, AutomaticNames) {
  clear_session();
  EXPECT_EQ(layers::ZeroPadding2D().name(), "zero_padding2d");
  EXPECT_EQ(layers::UpSampling2D().name(), "up_sampling2d");
  EXPECT_EQ(layers::Cropping2D().name(), "cropping2d");
  EXPECT_EQ(layers::Flatten().name(), "flatten");
  EXPECT_EQ(layers::Flatten().name(), "flatten_1");
}

}  // namespace
}  // namespace keras
