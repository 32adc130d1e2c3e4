// Features whose fixtures come from the PyTorch oracle alone, checked a second way: against the
// values and reference functions in Keras's own tests (Keras 3.1.0, keras/src/layers/... and
// keras/src/activations/activations_test.py; the file and line are named at each case).
#include <algorithm>
#include <cmath>
#include <random>

#include "test_helpers.h"

namespace keras {
namespace {

Tensor run(const Layer& layer, const Tensor& x) {
  std::vector<Dim> feature(x.shape().dims().begin() + 1, x.shape().dims().end());
  return Sequential({Input(Shape(feature)), layer}).predict(x);
}

// keras/src/layers/activations/softmax_test.py:40, test_softmax_correctness_with_axis.
TEST(KerasTestValues, SoftmaxOverAxisOne) {
  Tensor x(Shape{2, 3}, std::vector<float>{1, 2, 1, 1, 2, 1});
  Tensor want(Shape{2, 3},
              std::vector<float>{0.21194157f, 0.5761169f, 0.21194157f, 0.21194157f, 0.5761169f, 0.21194157f});
  EXPECT_TRUE(testing::AllClose(run(layers::Softmax(1), x), want, 1e-6, 1e-6));
}

// keras/src/layers/activations/elu_test.py:22, test_correctness: np_elu with alpha 0.7.
TEST(KerasTestValues, EluWithAlpha) {
  auto np_elu = [](double x, double alpha) { return (x > 0) * x + (x <= 0) * alpha * (std::exp(x) - 1); };
  std::vector<float> xs;
  for (int i = -20; i <= 20; ++i) xs.push_back(static_cast<float>(i) / 7.0f);
  Tensor x(Shape{1, static_cast<Dim>(xs.size())}, xs);
  Tensor got = run(layers::ELU(0.7), x);
  for (size_t i = 0; i < xs.size(); ++i)
    EXPECT_NEAR(got.data()[i], np_elu(xs[i], 0.7), 1e-6 + 1e-5 * std::abs(np_elu(xs[i], 0.7))) << xs[i];
}

// keras/src/activations/activations_test.py:37 and :43, _ref_hard_sigmoid and _ref_hard_silu
// (Keras 3's: x / 6 + 0.5 clipped; x * relu6(x + 3) / 6), over [-10, 10] and the kinks at +-3.
TEST(KerasTestValues, Keras3HardSigmoidAndHardSilu) {
  auto ref_hard_sigmoid = [](double x) {
    x = (x / 6.0) + 0.5;
    return x <= 0 ? 0.0 : (x >= 1 ? 1.0 : x);
  };
  auto ref_hard_silu = [](double x) { return x * std::min(std::max(0.0, x + 3.0), 6.0) * (1.0 / 6.0); };
  std::vector<float> xs{-3.0f, 3.0f, -3.001f, 2.999f};
  for (int i = -40; i <= 40; ++i) xs.push_back(static_cast<float>(i) / 4.0f);
  Tensor x(Shape{1, static_cast<Dim>(xs.size())}, xs);
  Tensor sigmoid = run(layers::Activation("hard_sigmoid"), x), silu = run(layers::Activation("hard_silu"), x);
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_NEAR(sigmoid.data()[i], ref_hard_sigmoid(xs[i]), 1e-6) << xs[i];
    EXPECT_NEAR(silu.data()[i], ref_hard_silu(xs[i]), 1e-6 + 1e-5 * std::abs(ref_hard_silu(xs[i]))) << xs[i];
  }
}

// keras/src/layers/convolutional/conv_test.py:19, np_conv1d (with _same_padding above it),
// channels_last: the reference Keras's Conv1D tests compare with, written out in C++.
std::vector<double> np_conv1d(const Tensor& x, const Tensor& kernel, const Tensor& bias, Dim stride,
                              const std::string& padding, Dim dilation, Dim groups) {
  Dim n = x.dim(0), steps = x.dim(1), channels = x.dim(2);
  Dim k = kernel.dim(0), ch_in = kernel.dim(1), ch_out = kernel.dim(2);
  Dim ke = k + (dilation - 1) * (k - 1);
  Dim before = 0, after = 0;
  if (padding != "valid") {
    Dim pad = steps % stride == 0 ? std::max<Dim>(ke - stride, 0) : std::max<Dim>(ke - steps % stride, 0);
    before = padding == "causal" ? pad : pad / 2;
    after = padding == "causal" ? 0 : pad - pad / 2;
  }
  Dim padded = steps + before + after, out_steps = (padded - ke) / stride + 1, per_group = ch_out / groups;
  std::vector<double> out(static_cast<size_t>(n * out_steps * ch_out));
  for (Dim b = 0; b < n; ++b)
    for (Dim t = 0; t < out_steps; ++t)
      for (Dim o = 0; o < ch_out; ++o) {
        Dim g = o / per_group;
        double acc = bias.data()[o];
        for (Dim j = 0; j < k; ++j) {
          Dim src = t * stride + j * dilation - before;  // the dilated kernel's zeros add nothing
          if (src < 0 || src >= steps) continue;
          for (Dim c = 0; c < ch_in; ++c)
            acc += double(x.data()[(b * steps + src) * channels + g * ch_in + c]) *
                   kernel.data()[(j * ch_in + c) * ch_out + o];
        }
        out[size_t((b * out_steps + t) * ch_out + o)] = acc;
      }
  return out;
}

// Conv1D with groups (PyTorch-only in the fixtures), and causal and same padding, dilation and
// strides, against np_conv1d.
TEST(KerasTestValues, Conv1DGroupsAgainstKerasReference) {
  struct Case {
    Dim filters, kernel, stride;
    std::string padding;
    Dim dilation, groups;
  };
  for (const Case& c : std::vector<Case>{{6, 2, 1, "valid", 1, 2},
                                         {6, 3, 2, "same", 1, 3},
                                         {4, 3, 1, "causal", 2, 2},
                                         {6, 2, 1, "same", 2, 3},
                                         {4, 3, 2, "valid", 1, 1}}) {
    SCOPED_TRACE(c.padding + " kernel " + std::to_string(c.kernel) + " groups " + std::to_string(c.groups));
    Layer conv = layers::Conv1D({.filters = c.filters,
                                 .kernel_size = c.kernel,
                                 .strides = c.stride,
                                 .padding = c.padding,
                                 .dilation_rate = c.dilation,
                                 .groups = c.groups,
                                 .bias_initializer = "random_uniform"});
    Tensor x = testing::random_tensor({2, 9, 6}, 11);
    Tensor got = run(conv, x);
    std::vector<Tensor> w = conv.get_weights();
    std::vector<double> want = np_conv1d(x, w[0], w[1], c.stride, c.padding, c.dilation, c.groups);
    ASSERT_EQ(static_cast<size_t>(got.size()), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data()[i], want[i], 1e-5 + 1e-4 * std::abs(want[i])) << i;
  }
}

// keras/src/layers/normalization/batch_normalization_test.py:64, test_correctness, for axis 1
// (PyTorch-only in the fixtures) and -1, ranks 3 and 4, moving statistics starting at 0 or 1:
// three training calls with momentum 0 normalize data of mean 5 and variance 100 to mean 0 and
// standard deviation 1 per channel, and leave moving statistics 0 and 1; inference right after a
// training call on the same data gives the same output.
TEST(KerasTestValues, BatchNormalizationCorrectness) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(5.0f, 10.0f);
  for (int axis : {-1, 1})
    for (const Shape& shape : {Shape{5, 2, 3}, Shape{5, 3, 3, 2}})
      for (const char* moving : {"zeros", "ones"}) {
        SCOPED_TRACE("axis " + std::to_string(axis) + ", shape " + shape.str() + ", moving " + moving);
        Layer bn = layers::BatchNormalization(
            {.axis = axis, .momentum = 0, .moving_mean_initializer = moving, .moving_variance_initializer = moving});
        std::vector<Dim> batchless = shape.dims();
        batchless[0] = None;
        bn->build({Shape(batchless)});
        Tensor x(shape);
        for (float& v : x.values()) v = normal(rng);
        auto train = [&](const Tensor& in) {
          SavedState saved;
          Tensor out = bn->call({in}, {.training = true, .saved = &saved}).at(0);
          bn->apply_state_updates(saved);  // Keras updates the moving statistics in the call
          return out;
        };
        Tensor out = x;
        for (int i = 0; i < 3; ++i) out = train(out);
        // Channel statistics of (out - beta) / gamma (beta 0, gamma 1 here, as in Keras's test).
        int a = axis < 0 ? shape.rank() + axis : axis;
        Dim channels = shape[a], inner = 1;
        for (int d = a + 1; d < shape.rank(); ++d) inner *= shape[d];
        std::vector<double> sum(static_cast<size_t>(channels)), sq(static_cast<size_t>(channels));
        for (Dim i = 0; i < out.size(); ++i) {
          size_t c = static_cast<size_t>((i / inner) % channels);
          sum[c] += out.data()[i];
          sq[c] += double(out.data()[i]) * out.data()[i];
        }
        double n = double(out.size() / channels);
        for (Dim c = 0; c < channels; ++c) {
          double mean = sum[size_t(c)] / n, var = sq[size_t(c)] / n - mean * mean;
          EXPECT_NEAR(mean, 0.0, 1e-3);
          EXPECT_NEAR(std::sqrt(var), 1.0, 1e-3);
        }
        std::vector<Tensor> w = bn.get_weights();  // gamma, beta, moving_mean, moving_variance
        for (Dim c = 0; c < channels; ++c) {
          EXPECT_NEAR(w[2].data()[c], 0.0, 1e-3);
          EXPECT_NEAR(w[3].data()[c], 1.0, 1e-3 + 1e-6);
        }
        Tensor trained = train(x);
        EXPECT_TRUE(testing::AllClose(bn(x), trained, 1e-6, 1e-6));
      }
}

