// Intermediate outputs (Keras's Model(model.inputs, model.get_layer(name).output)) against
// TensorFlow.js, which computed the same layers' outputs from the same file and weights
// (tests/fixtures/intermediate, made by tests/fixtures/generate/tfjs/gen_layers.js).
#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

Model fixture_model(const testing::Fixture& f) {
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  return model;
}

Model layers_model(const Model& model, const std::vector<std::string>& names) {
  std::vector<KerasTensor> outputs;
  for (const std::string& n : names) outputs.push_back(model.get_layer(n).output());
  return Model(model.inputs(), outputs);
}

class IntermediateOracle : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(IntermediateOracle, LayerOutputsAreWhatTheOracleComputed) {
  testing::Fixture f = testing::load_fixture(GetParam());
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  ASSERT_EQ(f.output_layers.size(), f.outputs.size());
  Model model = fixture_model(f);
  Model sub = layers_model(model, f.output_layers);
  auto got = sub.predict(f.inputs);
  ASSERT_EQ(got.size(), f.outputs.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(testing::AllClose(got[i], f.outputs[i])) << "layer " << f.output_layers[i];
}

INSTANTIATE_TEST_SUITE_P(Fixtures, IntermediateOracle, ::testing::ValuesIn(testing::fixture_files("intermediate")),
                         testing::fixture_case_name);

TEST(IntermediateOracleFiles, ArePresent) { EXPECT_EQ(testing::fixture_files("intermediate").size(), 2u); }

testing::Fixture seed_fixture() {
  return testing::load_fixture(testing::source_dir() / "tests" / "fixtures" / "intermediate" /
                               "intermediate_seed_convnet.json");
}

// The sub-model holds the model's layers, not copies: new weights show in both.
TEST(IntermediateOutputs, ShareTheModelsWeights) {
  testing::Fixture f = seed_fixture();
  Model model = fixture_model(f);
  Model sub = layers_model(model, {"conv2d"});
  EXPECT_EQ(sub.get_layer("conv2d").impl(), model.get_layer("conv2d").impl());
  std::vector<Tensor> w = model.get_weights();
  w[1] = Tensor(w[1].shape(), 100.0f);  // conv2d's bias: relu(x + 100) > 0 everywhere
  model.set_weights(w);
  Tensor y = sub.predict(f.inputs).at(0);
  for (Dim i = 0; i < y.size(); ++i) ASSERT_GT(y.data()[i], 50.0f);
}

TEST(IntermediateOutputs, GetLayerByIndexCountsAsPython) {
  Model model = fixture_model(seed_fixture());
  ASSERT_EQ(model.layers().size(), 4u);  // Sequential: the InputLayer is not listed
  EXPECT_EQ(model.get_layer(0).name(), "conv2d");
  EXPECT_EQ(model.get_layer(3).name(), "dense");
  EXPECT_EQ(model.get_layer(-1).name(), "dense");
  EXPECT_EQ(model.get_layer(-4).name(), "conv2d");
  for (int bad : {4, -5}) {
    try {
      model.get_layer(bad);
      ADD_FAILURE() << "index " << bad << " did not throw";
    } catch (const ValueError& e) {
      EXPECT_EQ(std::string(e.what()),
                "Was asked to retrieve layer at index " + std::to_string(bad) + " but model only has 4 layers.");
    }
  }
}

TEST(IntermediateOutputs, UnknownNameAndUncalledLayerAreClearErrors) {
  Model model = fixture_model(seed_fixture());
  try {
    model.get_layer("conv2d_9");
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("No such layer: conv2d_9."), std::string::npos) << e.what();
  }
  Layer lonely = layers::Dense(3);
  try {
    lonely.output();
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()),
              "The layer " + lonely.name() + " has never been called and thus has no defined output.");
  }
}

}  // namespace
}  // namespace keras
