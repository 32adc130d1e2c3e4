#include "saving/model_config.h"

#include <algorithm>
#include <map>
#include <set>

#include "keras/errors.h"
#include "layers/core/input_layer.h"
#include "layers/operations/operation.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"
#include "saving/keras_files.h"
#include "saving/registry.h"

namespace keras::saving {

using nlohmann::json;

// ---------------------------------------------------------------- writing (Keras 3 form)

namespace {

json dtype_policy() {
  return {{"module", "keras"},
          {"class_name", "DTypePolicy"},
          {"config", {{"name", "float32"}}},
          {"registered_name", nullptr}};
}

json keras_tensor_config(const KerasTensor& t) {
  return {{"class_name", "__keras_tensor__"},
          {"config",
           {{"shape", shape_to_json(t.shape())},
            {"dtype", "float32"},
            {"keras_history", {t.node()->layer->name(), t.node()->index_in_layer, t.index()}}}}};
}

// Nodes of `layer` that belong to `model`'s graph, in call order.
std::vector<std::shared_ptr<Node>> nodes_in(const FunctionalImpl& model, const LayerImpl& layer) {
  std::vector<std::shared_ptr<Node>> out;
  for (const auto& n : model.nodes())
    if (n->layer.get() == &layer) out.push_back(n);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->index_in_layer < b->index_in_layer; });
  return out;
}

json tensor_ref(const FunctionalImpl& model, const KerasTensor& t) {
  auto nodes = nodes_in(model, *t.node()->layer);
  auto pos = std::find(nodes.begin(), nodes.end(), t.node()) - nodes.begin();
  return json::array({t.node()->layer->name(), pos, t.index()});
}

}  // namespace

json serialize_layer(const LayerImpl& layer) {
  json j;
  if (layer.class_name() == "Sequential") {
    j = {{"module", "keras"},
         {"class_name", "Sequential"},
         {"config", layer.get_config()},
         {"registered_name", nullptr}};
  } else if (layer.module().rfind("keras.src.ops", 0) == 0) {
    // Keras 3's serialize_keras_object of an Operation: no build config, its class as the
    // registered name.
    return {{"module", layer.module()},
            {"class_name", layer.class_name()},
            {"config", layer.get_config()},
            {"registered_name", layer.class_name()}};
  } else if (layer.class_name() == "Functional") {
    j = {{"module", "keras.src.models.functional"},
         {"class_name", "Functional"},
         {"config", layer.get_config()},
         {"registered_name", "Functional"}};
  } else {
    json config = layer.get_config();
    if (config.contains("dtype") && config["dtype"] == "float32" && layer.class_name() != "InputLayer")
      config["dtype"] = dtype_policy();
    j = {{"module", "keras.layers"},
         {"class_name", layer.class_name()},
         {"config", config},
         {"registered_name", nullptr}};
  }
  if (layer.built() && layer.class_name() != "InputLayer") {
    const auto& shapes = layer.build_input_shapes();
    json in = json::array();
    for (const Shape& s : shapes) in.push_back(shape_to_json(s));
    if (shapes.size() > 1 && layers::rnn::takes_initial_state(layer)) {
      // Keras 3 builds an RNN as build(sequences_shape, initial_state_shape).
      json states = json::array();
      for (size_t i = 1; i < in.size(); ++i) states.push_back(in[i]);
      j["build_config"] = {{"shapes_dict", {{"sequences_shape", in[0]}, {"initial_state_shape", states}}}};
    } else {
      j["build_config"] = {{"input_shape", shapes.size() == 1 ? in[0] : in}};
    }
  }
  return j;
}