// keras/src/activations/activations_test.py:33 _ref_silu, :556 test_gelu (x * norm.cdf(x) and the
// tanh form), :643 test_exponential (np.exp), over [-6, 6]. The tanh gelu is keras.ops.gelu's
// default, run as the Keras 3 Gelu operation.
TEST(KerasTestValues, SiluGeluExponential) {
  auto ref_silu = [](double x) { return x / (1 + std::exp(-x)); };
  auto ref_gelu = [](double x) { return x * 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  auto ref_gelu_tanh = [](double x) {
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * std::pow(x, 3))));
  };
  std::vector<float> xs;
  for (int i = -48; i <= 48; ++i) xs.push_back(static_cast<float>(i) / 8.0f);
  Tensor x(Shape{1, static_cast<Dim>(xs.size())}, xs);
  std::string gelu_op = R"({"module": "keras.src.models.functional", "class_name": "Functional", "config": {
      "name": "f", "trainable": true, "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "x",
         "inbound_nodes": [], "config": {"batch_shape": [null, 97], "dtype": "float32", "name": "x"}},
        {"module": "keras.src.ops.nn", "class_name": "Gelu", "config": {"approximate": true},
         "registered_name": "Gelu", "name": "gelu", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
         "config": {"shape": [null, 97], "dtype": "float32", "keras_history": ["x", 0, 0]}}], "kwargs": {}}]}],
      "input_layers": ["x", 0, 0], "output_layers": ["gelu", 0, 0]}, "registered_name": "Functional"})";
  Tensor silu = run(layers::Activation("silu"), x), gelu = run(layers::Activation("gelu"), x),
         exponential = run(layers::Activation("exponential"), x), gelu_tanh = model_from_json(gelu_op).predict(x);
  auto close = [](float got, double want) { return std::abs(got - want) <= 1e-6 + 1e-5 * std::abs(want); };
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_PRED2(close, silu.data()[i], ref_silu(xs[i])) << xs[i];
    EXPECT_PRED2(close, gelu.data()[i], ref_gelu(xs[i])) << xs[i];
    EXPECT_PRED2(close, gelu_tanh.data()[i], ref_gelu_tanh(xs[i])) << xs[i];
    EXPECT_PRED2(close, exponential.data()[i], std::exp(double(xs[i]))) << xs[i];
  }
}

