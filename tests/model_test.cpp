// Functional graphs, Sequential, naming, weights.
#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

TEST(Sequential, FlattenDenseShapesAndParams) {
  clear_session();
  Sequential model({Input({4, 5}), layers::Dense(3, "relu"), layers::Dense(2)});
  ASSERT_EQ(model.layers().size(), 2u);
  EXPECT_EQ(model.layers()[0].name(), "dense");
  EXPECT_EQ(model.layers()[1].name(), "dense_1");
  EXPECT_EQ(model.outputs()[0].shape(), (Shape{None, 4, 2}));
  EXPECT_EQ(model.count_params(), 5 * 3 + 3 + 3 * 2 + 2);
}

TEST(Functional, DenseOnLastAxisMatchesHandComputation) {
  auto x = Input({2, 3});
  auto d = layers::Dense(2);
  Model model(x, d(x));
  // kernel (3,2), bias (2): values chosen so each output is a distinct sum.
  model.set_weights({Tensor({3, 2}, {1, 0, 0, 1, 1, 1}), Tensor({2}, {10, 20})});
  Tensor in({1, 2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out = model.predict(in);
  EXPECT_EQ(out, Tensor({1, 2, 2}, {14, 25, 20, 31}));
}

TEST(Functional, RejectsWrongInputShape) {
  auto x = Input({3});
  Model model(x, layers::Dense(2)(x));
  EXPECT_THROW(model.predict(Tensor({2, 4})), ValueError);
}

}  // namespace
}  // namespace keras

namespace keras {
namespace {

// A user's own layer: y = scale * x, registered under its Keras class name.
class TimesLayer : public LayerImpl {
 public:
  TimesLayer(std::string name, float scale) : LayerImpl(std::move(name), "times"), scale_(scale) {}
  std::string class_name() const override { return "Times"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override { return in; }
  std::vector<Tensor> call(const std::vector<Tensor>& in, const CallContext&) const override {
    return {in[0] * scale_};
  }

 private:
  float scale_;
};

TEST(Registry, UserLayerIsBuiltFromItsClassName) {
  register_layer("Times", [](const nlohmann::json& c, const ConfigContext&) {
    return Layer(std::make_shared<TimesLayer>(c.at("name").get<std::string>(), c.at("scale").get<float>()));
  });
  Model m = model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "in"}},
      {"class_name": "Times", "config": {"name": "t", "scale": 3.0}}]}})");
  EXPECT_EQ(m.predict(Tensor({1, 2}, {1, 2})), Tensor({1, 2}, {3, 6}));
  EXPECT_EQ(m.layers()[0].name(), "t");
}

TEST(Registry, UnknownClassesAreAllNamedInOneError) {
  try {
    model_from_json(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "in"}},
        {"class_name": "Foo", "config": {"name": "foo"}}, {"class_name": "Dense", "config": {"name": "d", "units": 2}},
        {"class_name": "Bar", "config": {"name": "bar"}}]}})");
    FAIL() << "no error";
  } catch (const UnsupportedLayers& e) {
    EXPECT_NE(std::string(e.what()).find("Foo \"foo\", Bar \"bar\""), std::string::npos) << e.what();
  }
}

// Keras 3 writes `x * 2.0` and `x + 2.0` on a KerasTensor as keras.src.ops.numpy operations
// named like the Multiply and Add layers: they compute (x * 2.0) + 2.0, never run as those
// layers (which, given one tensor, would return x unchanged).
TEST(Registry, KerasOperationsAreComputedNotRunAsLayers) {
  const char* tensor_x =
      R"({"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["x", 0, 0]}})";
  auto op = [&](const std::string& cls, const std::string& name, const std::string& input) {
    return R"({"module": "keras.src.ops.numpy", "class_name": ")" + cls + R"(", "config": {"name": ")" + name +
           R"("}, "registered_name": ")" + cls + R"(", "name": ")" + name + R"(", "inbound_nodes": [{"args": [)" +
           input + R"(, 2.0], "kwargs": {}}]})";
  };
  std::string times =
      R"({"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["multiply", 0, 0]}})";
  std::string json = R"({"module": "keras", "class_name": "Functional", "registered_name": "Functional", "config": {
      "name": "f", "trainable": true, "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "x", "inbound_nodes": [],
         "config": {"batch_shape": [null, 3], "dtype": "float32", "sparse": false, "name": "x"}},)" +
                     op("Multiply", "multiply", tensor_x) + "," + op("Add", "add", times) + R"(],
      "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0]]}})";
  Model m = model_from_json(json);
  EXPECT_EQ(m.predict(Tensor({1, 3}, {1, 2, 3})), Tensor({1, 3}, {4, 6, 8}));
}

TEST(Naming, FollowsKeras3Counters) {
  clear_session();
  auto d0 = layers::Dense(1), d1 = layers::Dense(1), named = layers::Dense({.units = 1, .name = "mine"});
  EXPECT_EQ(d0.name(), "dense");
  EXPECT_EQ(d1.name(), "dense_1");
  EXPECT_EQ(named.name(), "mine");
  EXPECT_EQ(layers::Dense(1).name(), "dense_2");
  auto x = Input({2});
  EXPECT_EQ(x.node()->layer->name(), "input_layer");
  Sequential s({Input({2}), layers::Dense(1)});
  EXPECT_EQ(s.name(), "sequential");
  // Keras 3's Sequential builds a hidden Functional, which takes "functional": the next is _1.
  Model m(x, layers::Dense(1)(x));
  EXPECT_EQ(m.name(), "functional_1");
  clear_session();
  EXPECT_EQ(layers::Dense(1).name(), "dense");
}

TEST(Sequential, PopAndAddRebuild) {
  clear_session();
  Sequential s({Input({3}), layers::Dense(4), layers::Dense(2)});
  s.pop();
  EXPECT_EQ(s.layers().size(), 1u);
  EXPECT_EQ(s.outputs()[0].shape(), (Shape{None, 4}));
  s.add(layers::Dense(5));
  EXPECT_EQ(s.outputs()[0].shape(), (Shape{None, 5}));
  EXPECT_THROW(s.add(layers::Dense({.units = 1, .name = "dense"})), ValueError);
}

TEST(Predict, BatchesAndKeepsOrder) {
  auto x = Input({2});
  Model m(x, layers::Flatten()(x));
  Tensor in = Tensor::arange(0, 14).reshape({7, 2});
  EXPECT_EQ(m.predict(in, {.batch_size = 3}), in);
}

}  // namespace
}  // namespace keras
