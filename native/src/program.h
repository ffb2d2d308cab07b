// The compiled training step, native side. src/backend/torch/program.ts records one eager step
// at the backend's exec seam and sends it here once, encoded; programReplay then runs the whole
// step (forward, backward, finite check, update) in one N-API call. addon.cc owns the handle
// table and the device; these declarations share them with program.cc.
#pragma once
#include <node_api.h>

#include "ops.h"

namespace sdfn {

// addon.cc: the tensor behind a live handle (throws for a free or invalid one).
at::Tensor& table_at(int32_t handle);
// addon.cc: where new tensors live.
at::Device working_device();
// addon.cc: a kernel result narrowed to a tfjs dtype (int64 → int32, double → float32, ...).
at::Tensor tfjs_dtype(at::Tensor t);
// addon.cc: stores t under a new handle and writes output record k (as a kernel's k-th result).
int32_t emit_record(at::Tensor t, size_t k);

// program.cc: the kernels that draw from the step generator (SdfnDropoutMask), a family of op_table().
std::vector<OpEntry> program_ops();
// program.cc: true while a replay runs an update kernel (SdfnAdamStep, SdfnRowsUpdate) whose updated
// inputs no other tensor holds or views: the kernel may then write its results into their storage.
extern bool update_in_place;
// program.cc: programCreate, programReplay, programFree, programCount and seedStep on exports.
void define_program_functions(napi_env env, napi_value exports);

}  // namespace sdfn
