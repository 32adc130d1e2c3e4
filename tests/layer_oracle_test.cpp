// Every oracle fixture (TensorFlow.js or PyTorch, see tests/fixtures/generate/README.md):
// build the model from its Keras JSON, load the oracle's weights, predict, compare.
#include "test_helpers.h"

namespace keras {
namespace {

class LayerOracle : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(LayerOracle, PredictsWhatTheOraclePredicted) {
  testing::Fixture f = testing::load_fixture(GetParam());
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  auto got = model.predict(f.inputs);
  ASSERT_EQ(got.size(), f.outputs.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::AllClose(got[i], f.outputs[i])) << "output " << i;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LayerOracle, ::testing::ValuesIn(testing::fixture_files("layers")),
                         testing::fixture_case_name);

// Exactly the committed fixtures: a lost file fails here, not silently.
TEST(LayerOracleFiles, ArePresent) { EXPECT_EQ(testing::fixture_files("layers").size(), 270u); }

}  // namespace
}  // namespace keras
