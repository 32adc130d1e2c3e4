// keras.ops operations and tf.keras op layers: what they compute is checked against the oracle
// fixtures (tests/fixtures/layers/ops_*.json, by the layer and gradient oracle tests); here,
// that they are written back as the fixtures' hand-written Keras configs are, and that the
// operations keras.cpp does not compute are named in the one unsupported-layers error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

using nlohmann::json;

std::vector<std::filesystem::path> op_fixtures(const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : testing::fixture_files())
    if (p.stem().string().rfind(prefix, 0) == 0) out.push_back(p);
  return out;
}

const json* entry_named(const json& model, const std::string& name) {
  for (const json& e : model["config"]["layers"])
    if (e["name"] == name) return &e;
  return nullptr;
}

// Keras 3.1's config of an operation (serialize_keras_object: module, class_name, config,
// registered_name; functional.get_config: name, inbound_nodes as serialize_node writes the
// call), exactly as the fixtures write it by hand from Keras's source.
TEST(Operations, WrittenBackAsKeras3WritesThem) {
  auto files = op_fixtures("ops_k3_");
  ASSERT_EQ(files.size(), 10u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.stem().string());
    testing::Fixture fx = testing::load_fixture(path);
    json want = json::parse(fx.model_json);
    json got = json::parse(model_from_json(fx.model_json).to_json());
    int ops = 0;
    for (const json& w : want["config"]["layers"]) {
      if (w["module"].get<std::string>().rfind("keras.src.ops", 0) != 0) continue;
      ++ops;
      const json* g = entry_named(got, w["name"]);
      ASSERT_NE(g, nullptr) << w["name"];
      EXPECT_EQ(*g, w);
    }
    EXPECT_GT(ops, 0);
  }
}

// tf.keras's op layers keep their class and function (Keras 3 has no TFOpLambda: keras.cpp
// writes the layer in the file's Keras 3 form, its call's other arguments as kwargs).
TEST(Operations, TfOpLambdasKeepTheirFunction) {
  auto files = op_fixtures("ops_tf_");
  ASSERT_EQ(files.size(), 5u);
  testing::Fixture fx = testing::load_fixture(testing::source_dir() / "tests/fixtures/layers/ops_tf_arithmetic.json");
  json got = json::parse(model_from_json(fx.model_json).to_json());
  const json* sub = entry_named(got, "tf.math.subtract");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ((*sub)["class_name"], "TFOpLambda");
  EXPECT_EQ((*sub)["config"]["function"], "math.subtract");
  // 2.0 - x: the constant first argument, x as the keyword argument y.
  const json& node = (*sub)["inbound_nodes"][0];
  EXPECT_EQ(node["args"], json::array({2.0}));
  EXPECT_EQ(node["kwargs"]["y"]["config"]["keras_history"], json::array({"input", 0, 0}));
}

json keras3_op(const std::string& module, const std::string& cls, const std::string& name, json config, json args) {
  return {{"module", "keras.src.ops." + module},
          {"class_name", cls},
          {"config", std::move(config)},
          {"registered_name", cls},
          {"name", name},
          {"inbound_nodes", json::array({{{"args", std::move(args)}, {"kwargs", json::object()}}})}};
}

json input_ref() {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", {nullptr, 4}}, {"dtype", "float32"}, {"keras_history", {"x", 0, 0}}}}};
}

std::string functional(json layers, const std::string& output) {
  json input = {{"module", "keras.layers"},
                {"class_name", "InputLayer"},
                {"config", {{"batch_shape", {nullptr, 4}}, {"dtype", "float32"}, {"name", "x"}}},
                {"registered_name", nullptr},
                {"name", "x"},
                {"inbound_nodes", json::array()}};
  layers.insert(layers.begin(), input);
  json model = {{"module", "keras.src.models.functional"},
                {"class_name", "Functional"},
                {"config",
                 {{"name", "m"},
                  {"trainable", true},
                  {"layers", layers},
                  {"input_layers", {"x", 0, 0}},
                  {"output_layers", {output, 0, 0}}}},
                {"registered_name", "Functional"}};
  return model.dump();
}