json functional_config(const FunctionalImpl& model) {
  json layers = json::array();
  for (const Layer& l : model.layers()) {
    json entry = serialize_layer(*l);
    entry["name"] = l.name();
    json inbound = json::array();
    for (const auto& node : nodes_in(model, *l)) {
      if (node->inputs.empty()) continue;
      json args = json::array();
      json kwargs = json::object();
      std::vector<json> tensors;
      for (const KerasTensor& t : node->inputs) tensors.push_back(keras_tensor_config(t));
      if (json call = l->call_arguments(tensors); !call.is_null()) {
        inbound.push_back(call);
        continue;
      }
      if (layers::rnn::takes_initial_state(*l) && node->inputs.size() > 1) {
        args.push_back(keras_tensor_config(node->inputs[0]));
        json states = json::array();
        for (size_t i = 1; i < node->inputs.size(); ++i) states.push_back(keras_tensor_config(node->inputs[i]));
        kwargs["initial_state"] = states;
      } else if (l->takes_list_input() || node->inputs.size() > 1) {
        json list = json::array();
        for (const KerasTensor& t : node->inputs) list.push_back(keras_tensor_config(t));
        args.push_back(list);
      } else {
        args.push_back(keras_tensor_config(node->inputs[0]));
      }
      inbound.push_back({{"args", args}, {"kwargs", kwargs}});
    }
    entry["inbound_nodes"] = inbound;
    layers.push_back(entry);
  }
  json ins = json::array(), outs = json::array();
  for (const KerasTensor& t : model.inputs()) ins.push_back(tensor_ref(model, t));
  for (const KerasTensor& t : model.outputs()) outs.push_back(tensor_ref(model, t));
  return {{"name", model.name()},
          {"trainable", model.trainable()},
          {"layers", layers},
          {"input_layers", ins},
          {"output_layers", outs}};
}

json sequential_config(const SequentialImpl& model) {
  json layers = json::array();
  if (model.input_layer()) layers.push_back(serialize_layer(*model.input_layer()));
  for (const Layer& l : model.layers()) layers.push_back(serialize_layer(*l));
  json c = {{"name", model.name()}, {"trainable", model.trainable()}, {"dtype", dtype_policy()}, {"layers", layers}};
  if (model.input_layer()) {
    Shape s = model.input_layer().as<layers::InputLayerImpl>()->batch_shape();
    c["build_input_shape"] = shape_to_json(s);
  }
  return c;
}

namespace {

// Visits every string of a config with its path: the names of the layer configs around it and
// its key, "outer/inner/key".
template <class F>
void visit_strings(json& j, const std::string& prefix, F f) {
  if (j.is_object()) {
    std::string here = prefix;
    if (j.contains("name") && j["name"].is_string()) here += j["name"].get<std::string>() + "/";
    for (auto& [k, v] : j.items()) {
      if (v.is_string())
        f(v, here + k);
      else
        visit_strings(v, here, f);
    }
  } else if (j.is_array()) {
    for (json& e : j) visit_strings(e, prefix, f);
  }
}

}  // namespace

void write_keras2_hard_sigmoid(json& model_config) {
  json paths = json::array();
  visit_strings(model_config, "", [&](json& v, const std::string& path) {
    if (v != "hard_sigmoid_keras2") return;
    v = "hard_sigmoid";
    paths.push_back(path);
  });
  if (!paths.empty()) model_config[kKeras2HardSigmoidKey] = std::move(paths);
}

std::string model_to_json(const FunctionalImpl& model, const json& compile_config) {
  json j = serialize_layer(model);
  j["compile_config"] = compile_config;
  write_keras2_hard_sigmoid(j);
  return j.dump();
}

// ---------------------------------------------------------------- reading (Keras 1, 2, 3)

int detect_keras_major(const json& j) {
  if (j.contains("module")) return 3;
  if (j.contains("keras_version") && j["keras_version"].is_string()) {
    std::string v = j["keras_version"];
    if (!v.empty() && v[0] == '1') return 1;
    if (!v.empty() && v[0] == '3') return 3;
  }
  return 2;
}

