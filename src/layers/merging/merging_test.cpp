// Merging layers against hand-computed values and Keras's messages
// (keras/src/layers/merging/*.py).
#include <functional>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "test_helpers.h"

namespace keras {
namespace {

using testing::AllClose;

// Eager call of a list-input layer (inference).
Tensor run(const Layer& l, const std::vector<Tensor>& inputs) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) {
    Shape s = t.shape();
    s[0] = None;
    shapes.push_back(s);
  }
  l->build(shapes);
  return l->call(inputs, {}).at(0);
}

Tensor t2(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{1, n}, std::move(v));
}

TEST(ElementwiseMerge, FoldsLeftToRight) {
  Tensor a = t2({1, 2}), b = t2({3, 6}), c = t2({-1, 10});
  EXPECT_TRUE(AllClose(run(layers::Add(), {a, b, c}), t2({3, 18})));
  EXPECT_TRUE(AllClose(run(layers::Subtract(), {a, b}), t2({-2, -4})));
  EXPECT_TRUE(AllClose(run(layers::Multiply(), {a, b, c}), t2({-3, 120})));
  EXPECT_TRUE(AllClose(run(layers::Average(), {a, b}), t2({2, 4})));
  EXPECT_TRUE(AllClose(run(layers::Maximum(), {a, b, c}), t2({3, 10})));
  EXPECT_TRUE(AllClose(run(layers::Minimum(), {a, b, c}), t2({-1, 2})));
}

