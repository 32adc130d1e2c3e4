#include "backends/cpu/elementwise_ops.h"

#include <algorithm>
#include <limits>

#include "backends/thread_pool.h"
#include "engine/random.h"
#include "ops/activations.h"
#include "ops/batch_norm.h"
#include "ops/dropout.h"
#include "ops/rectifier.h"

namespace keras::backends::cpu {

namespace {

using Inputs = std::span<const float* const>;
using Outputs = std::span<float* const>;

// Values per task: enough to be worth a wake-up.
constexpr Dim kChunk = 1 << 15;

// f(begin, end) over [0, rows) in chunks of whole rows of `width` values.
template <class F>
void for_rows(const RunContext& ctx, Dim rows, Dim width, F&& f) {
  Dim per_task = std::max<Dim>(1, kChunk / std::max<Dim>(width, 1));
  Dim tasks = (rows + per_task - 1) / per_task;
  ctx.pool->parallel_for(tasks, [&](Dim t) { f(t * per_task, std::min(rows, (t + 1) * per_task)); });
}

// f(c0, c1) over [0, channels) in blocks of 16 channels (one block for small work): every
// channel's sums over the rows run in one task, in row order.
template <class F>
void for_channel_blocks(const RunContext& ctx, Dim rows, Dim channels, F&& f) {
  constexpr Dim kBlock = 16;
  Dim blocks = (channels + kBlock - 1) / kBlock;
  if (rows * channels < kChunk) blocks = 1;
  Dim per = (channels + blocks - 1) / blocks;
  ctx.pool->parallel_for(blocks, [&](Dim b) { f(b * per, std::min(channels, b * per + per)); });
}

// A Keras activation: rows of `last` values (softmax-like ones per row, the rest per value).
class ActivationOperator final : public Operator {
 public:
  explicit ActivationOperator(const ops::ActivationOp& a) : a_(a), fn_(ops::raw_activation(a.name)) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_rows(ctx, a_.size / a_.last, a_.last, [&](Dim r0, Dim r1) {
      std::copy(in[0] + r0 * a_.last, in[0] + r1 * a_.last, out[0] + r0 * a_.last);
      fn_(out[0] + r0 * a_.last, (r1 - r0) * a_.last, a_.last);
    });
  }

 private:
  ops::ActivationOp a_;
  ops::RawActivationFn fn_;
};

class ActivationGradOperator final : public Operator {
 public:
  explicit ActivationGradOperator(const ops::ActivationGradOp& a) : a_(a), fn_(ops::raw_activation_grad(a.name)) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_rows(ctx, a_.size / a_.last, a_.last, [&](Dim r0, Dim r1) {
      Dim b = r0 * a_.last, n = (r1 - r0) * a_.last;
      std::copy(in[2] + b, in[2] + b + n, out[0] + b);
      fn_(in[0] + b, in[1] + b, out[0] + b, n, a_.last);
    });
  }

 private:
  ops::ActivationGradOp a_;
  ops::RawActivationGradFn fn_;
};

// Add and Multiply (the merges the autodiff emits, and those layers at inference).
class MergeOperator final : public Operator {
 public:
  explicit MergeOperator(const ops::MergeOp& a) : a_(a) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    bool add = a_.kind == ops::MergeOp::Kind::kAdd;
    for_rows(ctx, a_.size, 1, [&](Dim i0, Dim i1) {
      float* y = out[0];
      std::copy(in[0] + i0, in[0] + i1, y + i0);
      for (size_t j = 1; j < in.size(); ++j) {
        const float* x = in[j];
        if (add)
          for (Dim i = i0; i < i1; ++i) y[i] += x[i];
        else
          for (Dim i = i0; i < i1; ++i) y[i] *= x[i];
      }
    });
  }

 private:
  ops::MergeOp a_;
};

// Keras's rectifiers (ReLU, LeakyReLU, ThresholdedReLU, ELU layers), value by value.
class RectifierOperator final : public Operator {
 public:
  RectifierOperator(const ops::RectifierOp& a, Dim size) : a_(a), size_(size) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_rows(ctx, size_, 1, [&](Dim i0, Dim i1) { ops::rectifier(a_, in[0] + i0, out[0] + i0, i1 - i0); });
  }

 private:
  ops::RectifierOp a_;
  Dim size_;
};