// np.arange(24).reshape((2, 3, 4)) as Keras's pooling tests use it, and its (2, 4, 3) swap for
// channels_first; x[n][t][c] of the channels-last view.
Tensor arange_2x3x4() {
  std::vector<float> v(24);
  for (int i = 0; i < 24; ++i) v[size_t(i)] = float(i);
  return Tensor(Shape{2, 3, 4}, v);
}

// keras/src/layers/pooling/max_pooling_test.py:17 np_maxpool1d and average_pooling_test.py:18
// np_avgpool1d (channels_first: swapaxes(1, 2), pool along the steps, swap back), with the
// parameters of their test_max_pooling1d / test_average_pooling1d. 'same' pads with -inf at the
// end (_same_padding); the average's cases are 'valid' only.
TEST(KerasTestValues, Pooling1DBothDataFormats) {
  struct Case {
    Dim pool, stride;
    std::string padding, data_format;
    bool max;
  };
  std::vector<Case> cases;
  for (std::string df : {"channels_last", "channels_first"}) {
    cases.push_back({2, 1, "valid", df, true});
    cases.push_back({2, 1, "same", df, true});
    cases.push_back({2, 2, "valid", df, true});
    cases.push_back({2, 1, "valid", df, false});
    cases.push_back({2, 2, "valid", df, false});
  }
  Tensor x = arange_2x3x4();  // channels_first reads it as (batch, channels 3, steps 4)
  for (const Case& c : cases) {
    SCOPED_TRACE(c.padding + " " + c.data_format + (c.max ? " max" : " average") + " stride " +
                 std::to_string(c.stride));
    bool first = c.data_format == "channels_first";
    Dim steps = first ? 4 : 3, channels = first ? 3 : 4;
    auto at = [&](Dim n, Dim t, Dim ch) {
      return double(x.data()[first ? (n * 12 + ch * 4 + t) : (n * 12 + t * 4 + ch)]);
    };
    Dim pad = 0;
    if (c.padding == "same")
      pad = steps % c.stride == 0 ? std::max<Dim>(c.pool - c.stride, 0) : std::max<Dim>(c.pool - steps % c.stride, 0);
    Dim out_steps = (steps + pad - c.pool) / c.stride + 1;
    layers::Pooling1DOptions o{
        .pool_size = c.pool, .strides = c.stride, .padding = c.padding, .data_format = c.data_format};
    Tensor got = run(c.max ? layers::MaxPooling1D(o) : layers::AveragePooling1D(o), x);
    ASSERT_EQ(got.shape(), first ? Shape({2, channels, out_steps}) : Shape({2, out_steps, channels}));
    for (Dim n = 0; n < 2; ++n)
      for (Dim t = 0; t < out_steps; ++t)
        for (Dim ch = 0; ch < channels; ++ch) {
          double want = c.max ? -INFINITY : 0;
          for (Dim k = 0; k < c.pool; ++k) {
            Dim s = t * c.stride + k;
            double v = s < steps ? at(n, s, ch) : -INFINITY;
            want = c.max ? std::max(want, v) : want + v / double(c.pool);
          }
          float g = got.data()[first ? (n * channels + ch) * out_steps + t : (n * out_steps + t) * channels + ch];
          EXPECT_NEAR(g, want, 1e-6) << n << " " << t << " " << ch;
        }
  }
}

