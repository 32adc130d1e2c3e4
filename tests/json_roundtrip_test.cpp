// Keras 3 JSON writing: every oracle fixture model, written with to_json() and read back,
// must give the same summary and, with the same weights, the oracle's predictions.
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

class JsonRoundTrip : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(JsonRoundTrip, ToJsonThenModelFromJsonKeepsTheModel) {
  testing::Fixture f = testing::load_fixture(GetParam());
  Model original = model_from_json(f.model_json);
  std::string text = original.to_json();
  auto j = nlohmann::json::parse(text);
  EXPECT_TRUE(j.contains("module")) << "to_json() writes the Keras 3 form";
  Model reread = model_from_json(text);
  EXPECT_EQ(reread.summary_string(), original.summary_string());
  reread.set_weights(f.weights);
  auto got = reread.predict(f.inputs);
  ASSERT_EQ(got.size(), f.outputs.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::AllClose(got[i], f.outputs[i])) << "output " << i;
  EXPECT_EQ(reread.to_json(), text) << "writing the re-read model gives the same JSON";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, JsonRoundTrip, ::testing::ValuesIn(testing::fixture_files("layers")), testing::fixture_case_name);

}  // namespace
}  // namespace keras