// y = x * scale[c] + shift[c] (a BatchNormalization that no product absorbed), by rows.
class AffineOperator final : public Operator {
 public:
  AffineOperator(const ops::Op& op, const ops::AffineOp& a)
      : a_(a), scale_(op.weights.at(0)), shift_(op.weights.at(1)) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    const float *scale = scale_->data(), *shift = shift_->data();
    Dim c = a_.channels;
    for_rows(ctx, a_.size / c, c, [&](Dim r0, Dim r1) {
      for (Dim r = r0; r < r1; ++r) {
        const float* x = in[0] + r * c;
        float* y = out[0] + r * c;
        for (Dim j = 0; j < c; ++j) y[j] = x[j] * scale[j] + shift[j];
      }
    });
  }

 private:
  ops::AffineOp a_;
  const Tensor* scale_;
  const Tensor* shift_;
};

// Global average or max pooling: tasks of channel blocks over every image, each channel summed
// in spatial order as the reference does.
class GlobalPoolOperator final : public Operator {
 public:
  explicit GlobalPoolOperator(const ops::GlobalPoolOp& a) : a_(a) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_channel_blocks(ctx, a_.batch * a_.spatial, a_.channels, [&](Dim c0, Dim c1) {
      for (Dim n = 0; n < a_.batch; ++n) {
        const float* x = in[0] + n * a_.spatial * a_.channels;
        float* y = out[0] + n * a_.channels;
        for (Dim c = c0; c < c1; ++c) y[c] = a_.max ? -std::numeric_limits<float>::infinity() : 0.0f;
        for (Dim s = 0; s < a_.spatial; ++s)
          for (Dim c = c0; c < c1; ++c) {
            float v = x[s * a_.channels + c];
            y[c] = a_.max ? std::max(y[c], v) : y[c] + v;
          }
        if (!a_.max)
          for (Dim c = c0; c < c1; ++c) y[c] /= static_cast<float>(a_.spatial);
      }
    });
  }

 private:
  ops::GlobalPoolOp a_;
};

// Concatenation: each outer block's pieces copied in order, tasks of whole blocks.
class ConcatOperator final : public Operator {
 public:
  explicit ConcatOperator(const ops::ConcatOp& a) : a_(a) {
    for (Dim w : a_.widths) total_ += w;
  }
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_rows(ctx, a_.outer, total_, [&](Dim o0, Dim o1) {
      for (Dim o = o0; o < o1; ++o) {
        float* y = out[0] + o * total_;
        for (size_t i = 0; i < a_.widths.size(); ++i) {
          Dim w = a_.widths[i];
          y = std::copy(in[i] + o * w, in[i] + (o + 1) * w, y);
        }
      }
    });
  }

 private:
  ops::ConcatOp a_;
  Dim total_ = 0;
};

// db[c] = sum of dz[r, c] over rows, in row order per channel; tasks are blocks of channels.
class BiasGradOperator final : public Operator {
 public:
  explicit BiasGradOperator(const ops::BiasGradOp& a) : a_(a) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    for_channel_blocks(ctx, a_.rows, a_.channels, [&](Dim c0, Dim c1) {
      float* db = out[0];
      std::fill(db + c0, db + c1, 0.0f);
      for (Dim r = 0; r < a_.rows; ++r) {
        const float* d = in[0] + r * a_.channels;
        for (Dim c = c0; c < c1; ++c) db[c] += d[c];
      }
    });
  }

 private:
  ops::BiasGradOp a_;
};

// A mask of x's own shape (no noise shape) drawn in chunks of pairs, as ops::draw_dropout_mask
// draws it whole.
class DropoutOperator final : public Operator {
 public:
  DropoutOperator(const ops::Op& op) : a_(std::get<ops::DropoutOp>(op.attrs)), layer_(op.layer) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    uint64_t seed = a_.seed ? engine::mix_seed(*a_.seed, ctx.seed) : engine::layer_seed(ctx.seed, layer_);
    Dim n = a_.noise.num_elements(), pairs = (n + 1) / 2;
    for_rows(ctx, pairs, 2, [&](Dim p0, Dim p1) {
      Dim i0 = 2 * p0, i1 = std::min(n, 2 * p1);
      ops::draw_dropout_mask_range(a_.rate, seed, out[1], i0, i1);
      for (Dim i = i0; i < i1; ++i) out[0][i] = in[0][i] * out[1][i];
    });
  }

 private:
  ops::DropoutOp a_;
  std::string layer_;
};