namespace {

bool is_model_class(const std::string& c) { return c == "Sequential" || c == "Functional" || c == "Model"; }

const json& layer_list(const json& model_config) {
  const json& c = model_config.at("config");
  return c.is_array() ? c : c.at("layers");
}

std::string entry_name(const json& entry) {
  if (entry.contains("name") && entry["name"].is_string()) return entry["name"];
  if (entry.contains("config") && entry["config"].is_object()) return get_string(entry["config"], "name", "?");
  return "?";
}

void find_unsupported(const json& model_config, std::vector<std::string>& out);

void find_unsupported_entry(const json& entry, std::vector<std::string>& out) {
  std::string cls = entry.value("class_name", "");
  if (is_model_class(cls)) {
    find_unsupported(entry, out);
    return;
  }
  // Keras 3's keras.ops operations (whose class names can collide with layers: Multiply, Add)
  // and tf.keras's op layers.
  if (layers::operations::is_operation_entry(entry)) {
    std::string why = layers::operations::unsupported_reason(entry);
    if (!why.empty()) out.push_back(cls + " \"" + entry_name(entry) + "\" (" + why + ")");
    return;
  }
  if (!find_layer_factory(cls)) {
    std::string why = cls == "Lambda" ? " (Python code cannot be loaded)" : "";
    out.push_back(cls + " \"" + entry_name(entry) + "\"" + why);
    return;
  }
  // Wrappers (Bidirectional, TimeDistributed) hold their layers in the config.
  const json& c = entry.contains("config") && entry["config"].is_object() ? entry["config"] : json::object();
  for (const char* key : {"layer", "backward_layer"})
    if (c.contains(key) && c[key].is_object() && c[key].contains("class_name")) find_unsupported_entry(c[key], out);
}

// Every layer entry whose class has no factory, as `Class "name"`, depth first.
void find_unsupported(const json& model_config, std::vector<std::string>& out) {
  for (const json& entry : layer_list(model_config)) find_unsupported_entry(entry, out);
}

Model build_model(const json& model_config, const ConfigContext& ctx);

Layer build_layer(const json& entry, const ConfigContext& ctx) {
  if (!entry.is_object() || !entry.contains("class_name") || !entry["class_name"].is_string())
    throw ValueError("A layer entry lacks its class_name: " + entry.dump().substr(0, 200));
  std::string cls = entry["class_name"];
  if (is_model_class(cls)) return build_model(entry, ctx);
  if (layers::operations::is_operation_entry(entry))
    throw ValueError("The operation \"" + entry_name(entry) + "\" (" + cls +
                     ") is only meaningful in a functional model");
  const LayerFactory* factory = find_layer_factory(cls);
  if (!factory) throw UnsupportedLayers("Unknown layer class " + cls);
  const json& config = entry.contains("config") ? entry["config"] : json::object();
  try {
    return from_factory(*factory, config, ctx);
  } catch (const UnsupportedLayers&) {
    throw;
  } catch (const Error& e) {
    throw ValueError((ctx.source.empty() ? "" : ctx.source + ": ") + "layer \"" + entry_name(entry) + "\" (" + cls +
                     "): " + e.what());
  }
}

Layer make_input_layer(const Shape& batch_shape, const std::string& name) {
  return Layer(std::make_shared<layers::InputLayerImpl>(batch_shape, name));
}

Model build_sequential(const json& model_config, const ConfigContext& ctx) {
  const json& c = model_config.at("config");
  std::string name = c.is_object() ? get_string(c, "name", "") : "";
  Sequential model(name);
  bool first = true;
  for (const json& entry : layer_list(model_config)) {
    std::string cls = entry.value("class_name", "");
    if (first && !is_model_class(cls) && cls != "InputLayer") {
      // Keras 1/2: the first layer declares the input shape itself.
      if (auto shape = get_batch_shape(entry.value("config", json::object())))
        model.sequential().add(make_input_layer(*shape, entry_name(entry) + "_input"), false);
    }
    model.sequential().add(build_layer(entry, ctx), false);
    first = false;
  }
  if (!model.sequential().input_layer() && c.is_object() && c.contains("build_input_shape") &&
      !c["build_input_shape"].is_null())
    model.sequential().build_for(shape_from_json(c["build_input_shape"]));
  model.sequential().rebuild_if_possible();
  return model;
}

struct TensorRef {
  std::string layer;
  int node = 0;
  int tensor = 0;
};

TensorRef parse_ref(const json& j) {
  if (!j.is_array() || j.size() < 3 || !j[0].is_string())
    throw ValueError("Malformed tensor reference in model config: " + j.dump());
  return {j[0].get<std::string>(), j[1].get<int>(), j[2].get<int>()};
}

// Collects keras_history references from Keras 3 call arguments, in order.
void collect_k3_refs(const json& arg, std::vector<TensorRef>& out) {
  if (arg.is_object() && arg.value("class_name", "") == "__keras_tensor__") {
    out.push_back(parse_ref(arg.at("config").at("keras_history")));
  } else if (arg.is_array()) {
    for (const json& a : arg) collect_k3_refs(a, out);
  }
}

std::vector<TensorRef> parse_inbound_node(const json& node) {
  std::vector<TensorRef> refs;
  if (node.is_object()) {  // Keras 3: {"args": [...], "kwargs": {...}}
    collect_k3_refs(node.value("args", json::array()), refs);
    // Recurrent layers take their initial states as a keyword: lstm(x, initial_state=[h, c]).
    const json& kwargs = node.value("kwargs", json::object());
    if (kwargs.is_object() && kwargs.contains("initial_state")) collect_k3_refs(kwargs["initial_state"], refs);
  } else if (node.is_array()) {  // Keras 1/2: [[name, node_index, tensor_index, kwargs], ...]
    for (const json& r : node) refs.push_back(parse_ref(r));
  } else {
    throw ValueError("Malformed inbound node in model config: " + node.dump());
  }
  return refs;
}

std::vector<TensorRef> parse_io_list(const json& j) {
  std::vector<TensorRef> refs;
  if (j.is_array() && !j.empty() && j[0].is_string()) return {parse_ref(j)};  // Keras 3 single ["x", 0, 0]
  for (const json& r : j) refs.push_back(parse_ref(r));
  return refs;
}

// An operation (keras.ops, tf.keras op layers) with its calls' tensors: the constants of its
// calls are part of the layer, so every call must have the same ones.
std::pair<Layer, std::vector<std::vector<TensorRef>>> build_operation(const json& entry, const ConfigContext& ctx) {
  std::string where = (ctx.source.empty() ? "" : ctx.source + ": ") + "operation \"" + entry_name(entry) + "\" (" +
                      entry.value("class_name", "") + "): ";
  const json& nodes = entry.value("inbound_nodes", json::array());
  if (!nodes.is_array() || nodes.empty()) throw ValueError(where + "it is never called in the model config");
  std::vector<layers::operations::CallArguments> calls;
  std::vector<std::vector<TensorRef>> refs;
  try {
    for (const json& node : nodes) {
      calls.push_back(layers::operations::read_node(node));
      if (!layers::operations::same_constants(calls.front(), calls.back()))
        throw ValueError("its calls differ in their constant arguments, which keras.cpp does not support");
      refs.emplace_back();
      for (const json& r : layers::operations::tensor_refs(calls.back())) refs.back().push_back(parse_ref(r));
    }
    return {layers::operations::from_entry(entry, calls.front()), std::move(refs)};
  } catch (const UnsupportedLayers&) {
    throw;
  } catch (const Error& e) {
    throw ValueError(where + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(where + "malformed config: " + e.what());
  }
}

Model build_functional(const json& model_config, const ConfigContext& ctx) {
  const json& c = model_config.at("config");
  std::string name = get_string(c, "name", "");
  struct Pending {
    Layer layer;
    std::vector<std::vector<TensorRef>> nodes;
    size_t next = 0;
  };
  std::vector<Pending> pending;
  std::map<std::string, std::vector<std::vector<KerasTensor>>> outputs;  // layer -> node -> tensors
  for (const json& entry : c.at("layers")) {
    if (layers::operations::is_operation_entry(entry)) {
      auto [layer, nodes] = build_operation(entry, ctx);
      if (outputs.count(layer.name()))
        throw ValueError("The name \"" + layer.name() + "\" is used 2 times in the model config");
      outputs[layer.name()];
      pending.push_back(Pending{layer, std::move(nodes), 0});
      continue;
    }
    Pending p{build_layer(entry, ctx), {}, 0};
    std::string lname = entry_name(entry);
    if (outputs.count(lname)) throw ValueError("The name \"" + lname + "\" is used 2 times in the model config");
    outputs[lname];
    if (auto* input = p.layer.as<layers::InputLayerImpl>()) {
      outputs[lname].push_back({KerasTensor(input->add_node({}), 0)});
      continue;
    }
    for (const json& node : entry.value("inbound_nodes", json::array())) p.nodes.push_back(parse_inbound_node(node));
    pending.push_back(std::move(p));
  }
  auto resolve = [&](const TensorRef& r) -> const KerasTensor* {
    auto it = outputs.find(r.layer);
    if (it == outputs.end()) throw ValueError("Model config refers to an unknown layer \"" + r.layer + "\"");
    if (r.node < 0 || static_cast<size_t>(r.node) >= it->second.size()) return nullptr;
    const auto& node = it->second[static_cast<size_t>(r.node)];
    if (r.tensor < 0 || static_cast<size_t>(r.tensor) >= node.size())
      throw ValueError("Model config refers to output " + std::to_string(r.tensor) + " of layer \"" + r.layer +
                       "\", which has " + std::to_string(node.size()));
    return &node[static_cast<size_t>(r.tensor)];
  };
  // As Keras: process nodes layer by layer, deferring those whose inputs don't exist yet.
  for (bool progress = true; progress;) {
    progress = false;
    for (Pending& p : pending) {
      while (p.next < p.nodes.size()) {
        std::vector<KerasTensor> in;
        bool ready = true;
        for (const TensorRef& r : p.nodes[p.next]) {
          const KerasTensor* t = resolve(r);
          if (!t) {
            ready = false;
            break;
          }
          in.push_back(*t);
        }
        if (!ready) break;
        KerasTensor first = in.size() == 1 && !p.layer->takes_list_input() ? p.layer(in[0]) : p.layer(in);
        outputs[p.layer.name()].push_back(outputs_of(first));
        ++p.next;
        progress = true;
      }
    }
  }
  for (const Pending& p : pending)
    if (p.next < p.nodes.size())
      throw ValueError("Model config has a node of layer \"" + p.layer.name() + "\" whose inputs never appear");
  std::vector<KerasTensor> ins, outs;
  for (const TensorRef& r : parse_io_list(c.at("input_layers"))) {
    const KerasTensor* t = resolve(r);
    if (!t) throw ValueError("Model input \"" + r.layer + "\" is not in the model config");
    ins.push_back(*t);
  }
  for (const TensorRef& r : parse_io_list(c.at("output_layers"))) {
    const KerasTensor* t = resolve(r);
    if (!t) throw ValueError("Model output \"" + r.layer + "\" is not computed by the model config");
    outs.push_back(*t);
  }
  return Model(ins, outs, name);
}

Model build_model(const json& model_config, const ConfigContext& ctx) {
  std::string cls = model_config.value("class_name", "");
  if (cls == "Sequential") return build_sequential(model_config, ctx);
  if (cls == "Functional" || cls == "Model") return build_functional(model_config, ctx);
  throw ValueError("Not a model config: class_name is \"" + cls + "\"");
}

}  // namespace

namespace {

// The config with the places write_keras2_hard_sigmoid listed named as Keras 2's again.
json read_keras2_hard_sigmoid(json config, const std::string& where) {
  const json& entry = config[kKeras2HardSigmoidKey];
  std::vector<std::string> paths;
  if (entry.is_array())
    for (const json& p : entry)
      if (p.is_string()) paths.push_back(p.get<std::string>());
  if (!entry.is_array() || paths.size() != entry.size())
    throw ValueError(where + kKeras2HardSigmoidKey + " is not a list of strings");
  visit_strings(config, "", [&](json& v, const std::string& path) {
    if (v == "hard_sigmoid" && std::find(paths.begin(), paths.end(), path) != paths.end()) v = "hard_sigmoid_keras2";
  });
  return config;
}

}  // namespace

}  // namespace keras::saving