TEST(Operations, UnsupportedOnesAreNamedInOneError) {
  json layers = json::array();
  layers.push_back(keras3_op("numpy", "Einsum", "einsum", {{"subscripts", "ij->ji"}}, {"ij->ji", input_ref()}));
  layers.push_back(keras3_op("core", "Cast", "cast", {{"dtype", "int32"}}, {input_ref()}));
  layers.push_back(
      {{"class_name", "TFOpLambda"},
       {"config", {{"name", "tf.signal.fft"}, {"trainable", true}, {"dtype", "float32"}, {"function", "signal.fft"}}},
       {"name", "tf.signal.fft"},
       {"inbound_nodes", json::array({json::array({"x", 0, 0, json::object()})})}});
  layers.push_back(keras3_op("numpy", "Multiply", "multiply", {{"name", "multiply"}}, {input_ref(), 2.0}));
  try {
    model_from_json(functional(layers, "multiply"));
    FAIL() << "no error";
  } catch (const UnsupportedLayers& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("Einsum \"einsum\" (keras.src.ops.numpy.Einsum)"), std::string::npos) << m;
    EXPECT_NE(m.find("Cast \"cast\" (keras.src.ops.core.Cast: cast to int32)"), std::string::npos) << m;
    EXPECT_NE(m.find("TFOpLambda \"tf.signal.fft\" (tf.signal.fft)"), std::string::npos) << m;
    EXPECT_EQ(m.find("multiply"), std::string::npos) << m;
  }
}

TEST(Operations, BadArgumentsAreValueErrorsNamingTheOperation) {
  std::string bad = functional(
      json::array({keras3_op("numpy", "Reshape", "reshape", {{"newshape", {-1, 3}}}, {input_ref()})}), "reshape");
  std::string m = testing::value_error_of([&] { model_from_json(bad).predict({Tensor(Shape{2, 4})}); });
  EXPECT_NE(m.find("reshape"), std::string::npos) << m;
  EXPECT_NE(m.find("cannot reshape a tensor of shape (2, 4)"), std::string::npos) << m;
  std::string unknown_kwarg = functional(
      json::array(
          {keras3_op("numpy", "Sum", "sum", {{"axis", 1}, {"keepdims", false}, {"where", true}}, {input_ref()})}),
      "sum");
  m = testing::value_error_of([&] { model_from_json(unknown_kwarg); });
  EXPECT_NE(m.find("operation \"sum\" (Sum)"), std::string::npos) << m;
  EXPECT_NE(m.find("has no argument \"where\""), std::string::npos) << m;
  std::string out_of_range = functional(
      json::array({keras3_op(
          "numpy", "GetItem", "get_item", json({{"name", "get_item"}}),
          {input_ref(), json::array({{{"class_name", "__slice__"},
                                      {"config", {{"start", nullptr}, {"stop", nullptr}, {"step", nullptr}}}},
                                     7})})}),
      "get_item");
  m = testing::value_error_of([&] { model_from_json(out_of_range); });
  EXPECT_NE(m.find("index 7 is out of bounds for axis"), std::string::npos) << m;
}

// Keras's predict() joins batches along axis 0; an output without the batch axis (a sum over
// every axis) cannot be joined: a clear error, while predict_on_batch() computes it.
TEST(Operations, OutputsWithoutBatchAxisOnlyByBatch) {
  Model m = model_from_json(functional(
      json::array({keras3_op("numpy", "Sum", "sum", {{"axis", nullptr}, {"keepdims", false}}, {input_ref()})}), "sum"));
  Tensor x(Shape{2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  std::string e = testing::value_error_of([&] { m.predict({x}); });
  EXPECT_NE(e.find("has no batch axis"), std::string::npos) << e;
  std::vector<Tensor> y;
  m.predict_on_batch({x}, y);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0].size(), 1);
  EXPECT_EQ(y[0][0], 36.0f);
}

}  // namespace
}  // namespace keras
