#pragma once
// The arrays fit() and evaluate() are given, as Keras's array data adapter
// (keras/src/trainers/data_adapters): cardinality checks, validation_split, class weights,
// a seeded shuffle per epoch, and batches gathered in that order.
#include <map>
#include <random>
#include <vector>

#include "engine/train/compile_utils.h"
#include "keras/tensor.h"

namespace keras::engine {

// The arrays of fit() or evaluate(): n samples along the first axis of each.
struct Data {
  std::vector<Tensor> x;
  std::vector<Tensor> y;  // one per output
  Tensor sample_weight;
  Dim n = 0;
  bool empty() const { return x.empty(); }
};

// data_adapter_utils.check_data_cardinality: ValueError unless every array has n rows.
Data make_data(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sample_weight);
// array_slicing.train_validation_split: the last fraction, before any shuffling.
std::pair<Data, Data> split(const Data& d, double validation_split);
// data_adapter_utils.class_weight_to_sample_weights: the class is argmax(y) for one-hot
// targets, else the rounded label.
Tensor class_weights(const Tensor& y, const std::map<int, double>& class_weight);
// Rows order[begin, end) of every array.
Batch batch_of(const Data& d, const std::vector<Dim>& order, Dim begin, Dim end);
std::vector<Dim> identity(Dim n);
// Fisher-Yates with the raw 64-bit draws, so a seed gives the same order on every platform.
void shuffle(std::vector<Dim>& order, std::mt19937_64& rng);
inline Dim steps_for(Dim n, int batch_size) { return (n + batch_size - 1) / batch_size; }
// ValueError unless batch_size > 0; `what` names the argument.
void check_batch_size(int batch_size, const char* what);

}  // namespace keras::engine
