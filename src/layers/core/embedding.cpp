#include <nlohmann/json.hpp>

#include "engine/graph/lowering.h"
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
  // Described once, as ops: a GatherOp reading the table (its gradient adds each output row's
  // into its index's row; indices have none).
  std::vector<Tensor> call(const std::vector<Tensor>& inputs, const CallContext& ctx) const override {
    return call_ops(inputs, ctx);
  }
  bool lower(graph::Lowering& g, const std::vector<int>& in, std::vector<int>& out) const override {
    const Shape& x = g.shape(in.at(0));
    ops::GatherOp op{.rows = x.num_elements(), .vocabulary = options_.input_dim, .dim = options_.output_dim};
    out = {graph::emit1(g, op, {in[0]}, compute_output_shape({x})[0], {&variables()[0]->value}, name())};
    // Keras's compute_mask: not_equal(inputs, 0).
    if (options_.mask_zero) g.set_output_masks({graph::mask_where_not(g, in[0], 0.0, 0, name())});
    return true;
  }
  Gradients backward(const BackwardArgs& a) const override { return backward_ops(a); }

  nlohmann::json get_config() const override {
    auto c = LayerImpl::get_config();
    c["input_dim"] = options_.input_dim;
    c["output_dim"] = options_.output_dim;
    c["embeddings_initializer"] = initializer_to_config(options_.embeddings_initializer);
    for (const char* k : {"embeddings_regularizer", "activity_regularizer", "embeddings_constraint"})
      c[k] = rule_config(k);
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
