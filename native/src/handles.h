// addon.cc's handle table and device, shared with the code that runs kernels outside addon.cc's
// `run`: program replays (program.cc), CUDA graphs (cuda-graph.cc) and the step generator (ops/random.cc).
#pragma once
#include <ATen/ATen.h>

#include <cstdint>

namespace sdfn {

// The tensor behind a live handle (throws for a free or invalid one).
at::Tensor& table_at(int32_t handle);
// Where new tensors live.
at::Device working_device();
// A kernel result narrowed to a tfjs dtype (int64 → int32, double → float32, ...).
at::Tensor tfjs_dtype(at::Tensor t);
// Stores t under a new handle and writes output record k (as a kernel's k-th result).
int32_t emit_record(at::Tensor t, size_t k);

}  // namespace sdfn
