#include "engine/train/data_adapter.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/pyformat.h"
#include "keras/errors.h"
#include "keras/model.h"

namespace keras {

namespace engine {

namespace {

Dim rows(const Tensor& t) { return t.rank() > 0 ? t.dim(0) : 0; }

Data slice(const Data& d, Dim begin, Dim end) {
  Data out;
  for (const Tensor& t : d.x) out.x.push_back(t.slice(begin, end));
  for (const Tensor& t : d.y) out.y.push_back(t.slice(begin, end));
  if (!d.sample_weight.empty()) out.sample_weight = d.sample_weight.slice(begin, end);
  out.n = end - begin;
  return out;
}

Tensor take(const Tensor& t, const std::vector<Dim>& order, Dim begin, Dim end) {
  Dim n = rows(t), per = n ? t.size() / n : 0;
  std::vector<Dim> dims = t.shape().dims();
  dims[0] = end - begin;
  Tensor out{Shape(dims)};
  for (Dim i = begin; i < end; ++i) std::copy_n(t.data() + order[size_t(i)] * per, per, out.data() + (i - begin) * per);
  return out;
}

}  // namespace

Data make_data(std::vector<Tensor> x, std::vector<Tensor> y, Tensor sample_weight) {
  if (x.empty()) throw ValueError("Expected at least one input array (x)");
  if (y.empty()) throw ValueError("Expected at least one target array (y)");
  std::vector<Dim> sizes;
  for (const Tensor& t : x) sizes.push_back(rows(t));
  bool ambiguous = !sample_weight.empty() && rows(sample_weight) != sizes[0];
  for (Dim s : sizes) ambiguous = ambiguous || s != sizes[0];
  std::string ys;
  for (const Tensor& t : y) {
    ambiguous = ambiguous || rows(t) != sizes[0];
    ys += (ys.empty() ? "" : ", ") + std::to_string(rows(t));
  }
  if (ambiguous) {
    std::string xs;
    for (Dim s : sizes) xs += (xs.empty() ? "" : ", ") + std::to_string(s);
    std::string msg =
        "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.'x' sizes: " + xs +
        "\n'y' sizes: " + ys + "\n";
    if (!sample_weight.empty()) msg += "'sample_weight' sizes: " + std::to_string(rows(sample_weight)) + "\n";
    throw ValueError(msg);
  }
  return {std::move(x), std::move(y), std::move(sample_weight), sizes[0]};
}

std::pair<Data, Data> split(const Data& d, double validation_split) {
  Dim split_at = static_cast<Dim>(std::floor(double(d.n) * (1.0 - validation_split)));
  if (split_at == 0 || split_at == d.n)
    throw ValueError("Training data contains " + std::to_string(d.n) +
                     " samples, which is not sufficient to split it into a validation and training set as specified "
                     "by `validation_split=" +
                     python_float_repr(validation_split) +
                     "`. Either provide more data, or a different value for the `validation_split` argument.");
  return {slice(d, 0, split_at), slice(d, split_at, d.n)};
}

Tensor class_weights(const Tensor& y, const std::map<int, double>& class_weight) {
  Dim n = rows(y), per = n ? y.size() / n : 0;
  Tensor w(Shape{n}, 1.0f);
  for (Dim i = 0; i < n; ++i) {
    const float* row = y.data() + i * per;
    long label = per > 1 ? long(std::max_element(row, row + per) - row) : std::lround(row[0]);
    if (auto it = class_weight.find(int(label)); it != class_weight.end()) w[i] = static_cast<float>(it->second);
  }
  return w;
}

Batch batch_of(const Data& d, const std::vector<Dim>& order, Dim begin, Dim end) {
  Batch b;
  for (const Tensor& t : d.x) b.x.push_back(take(t, order, begin, end));
  for (const Tensor& t : d.y) b.y.push_back(take(t, order, begin, end));
  if (!d.sample_weight.empty()) b.sample_weight = take(d.sample_weight, order, begin, end);
  return b;
}

std::vector<Dim> identity(Dim n) {
  std::vector<Dim> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Dim{0});
  return order;
}

void shuffle(std::vector<Dim>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng() % i)]);
}

void check_batch_size(int batch_size, const char* what) {
  if (batch_size <= 0)
    throw ValueError(std::string("`") + what + "` must be a positive integer. Received: " + what + "=" +
                     std::to_string(batch_size));
}

}  // namespace engine

ValidationData::ValidationData(Tensor x_, Tensor y_, Tensor sample_weight_)
    : x{std::move(x_)}, y{std::move(y_)}, sample_weight(std::move(sample_weight_)) {}
ValidationData::ValidationData(std::vector<Tensor> x_, Tensor y_, Tensor sample_weight_)
    : x(std::move(x_)), y{std::move(y_)}, sample_weight(std::move(sample_weight_)) {}
ValidationData::ValidationData(std::vector<Tensor> x_, std::vector<Tensor> y_, Tensor sample_weight_)
    : x(std::move(x_)), y(std::move(y_)), sample_weight(std::move(sample_weight_)) {}

}  // namespace keras
