// Metrics against the examples of Keras's docstrings (keras/src/metrics/*.py) and hand counts.
#include "keras/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_helpers.h"

namespace keras {
namespace {

using namespace metrics;

Tensor t2(std::vector<float> v, Dim cols) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n / cols, cols}, std::move(v));
}
Tensor t1(std::vector<float> v) {
  Dim n = static_cast<Dim>(v.size());
  return Tensor(Shape{n}, std::move(v));
}

TEST(Metrics, AccuracyResolvedByShapesAsKeras) {
  EXPECT_EQ(get("accuracy", Shape{8, 1}, Shape{8, 1})->class_name(), "BinaryAccuracy");
  EXPECT_EQ(get("accuracy", Shape{8}, Shape{8, 10})->class_name(), "SparseCategoricalAccuracy");
  EXPECT_EQ(get("acc", Shape{8, 1}, Shape{8, 10})->class_name(), "SparseCategoricalAccuracy");
  EXPECT_EQ(get("accuracy", Shape{8, 10}, Shape{8, 10})->class_name(), "CategoricalAccuracy");
  EXPECT_EQ(get("acc", Shape{8, 10}, Shape{8, 10})->name(), "acc");  // named as given
  Metric m("accuracy");
  EXPECT_FALSE(m);
  EXPECT_EQ(m.name(), "accuracy");
  m.resolve(Shape{4}, Shape{4, 3});
  EXPECT_EQ(m->class_name(), "SparseCategoricalAccuracy");
  EXPECT_EQ(Metric("mae")->class_name(), "MeanAbsoluteError");
  EXPECT_EQ(Metric("mae").name(), "mae");
}

