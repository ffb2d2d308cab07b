// sdfn's own fused kernels (src/backend/torch/kernels/sdfn.ts): training-mode batch norm
// (src/backend/batch-norm.ts), one Adam step (src/backend/adam-step.ts) and a table's rows
// replaced (src/backend/rows-update.ts).
#include <ATen/Parallel.h>

#include <cmath>

#include "../ops.h"

namespace sdfn {
namespace {

// Batch norm in training mode over every axis but the last (channels), as PyTorch's fused
// kernels: forward gives y, the batch mean and 1/sqrt(var + eps); backward dx, dgamma, dbeta.
at::Tensor channels_first(const at::Tensor& x) {
  return x.dim() == 4 ? nchw(x) : x.movedim(-1, 1);
}
at::Tensor channels_last(const at::Tensor& y) {
  return y.dim() == 4 ? nhwc(y) : y.movedim(1, -1).contiguous();
}

void batch_norm_train(Call& c) {
  using K = arg::SdfnBatchNormTrain;
  auto r = at::native_batch_norm(channels_first(c.in[K::in_x]), c.in[K::in_gamma], c.in[K::in_beta], {}, {}, true, 0.0, c.f[K::f_eps]);
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

void batch_norm_train_grad(Call& c) {
  using K = arg::SdfnBatchNormTrainGrad;
  auto r = at::native_batch_norm_backward(channels_first(c.in[K::in_dy]), channels_first(c.in[K::in_x]), c.in[K::in_gamma], {}, {},
                                          c.in[K::in_mean], c.in[K::in_invstd], true, c.f[K::f_eps], {true, true, true});
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

// The gradient (+ L2 decay × variable) in the variable's layout: matmul and conv filter gradients
// arrive as transposed views, and each later pass over one would be strided (Adam ran 3× PyTorch's).
at::Tensor gradient_in_layout(const at::Tensor& grad, const at::Tensor& var, double decay) {
  if (decay == 0 && grad.strides() == var.strides()) return grad;
  at::Tensor g = at::empty_like(var);
  return decay == 0 ? g.copy_(grad) : at::add_out(g, grad, var, decay);
}

struct AdamScalars {
  float lr, b1, b2, eps, bias1, bias2, wd;
  bool decoupled;
};

// Whether the update can be one loop over plain float arrays: CPU, float32, the state contiguous
// (a gradient that is a transposed view is made contiguous first).
bool one_pass(const at::Tensor& var, const at::Tensor& m, const at::Tensor& v, const at::Tensor& g) {
  for (const at::Tensor* t : {&var, &m, &v, &g})
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->numel() != var.numel()) return false;
  return var.is_contiguous() && m.is_contiguous() && v.is_contiguous();
}

// Adam in one pass on the CPU: reads w, m, v, g once and writes w, m, v (into w_out, m_out,
// v_out, which may be the inputs). ATen's op-by-op update makes ~7 passes over the parameter,
// each a trip through memory for a large one (the paper's 122M parameters: 1.5 s a step against
// PyTorch's 0.9). The arithmetic is ATen's: lerp, mul + addcmul, (v / bias2).sqrt() + eps, addcdiv.
void adam_one_pass(const AdamScalars& a, float* w_out, float* m_out, float* v_out, const float* w, const float* m, const float* v,
                   const float* grad, int64_t n) {
  const float step = -a.lr / a.bias1, keep = a.decoupled && a.wd > 0 ? 1 - a.lr * a.wd : 1, l2 = !a.decoupled ? a.wd : 0;
  const float w1 = 1 - a.b1, w2 = 1 - a.b2;
  at::parallel_for(0, n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float g = l2 > 0 ? grad[i] + l2 * w[i] : grad[i];
      float mi = w1 < 0.5f ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * (1 - w1);
      float vi = v[i] * a.b2 + w2 * (g * g);
      float denom = std::sqrt(vi / a.bias2) + a.eps;
      m_out[i] = mi;
      v_out[i] = vi;
      w_out[i] = w[i] * keep + step * (mi / denom);
    }
  });
}

// One Adam step for one parameter: in: variable, m, v, grad; outputs: variable, m, v. In one
// pass on the CPU (into their storage when a replay owns them), else in ~7 ATen passes.
void adam_step(Call& c) {
  using K = arg::SdfnAdamStep;
  const at::Tensor& var = c.in[K::in_variable];
  double lr = c.f[K::f_lr], b1 = c.f[K::f_beta1], b2 = c.f[K::f_beta2], eps = c.f[K::f_eps];
  double bias1 = c.f[K::f_bias1], bias2 = c.f[K::f_bias2], wd = c.f[K::f_weightDecay];
  bool decoupled = c.i[K::i_decoupled];
  const at::Tensor& grad = c.in[K::in_grad];
  const at::Tensor &m_in = c.in[K::in_m], &v_in = c.in[K::in_v];
  if (one_pass(var, m_in, v_in, grad)) {
    at::Tensor g_cpu = grad.contiguous();
    AdamScalars a{float(lr), float(b1), float(b2), float(eps), float(bias1), float(bias2), float(wd), decoupled};
    at::Tensor w = c.overwrite ? var : at::empty_like(var), m = c.overwrite ? m_in : at::empty_like(m_in),
               v = c.overwrite ? v_in : at::empty_like(v_in);
    adam_one_pass(a, w.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), var.data_ptr<float>(), m_in.data_ptr<float>(),
                  v_in.data_ptr<float>(), g_cpu.data_ptr<float>(), var.numel());
    c.out.push_back(w);
    c.out.push_back(m);
    c.out.push_back(v);
    return;
  }
  at::Tensor g = gradient_in_layout(grad, var, !decoupled && wd > 0 ? wd : 0);
  if (c.overwrite) {  // a replay owns variable, m and v: the same arithmetic, into their storage
    at::Tensor m = m_in, v = v_in, w = var;
    m.lerp_(g, 1 - b1);
    v.mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v / bias2).sqrt_().add_(eps);
    if (decoupled && wd > 0) w.mul_(1 - lr * wd);
    c.out.push_back(w.addcdiv_(m, denom, -lr / bias1));
    c.out.push_back(m);
    c.out.push_back(v);
    return;
  }
  at::Tensor m = at::lerp(m_in, g, 1 - b1);
  at::Tensor v = at::addcmul(v_in * b2, g, g, 1 - b2);
  at::Tensor denom = (v / bias2).sqrt_().add_(eps);
  at::Tensor base = decoupled && wd > 0 ? var * (1 - lr * wd) : var;
  c.out.push_back(at::addcdiv(base, m, denom, -lr / bias1));
  c.out.push_back(m);
  c.out.push_back(v);
}

// Rows of a table replaced: table (N, W), indices (B), rows (B, W) → the table with row
// indices[i] = rows[i] (the distillation cache's records). In place when a replay owns the table.
void rows_update(Call& c) {
  using K = arg::SdfnRowsUpdate;
  const at::Tensor& table = c.in[K::in_table];
  at::Tensor indices = c.in[K::in_indices].to(at::kLong).reshape({-1});
  at::Tensor rows = c.in[K::in_rows].to(table.scalar_type());
  if (c.overwrite) {
    at::Tensor t = table;
    c.out.push_back(t.index_copy_(0, indices, rows));
    return;
  }
  c.out.push_back(table.index_copy(0, indices, rows));
}

}  // namespace

std::vector<OpEntry> sdfn_ops() {
  return {
      OP("SdfnBatchNormTrain", batch_norm_train), OP("SdfnBatchNormTrainGrad", batch_norm_train_grad),
      // updates: a replay lets them write into the variable and moments (the table) it owns
      OP_OVERWRITES("SdfnAdamStep", adam_step, 3), OP_OVERWRITES("SdfnRowsUpdate", rows_update, 1),
  };
}

}  // namespace sdfn
