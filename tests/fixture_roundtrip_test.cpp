// Writing what we read: every oracle fixture model, written as Keras 3 JSON, as a .keras archive
// and as an .h5 file and read back, gives the same summary and the oracle's predictions.
#include <unistd.h>

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

class FileRoundTrip : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(FileRoundTrip, SaveThenLoadModelPredictsWhatTheOraclePredicted) {
  testing::Fixture f = testing::load_fixture(GetParam());
  Model original = model_from_json(f.model_json);
  original.set_weights(f.weights);
  auto dir = std::filesystem::temp_directory_path() / ("fixture_roundtrip_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* ext : {".keras", ".h5"}) {
    SCOPED_TRACE(ext);
    auto path = dir / (f.name + ext);
    original.save(path);
    Model loaded = load_model(path);
    EXPECT_EQ(loaded.summary_string(), original.summary_string());
    auto got = loaded.predict(f.inputs);
    ASSERT_EQ(got.size(), f.outputs.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(testing::AllClose(got[i], f.outputs[i])) << "output " << i;
    std::filesystem::remove(path);
  }
  std::filesystem::remove(dir);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FileRoundTrip, ::testing::ValuesIn(testing::fixture_files("layers")),
                         testing::fixture_case_name);

INSTANTIATE_TEST_SUITE_P(Fixtures, JsonRoundTrip, ::testing::ValuesIn(testing::fixture_files("layers")), testing::fixture_case_name);

}  // namespace
}  // namespace keras