namespace keras {

Model model_from_config(const nlohmann::json& model_config, const ConfigContext& ctx_in) {
  using namespace saving;
  std::string where = ctx_in.source.empty() ? "" : ctx_in.source + ": ";
  try {
    if (!model_config.is_object() || !model_config.contains("class_name") || !model_config.contains("config"))
      throw ValueError(where + "not a Keras model config (no class_name/config at the top)");
    // A full model.to_json() of Keras 2 nests the model under "model_config" in some files.
    ConfigContext ctx = ctx_in;
    if (ctx.keras_version.empty()) ctx.keras_major = detect_keras_major(model_config);
    std::vector<std::string> unsupported;
    find_unsupported(model_config, unsupported);
    if (!unsupported.empty()) {
      std::string list;
      for (const auto& u : unsupported) list += (list.empty() ? "" : ", ") + u;
      throw UnsupportedLayers(where + "the model uses layers keras.cpp cannot run: " + list);
    }
    Model model = model_config.contains(kKeras2HardSigmoidKey)
                      ? build_model(read_keras2_hard_sigmoid(model_config, where), ctx)
                      : build_model(model_config, ctx);
    // Keras 3's deserialize_keras_object compiles a model whose config carries a compile_config.
    if (model_config.contains("compile_config"))
      compile_saved_model(model, model_config["compile_config"], ctx_in.source);
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(where + "malformed model config: " + e.what());
  }
}

Model model_from_json(const std::string& json_text, const ConfigContext& ctx) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw ValueError((ctx.source.empty() ? "" : ctx.source + ": ") + "invalid JSON: " + e.what());
  }
  // tfjs and some tools wrap the topology: {"modelTopology": {...}} or {"model_config": {...}}.
  if (j.is_object() && j.contains("modelTopology")) j = j["modelTopology"];
  if (j.is_object() && j.contains("model_config") && !j.contains("class_name")) j = j["model_config"];
  return model_from_config(j, ctx);
}

}  // namespace keras
