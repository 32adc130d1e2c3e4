#include "keras/layers/rnn.h"
#include "layers/from_config.h"
#include "layers/rnn/recurrent.h"
#include "ops/kernels.h"
#include "saving/config_utils.h"

namespace keras::layers {

namespace {

class GRUImpl : public rnn::RecurrentImpl {
 public:
  explicit GRUImpl(const GRUOptions& o)
      : RecurrentImpl(o, "gru", 3, 1),
        options_(o),
        activation_(ops::activation(o.activation)),
        recurrent_activation_(ops::activation(o.recurrent_activation)),
        activation_grad_(ops::activation_grad(o.activation)),
        recurrent_activation_grad_(ops::activation_grad(o.recurrent_activation)) {}
  std::string class_name() const override { return "GRU"; }

  nlohmann::json get_config() const override {
    auto c = RecurrentImpl::get_config();
    add_cell_config(c, options_);
    c["recurrent_activation"] = options_.recurrent_activation.empty() ? "linear" : options_.recurrent_activation;
    c["reset_after"] = options_.reset_after;
    return c;
  }

 protected:
  void add_bias_weight() override {
    if (!options_.use_bias) return;
    Dim u = units();
    // reset_after keeps separate input and recurrent biases (CuDNN-compatible).
    add_weight("bias", options_.reset_after ? Shape{2, 3 * u} : Shape{3 * u}, bias_initializer_);
  }
  const float* input_bias() const override { return options_.use_bias ? variables()[2]->value.data() : nullptr; }

  // Keras's GRUCell: z, r = recurrent_activation(x_z + h@U_z (+b), x_r + h@U_r (+b));
  // hh = activation(x_h + r*(h@U_h + b_h)) with reset_after, else activation(x_h + (r*h)@U_h);
  // h = z*h + (1-z)*hh.
  void step(const float* xw, Dim xw_stride, std::vector<Tensor>& states, rnn::StepScratch& s) const override {
    Dim u = units(), n = s.z.dim(0);
    Tensor& h = states[0];
    Tensor &z = s.gates[0], &r = s.gates[1], &hh = s.gates[2];
    recurrent_product(h, 0, options_.reset_after ? 3 * u : 2 * u, s.z, false, s.recurrent_masks);
    if (options_.reset_after && options_.use_bias) {
      const float* rb = variables()[2]->value.data() + 3 * u;
      for (Dim b = 0; b < n; ++b)
        for (Dim j = 0; j < 3 * u; ++j) s.z[b * 3 * u + j] += rb[j];
    }
    rnn::take_gate(s.z, xw, xw_stride, 0, u, z);
    rnn::take_gate(s.z, xw, xw_stride, 1, u, r);
    recurrent_activation_(z);
    recurrent_activation_(r);
    if (options_.reset_after) {
      rnn::take_gate(s.z, nullptr, 0, 2, u, hh);
      for (Dim k = 0; k < hh.size(); ++k) hh[k] *= r[k];
    } else {
      // With recurrent dropout the candidate's h is masked too: r * (h * mask_h).
      const Tensor* m = masked(s.recurrent_masks);
      for (Dim k = 0; k < h.size(); ++k) s.tmp[k] = r[k] * h[k] * (m ? (*m)[k] : 1.0f);
      ops::kernels().gemm(false, false, n, u, u, 1.0f, s.tmp.data(), u, recurrent_kernel().data() + 2 * u, 3 * u, 0.0f,
                          hh.data(), u);
    }
    for (Dim b = 0; b < n; ++b)
      for (Dim j = 0; j < u; ++j) hh[b * u + j] += xw[b * xw_stride + 2 * u + j];
    activation_(hh);
    for (Dim k = 0; k < h.size(); ++k) h[k] = z[k] * h[k] + (1.0f - z[k]) * hh[k];
  }

