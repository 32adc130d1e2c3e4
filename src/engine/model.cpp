#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/functional.h"
#include "engine/naming.h"
#include "keras/errors.h"
#include "layers/core/input_layer.h"
#include "saving/model_config.h"
#include "utils/summary.h"

namespace keras {

namespace {

Shape with_batch(const Shape& s, Dim batch) {
  std::vector<Dim> dims = s.dims();
  dims[0] = batch;
  return Shape(std::move(dims));
}

}  // namespace

Model::Model(const KerasTensor& inputs, const KerasTensor& outputs, std::string name)
    : Model(std::vector<KerasTensor>{inputs}, std::vector<KerasTensor>{outputs}, std::move(name)) {}

Model::Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name)
    : Layer(std::make_shared<FunctionalImpl>(std::move(inputs), std::move(outputs), std::move(name))) {}

Model::Model(std::shared_ptr<FunctionalImpl> impl) : Layer(std::move(impl)) {}

FunctionalImpl& Model::functional() const {
  if (!impl()) throw ValueError("Empty model");
  return static_cast<FunctionalImpl&>(*impl());
}

const std::string& Model::name() const { return functional().name(); }
std::vector<Layer> Model::layers() const { return functional().layers(); }

Layer Model::get_layer(const std::string& name) const {
  for (const Layer& l : layers())
    if (l.name() == name) return l;
  throw ValueError("No such layer: " + name + ". Existing layers are: " + [&] {
    std::string s;
    for (const Layer& l : layers()) s += (s.empty() ? "" : ", ") + l.name();
    return s;
  }() + ".");
}

Layer Model::get_layer(int index) const {
  std::vector<Layer> all = layers();
  auto n = static_cast<int>(all.size());
  if (index >= n || index < -n)
    throw ValueError("Was asked to retrieve layer at index " + std::to_string(index) + " but model only has " +
                     std::to_string(n) + " layers.");
  return all[static_cast<size_t>(index < 0 ? n + index : index)];
}

const std::vector<KerasTensor>& Model::inputs() const { return functional().inputs(); }
const std::vector<KerasTensor>& Model::outputs() const { return functional().outputs(); }

std::vector<Tensor> Model::predict(const std::vector<Tensor>& x, const PredictOptions& options) const {
  if (x.empty()) throw ValueError("predict() needs at least one input array");
  if (options.batch_size <= 0) throw ValueError("batch_size must be positive");
  if (!functional().has_graph()) {
    if (auto* seq = dynamic_cast<SequentialImpl*>(&functional())) seq->build_for(x[0].shape());
  }
  FunctionalImpl& f = functional();
  Dim n = x[0].rank() ? x[0].dim(0) : 0;
  for (const Tensor& t : x)
    if (t.rank() == 0 || t.dim(0) != n)
      throw ValueError("All input arrays to predict() must have the same number of samples; got " + x[0].shape().str() +
                       " and " + t.shape().str());
  // Keras checks each batch against the inputs' shapes: a model with a fixed batch size (a
  // stateful RNN's) predicts any number of samples, batch by batch.
  if (n == 0) {
    f.check_inputs(x);
    return f.call(x, CallContext{});
  }
  // Each batch runs the compiled plan for its shape straight from x into the result.
  std::vector<Tensor> result;
  std::vector<const float*> in(x.size());
  std::vector<float*> out;
  for (Dim begin = 0; begin < n; begin += options.batch_size) {
    Dim rows = std::min<Dim>(options.batch_size, n - begin);
    std::vector<Shape> shapes;
    for (const Tensor& t : x) shapes.push_back(with_batch(t.shape(), rows));
    if (begin == 0 || rows < options.batch_size) f.check_input_shapes(shapes);
    std::vector<const Shape*> shape_ptrs;
    for (const Shape& s : shapes) shape_ptrs.push_back(&s);
    auto plan = f.plan(shape_ptrs);
    if (result.empty()) {
      for (const Shape& s : plan->output_shapes())
        if (s.rank() == 0 || s[0] != rows)
          throw ValueError(
              "predict() joins the outputs of its batches along their first axis, as Keras does, but the "
              "model's output of shape " +
              s.str() + " for a batch of " + std::to_string(rows) +
              " samples has no batch axis; call predict_on_batch() on the whole input instead");
      for (const Shape& s : plan->output_shapes()) result.emplace_back(with_batch(s, n));
      for (Tensor& t : result) out.push_back(t.data());
    }
    for (size_t i = 0; i < x.size(); ++i) in[i] = x[i].data() + begin * (x[i].size() / n);
    std::vector<float*> dst;
    for (size_t i = 0; i < result.size(); ++i) dst.push_back(out[i] + begin * (result[i].size() / n));
    plan->run(in, dst);
  }
  return result;
}

void Model::reset_states() const { functional().reset_states(); }

