// Convolution layers: hand-computable cases from Keras's formulas (KERAS_SPEC §2) and the
// oracle fixtures tests/fixtures/layers/{conv,depthwise,separable}*.json.
#include <functional>
#include <nlohmann/json.hpp>

#include "ops/kernels.h"
#include "test_helpers.h"

namespace keras {
namespace {

using layers::IntPair;

// Runs `layer` eagerly on x with the given weights.
Tensor run(const Layer& layer, const Tensor& x, const std::vector<Tensor>& weights) {
  Shape s = x.shape();
  s[0] = None;
  layer->build({s});
  layer.set_weights(weights);
  return layer(x);
}

TEST(ConvPadding, SamePlacesTheOddPixelAtTheEnd) {
  auto p = ops::conv_padding(6, 3, 2, 1, "same");
  EXPECT_EQ(p.out, 3);
  EXPECT_EQ(p.pad_before, 0);  // total 1: (0 before, 1 after)
  p = ops::conv_padding(5, 3, 2, 1, "same");
  EXPECT_EQ(p.out, 3);
  EXPECT_EQ(p.pad_before, 1);  // total 2: (1, 1)
  p = ops::conv_padding(28, 2, 2, 1, "same");
  EXPECT_EQ(p.out, 14);
  EXPECT_EQ(p.pad_before, 0);
  EXPECT_EQ(ops::conv_padding(28, 3, 1, 1, "valid").out, 26);
  EXPECT_EQ(ops::conv_padding(7, 3, 2, 1, "valid").out, 3);
  EXPECT_EQ(ops::conv_padding(9, 3, 1, 2, "valid").out, 5);  // effective kernel 5
  EXPECT_EQ(ops::conv_padding(9, 3, 2, 1, "causal").out, 5);
}

TEST(Conv2D, MnistShapesAndParamCounts) {
  clear_session();
  Sequential model({Input({28, 28, 1}), layers::Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"})});
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{None, 26, 26, 32}));
  EXPECT_EQ(model.count_params(), 320);
  EXPECT_EQ(model.layers()[0].name(), "conv2d");
  auto second = layers::Conv2D(64, 3, "relu");
  auto y = second(Input({13, 13, 32}));
  EXPECT_EQ(y.shape(), (Shape{None, 11, 11, 64}));
  EXPECT_EQ(second.count_params(), 18496);
  EXPECT_EQ(second.name(), "conv2d_1");
  EXPECT_EQ(second.get_weights()[0].shape(), (Shape{3, 3, 32, 64}));
}

TEST(Conv2D, ValidCrossCorrelationNoFlip) {
  // x = 0..15 in a 4x4 image; kernel [[1, 2], [3, 4]]: y[i][j] = x[i][j] + 2x[i][j+1] + 3x[i+1][j] + 4x[i+1][j+1].
  Tensor x = Tensor::arange(0, 16).reshape({1, 4, 4, 1});
  Tensor y = run(layers::Conv2D(1, 2), x, {Tensor({2, 2, 1, 1}, {1, 2, 3, 4}), Tensor({1}, {0.5f})});
  std::vector<float> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      float v = static_cast<float>(4 * i + j);
      want.push_back(v + 2 * (v + 1) + 3 * (v + 4) + 4 * (v + 5) + 0.5f);
    }
  EXPECT_TRUE(testing::AllClose(y, Tensor({1, 3, 3, 1}, want)));
}

TEST(Conv2D, SameStride2PadsBottomRight) {
  // in 6x6, k 3, s 2: out 3x3, pad (0 top, 1 bottom). A kernel picking its top-left tap reads
  // x[2i][2j] (no top pad); picking the bottom-right tap reads x[2i+2][2j+2], zero past the end.
  Tensor x = Tensor::arange(1, 37).reshape({1, 6, 6, 1});
  Tensor top_left({3, 3, 1, 1}, 0.0f), bottom_right({3, 3, 1, 1}, 0.0f);
  top_left[0] = 1;
  bottom_right[8] = 1;
  layers::Conv2DOptions o{.filters = 1, .kernel_size = 3, .strides = 2, .padding = "same", .use_bias = false};
  Tensor a = run(layers::Conv2D(o), x, {top_left});
  Tensor b = run(layers::Conv2D(o), x, {bottom_right});
  std::vector<float> want_a, want_b;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      want_a.push_back(static_cast<float>(6 * 2 * i + 2 * j + 1));
      bool inside = 2 * i + 2 < 6 && 2 * j + 2 < 6;
      want_b.push_back(inside ? static_cast<float>(6 * (2 * i + 2) + 2 * j + 2 + 1) : 0.0f);
    }
  EXPECT_EQ(a, Tensor({1, 3, 3, 1}, want_a));
  EXPECT_EQ(b, Tensor({1, 3, 3, 1}, want_b));
}