  // The step above with its intermediate values kept: pre-activations pz, pr, ph, the gates z,
  // r, the candidate hh, and rh (h@U_h + b_h with reset_after, r*h without).
  void step_backward(const float* xw, Dim xw_stride, const std::vector<Tensor>& prev, std::vector<Tensor>& d_states,
                     float* d_xw, Tensor& d_recurrent_kernel, Tensor& d_bias,
                     const std::vector<Tensor>* masks) const override {
    Dim u = units(), n = prev[0].dim(0);
    const Tensor& h = prev[0];
    bool after = options_.reset_after;
    Tensor rec({n, after ? 3 * u : 2 * u});
    recurrent_product(h, 0, rec.dim(1), rec, false, masks);
    const Tensor* mh = masked(masks);  // the candidate gate's recurrent mask
    if (after && options_.use_bias) {
      const float* rb = variables()[2]->value.data() + 3 * u;
      for (Dim b = 0; b < n; ++b)
        for (Dim j = 0; j < 3 * u; ++j) rec[b * 3 * u + j] += rb[j];
    }
    Tensor pz({n, u}), pr({n, u}), rh({n, u}), ph({n, u});
    rnn::take_gate(rec, xw, xw_stride, 0, u, pz);
    rnn::take_gate(rec, xw, xw_stride, 1, u, pr);
    Tensor z = pz, r = pr;
    recurrent_activation_(z);
    recurrent_activation_(r);
    if (after) {
      rnn::take_gate(rec, nullptr, 0, 2, u, rh);
      for (Dim k = 0; k < ph.size(); ++k) ph[k] = r[k] * rh[k];
    } else {
      for (Dim k = 0; k < rh.size(); ++k) rh[k] = r[k] * h[k] * (mh ? (*mh)[k] : 1.0f);
      ops::kernels().gemm(false, false, n, u, u, 1.0f, rh.data(), u, recurrent_kernel().data() + 2 * u, 3 * u, 0.0f,
                          ph.data(), u);
    }
    for (Dim b = 0; b < n; ++b)
      for (Dim j = 0; j < u; ++j) ph[b * u + j] += xw[b * xw_stride + 2 * u + j];
    Tensor hh = ph;
    activation_(hh);

    const Tensor& dhn = d_states[0];
    Tensor dz({n, u}), dph({n, u}), dh({n, u}), dr({n, u});
    for (Dim k = 0; k < h.size(); ++k) {
      dz[k] = dhn[k] * (h[k] - hh[k]);
      dh[k] = dhn[k] * z[k];
      dph[k] = dhn[k] * (1.0f - z[k]);
    }
    activation_grad_(ph, hh, dph);
    Tensor drec({n, rec.dim(1)});
    if (after) {
      Tensor drh({n, u});
      for (Dim k = 0; k < h.size(); ++k) {
        drh[k] = dph[k] * r[k];
        dr[k] = dph[k] * rh[k];
      }
      rnn::put_gate(drh, 2, u, drec.data(), 3 * u);
    } else {
      Tensor d_rh({n, u});
      recurrent_product_backward(rh, dph, 2 * u, d_recurrent_kernel, d_rh);
      for (Dim k = 0; k < h.size(); ++k) {
        float hm = h[k] * (mh ? (*mh)[k] : 1.0f);
        dr[k] = d_rh[k] * hm;
        dh[k] += d_rh[k] * r[k] * (mh ? (*mh)[k] : 1.0f);
      }
    }
    recurrent_activation_grad_(pz, z, dz);
    recurrent_activation_grad_(pr, r, dr);
    rnn::put_gate(dz, 0, u, drec.data(), drec.dim(1));
    rnn::put_gate(dr, 1, u, drec.data(), drec.dim(1));
    rnn::put_gate(dz, 0, u, d_xw, xw_stride);
    rnn::put_gate(dr, 1, u, d_xw, xw_stride);
    rnn::put_gate(dph, 2, u, d_xw, xw_stride);
    recurrent_product_backward(h, drec, 0, d_recurrent_kernel, dh, masks);
    if (after && options_.use_bias)
      for (Dim b = 0; b < n; ++b)
        for (Dim j = 0; j < 3 * u; ++j) d_bias[3 * u + j] += drec[b * 3 * u + j];
    d_states[0] = std::move(dh);
  }

 private:
  static const Tensor* masked(const std::vector<Tensor>* masks) {
    return masks && !masks->empty() ? &(*masks)[2] : nullptr;
  }

  GRUOptions options_;
  ops::ActivationFn activation_;
  ops::ActivationFn recurrent_activation_;
  ops::ActivationGradFn activation_grad_;
  ops::ActivationGradFn recurrent_activation_grad_;
};

}  // namespace

Layer GRU(const GRUOptions& options) { return Layer(std::make_shared<GRUImpl>(options)); }
Layer GRU(Dim units) { return GRU(GRUOptions{.units = units}); }

Layer gru_from_config(const nlohmann::json& c, const ConfigContext& ctx) {
  using namespace saving;
  auto cell = rnn::cell_config(c, ctx);
  auto seq = rnn::sequence_args_from_config(c);
  GRUOptions o{.units = cell.units,
               .activation = cell.activation,
               .recurrent_activation = cell.recurrent_activation,
               .use_bias = cell.use_bias,
               .kernel_initializer = cell.kernel_initializer,
               .recurrent_initializer = cell.recurrent_initializer,
               .bias_initializer = cell.bias_initializer,
               .dropout = cell.dropout,
               .recurrent_dropout = cell.recurrent_dropout,
               .seed = cell.seed,
               .return_sequences = seq.return_sequences,
               .return_state = seq.return_state,
               .go_backwards = seq.go_backwards,
               .stateful = seq.stateful,
               .unroll = seq.unroll,
               .reset_after = get_bool(c, "reset_after", rnn::version_defaults(ctx).reset_after),
               .name = get_string(c, "name")};
  Layer l = GRU(o);
  l->set_trainable(get_bool(c, "trainable", true));
  return l;
}

}  // namespace keras::layers
