#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/functional.h"
#include "engine/naming.h"
#include "engine/summary.h"
#include "keras/errors.h"
#include "layers/core/input_layer.h"
#include "saving/model_config.h"

namespace keras {

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
      throw ValueError("All input arrays to predict() must have the same number of samples; got " +
                       x[0].shape().str() + " and " + t.shape().str());
  f.check_inputs(x);
  std::vector<std::vector<Tensor>> parts(f.outputs().size());
  CallContext ctx;
  for (Dim begin = 0; begin < n || (n == 0 && begin == 0); begin += options.batch_size) {
    std::vector<Tensor> batch;
    for (const Tensor& t : x) batch.push_back(n == 0 ? t : t.slice(begin, begin + options.batch_size));
    auto out = f.call(batch, ctx);
    for (size_t i = 0; i < out.size(); ++i) parts[i].push_back(std::move(out[i]));
    if (n == 0) break;
  }
  std::vector<Tensor> result;
  for (auto& p : parts) result.push_back(p.size() == 1 ? std::move(p[0]) : Tensor::concatenate(p));
  return result;
}

Tensor Model::predict(const Tensor& x, const PredictOptions& options) const {
  auto out = predict(std::vector<Tensor>{x}, options);
  if (out.size() != 1) throw ValueError("Model \"" + name() + "\" has " + std::to_string(out.size()) + " outputs; use predict({x...})");
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
