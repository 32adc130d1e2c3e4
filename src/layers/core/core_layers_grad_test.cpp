// Gradients of Activation, Dropout and Embedding: the shared numerical checker, and Dropout's
// mask by its definition (y = x * mask, mask in {0, 1/(1-rate)}).
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;
using testing::away_from;
using testing::GradientCheck;
using testing::random_tensor;

TEST(ActivationGradient, EveryActivationMatchesFiniteDifferences) {
  Tensor x = away_from(random_tensor({3, 6}, 11, -4, 4), {0, 1, -1, 2.5f, -2.5f, 3, -3, 0.5f, -0.5f});
  for (const char* act :
       {"linear",       "relu",        "relu6",       "sigmoid",     "tanh",       "softmax",     "log_softmax",
        "elu",          "selu",        "softplus",    "softsign",    "gelu",       "swish",       "silu",
        "hard_sigmoid", "hard_silu",   "leaky_relu",  "exponential", "mish",       "log_sigmoid", "celu",
        "hard_tanh",    "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus", "sparse_sigmoid"}) {
    SCOPED_TRACE(act);
    EXPECT_TRUE(GradientCheck(layers::Activation(act), {x}));
  }
  // Keras 2's hard_sigmoid (0.2x + 0.5), as read from a Keras 2 file.
  Layer k2 = layers::activation_from_config({{"activation", "hard_sigmoid"}}, ConfigContext{.keras_major = 2});
  EXPECT_TRUE(GradientCheck(k2, {x}));
  EXPECT_TRUE(GradientCheck(layers::Activation("tanh"), {random_tensor({2, 3, 4}, 12)}));
}

TEST(DropoutGradient, InferenceIsTheIdentity) {
  EXPECT_TRUE(GradientCheck(layers::Dropout(0.5), {random_tensor({3, 4}, 1)}));
}

TEST(DropoutGradient, TrainingScalesTheGradientByTheSavedMask) {
  Layer d = layers::Dropout(0.4);
  Tensor x = away_from(random_tensor({8, 50}, 2), {0});  // nonzero, so y/x recovers the mask
  SavedState saved;
  Tensor y = d->call({x}, {.training = true, .saved = &saved}).at(0);
  Tensor g = random_tensor(y.shape(), 3);
  Tensor gx = d->backward({{x}, {y}, {g}, saved}).inputs.at(0);
  Tensor want(x.shape());
  Dim kept = 0;
  for (Dim i = 0; i < x.size(); ++i) {
    float m = y[i] / x[i];
    // Each mask value is 0 or 1/(1-rate).
    ASSERT_TRUE(std::abs(m) < 1e-6f || std::abs(m - 1 / 0.6f) < 1e-4f) << m;
    kept += m != 0 ? 1 : 0;
    want[i] = g[i] * m;
  }
  EXPECT_TRUE(AllClose(gx, want));
  // 400 Bernoulli(0.6) draws: 240 expected, standard deviation ~10.
  EXPECT_GT(kept, 190);
  EXPECT_LT(kept, 290);
}

TEST(DropoutGradient, RateOneDropsEverything) {
  Layer d = layers::Dropout(1.0);
  Tensor x = random_tensor({2, 3}, 4);
  SavedState saved;
  Tensor y = d->call({x}, {.training = true, .saved = &saved}).at(0);
  EXPECT_TRUE(AllClose(y, Tensor::zeros(x.shape())));
  EXPECT_TRUE(
      AllClose(d->backward({{x}, {y}, {Tensor::ones(x.shape())}, saved}).inputs.at(0), Tensor::zeros(x.shape())));
}

TEST(DropoutGradient, MasksFollowSetRandomSeed) {
  Layer d = layers::Dropout(0.5);
  Tensor x = Tensor::ones({4, 64});
  auto draw = [&] { return d->call({x}, {.training = true}).at(0); };
  set_random_seed(42);
  Tensor a = draw(), a2 = draw();
  set_random_seed(42);
  Tensor b = draw(), b2 = draw();
  set_random_seed(43);
  Tensor c = draw();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a2, b2);
  EXPECT_NE(a, a2);  // the stream moves on between calls
  EXPECT_NE(a, c);
}

