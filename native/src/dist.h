// Data-parallel training over PyTorch's c10d (dist.cc): the kernels that average and broadcast
// tensors across ranks, and the N-API functions that join, synchronise and leave a group.
#pragma once
#include <node_api.h>

#include <vector>

#include "ops.h"

namespace sdfn {

// Kernels "DistAllreduce" (n gradients in → n averages out, one collective per call) and
// "DistBroadcast" (n tensors in → rank 0's values out). Empty when built without c10d's Gloo.
std::vector<OpEntry> dist_ops();

// Adds distInfo, distInit, distBarrier, distAllreduceHost, distAllgather, distDestroy to exports.
void register_dist(napi_env env, napi_value exports);

}  // namespace sdfn