TEST(Conv2D, GroupsUseContiguousChannelBlocks) {
  // 1x1 kernel, 4 input channels, groups 2, 2 filters: filter 0 sees channels 0-1, filter 1 channels 2-3.
  Tensor x({1, 1, 1, 4}, {1, 10, 100, 1000});
  auto conv = layers::Conv2D({.filters = 2, .kernel_size = 1, .groups = 2, .use_bias = false});
  Tensor y = run(conv, x, {Tensor({1, 1, 2, 2}, {1, 2, 3, 4})});  // kernel[c][f]
  EXPECT_EQ(y, Tensor({1, 1, 1, 2}, {1 * 1 + 10 * 3, 100 * 2 + 1000 * 4}));
  EXPECT_EQ(conv.count_params(), 4);
}

TEST(Conv2D, ChannelsFirstKeepsKernelLayout) {
  // (N, C, H, W) = (1, 2, 1, 2); 1x1 kernel (1, 1, 2, 3): same numbers as the channels_last case.
  Tensor x({1, 2, 1, 2}, {1, 2, 10, 20});  // channel 0: [1, 2], channel 1: [10, 20]
  Tensor k({1, 1, 2, 3}, {1, 0, 1, 0, 1, 1});
  auto conv = layers::Conv2D({.filters = 3, .kernel_size = 1, .data_format = "channels_first"});
  Tensor y = run(conv, x, {k, Tensor({3}, {0, 0, 100})});
  // filter 0 = ch0, filter 1 = ch1, filter 2 = ch0 + ch1 + 100; output (1, 3, 1, 2).
  EXPECT_EQ(y, Tensor({1, 3, 1, 2}, {1, 2, 10, 20, 111, 122}));
  EXPECT_EQ(conv->compute_output_shape({Shape{None, 2, 5, 7}})[0], (Shape{None, 3, 5, 7}));
}

TEST(Conv2D, ActivationAfterBias) {
  Tensor x({1, 1, 1, 1}, {1});
  Tensor y = run(layers::Conv2D(2, 1, "relu"), x, {Tensor({1, 1, 1, 2}, {1, -1}), Tensor({2}, {0.5f, 0.5f})});
  EXPECT_EQ(y, Tensor({1, 1, 1, 2}, {1.5f, 0}));
}

