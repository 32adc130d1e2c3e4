#include "test_helpers.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/functional.h"

namespace keras::testing {

const char* const kKeras3MnistSummary76 =
    "Model: \"sequential\"\n"
    "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n"
    "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n"
    "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n"
    "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ conv2d_1 (Conv2D)               │ (None, 11, 11, 64)     │        18,496 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 64)       │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ flatten (Flatten)               │ (None, 1600)           │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ dropout (Dropout)               │ (None, 1600)           │             0 │\n"
    "├─────────────────────────────────┼────────────────────────┼───────────────┤\n"
    "│ dense (Dense)                   │ (None, 10)             │        16,010 │\n"
    "└─────────────────────────────────┴────────────────────────┴───────────────┘\n"
    " Total params: 34,826 (136.04 KB)\n"
    " Trainable params: 34,826 (136.04 KB)\n"
    " Non-trainable params: 0 (0.00 B)\n";

Tensor away_from(Tensor t, const std::vector<float>& kinks, float gap) {
  for (float& v : t.values())
    for (float k : kinks)
      if (std::abs(v - k) < gap) v = v < k ? k - gap : k + gap;
  return t;
}

CliRun kerascpp(const std::string& args) {
  const char* exe = std::getenv("KERASCPP");
  std::string bin = exe ? exe : std::string(KERAS_BINARY_DIR) + "/kerascpp";
  TempDir tmp;
  std::filesystem::path err_file = tmp / "stderr";
  std::string cmd = bin + " " + args + " 2>" + err_file.string();
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(err_file);
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return r;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("kerascpp_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

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
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " values differ; worst at flat index " << worst
                                       << ": got " << got[worst] << ", want " << want[worst];
}

std::string value_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "(no ValueError)";
}

Tensor random_tensor(const Shape& shape, uint32_t seed, float low, float high) {
  Tensor t(shape);
  uint32_t state = seed * 2654435761u + 12345u;
  for (float& v : t.values()) {
    state = state * 1664525u + 1013904223u;  // an LCG: reproducible without <random>'s variance
    v = low + (high - low) * static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return t;
}

namespace {

double weighted_sum(const std::vector<Tensor>& outputs, const std::vector<Tensor>& r) {
  double s = 0;
  for (size_t i = 0; i < outputs.size(); ++i)
    for (Dim j = 0; j < outputs[i].size(); ++j) s += static_cast<double>(outputs[i][j]) * r[i][j];
  return s;
}

// Checks d L / d t[k] at sampled k, where `perturb` changes t in place and reruns forward.
::testing::AssertionResult check_tensor(const std::string& what, Tensor& t, const Tensor& analytic,
                                        const std::function<double()>& loss, const GradientCheckOptions& o) {
  if (analytic.shape() != t.shape())
    return ::testing::AssertionFailure() << what << ": gradient shape " << analytic.shape().str()
                                         << " != " << t.shape().str();
  Dim n = t.size(), step = std::max<Dim>(1, n / o.max_points);
  int checked = 0, skipped = 0;
  double center = o.skip_kinks ? loss() : 0.0;
  auto quotients = [&](Dim k, double eps, double& up, double& down) {
    float saved = t[k];
    t[k] = saved + static_cast<float>(eps);
    up = loss();
    t[k] = saved - static_cast<float>(eps);
    down = loss();
    t[k] = saved;
  };
  for (Dim k = (n > o.max_points ? 7 % step : 0); k < n; k += step) {
    double eps = o.eps, up = 0, down = 0;
    quotients(k, eps, up, down);
    if (o.skip_kinks) {
      // A kink within eps makes the one-sided quotients disagree: shrink the step (down to
      // eps / 16) until they agree, or skip the point.
      auto agree = [&] {
        double right = (up - center) / eps, left = (center - down) / eps;
        return std::abs(right - left) <= o.atol + o.rtol * std::max(std::abs(right), std::abs(left));
      };
      while (!agree() && eps > o.eps / 16) quotients(k, eps /= 4, up, down);
      if (!agree()) {
        ++skipped;
        continue;
      }
    }
    double numeric = (up - down) / (2 * eps), got = analytic[k];
    ++checked;
    if (std::abs(numeric - got) > o.atol + o.rtol * std::abs(numeric))
      return ::testing::AssertionFailure()
             << what << "[" << k << "]: backward() gives " << got << ", finite differences give " << numeric;
  }
  if (skipped > 3 * checked)
    return ::testing::AssertionFailure() << what << ": " << skipped << " of " << skipped + checked
                                         << " points sit on kinks; too few left to check";
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult GradientCheck(const Layer& layer, const std::vector<Tensor>& inputs_in,
                                         const GradientCheckOptions& o) {
  std::vector<Tensor> inputs = inputs_in;
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) {
    Shape s = t.shape();
    s[0] = None;
    shapes.push_back(s);
  }
  layer->build(shapes);
  SavedState saved;
  CallContext ctx{.training = o.training, .saved = &saved};
  std::vector<Tensor> outputs = layer->call(inputs, ctx);
  std::vector<Tensor> r;
  for (size_t i = 0; i < outputs.size(); ++i) r.push_back(random_tensor(outputs[i].shape(), 1000 + uint32_t(i)));
  Gradients g = layer->backward({inputs, outputs, r, saved});
  CallContext plain{.training = o.training};
  auto loss = [&] { return weighted_sum(layer->call(inputs, plain), r); };
  if (o.check_inputs) {
    if (g.inputs.size() != inputs.size())
      return ::testing::AssertionFailure()
             << "backward() returned " << g.inputs.size() << " input gradients for " << inputs.size() << " inputs";
    for (size_t i = 0; i < inputs.size(); ++i)
      if (auto r2 = check_tensor("input " + std::to_string(i), inputs[i], g.inputs[i], loss, o); !r2) return r2;
  }
  auto vars = layer->variables();
  if (g.variables.size() != vars.size())
    return ::testing::AssertionFailure() << "backward() returned " << g.variables.size() << " weight gradients for "
                                         << vars.size() << " weights";
  for (size_t v = 0; v < vars.size(); ++v)
    if (auto r2 = check_tensor("weight " + vars[v]->name, vars[v]->value, g.variables[v], loss, o); !r2) return r2;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TrainingPlanGradientCheck(const Model& model, const std::vector<Tensor>& inputs_in,
                                                     const GradientCheckOptions& o, uint64_t seed) {
  std::vector<Tensor> inputs = inputs_in;
  std::vector<const Shape*> shapes;
  for (const Tensor& t : inputs) shapes.push_back(&t.shape());
  auto plan = model.functional().training_plan(shapes);
  std::vector<Tensor> r;
  for (size_t i = 0; i < plan->output_shapes().size(); ++i)
    r.push_back(random_tensor(plan->output_shapes()[i], 1000 + uint32_t(i)));
  // Reads the inputs' and weights' buffers afresh on every pass: the check perturbs them.
  auto forward = [&](graph::Plan::TrainingRun& run) {
    std::vector<const float*> x;
    for (const Tensor& t : inputs) x.push_back(t.data());
    run.forward(x, seed);
    return run.outputs();
  };
  graph::Plan::TrainingRun run(*plan);
  forward(run);
  std::vector<const float*> dy;
  for (const Tensor& t : r) dy.push_back(t.data());
  run.backward(dy);
  std::vector<Tensor> grads;
  for (size_t i = 0; i < plan->gradient_variables().size(); ++i) {
    Tensor& g = grads.emplace_back(Tensor::empty(plan->gradient_variables()[i]->value.shape()));
    std::copy(run.gradient(i), run.gradient(i) + g.size(), g.data());
  }
  auto loss = [&] {
    graph::Plan::TrainingRun again(*plan);
    return weighted_sum(forward(again), r);
  };
  if (plan->gradient_variables().empty()) return ::testing::AssertionFailure() << "the plan has no gradients";
  for (size_t i = 0; i < grads.size(); ++i) {
    auto* v = const_cast<Variable*>(plan->gradient_variables()[i]);
    if (auto r2 = check_tensor("weight " + v->name, v->value, grads[i], loss, o); !r2) return r2;
  }
  return ::testing::AssertionSuccess();
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
  if (j.contains("output_layers")) f.output_layers = j.at("output_layers").get<std::vector<std::string>>();
  if (j.contains("cotangents")) {
    for (const auto& t : j.at("cotangents")) f.cotangents.push_back(tensor_from_json(t));
    for (const auto& t : j.at("weight_gradients"))
      f.weight_gradients.push_back(t.is_null() ? Tensor() : tensor_from_json(t));
    for (const auto& t : j.at("input_gradients"))
      f.input_gradients.push_back(t.is_null() ? Tensor() : tensor_from_json(t));
  }
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
