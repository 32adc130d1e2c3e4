// Keras's RNN layer around one of its cells (keras/src/layers/rnn/rnn.py): RNN(LSTMCell(...))
// is the LSTM layer with the cell's arguments and the RNN's, kept as an RNN (class and config).
#include <map>
#include <nlohmann/json.hpp>

#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "saving/config_utils.h"

namespace keras::layers {

Layer rnn_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  std::string name = get_string(c, "name");
  const nlohmann::json& cell = c.contains("cell") ? c["cell"] : nlohmann::json();
  if (cell.is_array() || (cell.is_object() && cell.value("class_name", "") == "StackedRNNCells"))
    throw UnsupportedLayers("the model uses layers keras.cpp cannot run: RNN \"" + name +
                            "\" (a list of cells, StackedRNNCells)");
  if (!cell.is_object() || !cell.contains("class_name") || !cell["class_name"].is_string())
    throw ValueError("RNN \"" + name + "\": its config has no cell");
  std::string cls = cell["class_name"];
  static const std::map<std::string, LayerFactory> cells = {
      {"SimpleRNNCell", simple_rnn_from_config}, {"LSTMCell", lstm_from_config}, {"GRUCell", gru_from_config}};
  auto it = cells.find(cls);
  if (it == cells.end())
    throw UnsupportedLayers("the model uses layers keras.cpp cannot run: RNN \"" + name + "\" with a " + cls + " cell");
  // The cell's arguments, then the RNN's own (and its name) over them.
  nlohmann::json merged = cell.value("config", nlohmann::json::object());
  std::string cell_name = get_string(merged, "name", "");
  for (const char* k : {"name", "trainable", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                        "zero_output_for_mask", "time_major", "activity_regularizer"})
    if (c.contains(k)) merged[k] = c[k];
  Layer l = it->second(merged, ctx);
  l.as<rnn::RecurrentImpl>()->wrap_in_rnn(cls, cell_name);
  return l;
}

}  // namespace keras::layers