TEST(ElementwiseMerge, BroadcastsLikeNumpyAfterExpandingBelowTheBatchAxis) {
  // (N, 3) + (N, 1) -> (N, 3).
  EXPECT_TRUE(AllClose(run(layers::Add(), {t2({1, 2, 3}), t2({10})}), t2({11, 12, 13})));
  // (N, 2, 3) * (N, 3): the rank-2 input becomes (N, 1, 3).
  Tensor x(Shape{1, 2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(AllClose(run(layers::Multiply(), {x, t2({1, 0, -1})}), Tensor(Shape{1, 2, 3}, {1, 0, -3, 4, 0, -6})));
  auto a = Input({2, 3}), b = Input({3});
  EXPECT_EQ(layers::Add()({a, b}).shape(), (Shape{None, 2, 3}));
  EXPECT_EQ(layers::Add()({Input({3}), Input({1})}).shape(), (Shape{None, 3}));
  EXPECT_EQ(layers::Add()({Input({None, 3}), Input({4, 3})}).shape(), (Shape{None, None, 3}));
}

TEST(ElementwiseMerge, KerasErrors) {
  EXPECT_EQ(testing::value_error_of([] { layers::Add({.name = "add_x"})({Input({3}), Input({4})}); }),
            "Layer \"add_x\" (Add): Inputs have incompatible shapes. Received shapes (3,) and (4,)");
  EXPECT_EQ(testing::value_error_of([] {
              layers::Maximum({.name = "m"})({Input({.shape = {3}, .batch_size = 2}), Input({.shape = {3}, .batch_size = 4})});
            }),
            "Layer \"m\" (Maximum): Cannot merge tensors with different batch sizes. Received tensors with shapes "
            "[(2, 3), (4, 3)]");
  EXPECT_EQ(testing::value_error_of([] { layers::Subtract({.name = "s"})({Input({2}), Input({2}), Input({2})}); }),
            "Layer \"s\" (Subtract): A `Subtract` layer should be called on exactly 2 inputs. Received: "
            "input_shape=[(None, 2), (None, 2), (None, 2)]");
}

TEST(Concatenate, JoinsAlongTheAxis) {
  EXPECT_TRUE(AllClose(run(layers::Concatenate(), {t2({1, 2}), t2({3, 4, 5})}), t2({1, 2, 3, 4, 5})));
  // Keras docstring shapes: (2, 2, 5) and (2, 1, 5) on axis 1 -> (2, 3, 5); smaller here.
  Tensor x(Shape{2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}), y(Shape{2, 1, 2}, {20, 21, 22, 23});
  EXPECT_TRUE(AllClose(run(layers::Concatenate(1), {x, y}),
                       Tensor(Shape{2, 3, 2}, {0, 1, 2, 3, 20, 21, 4, 5, 6, 7, 22, 23})));
  EXPECT_EQ(layers::Concatenate(1)({Input({None, 3}), Input({4, 3})}).shape(), (Shape{None, None, 3}));
  EXPECT_EQ(layers::Concatenate(1)({Input({2, 3}), Input({4, 3})}).shape(), (Shape{None, 6, 3}));
}

TEST(Concatenate, MismatchedShapesError) {
  EXPECT_EQ(testing::value_error_of([] { layers::Concatenate({.name = "c"})({Input({2, 3}), Input({4, 5})}); }),
            "Layer \"c\" (Concatenate): A `Concatenate` layer requires inputs with matching shapes except for the "
            "concatenation axis. Received: input_shape=[(None, 2, 3), (None, 4, 5)]");
  EXPECT_THROW(layers::Concatenate()({Input({2, 3}), Input({6})}), ValueError);
}

TEST(MergingLayers, FunctionalUseAndHelpers) {
  auto a = Input({2}), b = Input({2});
  auto cat = layers::Concatenate()({a, b});
  auto sum = layers::add({a, b});
  auto out = layers::concatenate({cat, sum, layers::subtract({a, b}), layers::maximum({a, b})});
  Model m({a, b}, {out});
  auto got = m.predict(std::vector<Tensor>{t2({1, 2}), t2({5, -1})});
  EXPECT_TRUE(AllClose(got.at(0), t2({1, 2, 5, -1, 6, 1, -4, 3, 5, 2})));
  EXPECT_EQ(m.get_layer(cat.node()->layer->name())->class_name(), "Concatenate");
}

TEST(MergingLayers, ConfigRoundTrip) {
  Layer c = layers::concatenate_from_config({{"name", "cc"}, {"axis", 1}}, {});
  EXPECT_EQ(c.name(), "cc");
  EXPECT_EQ(c->get_config()["axis"], 1);
  EXPECT_TRUE(c->takes_list_input());
  EXPECT_EQ(layers::add_from_config({{"name", "a"}}, {})->class_name(), "Add");
}

TEST(Dot, KerasDocstringExample) {
  // x = arange(10).reshape(1, 5, 2), y = arange(10, 20).reshape(1, 2, 5), Dot(axes=(1, 2))
  // -> [[[260, 360], [320, 445]]].
  Tensor x(Shape{1, 5, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor y(Shape{1, 2, 5}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
  EXPECT_TRUE(AllClose(run(layers::Dot({1, 2}), {x, y}), Tensor(Shape{1, 2, 2}, {260, 360, 320, 445})));
}

TEST(Dot, VectorsGiveBatchByOne) {
  EXPECT_TRUE(AllClose(run(layers::Dot(1), {t2({1, 2, 3}), t2({4, 5, 6})}), Tensor(Shape{1, 1}, {32})));
  // normalize=True: cosine of (3, 4) and (4, 3) = 24 / 25.
  EXPECT_TRUE(AllClose(run(layers::Dot(1, true), {t2({3, 4}), t2({4, 3})}), Tensor(Shape{1, 1}, {0.96f})));
  EXPECT_EQ(layers::Dot(-1)({Input({3}), Input({3})}).shape(), (Shape{None, 1}));
  // (N, 4, 3) . (N, 3) along the last axes -> (N, 4).
  EXPECT_EQ(layers::Dot(-1)({Input({4, 3}), Input({3})}).shape(), (Shape{None, 4}));
  Tensor m(Shape{1, 2, 3}, {1, 0, 0, 0, 1, 1});
  EXPECT_TRUE(AllClose(run(layers::Dot(-1), {m, t2({2, 3, 4})}), Tensor(Shape{1, 2}, {2, 7})));
}

TEST(Dot, MismatchedAxesError) {
  EXPECT_EQ(testing::value_error_of([] { layers::Dot({.axes = 1, .name = "d"})({Input({3}), Input({4})}); }),
            "Layer \"d\" (Dot): Incompatible input shapes: axis values 3 (at axis 1) != 4 (at axis 1). Full input "
            "shapes: (None, 3), (None, 4)");
  EXPECT_THROW(layers::Dot({1, 2, 3}), ValueError);
}

TEST(MergeKeras1, ModesMapToKeras2Layers) {
  Tensor a = t2({1, 2}), b = t2({3, 6});
  EXPECT_TRUE(AllClose(run(layers::merge_from_config({{"name", "m1"}, {"mode", "sum"}}, {}), {a, b}), t2({4, 8})));
  EXPECT_TRUE(AllClose(run(layers::merge_from_config({{"name", "m2"}, {"mode", "ave"}}, {}), {a, b}), t2({2, 4})));
  EXPECT_TRUE(AllClose(run(layers::merge_from_config({{"name", "m3"}, {"mode", "concat"}, {"concat_axis", -1}}, {}), {a, b}),
                       t2({1, 2, 3, 6})));
  EXPECT_TRUE(AllClose(run(layers::merge_from_config({{"name", "m4"}, {"mode", "dot"}, {"dot_axes", -1}}, {}), {a, b}),
                       Tensor(Shape{1, 1}, {15})));
  Layer m = layers::merge_from_config({{"name", "m5"}, {"mode", "mul"}}, {});
  EXPECT_EQ(m->class_name(), "Merge");
  EXPECT_EQ(m.name(), "m5");
  EXPECT_THROW(layers::merge_from_config({{"name", "m6"}, {"mode", "cos"}}, {}), ValueError);
}

TEST(MergeKeras1, FunctionalKeras1Json) {
  std::string json = R"({"class_name": "Model", "config": {"name": "model_1", "layers": [
      {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "input_1"}, "inbound_nodes": []},
      {"name": "input_2", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "input_2"}, "inbound_nodes": []},
      {"name": "merge_1", "class_name": "Merge", "config": {"name": "merge_1", "mode": "concat", "concat_axis": -1,
       "dot_axes": -1, "mode_type": "raw", "output_shape": null, "output_shape_type": "raw", "output_mask": null,
       "output_mask_type": "raw", "arguments": {}},
       "inbound_nodes": [[["input_1", 0, 0], ["input_2", 0, 0]]]}],
      "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]], "output_layers": [["merge_1", 0, 0]]},
      "keras_version": "1.2.2"})";
  Model m = model_from_json(json, ConfigContext{.keras_major = 1});
  auto got = m.predict(std::vector<Tensor>{t2({1, 2}), t2({3, 4})});
  EXPECT_TRUE(AllClose(got.at(0), t2({1, 2, 3, 4})));
}

}  // namespace
}  // namespace keras