TEST(Conv2D, Errors) {
  auto named = [](layers::Conv2DOptions o) {
    o.name = "c";
    return layers::Conv2D(o);
  };
  EXPECT_EQ(testing::value_error_of([&] { named({.filters = 4, .kernel_size = 3, .strides = 2, .dilation_rate = 2}); }),
            "Layer \"c\" (Conv2D): `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            "Received: strides=(2, 2) and dilation_rate=(2, 2)");
  EXPECT_EQ(testing::value_error_of([&] { named({.filters = 5, .kernel_size = 3, .groups = 2}); }),
            "Layer \"c\" (Conv2D): The number of filters must be evenly divisible by the number of groups. "
            "Received: groups=2, filters=5.");
  EXPECT_EQ(testing::value_error_of([&] {
              named({.filters = 4, .kernel_size = 3, .groups = 2})(Input({5, 5, 3}));
            }),
            "Layer \"c\" (Conv2D): The number of input channels must be evenly divisible by the number of groups. "
            "Received groups=2, but the input has 3 channels (full input shape is (None, 5, 5, 3)).");
  EXPECT_EQ(testing::value_error_of([&] {
              named({.filters = 4, .kernel_size = 3})(Input({2, 2, 1}));
            }),
            "Layer \"c\" (Conv2D): Computed output size would be zero or negative. Received `inputs shape=(None, 2, "
            "2, 1)`, `kernel shape=(3, 3, 1, 4)`, `dilation_rate=[1 1]`, `strides=(1, 1)`, `padding=valid`.");
  EXPECT_EQ(testing::value_error_of([&] { named({.filters = 4, .kernel_size = 3, .padding = "causal"}); }),
            "Layer \"c\" (Conv2D): The `padding` argument must be a list/tuple or one of {'valid', 'same'}. "
            "Received: causal");
  EXPECT_EQ(testing::value_error_of([&] {
              named({.filters = 4, .kernel_size = {0, 3}});
            }),
            "Layer \"c\" (Conv2D): The `kernel_size` argument must be a tuple of 2 integers. Received "
            "kernel_size=(0, 3), including values {0} that do not satisfy `value > 0`");
  EXPECT_EQ(testing::value_error_of([&] { named({.filters = 0, .kernel_size = 3}); }),
            "Layer \"c\" (Conv2D): Invalid value for argument `filters`. Expected a strictly positive value. "
            "Received filters=0.");
  EXPECT_EQ(testing::value_error_of([&] {
              named({.filters = 4, .kernel_size = 3})(Input({28, 28}));
            }),
            "Input 0 of layer \"c\" is incompatible with the layer: expected min_ndim=4, found ndim=3. Full shape "
            "received: (None, 28, 28)");
  auto built = named({.filters = 4, .kernel_size = 3});
  built(Input({5, 5, 3}));
  EXPECT_EQ(testing::value_error_of([&] {
              built(Input({5, 5, 4}));
            }),
            "Input 0 of layer \"c\" is incompatible with the layer: expected axis -1 of input shape to have value 3, "
            "but received input with shape (None, 5, 5, 4)");
  // 'SAME' is accepted: Keras lower-cases padding.
  EXPECT_EQ(named({.filters = 1, .kernel_size = 3, .padding = "SAME"})(Input({5, 5, 1})).shape(),
            (Shape{None, 5, 5, 1}));
}

TEST(Conv1D, CausalPadsOnTheLeft) {
  // k 2, kernel taps [1, 10]: y[t] = x[t-1] + 10 x[t], x[-1] = 0.
  Tensor x({1, 4, 1}, {1, 2, 3, 4});
  auto conv = layers::Conv1D({.filters = 1, .kernel_size = 2, .padding = "causal", .use_bias = false});
  EXPECT_EQ(run(conv, x, {Tensor({2, 1, 1}, {1, 10})}), Tensor({1, 4, 1}, {10, 21, 32, 43}));
  // dilation 2: y[t] = x[t-2] + 10 x[t].
  auto dilated =
      layers::Conv1D({.filters = 1, .kernel_size = 2, .padding = "causal", .dilation_rate = 2, .use_bias = false});
  EXPECT_EQ(run(dilated, x, {Tensor({2, 1, 1}, {1, 10})}), Tensor({1, 4, 1}, {10, 20, 31, 42}));
}

TEST(Conv1D, ShapesStridesAndChannelsFirst) {
  auto conv = layers::Conv1D({.filters = 8, .kernel_size = 3, .strides = 2, .padding = "same"});
  EXPECT_EQ(conv(Input({None, 5})).shape(), (Shape{None, None, 8}));
  EXPECT_EQ(conv->compute_output_shape({Shape{2, 9, 5}})[0], (Shape{2, 5, 8}));
  EXPECT_EQ(conv.get_weights()[0].shape(), (Shape{3, 5, 8}));
  // channels_first (N, C, L) = (1, 2, 3), kernel size 1: filter = ch0 - ch1.
  auto cf = layers::Conv1D({.filters = 1, .kernel_size = 1, .data_format = "channels_first", .use_bias = false});
  EXPECT_EQ(run(cf, Tensor({1, 2, 3}, {1, 2, 3, 10, 20, 30}), {Tensor({1, 2, 1}, {1, -1})}),
            Tensor({1, 1, 3}, {-9, -18, -27}));
}

TEST(DepthwiseConv2D, OutputChannelIsCTimesMPlusM) {
  // 1x1 kernel (1, 1, C=2, M=2): out[c*2+m] = x[c] * k[c][m] + b.
  Tensor x({1, 1, 1, 2}, {1, 10});
  auto dw = layers::DepthwiseConv2D({.kernel_size = 1, .depth_multiplier = 2});
  Tensor y = run(dw, x, {Tensor({1, 1, 2, 2}, {1, 2, 3, 4}), Tensor({4}, {0, 0, 0, 0.5f})});
  EXPECT_EQ(y, Tensor({1, 1, 1, 4}, {1, 2, 30, 40.5f}));
  EXPECT_EQ(dw->variables()[0]->name, "kernel");
  EXPECT_EQ(dw.count_params(), 4 + 4);
  // 3x3, same, stride 2 on 6x6 with 3 channels, M = 2: (None, 3, 3, 6); 3*3*3*2 + 6 params.
  auto big = layers::DepthwiseConv2D({.kernel_size = 3, .strides = 2, .padding = "same", .depth_multiplier = 2});
  EXPECT_EQ(big(Input({6, 6, 3})).shape(), (Shape{None, 3, 3, 6}));
  EXPECT_EQ(big.count_params(), 3 * 3 * 3 * 2 + 6);
  EXPECT_EQ(big->get_config()["depthwise_initializer"]["class_name"], "GlorotUniform");
}

TEST(SeparableConv2D, DepthwiseThenPointwise) {
  // x 1x2 image, C=1; depthwise k (1,2,1,1) = [1, 2] -> d = x0 + 2 x1; pointwise (1,1,1,2) = [1, -1].
  Tensor x({1, 1, 2, 1}, {3, 4});
  auto sep = layers::SeparableConv2D({.filters = 2, .kernel_size = {1, 2}});
  Tensor y = run(sep, x, {Tensor({1, 2, 1, 1}, {1, 2}), Tensor({1, 1, 1, 2}, {1, -1}), Tensor({2}, {0, 100})});
  EXPECT_EQ(y, Tensor({1, 1, 1, 2}, {11, 89}));
  auto names = sep->variables();
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0]->name, "depthwise_kernel");
  EXPECT_EQ(names[1]->name, "pointwise_kernel");
  EXPECT_EQ(names[2]->name, "bias");
  // Params kH*kW*C*M + C*M*filters + filters.
  auto big = layers::SeparableConv2D({.filters = 16, .kernel_size = 3, .depth_multiplier = 2});
  EXPECT_EQ(big(Input({8, 8, 4})).shape(), (Shape{None, 6, 6, 16}));
  EXPECT_EQ(big.count_params(), 3 * 3 * 4 * 2 + 4 * 2 * 16 + 16);
}

