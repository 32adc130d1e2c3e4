// Regularizer and constraint configs as Keras writes them (Keras 3, tf.keras 2, Keras 1), kept
// on the layer and written back; errors as Keras's. Their arithmetic in training and evaluate is
// checked against PyTorch float64 in tests/training_parity_test.cpp (the regularizers_*,
// activity_regularizers_* and constraints_* fixtures).
#include "keras/regularizers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "keras/keras.h"
#include "test_helpers.h"

namespace keras {
namespace {

using nlohmann::json;

Model dense_model(const std::string& dense_config) {
  return model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [null, 3], "name": "in"}},
    {"class_name": "Dense", "config": )" +
                         dense_config + "}]}}");
}

json layer_config(const Model& m, const std::string& name) {
  json model = json::parse(m.to_json());  // alive through the loop
  for (const json& l : model["config"]["layers"])
    if (l["config"]["name"] == name) return l["config"];
  return nullptr;
}

TEST(Regularizers, Keras3ConfigsAreKeptAndWrittenBack) {
  Model m = dense_model(R"({"name": "d", "units": 2,
    "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0001}, "registered_name": null},
    "bias_regularizer": {"module": "keras.regularizers", "class_name": "OrthogonalRegularizer", "config": {"factor": 0.5, "mode": "columns"}, "registered_name": null},
    "kernel_constraint": {"module": "keras.constraints", "class_name": "MinMaxNorm", "config": {"min_value": 0.1, "max_value": 2.0, "rate": 0.5, "axis": [0, 1]}, "registered_name": null},
    "bias_constraint": {"module": "keras.constraints", "class_name": "NonNeg", "config": {}, "registered_name": null},
    "activity_regularizer": {"module": "keras.regularizers", "class_name": "L1", "config": {"l1": 0.5}, "registered_name": null}})");
  json c = layer_config(m, "d");
  EXPECT_EQ(c["kernel_regularizer"]["class_name"], "L2");
  EXPECT_EQ(c["kernel_regularizer"]["config"], json({{"l2", 0.0001}}));
  EXPECT_EQ(c["bias_regularizer"]["config"], json({{"factor", 0.5}, {"mode", "columns"}}));
  EXPECT_EQ(c["kernel_constraint"]["config"],
            json({{"min_value", 0.1}, {"max_value", 2.0}, {"rate", 0.5}, {"axis", {0, 1}}}));
  EXPECT_EQ(c["bias_constraint"]["class_name"], "NonNeg");
  EXPECT_EQ(c["activity_regularizer"]["config"], json({{"l1", 0.5}}));
  EXPECT_EQ(c["kernel_regularizer"]["module"], "keras.regularizers");
  const LayerImpl& d = *m.get_layer("d").impl();
  EXPECT_EQ(d.regularizer_of(*d.variables()[0])->class_name(), "L2");
  EXPECT_EQ(d.constraint_of(*d.variables()[1])->class_name(), "NonNeg");
}

TEST(Regularizers, TfKeras2AndKeras1FormsAreRead) {
  Model k2 = dense_model(R"({"name": "d", "units": 2,
    "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 9.999999747378752e-05}},
    "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}})");
  json c = layer_config(k2, "d");
  EXPECT_EQ(c["kernel_regularizer"]["class_name"], "L1L2");
  EXPECT_EQ(c["kernel_constraint"]["config"], json({{"max_value", 3.0}, {"axis", 0}}));
  // Keras 1: W_/b_ prefixes, {"name": ...} objects, MaxNorm's "m".
  Model k1 = dense_model(R"({"name": "d", "output_dim": 2,
    "W_regularizer": {"name": "WeightRegularizer", "l1": 0.01, "l2": 0.0},
    "b_constraint": {"name": "MaxNorm", "m": 1.5, "axis": 0}})");
  c = layer_config(k1, "d");
  EXPECT_EQ(c["kernel_regularizer"]["config"], json({{"l1", 0.01}, {"l2", 0.0}}));
  EXPECT_EQ(c["bias_constraint"]["config"], json({{"max_value", 1.5}, {"axis", 0}}));
  // String identifiers, as keras.regularizers.get / keras.constraints.get.
  EXPECT_EQ(regularizers::serialize("l2")["config"], json({{"l2", 0.01}}));
  EXPECT_EQ(regularizers::serialize("orthogonal_regularizer")["config"], json({{"factor", 0.01}, {"mode", "rows"}}));
  EXPECT_EQ(constraints::serialize("unit_norm")["class_name"], "UnitNorm");
}

TEST(Regularizers, WrappedLayersKeepTheirs) {
  Model m = model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 3], "name": "in"}},
    {"class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": "concat", "layer":
      {"class_name": "LSTM", "config": {"name": "lstm", "units": 2,
        "recurrent_regularizer": {"class_name": "L2", "config": {"l2": 0.5}}}}}}]}})");
  std::string text = m.to_json();
  EXPECT_EQ(
      json::parse(text)["config"]["layers"][1]["config"]["layer"]["config"]["recurrent_regularizer"]["class_name"],
      "L2")
      << text;
  EXPECT_EQ(
      json::parse(
          text)["config"]["layers"][1]["config"]["backward_layer"]["config"]["recurrent_regularizer"]["class_name"],
      "L2")
      << text;
}

TEST(Regularizers, SavedFilesKeepThem) {
  Layer dense = layers::Dense({.units = 2, .name = "dense"});
  dense->set_regularizer("kernel", regularizers::L2(0.25));
  dense->set_constraint("bias", constraints::MaxNorm(1.0));
  Model m = Sequential({Input({3}), dense});
  auto dir = std::filesystem::temp_directory_path() / ("regularizers_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* file : {"m.keras", "m.h5"}) {
    m.save(dir / file);
    Model back = load_model(dir / file);
    json c = layer_config(back, "dense");
    EXPECT_EQ(c["kernel_regularizer"]["config"], json({{"l2", 0.25}})) << file;
    EXPECT_EQ(c["bias_constraint"]["class_name"], "MaxNorm") << file;
  }
  std::filesystem::remove_all(dir);
}

TEST(Regularizers, BadOnesAreClearErrors) {
  auto message = [](const std::function<void()>& f) { return testing::value_error_of(f); };
  EXPECT_EQ(message([] { regularizers::L2(-1.0); }),
            "Invalid value for argument l2: expected a non-negative float.Received: l2=-1.000000");
  EXPECT_EQ(message([] { regularizers::Regularizer("l3"); }), "Could not interpret regularizer identifier: l3");
  EXPECT_EQ(message([] { constraints::Constraint("positive"); }),
            "Could not interpret constraint identifier: positive");
  EXPECT_NE(
      message([] { regularizers::OrthogonalRegularizer(0.1, "diagonal"); }).find("Invalid value for argument `mode`"),
      std::string::npos);
  Tensor w(Shape{2, 2, 2});
  EXPECT_EQ(message([&] { regularizers::OrthogonalRegularizer()->penalty(w, nullptr); }),
            "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=(2, 2, 2)");
  // A rule for a weight the layer does not have fails when fit() asks for it.
  Layer dense = layers::Dense({.units = 2, .use_bias = false});
  dense->set_regularizer("bias", regularizers::L2());
  Model m = Sequential({Input({3}), dense});
  m.compile({.optimizer = "sgd", .loss = "mse"});
  EXPECT_NE(message([&] {
              m.fit(Tensor(Shape{2, 3}), Tensor(Shape{2, 2}), {.verbose = 0});
            }).find("has no weight \"bias\""),
            std::string::npos);
}

}  // namespace
}  // namespace keras
