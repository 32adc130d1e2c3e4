// Keras 1/2 weights in HDF5 (model_weights of a full-model .h5, or a weights-only .h5), loaded
// by order as Keras's load_weights_from_hdf5_group does.
#include <algorithm>
#include <map>
#include <set>

#include "engine/functional.h"
#include "keras/errors.h"
#include "layers/rnn/weights.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

void collect_trainable(LayerImpl& layer, std::vector<Variable*>& out) {
  if (!layer.trainable()) return;
  if (auto* model = dynamic_cast<FunctionalImpl*>(&layer)) {
    for (const Layer& child : model->layers()) collect_trainable(*child, out);
    return;
  }
  for (Variable* v : layer.variables())
    if (v->trainable) out.push_back(v);
}

void collect_non_trainable(LayerImpl& layer, std::vector<Variable*>& out) {
  if (auto* model = dynamic_cast<FunctionalImpl*>(&layer)) {
    for (const Layer& child : model->layers()) {
      if (layer.trainable()) {
        collect_non_trainable(*child, out);
      } else {
        auto all = legacy_weights(*child);
        out.insert(out.end(), all.begin(), all.end());
      }
    }
    return;
  }
  for (Variable* v : layer.variables())
    if (!layer.trainable() || !v->trainable) out.push_back(v);
}

std::string attr_or(const hdf5::Group& g, const std::string& name, const std::string& fallback) {
  return g.has_attr(name) ? g.attr_string(name) : fallback;
}

std::string prefix(const hdf5::Group& g) { return g.file_name() + ": "; }

// The saved layers that hold weights, as Keras filters layer_names.
std::vector<std::string> saved_layers_with_weights(const hdf5::Group& weights) {
  std::vector<std::string> names;
  for (const std::string& name : weights.attr_strings("layer_names")) {
    if (!weights.has_group(name)) weights.fail(name, "is listed in layer_names but missing");
    if (!weights.group(name).attr_strings("weight_names").empty()) names.push_back(name);
  }
  return names;
}

std::vector<Tensor> read_saved_weights(const hdf5::Group& layer_group) {
  std::vector<Tensor> values;
  for (const std::string& w : layer_group.attr_strings("weight_names")) values.push_back(layer_group.read(w));
  return values;
}

void assign(const hdf5::Group& weights, size_t k, const std::string& saved_name, LayerImpl& layer,
            std::vector<Tensor> values) {
  std::vector<Variable*> vars = legacy_weights(layer);
  std::string which = "layer #" + std::to_string(k) + " (named " + layer.name() + " in the current model, " +
                      saved_name + " in the save file)";
  if (values.size() != vars.size())
    throw ValueError(prefix(weights) + "Weight count mismatch for " + which + ". Layer expects " +
                     std::to_string(vars.size()) + " weight(s). Received " + std::to_string(values.size()) +
                     " saved weight(s)");
  for (size_t i = 0; i < vars.size(); ++i)
    if (values[i].shape() != vars[i]->value.shape())
      throw ValueError(prefix(weights) + "Shape mismatch in " + which + " for weight " + layer.name() + "/" +
                       vars[i]->name + ". Weight expects shape " + vars[i]->value.shape().str() +
                       ". Received saved weight with shape " + values[i].shape().str());
  for (size_t i = 0; i < vars.size(); ++i) {
    vars[i]->value = std::move(values[i]);
    ++vars[i]->version;
  }
}

// "<layer>/<variable>" for every variable a layer holds ("lstm/cell/kernel", and for a nested
// model "<sublayer>/<variable>"), as Keras 3's legacy .h5 names weights by their paths.
void variable_paths(LayerImpl& layer, std::map<const Variable*, std::string>& out) {
  if (auto* model = dynamic_cast<FunctionalImpl*>(&layer)) {
    for (const Layer& child : model->layers()) variable_paths(*child, out);
    return;
  }
  for (const auto& group : layers::rnn::keras3_variable_groups(layer))
    for (const Variable* v : group.variables)
      out.emplace(v, layer.name() + "/" + (group.path.empty() ? "" : group.path + "/") + v->name);
}