// BatchNormalization's training forward and gradient, tasks of 16 channels each (every
// channel's sums over the rows in order, as the reference backend's).
class BatchNormOperator final : public Operator {
 public:
  BatchNormOperator(const ops::Op& op, const ops::BatchNormOp& a, bool grad)
      : a_(a),
        grad_(grad),
        gamma_(a.gamma ? op.weights.at(0) : nullptr),
        beta_(a.beta && !grad ? op.weights.at(a.gamma ? 1 : 0) : nullptr),
        mean_(a.moving ? op.weights.at(op.weights.size() - 2) : nullptr),
        var_(a.moving ? op.weights.back() : nullptr) {}
  void run(Inputs in, Outputs out, void*, const RunContext& ctx) const override {
    ops::BatchNormArgs args{.rows = a_.rows, .channels = a_.channels, .epsilon = a_.epsilon};
    args.gamma = gamma_ ? gamma_->data() : nullptr;
    args.beta = beta_ ? beta_->data() : nullptr;
    for_channel_blocks(ctx, a_.rows, a_.channels, [&](Dim c0, Dim c1) {
      if (!grad_ && a_.moving)
        return ops::batch_norm_inference(args, in[0], mean_->data(), var_->data(), out[0], c0, c1);
      if (!grad_) return ops::batch_norm_forward(args, in[0], out[0], out[1], out[2], c0, c1);
      size_t o = 1;
      float* dgamma = a_.gamma ? out[o++] : nullptr;
      float* dbeta = a_.beta ? out[o++] : nullptr;
      if (a_.moving)
        return ops::batch_norm_inference_backward(args, in[0], in[1], mean_->data(), var_->data(), out[0], dgamma,
                                                  dbeta, out[o], out[o + 1], c0, c1);
      ops::batch_norm_backward(args, in[0], in[1], in[2], in[3], out[0], dgamma, dbeta, c0, c1);
    });
  }

 private:
  ops::BatchNormOp a_;
  bool grad_;
  const Tensor* gamma_;
  const Tensor* beta_;
  const Tensor* mean_;
  const Tensor* var_;
};

}  // namespace

bool supports_elementwise(const ops::Op& op) {
  if (const auto* m = std::get_if<ops::MergeOp>(&op.attrs))
    return m->kind == ops::MergeOp::Kind::kAdd || m->kind == ops::MergeOp::Kind::kMultiply;
  if (const auto* d = std::get_if<ops::DropoutOp>(&op.attrs))  // the other noise kinds: the reference backend's
    return d->kind == ops::DropoutOp::Kind::kDropout && d->noise == op.inputs[0];
  if (const auto* g = std::get_if<ops::GlobalPoolOp>(&op.attrs); g && g->masked) return false;
  return std::holds_alternative<ops::ActivationOp>(op.attrs) || std::holds_alternative<ops::RectifierOp>(op.attrs) ||
         std::holds_alternative<ops::AffineOp>(op.attrs) || std::holds_alternative<ops::GlobalPoolOp>(op.attrs) ||
         std::holds_alternative<ops::ConcatOp>(op.attrs) || std::holds_alternative<ops::ActivationGradOp>(op.attrs) ||
         std::holds_alternative<ops::BiasGradOp>(op.attrs) || std::holds_alternative<ops::BatchNormOp>(op.attrs) ||
         std::holds_alternative<ops::BatchNormGradOp>(op.attrs);
}

std::unique_ptr<Operator> create_elementwise(const ops::Op& op) {
  if (!supports_elementwise(op)) return nullptr;
  if (const auto* a = std::get_if<ops::ActivationOp>(&op.attrs)) return std::make_unique<ActivationOperator>(*a);
  if (const auto* a = std::get_if<ops::ActivationGradOp>(&op.attrs))
    return std::make_unique<ActivationGradOperator>(*a);
  if (const auto* m = std::get_if<ops::MergeOp>(&op.attrs)) return std::make_unique<MergeOperator>(*m);
  if (const auto* r = std::get_if<ops::RectifierOp>(&op.attrs))
    return std::make_unique<RectifierOperator>(*r, op.inputs.at(0).num_elements());
  if (const auto* a = std::get_if<ops::AffineOp>(&op.attrs)) return std::make_unique<AffineOperator>(op, *a);
  if (const auto* g = std::get_if<ops::GlobalPoolOp>(&op.attrs)) return std::make_unique<GlobalPoolOperator>(*g);
  if (const auto* c = std::get_if<ops::ConcatOp>(&op.attrs)) return std::make_unique<ConcatOperator>(*c);
  if (const auto* b = std::get_if<ops::BiasGradOp>(&op.attrs)) return std::make_unique<BiasGradOperator>(*b);
  if (const auto* n = std::get_if<ops::BatchNormOp>(&op.attrs))
    return std::make_unique<BatchNormOperator>(op, *n, false);
  if (const auto* n = std::get_if<ops::BatchNormGradOp>(&op.attrs))
    return std::make_unique<BatchNormOperator>(op, n->forward, true);
  return std::make_unique<DropoutOperator>(op);
}

}  // namespace keras::backends::cpu
