// Keras 3 weights (.weights.h5, and model.weights.h5 inside .keras): each object's variables sit
// at a path built from class names, not layer names (saving_lib._save_state,
// _save_container_state): layers/<snake_case(class)>[_k]/vars/<i>, nested models recursed;
// RNN cells and wrapped layers below their layer (layers::rnn::keras3_variable_groups).
#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "engine/functional.h"
#include "keras/errors.h"
#include "layers/rnn/weights.h"
#include "saving/keras_files.h"

namespace keras::saving {

namespace {

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// Keras 3 lists an object's trainable variables before its non-trainable ones.
std::vector<Variable*> keras3_order(std::vector<Variable*> vars) {
  std::stable_partition(vars.begin(), vars.end(), [](const Variable* v) { return v->trainable; });
  return vars;
}

// Keras 3's unique child names within one container: dense, dense_1, dense_2...
class ChildNames {
 public:
  std::string next(const LayerImpl& layer) {
    std::string name = to_snake_case(layer.class_name());
    auto [it, fresh] = used_.try_emplace(name, 0);
    return fresh ? name : name + "_" + std::to_string(++it->second);
  }

 private:
  std::map<std::string, int> used_;
};

// keras.ops operations are not Keras layers: saving_lib walks model.layers, which leaves them
// out, so they take no path (nor a place in the counts of their class names).
bool is_operation(const LayerImpl& layer) { return layer.module().rfind("keras.src.ops", 0) == 0; }

class Loader {
 public:
  explicit Loader(const hdf5::Group& root) : root_(root) {}

  void load_model(FunctionalImpl& model, const std::string& path) {
    ChildNames names;
    for (const Layer& child : model.layers()) {
      if (is_operation(*child)) continue;
      std::string child_path = join(path, "layers/" + names.next(*child));
      if (!visited_.insert(child.impl().get()).second) continue;
      if (auto* nested = dynamic_cast<FunctionalImpl*>(child.impl().get()))
        load_model(*nested, child_path);
      else
        load_layer(*child, child_path);
    }
  }

 private:
  void load_layer(LayerImpl& layer, const std::string& path) {
    for (auto& group : layers::rnn::keras3_variable_groups(layer))
      load_group(layer, join(join(path, group.path), "vars"), keras3_order(std::move(group.variables)));
  }

  void load_group(const LayerImpl& layer, const std::string& vars_path, const std::vector<Variable*>& vars) {
    size_t found = root_.has_group(vars_path) ? root_.group(vars_path).children().size() : 0;
    if (found != vars.size()) {
      std::string names;
      for (const Variable* v : vars) names += (names.empty() ? "'" : ", '") + v->name + "'";
      throw ValueError(root_.file_name() + ": Layer '" + layer.name() + "' expected " + std::to_string(vars.size()) +
                       " variables, but received " + std::to_string(found) + " variables during loading (" + vars_path +
                       "). Expected: [" + names + "]");
    }
    for (size_t i = 0; i < vars.size(); ++i) {
      std::string ds = vars_path + "/" + std::to_string(i);
      Shape saved = root_.dataset_shape(ds);
      if (saved != vars[i]->value.shape())
        throw ValueError(root_.file_name() + ": Layer '" + layer.name() + "': weight " + vars[i]->name +
                         " expects shape " + vars[i]->value.shape().str() + ", but " + ds + " has shape " +
                         saved.str());
      root_.read_into(ds, vars[i]->value);
      ++vars[i]->version;
    }
  }

  const hdf5::Group& root_;
  std::set<const LayerImpl*> visited_;
};

// The name attribute of a vars group: the object's own name (a cell is named after its class).
std::string object_name(const LayerImpl& layer, const std::string& group_path) {
  if (group_path.empty()) return layer.name();
  if (group_path == "cell") return to_snake_case(layer.class_name()) + "_cell";
  return group_path.substr(group_path.rfind('/') + 1);
}

class Saver {
 public:
  explicit Saver(const hdf5::Group& root) : root_(root) {}

  void save_model(const FunctionalImpl& model, const std::string& path) {
    make_vars(join(path, "vars"), model.name());
    ChildNames names;
    for (const Layer& child : model.layers()) {
      if (is_operation(*child)) continue;
      std::string child_path = join(path, "layers/" + names.next(*child));
      if (!visited_.insert(child.impl().get()).second) continue;
      if (auto* nested = dynamic_cast<FunctionalImpl*>(child.impl().get()))
        save_model(*nested, child_path);
      else
        save_layer(*child, child_path);
    }
  }

 private:
  hdf5::Group make_vars(const std::string& vars_path, const std::string& name) {
    hdf5::Group g = root_.create_group(vars_path);
    g.set_attr("name", name);
    return g;
  }

  void save_layer(LayerImpl& layer, const std::string& path) {
    for (auto& group : layers::rnn::keras3_variable_groups(layer)) {
      hdf5::Group g = make_vars(join(join(path, group.path), "vars"), object_name(layer, group.path));
      std::vector<Variable*> vars = keras3_order(std::move(group.variables));
      for (size_t i = 0; i < vars.size(); ++i) g.write(std::to_string(i), vars[i]->value);
    }
  }

  const hdf5::Group& root_;
  std::set<const LayerImpl*> visited_;
};

}  // namespace

std::string to_snake_case(const std::string& class_name) {
  static const std::regex non_word(R"(\W+)"), word(R"((.)([A-Z][a-z]+))"), lower_upper(R"(([a-z])([A-Z]))");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(s, word, "$1_$2");
  s = std::regex_replace(s, lower_upper, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void load_keras3_weights(const Model& model, const hdf5::Group& root) {
  Loader(root).load_model(model.functional(), "");
}

void save_keras3_weights(const Model& model, const hdf5::Group& root) {
  Saver(root).save_model(model.functional(), "");
}

}  // namespace keras::saving
