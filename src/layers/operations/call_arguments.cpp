#include "layers/operations/call_arguments.h"

#include "keras/errors.h"

namespace keras::layers::operations {

using nlohmann::json;

namespace {

constexpr const char* kConstantValue = "_CONSTANT_VALUE";  // tf.keras's node.py

template <class J, class F>
void each_tensor(J& j, F& f) {
  if (is_tensor_entry(j)) {
    f(j);
  } else if (j.is_array()) {
    for (auto& e : j) each_tensor(e, f);
  } else if (j.is_object()) {
    for (auto& [k, v] : j.items()) each_tensor(v, f);
  }
}

template <class J, class F>
void each_tensor(J& call_args, J& call_kwargs, F f) {
  each_tensor(call_args, f);
  each_tensor(call_kwargs, f);
}

json keras_tensor(const json& triple) {
  return {{"class_name", "__keras_tensor__"},
          {"config", {{"shape", nullptr}, {"dtype", "float32"}, {"keras_history", triple}}}};
}

// tf.keras writes a tensor in a call's keyword arguments as [layer, node, tensor] (or with a
// fourth kwargs entry): tf_utils.convert_inner_node_data's test.
bool is_keras2_ref(const json& j) {
  return j.is_array() && (j.size() == 3 || j.size() == 4) && j[0].is_string() && j[1].is_number_integer() &&
         j[2].is_number_integer() && j[0] != kConstantValue;
}

json keras2_kwargs_to_keras3(const json& j) {
  if (is_keras2_ref(j)) return keras_tensor(json::array({j[0], j[1], j[2]}));
  if (j.is_array()) {
    json out = json::array();
    for (const json& e : j) out.push_back(keras2_kwargs_to_keras3(e));
    return out;
  }
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) out[k] = keras2_kwargs_to_keras3(v);
    return out;
  }
  return j;
}

// One element of a tf.keras node: the argument it stands for, and its kwargs.
json keras2_element(const json& e, json& kwargs) {
  if (!e.is_array() || e.size() < 3 || !e[0].is_string())
    throw ValueError("Malformed op-layer node in model config: " + e.dump().substr(0, 200));
  if (e.size() == 4) kwargs = keras2_kwargs_to_keras3(e[3]);
  if (e[0] == kConstantValue) return e[2];
  return keras_tensor(json::array({e[0], e[1], e[2]}));
}

}  // namespace

bool is_tensor_entry(const json& j) {
  return j.is_object() && j.contains("class_name") && j["class_name"] == "__keras_tensor__";
}

std::vector<json> tensor_refs(const CallArguments& call) {
  std::vector<json> out;
  each_tensor(call.args, call.kwargs, [&](const json& t) {
    const json& h = t.contains("config") && t["config"].is_object() && t["config"].contains("keras_history")
                        ? t["config"]["keras_history"]
                        : json();
    out.push_back(h);
  });
  return out;
}

CallArguments with_tensors(const CallArguments& call, const std::vector<json>& tensors) {
  CallArguments out = call;
  size_t i = 0;
  each_tensor(out.args, out.kwargs, [&](json& t) { t = tensors.at(i++); });
  return out;
}

CallArguments numbered(const CallArguments& call) {
  CallArguments out = call;
  size_t i = 0;
  each_tensor(out.args, out.kwargs, [&](json& t) { t = {{"__input__", i++}}; });
  return out;
}

bool is_input_entry(const json& j) { return j.is_object() && j.size() == 1 && j.contains("__input__"); }
size_t input_index(const json& j) { return j.at("__input__").get<size_t>(); }

CallArguments read_node(const json& node) {
  if (node.is_object()) {
    CallArguments c;
    if (node.contains("args")) c.args = node["args"];
    if (node.contains("kwargs")) c.kwargs = node["kwargs"];
    if (!c.args.is_array() || !c.kwargs.is_object())
      throw ValueError("Malformed inbound node in model config: " + node.dump().substr(0, 200));
    return c;
  }
  // tf.keras: the first argument is one element (a tensor or a constant) or a list of them,
  // each carrying the call's other arguments as kwargs.
  CallArguments c;
  if (!node.is_array() || node.empty())
    throw ValueError("Malformed inbound node in model config: " + node.dump().substr(0, 200));
  if (node[0].is_string()) {
    c.args.push_back(keras2_element(node, c.kwargs));
  } else {
    json list = json::array();
    for (const json& e : node) list.push_back(keras2_element(e, c.kwargs));
    c.args.push_back(list);
  }
  c.kwargs.erase("name");  // TFOpLambda drops it before calling its function
  return c;
}

}  // namespace keras::layers::operations
