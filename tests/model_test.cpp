// Functional graphs, Sequential, naming, weights.
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
