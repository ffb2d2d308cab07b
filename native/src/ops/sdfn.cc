// sdfn's own fused kernels (src/backend/torch/kernels/sdfn.ts): training-mode batch norm
// (src/backend/batch-norm.ts) and one Adam step (src/backend/adam-step.ts).
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

void batch_norm_train(Call& c) {  // in: x, gamma, beta; f: eps
  auto r = at::native_batch_norm(channels_first(c.in[0]), c.in[1], c.in[2], {}, {}, true, 0.0, c.f[0]);
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

void batch_norm_train_grad(Call& c) {  // in: dy, x, gamma, mean, invstd; f: eps
  auto r = at::native_batch_norm_backward(channels_first(c.in[0]), channels_first(c.in[1]), c.in[2], {}, {}, c.in[3], c.in[4],
                                          true, c.f[0], {true, true, true});
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

// One Adam step for one parameter in ~6 passes (tfjs ops take ~15): in: variable, m, v, grad;
// f: lr, beta1, beta2, eps, bias1, bias2, weight decay; ints: decoupled. Outputs: variable, m, v.
void adam_step(Call& c) {
  const at::Tensor& var = c.in[0];
  double lr = c.f[0], b1 = c.f[1], b2 = c.f[2], eps = c.f[3], bias1 = c.f[4], bias2 = c.f[5], wd = c.f[6];
  bool decoupled = c.i[0];
  at::Tensor g = !decoupled && wd > 0 ? at::add(c.in[3], var, wd) : c.in[3];
  at::Tensor m = at::lerp(c.in[1], g, 1 - b1);
  at::Tensor v = at::addcmul(c.in[2] * b2, g, g, 1 - b2);
  at::Tensor denom = (v / bias2).sqrt_().add_(eps);
  at::Tensor base = decoupled && wd > 0 ? var * (1 - lr * wd) : var;
  c.out.push_back(at::addcdiv(base, m, denom, -lr / bias1));
  c.out.push_back(m);
  c.out.push_back(v);
}

}  // namespace

std::vector<OpEntry> sdfn_ops() {
  return {
      OP("SdfnBatchNormTrain", batch_norm_train), OP("SdfnBatchNormTrainGrad", batch_norm_train_grad),
      OP("SdfnAdamStep", adam_step),
  };
}

}  // namespace sdfn