// keras/src/layers/pooling/global_average_pooling_test.py:100 np_gap1d and
// global_max_pooling_test.py:98 np_global_max_pool1d: the mean / max over the steps axis (1, or
// 2 for channels_first), expanded back there with keepdims.
TEST(KerasTestValues, GlobalPooling1DKeepdims) {
  Tensor x = arange_2x3x4();
  for (std::string df : {"channels_last", "channels_first"})
    for (bool keepdims : {false, true})
      for (bool max : {false, true}) {
        SCOPED_TRACE(df + (keepdims ? " keepdims" : "") + (max ? " max" : " average"));
        bool first = df == "channels_first";
        Dim steps = first ? 4 : 3, channels = first ? 3 : 4;
        layers::GlobalPoolingOptions o{.data_format = df, .keepdims = keepdims};
        Tensor got = run(max ? layers::GlobalMaxPooling1D(o) : layers::GlobalAveragePooling1D(o), x);
        Shape want_shape = !keepdims ? Shape{2, channels} : first ? Shape{2, channels, 1} : Shape{2, 1, channels};
        ASSERT_EQ(got.shape(), want_shape);
        for (Dim n = 0; n < 2; ++n)
          for (Dim ch = 0; ch < channels; ++ch) {
            double want = max ? -INFINITY : 0;
            for (Dim t = 0; t < steps; ++t) {
              double v = x.data()[first ? n * 12 + ch * 4 + t : n * 12 + t * 4 + ch];
              want = max ? std::max(want, v) : want + v / double(steps);
            }
            EXPECT_NEAR(got.data()[n * channels + ch], want, 1e-6) << n << " " << ch;
          }
      }
}