std::vector<std::string> weight_names(LayerImpl& layer, const std::vector<Variable*>& vars) {
  std::map<const Variable*, std::string> paths;
  variable_paths(layer, paths);
  std::vector<std::string> names;
  std::set<std::string> used;
  for (const Variable* v : vars) {
    std::string base = paths.count(v) ? paths[v] : layer.name() + "/" + v->name, name = base;
    for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

// save_attributes_to_hdf5_group: a list too big for one HDF5 object header (64512 bytes) is
// split into name0, name1... in as few chunks as fit.
void set_chunked_attr(const hdf5::Group& g, const std::string& name, const std::vector<std::string>& values) {
  const size_t limit = 64512;
  size_t width = 1;
  for (const std::string& v : values) width = std::max(width, v.size());
  size_t chunks = 1;
  while (((values.size() + chunks - 1) / chunks) * width > limit) ++chunks;
  if (chunks == 1) return g.set_attr(name, values);
  // numpy.array_split: the first (size % chunks) chunks get one extra element.
  size_t base = values.size() / chunks, extra = values.size() % chunks, pos = 0;
  for (size_t c = 0; c < chunks; ++c) {
    size_t n = base + (c < extra ? 1 : 0);
    g.set_attr(name + std::to_string(c),
               std::vector<std::string>(values.begin() + static_cast<std::ptrdiff_t>(pos),
                                        values.begin() + static_cast<std::ptrdiff_t>(pos + n)));
    pos += n;
  }
}

}  // namespace

void save_legacy_weights(const Model& model, const hdf5::Group& weights) {
  std::vector<Layer> layers = model.layers();
  std::vector<std::string> names;
  for (const Layer& l : layers) names.push_back(l.name());
  set_chunked_attr(weights, "layer_names", names);
  weights.set_attr("backend", kBackend);
  weights.set_attr("keras_version", kKerasVersion);
  for (const Layer& l : layers) {
    hdf5::Group g = weights.create_group(l.name());
    std::vector<Variable*> vars = legacy_weights(*l);
    std::vector<std::string> wnames = weight_names(*l, vars);
    set_chunked_attr(g, "weight_names", wnames);
    for (size_t i = 0; i < vars.size(); ++i) g.write(wnames[i], vars[i]->value);
  }
  weights.create_group("top_level_model_weights").set_attr("weight_names", std::vector<std::string>{});
}

std::vector<Variable*> legacy_weights(LayerImpl& layer) {
  std::vector<Variable*> out;
  collect_trainable(layer, out);
  collect_non_trainable(layer, out);
  // A layer shared by two nested models holds its weights once.
  std::set<Variable*> seen;
  std::vector<Variable*> unique;
  for (Variable* v : out)
    if (seen.insert(v).second) unique.push_back(v);
  return unique;
}

WeightsOrigin weights_origin(const hdf5::Group& weights, const hdf5::Group& root) {
  WeightsOrigin o;
  o.keras_version = attr_or(weights, "keras_version", attr_or(root, "keras_version", "1"));
  o.backend = attr_or(weights, "backend", attr_or(root, "backend", ""));
  return o;
}

void load_legacy_weights(const Model& model, const hdf5::Group& weights, const WeightsOrigin& origin) {
  std::vector<Layer> layers;
  for (const Layer& l : model.layers())
    if (!legacy_weights(*l).empty()) layers.push_back(l);
  std::vector<std::string> saved = saved_layers_with_weights(weights);
  if (saved.size() != layers.size())
    throw ValueError(prefix(weights) + "Layer count mismatch when loading weights from file. Model expected " +
                     std::to_string(layers.size()) + " layers, found " + std::to_string(saved.size()) +
                     " saved layers.");
  for (size_t k = 0; k < saved.size(); ++k) {
    hdf5::Group g = weights.group(saved[k]);
    std::vector<Tensor> values = preprocess_legacy_weights(*layers[k], read_saved_weights(g), origin);
    assign(weights, k, saved[k], *layers[k], std::move(values));
  }
}

}  // namespace keras::saving
