#include "test_helpers.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace keras::testing {

std::filesystem::path source_dir() { return KERAS_SOURCE_DIR; }

std::filesystem::path shared_models_dir() {
  if (const char* env = std::getenv("KERAS_SHARED_MODELS")) return env;
  return source_dir() / ".." / "shared" / "keras-models";
}

::testing::AssertionResult AllClose(const Tensor& got, const Tensor& want, double atol, double rtol) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure() << "shape " << got.shape().str() << " != expected " << want.shape().str();
  Dim worst = -1;
  double worst_excess = 0;
  Dim bad = 0;
  for (Dim i = 0; i < got.size(); ++i) {
    double g = got[i], w = want[i];
    double excess = std::abs(g - w) - (atol + rtol * std::abs(w));
    if (std::isnan(g) != std::isnan(w) || excess > 0) {
      ++bad;
      if (worst < 0 || excess > worst_excess || std::isnan(excess)) {
        worst = i;
        worst_excess = excess;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " values differ; worst at flat index "
                                       << worst << ": got " << got[worst] << ", want " << want[worst];
}

std::string value_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "(no ValueError)";
}

static Tensor tensor_from_json(const nlohmann::json& j) {
  std::vector<Dim> dims = j.at("shape").get<std::vector<Dim>>();
  std::vector<float> v;
  for (const auto& x : j.at("data")) v.push_back(x.is_null() ? NAN : x.get<float>());
  return Tensor(Shape(dims), std::move(v));
}

Fixture load_fixture(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path.string());
  nlohmann::json j = nlohmann::json::parse(in);
  Fixture f;
  f.name = j.value("case", path.stem().string());
  f.oracle = j.value("oracle", "");
  f.model_json = j.at("model").dump();
  for (const auto& w : j.at("weights")) f.weights.push_back(tensor_from_json(w));
  for (const auto& x : j.at("inputs")) f.inputs.push_back(tensor_from_json(x));
  for (const auto& y : j.at("outputs")) f.outputs.push_back(tensor_from_json(y));
  return f;
}

std::vector<std::filesystem::path> fixture_files(const std::string& subdir) {
  std::vector<std::filesystem::path> files;
  auto dir = source_dir() / "tests" / "fixtures" / subdir;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string fixture_case_name(const ::testing::TestParamInfo<std::filesystem::path>& info) {
  std::string s = info.param.stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace keras::testing