// keras/src/layers/convolutional/conv_test.py:92 np_conv2d (channels_first: the input transposed
// to channels last, the result back), with _same_padding's split (the odd pixel after) and the
// dilated kernel's zeros, and the parameters of its test_conv2d: groups 1 and 2, dilation (2, 2)
// and (2, 3), strides (2, 1), both data formats; inputs of shape (2, 8, 8, 4) either way.
TEST(KerasTestValues, Conv2DGroupsAgainstKerasReference) {
  struct Case {
    Dim filters;
    layers::IntPair kernel, stride;
    std::string padding, data_format;
    layers::IntPair dilation;
    Dim groups;
  };
  for (const Case& c : std::vector<Case>{{5, {2, 2}, {1, 1}, "valid", "channels_last", {1, 1}, 1},
                                         {4, {3, 3}, {2, 2}, "same", "channels_last", {1, 1}, 1},
                                         {6, {2, 2}, {1, 1}, "same", "channels_last", {2, 2}, 2},
                                         {6, {2, 2}, {1, 1}, "same", "channels_last", {2, 3}, 2},
                                         {6, {4, 3}, {2, 1}, "valid", "channels_last", {1, 1}, 2},
                                         {6, {4, 3}, {2, 1}, "valid", "channels_first", {1, 1}, 2}}) {
    SCOPED_TRACE(c.padding + " " + c.data_format + " groups " + std::to_string(c.groups));
    Layer conv = layers::Conv2D({.filters = c.filters,
                                 .kernel_size = c.kernel,
                                 .strides = c.stride,
                                 .padding = c.padding,
                                 .data_format = c.data_format,
                                 .dilation_rate = c.dilation,
                                 .groups = c.groups,
                                 .bias_initializer = "random_uniform"});
    Tensor x = testing::random_tensor({2, 8, 8, 4}, 13);
    Tensor got = run(conv, x);
    std::vector<Tensor> w = conv.get_weights();
    bool first = c.data_format == "channels_first";
    // The channels-last view: x[b][i][j][ch].
    Dim rows = 8, cols = first ? 4 : 8, channels = first ? 8 : 4;
    auto at = [&](Dim b, Dim i, Dim j, Dim ch) {
      return double(x.data()[first ? ((b * 8 + ch) * 8 + i) * 4 + j : ((b * 8 + i) * 8 + j) * 4 + ch]);
    };
    Dim kh = w[0].dim(0), kw = w[0].dim(1), ch_in = w[0].dim(2), ch_out = w[0].dim(3);
    Dim keh = kh + (c.dilation.first - 1) * (kh - 1), kew = kw + (c.dilation.second - 1) * (kw - 1);
    auto same = [](Dim in, Dim k, Dim s) {
      return in % s == 0 ? std::max<Dim>(k - s, 0) : std::max<Dim>(k - in % s, 0);
    };
    Dim ph = c.padding == "same" ? same(rows, keh, c.stride.first) : 0;
    Dim pw = c.padding == "same" ? same(cols, kew, c.stride.second) : 0;
    Dim top = ph / 2, left = pw / 2;
    Dim out_h = (rows + ph - keh) / c.stride.first + 1, out_w = (cols + pw - kew) / c.stride.second + 1;
    ASSERT_EQ(got.shape(), first ? Shape({2, ch_out, out_h, out_w}) : Shape({2, out_h, out_w, ch_out}));
    ASSERT_EQ(channels, ch_in * c.groups);
    Dim per_group = ch_out / c.groups;
    for (Dim b = 0; b < 2; ++b)
      for (Dim i = 0; i < out_h; ++i)
        for (Dim j = 0; j < out_w; ++j)
          for (Dim o = 0; o < ch_out; ++o) {
            Dim g = o / per_group;
            double want = w[1].data()[o];
            for (Dim u = 0; u < kh; ++u)
              for (Dim v = 0; v < kw; ++v) {
                Dim si = i * c.stride.first + u * c.dilation.first - top;
                Dim sj = j * c.stride.second + v * c.dilation.second - left;
                if (si < 0 || si >= rows || sj < 0 || sj >= cols) continue;  // the zero padding
                for (Dim ch = 0; ch < ch_in; ++ch)
                  want += at(b, si, sj, g * ch_in + ch) * w[0].data()[((u * kw + v) * ch_in + ch) * ch_out + o];
              }
            float g_val = got.data()[first ? ((b * ch_out + o) * out_h + i) * out_w + j
                                           : ((b * out_h + i) * out_w + j) * ch_out + o];
            EXPECT_NEAR(g_val, want, 1e-5 + 1e-4 * std::abs(want)) << b << " " << i << " " << j << " " << o;
          }
  }
}