TEST(Conv1DFamily, DepthwiseAndSeparableShapes) {
  auto dw = layers::DepthwiseConv1D({.kernel_size = 3, .strides = 2, .depth_multiplier = 3, .activation = "relu"});
  EXPECT_EQ(dw(Input({10, 12})).shape(), (Shape{None, 4, 36}));  // Keras docstring example
  EXPECT_EQ(dw.get_weights()[0].shape(), (Shape{3, 12, 3}));
  auto sep = layers::SeparableConv1D({.filters = 5, .kernel_size = 3, .padding = "same", .depth_multiplier = 2});
  EXPECT_EQ(sep(Input({7, 4})).shape(), (Shape{None, 7, 5}));
  EXPECT_EQ(sep.get_weights()[1].shape(), (Shape{1, 8, 5}));
  // Depthwise 1-D, kernel taps [1, 10] per channel: y[t] = x[t] + 10 x[t+1].
  auto d1 = layers::DepthwiseConv1D({.kernel_size = 2, .use_bias = false});
  EXPECT_EQ(run(d1, Tensor({1, 3, 1}, {1, 2, 3}), {Tensor({2, 1, 1}, {1, 10})}), Tensor({1, 2, 1}, {21, 32}));
  // 'causal' (tf.keras): y[t] = x[t-1] + 10 x[t].
  auto causal = layers::DepthwiseConv1D({.kernel_size = 2, .padding = "causal", .use_bias = false});
  EXPECT_EQ(run(causal, Tensor({1, 3, 1}, {1, 2, 3}), {Tensor({2, 1, 1}, {1, 10})}), Tensor({1, 3, 1}, {10, 21, 32}));
  EXPECT_THROW(layers::Conv1DTranspose({.filters = 1, .kernel_size = 2, .padding = "causal"}), ValueError);
}

