// Every oracle fixture model (each layer class and configuration the oracles cover) passes the
// one numerical gradient checker as a whole: backward() of the graph against finite
// differences, for its inputs and every weight.
#include <cmath>

#include "test_helpers.h"

namespace keras {
namespace {

class FixtureGradient : public ::testing::TestWithParam<std::filesystem::path> {};

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureGradient, ::testing::ValuesIn(testing::fixture_files("layers")),
                         testing::fixture_case_name);

bool all_integers(const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts)
    for (float v : t.values())
      if (v != std::floor(v)) return false;
  return true;
}

TEST_P(FixtureGradient, BackwardMatchesFiniteDifferences) {
  testing::Fixture f = testing::load_fixture(GetParam());
  SCOPED_TRACE(f.name + " (oracle: " + f.oracle + ")");
  Model model = model_from_json(f.model_json, ConfigContext{.source = f.name});
  model.set_weights(f.weights);
  // Integer inputs are indices (Embedding): no gradient with respect to them.
  // The fixtures probe edges (relu at 0, pooling ties): points on kinks are skipped.
  EXPECT_TRUE(testing::GradientCheck(model, f.inputs, {.check_inputs = !all_integers(f.inputs), .skip_kinks = true}));
}

}  // namespace
}  // namespace keras