// keras/src/layers/merging/merging_test.py:29, Subtract's np_op np.subtract (its
// test_correctness_static: the layer's output equals np_op(x1, x2)).
TEST(KerasTestValues, Subtract) {
  Tensor a = testing::random_tensor({2, 4, 5}, 3), b = testing::random_tensor({2, 4, 5}, 4);
  KerasTensor x1 = Input(Shape{4, 5}), x2 = Input(Shape{4, 5});
  Tensor got = Model({x1, x2}, {layers::subtract({x1, x2})}).predict({a, b})[0];
  for (Dim i = 0; i < a.size(); ++i) EXPECT_EQ(got.data()[i], a.data()[i] - b.data()[i]) << i;
}

// keras/src/layers/pooling/global_average_pooling_test.py:138 np_gap2d and
// global_max_pooling_test.py:121 np_global_max_pool2d: mean / max over both spatial axes, kept
// with keepdims, both data formats.
TEST(KerasTestValues, GlobalPooling2DKeepdims) {
  Tensor x = testing::random_tensor({2, 3, 4, 5}, 9);
  for (std::string df : {"channels_last", "channels_first"})
    for (bool max : {false, true}) {
      SCOPED_TRACE(df + (max ? " max" : " average"));
      bool first = df == "channels_first";
      Dim channels = first ? 3 : 5, h = first ? 4 : 3, wd = first ? 5 : 4;
      layers::GlobalPoolingOptions o{.data_format = df, .keepdims = true};
      Tensor got = run(max ? layers::GlobalMaxPooling2D(o) : layers::GlobalAveragePooling2D(o), x);
      ASSERT_EQ(got.shape(), first ? Shape({2, channels, 1, 1}) : Shape({2, 1, 1, channels}));
      for (Dim n = 0; n < 2; ++n)
        for (Dim ch = 0; ch < channels; ++ch) {
          double want = max ? -INFINITY : 0;
          for (Dim i = 0; i < h; ++i)
            for (Dim j = 0; j < wd; ++j) {
              double v =
                  x.data()[first ? ((n * channels + ch) * h + i) * wd + j : ((n * h + i) * wd + j) * channels + ch];
              want = max ? std::max(want, v) : want + v / double(h * wd);
            }
          EXPECT_NEAR(got.data()[n * channels + ch], want, 1e-6) << n << " " << ch;
        }
    }
}

}  // namespace
}  // namespace keras
