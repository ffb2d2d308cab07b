// Mixed precision (training.precision): with bf16 on, convolutions and matrix products take
// bfloat16 operands, as torch.autocast does for them. ATen accumulates in fp32 inside those
// kernels; their bf16 results become float32 again where a kernel hands its outputs to JS
// (addon.cc emit), so weights, optimizer state, reductions, softmax and losses stay fp32.
#pragma once
#include <ATen/ATen.h>
#include <node_api.h>

namespace sdfn {

// kFloat (fp32, the default) or kBFloat16: the operand type of the autocast kernels.
extern at::ScalarType compute_dtype;

// t in the compute type when it is a float32 tensor and bf16 is on; otherwise t itself.
inline at::Tensor lowp(const at::Tensor& t) {
  return compute_dtype != at::kFloat && t.defined() && t.scalar_type() == at::kFloat ? t.to(compute_dtype) : t;
}

// setPrecision("fp32" | "bf16"): N-API, registered by addon.cc.
napi_value SetPrecision(napi_env env, napi_callback_info info);

}  // namespace sdfn
