#pragma once
// Models: the functional Model (a graph of layer calls) and Sequential (a stack of layers).
// Both are layers too, so a model can be called inside another model.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keras/layer.h"

namespace keras {

class FunctionalImpl;
class SequentialImpl;

// keras.Input: a symbolic input of `shape` (batch excluded), creating an InputLayer.
struct InputOptions {
  Shape shape;
  std::string name;
  std::optional<Dim> batch_size;
};
KerasTensor Input(Shape shape, std::string name = "");
KerasTensor Input(const InputOptions& options);

struct SummaryOptions {
  // "keras3" (default, Keras 3's box table) or "keras2" (tf.keras 2.13+ plain table).
  std::string style = "keras3";
  // Total width; 0 = as Keras picks it: min(default, terminal columns - 4), 76 off a terminal.
  int line_length = 0;
};

struct PredictOptions {
  int batch_size = 32;
};

class Model : public Layer {
 public:
  Model() = default;
  Model(const KerasTensor& inputs, const KerasTensor& outputs, std::string name = "");
  Model(std::vector<KerasTensor> inputs, std::vector<KerasTensor> outputs, std::string name = "");
  explicit Model(std::shared_ptr<FunctionalImpl> impl);

  const std::string& name() const;
  // model.layers: Sequential excludes its InputLayer, Functional includes them.
  std::vector<Layer> layers() const;
  Layer get_layer(const std::string& name) const;
  const std::vector<KerasTensor>& inputs() const;
  const std::vector<KerasTensor>& outputs() const;

  std::vector<Tensor> predict(const std::vector<Tensor>& x, const PredictOptions& options = {}) const;
  Tensor predict(const Tensor& x, const PredictOptions& options = {}) const;

  Dim count_params() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights) const;
  // Keras's model.load_weights(): a Keras 2 .h5 (weights-only or full model, matched by layer
  // order), a Keras 3 .weights.h5, or a .keras archive. Throws FileError / ValueError.
  void load_weights(const std::filesystem::path& path) const;
  // Keras's model.save(): ".keras" writes the Keras 3 archive, ".h5"/".hdf5" the HDF5 model
  // layout (with Keras 3 configs, as Keras 3 writes it). The file appears complete or not at all.
  void save(const std::filesystem::path& path) const;
  // ".weights.h5": Keras 3's weights file; other ".h5"/".hdf5": Keras 2's weights-only layout.
  void save_weights(const std::filesystem::path& path) const;

  // Keras's model.summary(); writes to std::cout unless `os` is given.
  void summary(const SummaryOptions& options = {}) const;
  void summary(std::ostream& os, const SummaryOptions& options = {}) const;
  std::string summary_string(const SummaryOptions& options = {}) const;

  // Keras 3 model.to_json().
  std::string to_json() const;

  FunctionalImpl& functional() const;
};

// An entry of Sequential's constructor list: a layer, or the result of keras::Input.
class SequentialItem {
 public:
  SequentialItem(Layer layer) : layer_(std::move(layer)) {}          // NOLINT
  SequentialItem(const KerasTensor& input);                           // NOLINT
  const Layer& layer() const { return layer_; }

 private:
  Layer layer_;
};

class Sequential : public Model {
 public:
  explicit Sequential(std::string name = "");
  Sequential(std::initializer_list<SequentialItem> layers, std::string name = "");
  Sequential(const std::vector<Layer>& layers, std::string name = "");

  void add(const SequentialItem& layer);
  // Removes the last layer (not the InputLayer).
  void pop();
  // Builds the model for inputs of `input_shape` (batch included) when it has no Input.
  void build(const Shape& input_shape);

  SequentialImpl& sequential() const;
};

// Forgets automatic names (Keras's keras.backend.clear_session()).
void clear_session();

}  // namespace keras