TEST(Conv1DTranspose, ScattersThroughTheKernel) {
  // x [1, 2], kernel taps [a, b, c] = [1, 10, 100], stride 2.
  // valid: length (2-1)*2 + 3 = 5: [a, b, c + 2a, 2b, 2c].
  Tensor x({1, 2, 1}, {1, 2});
  Tensor k({3, 1, 1}, {1, 10, 100});
  auto valid = layers::Conv1DTranspose({.filters = 1, .kernel_size = 3, .strides = 2, .use_bias = false});
  EXPECT_EQ(run(valid, x, {k}), Tensor({1, 5, 1}, {1, 10, 102, 20, 200}));
  // same: length 2*2 = 4; the forward 'same' conv 4 -> 2 pads (0, 1), so the first 4 cells stay.
  auto same =
      layers::Conv1DTranspose({.filters = 1, .kernel_size = 3, .strides = 2, .padding = "same", .use_bias = false});
  EXPECT_EQ(run(same, x, {k}), Tensor({1, 4, 1}, {1, 10, 102, 20}));
}

TEST(Conv2DTranspose, OutputSizesFollowDeconvOutputLength) {
  auto shape = [](layers::Conv2DTransposeOptions o, Shape in) {
    o.filters = 3;
    return layers::Conv2DTranspose(o)(Input(in)).shape();
  };
  EXPECT_EQ(shape({.kernel_size = 3, .strides = 2, .padding = "same"}, {5, 7, 2}), (Shape{None, 10, 14, 3}));
  EXPECT_EQ(shape({.kernel_size = 3, .strides = 2}, {5, 7, 2}), (Shape{None, 11, 15, 3}));
  EXPECT_EQ(shape({.kernel_size = 2, .strides = 3}, {4, 4, 2}), (Shape{None, 12, 12, 3}));  // max(k, s)
  EXPECT_EQ(shape({.kernel_size = 3, .strides = 2, .padding = "same", .output_padding = 0}, {5, 5, 2}),
            (Shape{None, 9, 9, 3}));  // (in-1)*s + k%2 + op
  EXPECT_EQ(shape({.kernel_size = 3, .strides = 2, .output_padding = IntPair{1, 0}}, {5, 5, 2}),
            (Shape{None, 12, 11, 3}));
  EXPECT_EQ(shape({.kernel_size = 3, .data_format = "channels_first"}, {2, 5, 5}), (Shape{None, 3, 7, 7}));
  auto t = layers::Conv2DTranspose(4, 3);
  t(Input({5, 5, 2}));
  EXPECT_EQ(t.get_weights()[0].shape(), (Shape{3, 3, 4, 2}));
  EXPECT_THROW(layers::Conv2DTranspose({.filters = 1, .kernel_size = 3, .strides = 2, .output_padding = 2}),
               ValueError);
}

TEST(ConvConfig, RoundTripAndKeras1Names) {
  auto conv = layers::Conv2D(
      {.filters = 8, .kernel_size = {3, 5}, .strides = 1, .padding = "same", .activation = "relu", .name = "c2"});
  auto c = conv->get_config();
  EXPECT_EQ(c["kernel_size"], nlohmann::json::parse("[3, 5]"));
  EXPECT_EQ(c["strides"], nlohmann::json::parse("[1, 1]"));
  EXPECT_EQ(c["padding"], "same");
  EXPECT_EQ(c["groups"], 1);
  EXPECT_EQ(c["activation"], "relu");
  EXPECT_EQ(c["data_format"], "channels_last");

  auto model = model_from_json(R"({"class_name": "Sequential", "keras_version": "1.2.2", "config": [
      {"class_name": "Convolution2D", "config": {"name": "conv", "nb_filter": 4, "nb_row": 3, "nb_col": 2,
       "border_mode": "same", "subsample": [2, 2], "dim_ordering": "th", "activation": "linear", "bias": false,
       "init": "glorot_uniform", "batch_input_shape": [null, 1, 6, 6], "trainable": true}}]})");
  Layer l = model.layers().back();
  EXPECT_EQ(l->class_name(), "Conv2D");
  auto lc = l->get_config();
  EXPECT_EQ(lc["filters"], 4);
  EXPECT_EQ(lc["kernel_size"], nlohmann::json::parse("[3, 2]"));
  EXPECT_EQ(lc["strides"], nlohmann::json::parse("[2, 2]"));
  EXPECT_EQ(lc["data_format"], "channels_first");
  EXPECT_EQ(lc["use_bias"], false);
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{None, 4, 3, 3}));
}

}  // namespace
}  // namespace keras