TEST(Metrics, AccuracyDocstrings) {
  Metric binary = BinaryAccuracy();
  binary->update_state(t2({1, 1, 0, 0}, 1), t2({0.98f, 1, 0, 0.6f}, 1));
  EXPECT_DOUBLE_EQ(binary->result(), 0.75);
  binary->reset_state();
  binary->update_state(t2({1, 1, 0, 0}, 1), t2({0.98f, 1, 0, 0.6f}, 1), t1({1, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(binary->result(), 0.5);

  Metric cat = CategoricalAccuracy();
  cat->update_state(t2({0, 0, 1, 0, 1, 0}, 3), t2({0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0}, 3));
  EXPECT_DOUBLE_EQ(cat->result(), 0.5);
  cat->reset_state();
  cat->update_state(t2({0, 0, 1, 0, 1, 0}, 3), t2({0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0}, 3), t1({0.7f, 0.3f}));
  EXPECT_NEAR(cat->result(), 0.3, 1e-7);

  Metric sparse = SparseCategoricalAccuracy();
  sparse->update_state(t2({2, 1}, 1), t2({0.1f, 0.6f, 0.3f, 0.05f, 0.95f, 0}, 3));
  EXPECT_DOUBLE_EQ(sparse->result(), 0.5);

  Metric topk = TopKCategoricalAccuracy({.k = 1});
  topk->update_state(t2({0, 0, 1, 0, 1, 0}, 3), t2({0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0}, 3));
  EXPECT_DOUBLE_EQ(topk->result(), 0.5);
  Metric sparse_topk = SparseTopKCategoricalAccuracy({.k = 1});
  sparse_topk->update_state(t1({2, 1}), t2({0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0}, 3));
  EXPECT_DOUBLE_EQ(sparse_topk->result(), 0.5);

  Metric acc = Accuracy();
  acc->update_state(t2({1, 2, 3, 4}, 1), t2({0, 2, 3, 4}, 1));
  EXPECT_DOUBLE_EQ(acc->result(), 0.75);
}

// Running values over batches: the mean of per-sample values, weighted by sample count.
TEST(Metrics, AccumulateOverBatches) {
  Metric mse = MeanSquaredError();
  mse->update_state(t2({0, 1}, 2), t2({1, 1}, 2));              // 0.5, 1 sample
  mse->update_state(t2({0, 0, 0, 0}, 2), t2({1, 0, 0, 0}, 2));  // 0.5 and 0, 2 samples
  EXPECT_NEAR(mse->result(), 1.0 / 3, 1e-7);
  Metric rmse = RootMeanSquaredError();
  rmse->update_state(t2({2, 4, 6}, 1), t2({1, 3, 2}, 1));
  EXPECT_NEAR(rmse->result(), std::sqrt(18.0 / 3), 1e-6);  // errors 1, 1, 4
  Mean mean;
  mean.update_value(2.0, 32);
  mean.update_value(4.0, 16);
  EXPECT_NEAR(mean.result(), (64.0 + 64.0) / 48, 1e-12);
}

TEST(Metrics, PrecisionRecallDocstrings) {
  Metric p = Precision();
  p->update_state(t1({0, 1, 1, 1}), t1({1, 0, 1, 1}));
  EXPECT_NEAR(p->result(), 2.0 / 3, 1e-7);
  p->reset_state();
  p->update_state(t1({0, 1, 1, 1}), t1({1, 0, 1, 1}), t1({0, 0, 1, 0}));
  EXPECT_DOUBLE_EQ(p->result(), 1.0);
  // top_k keeps the k largest predictions of each row as positives.
  Metric top = Precision({.top_k = 2});
  top->update_state(t2({0, 0, 1, 1}, 4), t2({0.9f, 0.1f, 0.8f, 0.2f}, 4));
  EXPECT_DOUBLE_EQ(top->result(), 0.5);
  Metric r = Recall();
  r->update_state(t1({0, 1, 1, 1}), t1({1, 0, 1, 1}));
  EXPECT_NEAR(r->result(), 2.0 / 3, 1e-7);
  r->reset_state();
  r->update_state(t1({0, 1, 1, 1}), t1({1, 0, 1, 1}), t1({0, 0, 1, 0}));
  EXPECT_DOUBLE_EQ(r->result(), 1.0);
}

// class_id counts one column only (by hand: column 0 has predictions 0.6 for label 0, a false
// positive, and 0.9 for label 1, a true positive; column 2 misses its one positive label).
TEST(Metrics, PrecisionRecallOfOneClass) {
  Tensor y_true = t2({0, 1, 0, 1, 0, 1}, 3), y_pred = t2({0.6f, 0.7f, 0.2f, 0.9f, 0.1f, 0.3f}, 3);
  Metric p = Precision({.class_id = 0});
  p->update_state(y_true, y_pred);
  EXPECT_DOUBLE_EQ(p->result(), 0.5);
  Metric r = Recall({.class_id = 2});
  r->update_state(y_true, y_pred);
  EXPECT_DOUBLE_EQ(r->result(), 0.0);
  Metric r1 = Recall({.class_id = 1});
  r1->update_state(y_true, y_pred);
  EXPECT_DOUBLE_EQ(r1->result(), 1.0);
}

TEST(Metrics, AUCDocstring) {
  Metric auc = AUC({.num_thresholds = 3});
  auc->update_state(t1({0, 0, 1, 1}), t1({0, 0.5f, 0.3f, 0.9f}));
  // thresholds [0 - 1e-7, 0.5, 1 + 1e-7]: tp [2, 1, 0], fp [2, 0, 0], fn [0, 1, 2], tn [0, 2, 2]
  // recall [1, 0.5, 0], fp_rate [1, 0, 0] -> (1 - 0) * (1 + 0.5) / 2 = 0.75.
  EXPECT_NEAR(auc->result(), 0.75, 1e-7);
  auc->reset_state();
  auc->update_state(t1({0, 0, 1, 1}), t1({0, 0.5f, 0.3f, 0.9f}), t1({1, 0, 0, 1}));
  EXPECT_NEAR(auc->result(), 1.0, 1e-7);
  Metric pr = AUC({.num_thresholds = 3, .curve = "PR", .summation_method = "majoring"});
  pr->update_state(t1({0, 0, 1, 1}), t1({0, 0.5f, 0.3f, 0.9f}));
  // recall [1, 0.5, 0], precision [0.5, 1, 0] -> 0.5 * 1 + 0.5 * 1 = 1.0.
  EXPECT_NEAR(pr->result(), 1.0, 1e-7);
}

TEST(Metrics, LossNamesAreMetrics) {
  Metric ce("categorical_crossentropy");
  ce->update_state(t2({0, 1, 0, 0, 0, 1}, 3), t2({0.05f, 0.95f, 0, 0.1f, 0.8f, 0.1f}, 3));
  EXPECT_NEAR(ce->result(), 1.177, 1e-3);
  EXPECT_EQ(ce->name(), "categorical_crossentropy");
  EXPECT_EQ(testing::value_error_of([] { Metric("nope"); }), "Could not interpret metric identifier: nope");
}

TEST(Metrics, Serialize) {
  EXPECT_EQ(serialize(Metric("accuracy")), "accuracy");
  nlohmann::json j = serialize(BinaryAccuracy({.threshold = 0.7}));
  EXPECT_EQ(j["class_name"], "BinaryAccuracy");
  EXPECT_EQ(j["config"]["threshold"], 0.7);
  EXPECT_EQ(deserialize(j)->get_config(), j["config"]);
}

}  // namespace
}  // namespace keras
