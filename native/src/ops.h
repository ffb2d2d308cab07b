// Shared between the N-API glue (addon.cc) and the kernels (ops/*.cc): one kernel call's
// inputs, attributes and outputs, the table of kernels by name, and layout helpers.
#pragma once
#include <ATen/ATen.h>

#include "kernel_layouts.h"  // generated from src/backend/torch/kernels/layouts.json

#include <cstdint>
#include <vector>

namespace sdfn {

// dtype codes shared with src/backend/torch/native.ts: 0 float32, 1 int32, 2 bool.
at::ScalarType scalar_type(int code);
int dtype_code(at::ScalarType type);

struct Call {
  std::vector<at::Tensor> in;  // inputs in the order the JS kernel wrote their handles (undefined = absent)
  const int32_t* i;            // integer attributes, at arg::<Kernel>::i_<name> (kernel_layouts.h)
  const double* f;             // float attributes, at arg::<Kernel>::f_<name>
  at::Device device;           // where new tensors live (CPU or CUDA)
  std::vector<at::Tensor> out;
  // Set only by a replay (program.cc), for a kernel whose OpEntry::overwrites > 0: its first
  // `overwrites` inputs die in this call and nothing else holds or views them, so the kernel may
  // write its result into their storage (when shapes and dtypes allow) instead of allocating.
  bool overwrite = false;
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
  // The in-place list: how many of its first inputs the kernel may overwrite when Call::overwrite
  // is set (the replay's memory plan grants it where they die; 0: never).
  int overwrites = 0;
};
#define OP(NAME, FN) \
  { NAME, FN }
// A kernel that may write its result into its first N inputs (Call::overwrite).
#define OP_OVERWRITES(NAME, FN, N) \
  { NAME, FN, false, N }

// Each family's kernels (ops/<family>.cc); op_table() (ops/index.cc) is all of them, in this order.
std::vector<OpEntry> elementwise_ops();
std::vector<OpEntry> reduce_ops();
std::vector<OpEntry> layout_ops();
std::vector<OpEntry> nn_ops();
std::vector<OpEntry> sdfn_ops();
std::vector<OpEntry> random_ops();
const std::vector<OpEntry>& op_table();

// The step generator (ops/random.cc): reseeded once per training step (seedStep, and every replay),
// so eager steps and replays draw the same dropout masks.
void seed_step(uint64_t seed);

constexpr auto kCL = at::MemoryFormat::ChannelsLast;

// The memory format of forward convolutions on the CPU (ops/nn.cc): SDFN_TORCH_CONV_FORMAT=auto
// (NCHW but for stems of ≤ 4 channels; the default), nchw or channels_last, read once. Depthwise
// and CUDA convolutions are channels-last whatever it says.
enum class ConvFormat { Auto, Nchw, ChannelsLast };
ConvFormat conv_format_setting();

inline std::vector<int64_t> ivec(const int32_t* p, int64_t n) { return std::vector<int64_t>(p, p + n); }

// NHWC <-> NCHW views: an NHWC-contiguous tensor is a channels-last NCHW tensor.
inline at::Tensor nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}).contiguous(kCL); }
inline at::Tensor nhwc(const at::Tensor& y) {
  at::Tensor t = y.permute({0, 2, 3, 1});
  return t.is_contiguous() ? t : t.contiguous();
}

}  // namespace sdfn