void Model::predict_on_batch(const std::vector<Tensor>& x, std::vector<Tensor>& outputs) const {
  FunctionalImpl& f = functional();
  if (!f.has_graph() && !x.empty()) {
    if (auto* seq = dynamic_cast<SequentialImpl*>(&f)) seq->build_for(x[0].shape());
  }
  f.check_inputs(x);
  // Fixed-size arrays of pointers keep the steady state free of allocation for models with
  // up to 16 inputs and outputs; larger ones use vectors.
  constexpr size_t kSmall = 16;
  std::vector<const Shape*> shapes_heap;
  const Shape* shapes_small[kSmall];
  std::span<const Shape* const> shapes;
  if (x.size() <= kSmall) {
    for (size_t i = 0; i < x.size(); ++i) shapes_small[i] = &x[i].shape();
    shapes = {shapes_small, x.size()};
  } else {
    for (const Tensor& t : x) shapes_heap.push_back(&t.shape());
    shapes = shapes_heap;
  }
  auto plan = f.plan(shapes);
  const auto& out_shapes = plan->output_shapes();
  if (outputs.size() != out_shapes.size()) outputs.resize(out_shapes.size());
  for (size_t i = 0; i < out_shapes.size(); ++i)
    // (A default Tensor has a scalar's shape but no value.)
    if (outputs[i].shape() != out_shapes[i] || outputs[i].size() != out_shapes[i].num_elements())
      outputs[i] = Tensor(out_shapes[i]);
  const float* in_small[kSmall];
  float* out_small[kSmall];
  if (x.size() <= kSmall && outputs.size() <= kSmall) {
    for (size_t i = 0; i < x.size(); ++i) in_small[i] = x[i].data();
    for (size_t i = 0; i < outputs.size(); ++i) out_small[i] = outputs[i].data();
    plan->run({in_small, x.size()}, {out_small, outputs.size()});
    return;
  }
  std::vector<const float*> in;
  std::vector<float*> out;
  for (const Tensor& t : x) in.push_back(t.data());
  for (Tensor& t : outputs) out.push_back(t.data());
  plan->run(in, out);
}

Tensor Model::predict_on_batch(const Tensor& x) const {
  std::vector<Tensor> out;
  predict_on_batch(std::vector<Tensor>{x}, out);
  if (out.size() != 1)
    throw ValueError("Model \"" + name() + "\" has " + std::to_string(out.size()) +
                     " outputs; use predict_on_batch({x...}, outputs)");
  return std::move(out[0]);
}

Model::PlanInfo Model::plan_info(const std::vector<Shape>& input_shapes, bool training) const {
  std::vector<const Shape*> ptrs;
  for (const Shape& s : input_shapes) ptrs.push_back(&s);
  auto plan = training ? functional().training_plan(ptrs) : functional().plan(ptrs);
  return {plan->flops(), plan->arena_bytes(), plan->describe()};
}

std::string Model::profile(const std::vector<Tensor>& x, int runs) const {
  std::vector<const Shape*> shapes;
  std::vector<const float*> in;
  for (const Tensor& t : x) {
    shapes.push_back(&t.shape());
    in.push_back(t.data());
  }
  return functional().plan(shapes)->profile(in, runs);
}

void Model::set_runtime(std::shared_ptr<Runtime> runtime) const { functional().set_runtime(std::move(runtime)); }
std::shared_ptr<Runtime> Model::runtime() const { return functional().runtime(); }

Tensor Model::predict(const Tensor& x, const PredictOptions& options) const {
  auto out = predict(std::vector<Tensor>{x}, options);
  if (out.size() != 1)
    throw ValueError("Model \"" + name() + "\" has " + std::to_string(out.size()) + " outputs; use predict({x...})");
  return std::move(out[0]);
}

Dim Model::count_params() const { return functional().count_params(); }
std::vector<Tensor> Model::get_weights() const { return functional().get_weights(); }
void Model::set_weights(const std::vector<Tensor>& weights) const { functional().set_weights(weights); }

void Model::summary(const SummaryOptions& options) const { summary(std::cout, options); }
void Model::summary(std::ostream& os, const SummaryOptions& options) const {
  os << summary_string(options);
  os.flush();
}
std::string Model::summary_string(const SummaryOptions& options) const {
  return engine::format_summary(functional(), options);
}

std::string Model::to_json() const { return saving::model_to_json(functional()); }

SequentialItem::SequentialItem(const KerasTensor& input) {
  if (!input.defined() || !input.node()->inputs.empty() ||
      !dynamic_cast<layers::InputLayerImpl*>(input.node()->layer.get()))
    throw ValueError("Only the result of keras::Input can be given to Sequential as a tensor");
  layer_ = Layer(input.node()->layer);
}

Sequential::Sequential(std::string name) : Model(std::make_shared<SequentialImpl>(std::move(name))) {}

Sequential::Sequential(std::initializer_list<SequentialItem> layers, std::string name) : Sequential(std::move(name)) {
  for (const SequentialItem& item : layers) sequential().add(item.layer(), /*rebuild=*/false);
  sequential().rebuild_if_possible();
}

Sequential::Sequential(const std::vector<Layer>& layers, std::string name) : Sequential(std::move(name)) {
  for (const Layer& l : layers) sequential().add(l, /*rebuild=*/false);
  sequential().rebuild_if_possible();
}

SequentialImpl& Sequential::sequential() const { return static_cast<SequentialImpl&>(functional()); }
void Sequential::add(const SequentialItem& layer) { sequential().add(layer.layer()); }
void Sequential::pop() { sequential().pop(); }
void Sequential::build(const Shape& input_shape) { sequential().build_for(input_shape); }

void clear_session() { naming::reset(); }

}  // namespace keras
