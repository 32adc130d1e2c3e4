// What a saved model needs to resume training: its compile_config and its optimizer's
// variables (iteration, learning_rate, slots). Keras 3 loads both when it loads a model
// (saving_lib: compile_from_config, then optimizer.build and load_own_variables).
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/train/trainer.h"
#include "keras/errors.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

void warn(const std::string& source, const std::string& what) {
  // Keras warns and goes on with an uncompiled model or fresh optimizer state; so do we.
  std::cerr << "WARNING: " << (source.empty() ? "" : source + ": ") << what << "\n";
}

bool has_optimizer_state(const Model& model) { return model.compiled() && model.optimizer(); }

// The iteration count is an int64 variable in Keras (dtype "int" on TensorFlow): written as
// float32, Keras could not assign it back when loading.
void write_variable(const hdf5::Group& g, const std::string& rel, const Variable& v) {
  if (v.name == "iteration" && v.value.rank() == 0)
    g.write_int64(rel, static_cast<std::int64_t>(std::llround(v.value.data()[0])));
  else
    g.write(rel, v.value);
}

}  // namespace

void compile_saved_model(Model& model, const nlohmann::json& compile_config, const std::string& source) {
  if (!compile_config.is_object() || compile_config.empty()) return;
  try {
    model.compile_from_config(compile_config);
  } catch (const std::exception& e) {  // a config of unexpected shape must not stop the load
    warn(source, std::string("the model was not compiled as part of loading: ") + e.what());
  }
}

std::string training_config_json(const Model& model) {
  // Keras's saving_utils.model_metadata: the compile config with the optimizer moved to
  // "optimizer_config" as {"class_name", "config"}.
  nlohmann::json c = model.compile_config();
  c.erase("optimizer");
  optimizers::OptimizerImpl& opt = *model.optimizer();
  c["optimizer_config"] = {{"class_name", opt.class_name()}, {"config", opt.get_config()}};
  return c.dump();
}

void save_optimizer_keras3(const Model& model, const hdf5::Group& root) {
  if (!has_optimizer_state(model)) return;
  const optimizers::OptimizerImpl& opt = *model.optimizer();
  hdf5::Group g = root.create_group("optimizer/vars");
  g.set_attr("name", opt.name());
  std::vector<Variable> vars = opt.variables();
  for (size_t i = 0; i < vars.size(); ++i) write_variable(g, std::to_string(i), vars[i]);
}

void save_optimizer_h5(const Model& model, const hdf5::Group& root) {
  if (!has_optimizer_state(model)) return;
  std::vector<Variable> vars = model.optimizer()->variables();
  hdf5::Group g = root.create_group("optimizer_weights");
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const Variable& v : vars) {
    int n = seen[v.name]++;  // slot names repeat only for same-named layers in nested models
    names.push_back(n == 0 ? v.name : v.name + "_" + std::to_string(n));
  }
  g.set_attr("weight_names", names);
  for (size_t i = 0; i < vars.size(); ++i) write_variable(g, names[i], vars[i]);
}

void restore_optimizer(Model& model, const std::vector<Tensor>& values, const std::string& source) {
  if (!has_optimizer_state(model) || values.empty()) return;
  engine::build_optimizer(model.functional());
  optimizers::OptimizerImpl& opt = *model.optimizer();
  size_t expected = opt.variables().size();
  if (values.size() != expected) {
    // Keras: "Skipping variable loading for optimizer ..., because it has N variables whereas
    // the saved optimizer has M variables."
    warn(source, "skipping variable loading for optimizer '" + opt.name() + "', because it has " +
                     std::to_string(expected) + " variables whereas the saved optimizer has " +
                     std::to_string(values.size()) + " variables");
    return;
  }
  try {
    opt.set_variables(values);
  } catch (const ValueError& e) {
    throw FileError(source + ": cannot restore the optimizer state: " + e.what());
  }
}

void load_optimizer_keras3(Model& model, const hdf5::Group& root) {
  if (!has_optimizer_state(model) || !root.has_group("optimizer/vars")) return;
  hdf5::Group g = root.group("optimizer/vars");
  size_t count = g.children().size();
  std::vector<Tensor> values;
  for (size_t i = 0; i < count; ++i) {
    std::string name = std::to_string(i);
    if (!g.has_dataset(name))
      g.fail(name, "missing optimizer variable (expected datasets 0.." + std::to_string(count - 1) + ")");
    values.push_back(g.read(name));
  }
  restore_optimizer(model, values, root.file_name());
}

void load_optimizer_h5(Model& model, const hdf5::Group& root) {
  if (!has_optimizer_state(model) || !root.has_group("optimizer_weights")) return;
  hdf5::Group g = root.group("optimizer_weights");
  std::vector<Tensor> values;
  for (const std::string& name : g.attr_strings("weight_names")) values.push_back(g.read(name));
  restore_optimizer(model, values, root.file_name());
}

}  // namespace keras::saving
