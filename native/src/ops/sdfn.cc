// sdfn's own fused kernels (src/backend/torch/kernels/sdfn.ts): training-mode batch norm
// (src/backend/batch-norm.ts), one Adam step (src/backend/adam-step.ts) and a table's rows
// replaced (src/backend/rows-update.ts).
#include "../ops.h"
#include "../program.h"

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

// One Adam step for one parameter in ~6 passes (tfjs ops take ~15): in: variable, m, v, grad;
// Outputs: variable, m, v.
void adam_step(Call& c) {
  using K = arg::SdfnAdamStep;
  const at::Tensor& var = c.in[K::in_variable];
  double lr = c.f[K::f_lr], b1 = c.f[K::f_beta1], b2 = c.f[K::f_beta2], eps = c.f[K::f_eps];
  double bias1 = c.f[K::f_bias1], bias2 = c.f[K::f_bias2], wd = c.f[K::f_weightDecay];
  bool decoupled = c.i[K::i_decoupled];
  const at::Tensor& grad = c.in[K::in_grad];
  at::Tensor g = gradient_in_layout(grad, var, !decoupled && wd > 0 ? wd : 0);
  if (update_in_place) {  // a replay owns variable, m and v: the same arithmetic, into their storage
    at::Tensor m = c.in[K::in_m], v = c.in[K::in_v], w = var;
    m.lerp_(g, 1 - b1);
    v.mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v / bias2).sqrt_().add_(eps);
    if (decoupled && wd > 0) w.mul_(1 - lr * wd);
    c.out.push_back(w.addcdiv_(m, denom, -lr / bias1));
    c.out.push_back(m);
    c.out.push_back(v);
    return;
  }
  at::Tensor m = at::lerp(c.in[K::in_m], g, 1 - b1);
  at::Tensor v = at::addcmul(c.in[K::in_v] * b2, g, g, 1 - b2);
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
  if (update_in_place) {
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
      OP("SdfnAdamStep", adam_step), OP("SdfnRowsUpdate", rows_update),
  };
}

}  // namespace sdfn