TEST(EmbeddingGradient, RowsCollectTheirGradientsAndIndicesGetNone) {
  set_random_seed(5);
  // Index 2 appears three times: its row's gradient is the sum of three output rows.
  Tensor idx(Shape{2, 3}, {2, 0, 2, 4, 2, 1});
  EXPECT_TRUE(GradientCheck(layers::Embedding(5, 3), {idx}, {.check_inputs = false}));
  Layer e = layers::Embedding(5, 2);
  e->build({Shape{None, 3}});
  SavedState saved;
  Tensor y = e->call({idx}, {.training = true, .saved = &saved}).at(0);
  Tensor g(y.shape(), {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Gradients grads = e->backward({{idx}, {y}, {g}, saved});
  EXPECT_TRUE(AllClose(grads.inputs.at(0), Tensor::zeros(idx.shape())));
  // Row 0 <- position 1; row 1 <- position 5; row 2 <- positions 0, 2, 4; row 3 none; row 4 <- position 3.
  EXPECT_TRUE(AllClose(grads.variables.at(0), Tensor(Shape{5, 2}, {3, 4, 11, 12, 1 + 5 + 9, 2 + 6 + 10, 0, 0, 7, 8})));
}

TEST(Embedding, IndicesOutsideTheTableOrNotIntegersAreErrorsNamingTheLayer) {
  Layer e = layers::Embedding({.input_dim = 5, .output_dim = 2, .name = "words"});
  e->build({Shape{None, 2}});
  for (float bad : {5.0f, -1.0f, 1.5f, std::nanf("")}) {
    try {
      e->call({Tensor(Shape{1, 2}, {0, bad})}, {});
      ADD_FAILURE() << "index " << bad << " accepted";
    } catch (const ValueError& err) {
      EXPECT_NE(std::string(err.what()).find("\"words\""), std::string::npos) << err.what();
    }
  }
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// The mask y / x of a training call (x nonzero everywhere).
Tensor mask_of(const Layer& l, const Tensor& x, SavedState* saved = nullptr) {
  Tensor y = l->call({x}, {.training = true, .saved = saved}).at(0);
  Tensor m(x.shape());
  for (Dim i = 0; i < x.size(); ++i) m[i] = y[i] / x[i];
  return m;
}

// Every value of the mask at (sample, channel) is the same across the spatial axes, 0 or
// 1/(1-rate); `channel_axis` is where the channels are.
void expect_spatial_mask(const Tensor& m, int channel_axis, float rate) {
  Dim n = m.dim(0), c = m.dim(channel_axis), cells = m.size() / (n * c);
  int kept = 0, dropped = 0;
  for (Dim b = 0; b < n; ++b)
    for (Dim ch = 0; ch < c; ++ch) {
      float first = -1;
      for (Dim i = 0; i < m.size() / n; ++i) {
        // Index within the sample: channel at the channel axis (last, or first after batch).
        Dim chan = channel_axis == m.rank() - 1 ? i % c : i / cells;
        if (chan != ch) continue;
        float v = m[b * (m.size() / n) + i];
        if (first < 0) first = v;
        ASSERT_NEAR(v, first, 1e-5f) << "sample " << b << " channel " << ch;
      }
      ASSERT_TRUE(std::abs(first) < 1e-6f || std::abs(first - 1 / (1 - rate)) < 1e-4f) << first;
      (first == 0 ? dropped : kept)++;
    }
  EXPECT_GT(kept, 0);
  EXPECT_GT(dropped, 0);
}

TEST(SpatialDropout, DropsWholeFeatureMaps) {
  set_random_seed(3);
  Tensor x1 = away_from(random_tensor({6, 5, 8}, 1), {0});
  expect_spatial_mask(mask_of(layers::SpatialDropout1D(0.5), x1), 2, 0.5f);
  Tensor x2 = away_from(random_tensor({4, 3, 5, 6}, 2), {0});
  expect_spatial_mask(mask_of(layers::SpatialDropout2D(0.5), x2), 3, 0.5f);
  expect_spatial_mask(mask_of(layers::SpatialDropout2D({.rate = 0.5, .data_format = "channels_first"}), x2), 1, 0.5f);
  Tensor x3 = away_from(random_tensor({3, 2, 3, 2, 6}, 3), {0});
  expect_spatial_mask(mask_of(layers::SpatialDropout3D(0.5), x3), 4, 0.5f);
  expect_spatial_mask(mask_of(layers::SpatialDropout3D({.rate = 0.5, .data_format = "channels_first"}), x3), 1, 0.5f);
}

TEST(SpatialDropout, InferenceIsTheIdentityAndGradientsFollowTheMask) {
  Layer l = layers::SpatialDropout2D(0.3);
  Tensor x = away_from(random_tensor({2, 3, 4, 5}, 4), {0});
  EXPECT_EQ(l(x), x);
  EXPECT_TRUE(GradientCheck(l, {x}));
  SavedState saved;
  Tensor m = mask_of(l, x, &saved);
  Tensor g = random_tensor(x.shape(), 5);
  Tensor gx = l->backward({{x}, {x}, {g}, saved}).inputs.at(0);
  Tensor want(x.shape());
  for (Dim i = 0; i < x.size(); ++i) want[i] = g[i] * m[i];
  EXPECT_TRUE(AllClose(gx, want));
}

TEST(SpatialDropout, ConfigRoundTripAndRankCheck) {
  Model m = Sequential({Input({5, 4}), layers::SpatialDropout1D(0.2), layers::Flatten(), layers::Dense(2)});
  Model back = model_from_json(m.to_json());
  EXPECT_EQ(back.summary_string(), m.summary_string());
  EXPECT_EQ(back.layers()[0]->class_name(), "SpatialDropout1D");
  EXPECT_EQ(back.layers()[0]->get_config()["rate"], 0.2);
  std::string msg = testing::value_error_of([] { Sequential({Input({5, 4}), layers::SpatialDropout2D(0.2)}); });
  EXPECT_NE(msg.find("expected ndim=4, found ndim=3"), std::string::npos) << msg;
  // Dropout's noise_shape: one mask value per sample and feature, shared over timesteps.
  Layer d = layers::Dropout({.rate = 0.5, .noise_shape = {None, 1, None}});
  Tensor x = away_from(random_tensor({4, 6, 8}, 6), {0});
  set_random_seed(9);
  expect_spatial_mask(mask_of(d, x), 2, 0.5f);
  Model dm = Sequential({Input({6, 8}), d});
  EXPECT_EQ(model_from_json(dm.to_json()).layers()[0]->get_config()["noise_shape"],
            nlohmann::json({nullptr, 1, nullptr}));
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// Dropout(seed=s): the masks follow s whatever the global seed; two layers with the same seed
// draw the same sequence.
TEST(DropoutSeed, OwnSeedIgnoresTheGlobalOne) {
  Tensor x = Tensor::ones({4, 64});
  auto draws = [&](const Layer& d) {
    std::vector<Tensor> out;
    for (int i = 0; i < 2; ++i) out.push_back(d->call({x}, {.training = true}).at(0));
    return out;
  };
  set_random_seed(1);
  auto a = draws(layers::Dropout({.rate = 0.5, .seed = 7}));
  set_random_seed(2);
  auto b = draws(layers::Dropout({.rate = 0.5, .seed = 7}));
  auto c = draws(layers::Dropout({.rate = 0.5, .seed = 8}));
  EXPECT_EQ(a, b);
  EXPECT_NE(a[0], a[1]);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace keras
