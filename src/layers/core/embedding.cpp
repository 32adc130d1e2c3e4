#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "keras/layers/core.h"
#include "layers/from_config.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class EmbeddingImpl : public LayerImpl {
 public:
  explicit EmbeddingImpl(const EmbeddingOptions& o) : LayerImpl(o.name, "embedding"), options_(o) {
    if (o.input_dim <= 0 || o.output_dim <= 0)
      throw ValueError("Both `input_dim` and `output_dim` should be positive, Received input_dim=" +
                       std::to_string(o.input_dim) + " and output_dim=" + std::to_string(o.output_dim));
  }
  std::string class_name() const override { return "Embedding"; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& in) const override {
    expect_inputs(in, 1);
    Shape out = in[0];
    out.push_back(options_.output_dim);
    return {out};
  }
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext&) const override {
    const Tensor& x = inputs.at(0);
    Shape out_shape = x.shape();
    out_shape.push_back(options_.output_dim);
    Tensor y(out_shape);
    const Tensor& table = variables()[0]->value;
    for (Dim i = 0; i < x.size(); ++i) {
      float v = x[i];
      // Keras casts indices to int32; a non-integral or out-of-range index is an error here.
      if (!(v >= 0 && v < static_cast<float>(options_.input_dim)) || std::floor(v) != v)
        fail("index " + std::to_string(v) + " is not an integer in [0, " + std::to_string(options_.input_dim) +
             ") (input shape " + x.shape().str() + ")");
      std::memcpy(y.data() + i * options_.output_dim, table.data() + static_cast<Dim>(v) * options_.output_dim,
                  sizeof(float) * static_cast<size_t>(options_.output_dim));
    }
    return {std::move(y)};
  }
  // Each output row is a copy of one table row, so its gradient adds into that row. Indices
  // are not differentiable: their gradient is zero.
  Gradients backward(const BackwardArgs& a) const override {
    const Tensor& x = a.inputs.at(0);
    const Tensor& g = a.output_grads.at(0);
    Dim d = options_.output_dim;
    Tensor table_grad(variables()[0]->value.shape());
    for (Dim i = 0; i < x.size(); ++i) {
      float* row = table_grad.data() + static_cast<Dim>(x[i]) * d;
      const float* gi = g.data() + i * d;
      for (Dim j = 0; j < d; ++j) row[j] += gi[j];
    }
    return {{Tensor::zeros(x.shape())}, {std::move(table_grad)}};
  }
  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["input_dim"] = options_.input_dim;
    c["output_dim"] = options_.output_dim;
    c["embeddings_initializer"] = initializer_to_config(options_.embeddings_initializer);
    c["embeddings_regularizer"] = nullptr;
    c["activity_regularizer"] = nullptr;
    c["embeddings_constraint"] = nullptr;
    c["mask_zero"] = options_.mask_zero;
    return c;
  }

 protected:
  void build_weights(const std::vector<Shape>&) override {
    add_weight("embeddings", {options_.input_dim, options_.output_dim}, options_.embeddings_initializer);
  }

 private:
  EmbeddingOptions options_;
};

}  // namespace

Layer Embedding(const EmbeddingOptions& options) { return Layer(std::make_shared<EmbeddingImpl>(options)); }
Layer Embedding(Dim input_dim, Dim output_dim) {
  return Embedding(EmbeddingOptions{.input_dim = input_dim, .output_dim = output_dim});
}

Layer embedding_from_config(const nlohmann::json& c, const ConfigContext&) {
  using namespace saving;
  EmbeddingOptions o;
  o.input_dim = get_int(c, "input_dim", 0);
  o.output_dim = get_int(c, "output_dim", 0);
  o.embeddings_initializer = get_initializer(c, "embeddings_initializer", get_initializer(c, "init", "uniform"));
  o.mask_zero = get_bool(c, "mask_zero", false);
  o.name = get_string(c, "name");
  Layer l = Embedding(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
