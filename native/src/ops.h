// Shared between the N-API glue (addon.cc) and the kernels (ops.cc): one kernel call's
// inputs, attributes and outputs, and the table of kernels by name.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace sdfn {

// dtype codes shared with src/backend/torch/native.ts: 0 float32, 1 int32, 2 bool.
at::ScalarType scalar_type(int code);
int dtype_code(at::ScalarType type);

struct Call {
  std::vector<at::Tensor> in;  // inputs in the order the JS kernel wrote their handles (undefined = absent)
  const int32_t* i;            // integer attributes
  const double* f;             // float attributes
  at::Device device;           // where new tensors live (CPU or CUDA)
  std::vector<at::Tensor> out;
  // Input k on the working device (0-dim CPU scalars stay on the CPU only for elementwise ops).
  at::Tensor dev(size_t k) const { return in[k].device() == device ? in[k] : in[k].to(device); }
  at::TensorOptions opts(at::ScalarType type) const { return at::TensorOptions().dtype(type).device(device); }
};

using OpFn = void (*)(Call&);
struct OpEntry {
  const char* name;
  OpFn fn;
  // Elementwise kernels take 0-dim CPU tensors beside CUDA ones (ATen treats them as scalars);
  // every other kernel gets its inputs moved to the working device first.
  bool elementwise = false;
};
const std::vector<OpEntry>& op_table();

}  // namespace sdfn
