// Tensor memory accounting (memory.cc): the bytes of tensors alive on the working device and
// their peak since the last reset, for the bench's peak-tensor column and the memory-plan tests.
#pragma once
#include <node_api.h>

#include <cstdint>

namespace sdfn {

// Counts CPU tensor bytes from here on: ATen's CPU allocator wrapped by one that keeps a running
// total (called once, when the addon loads).
void count_cpu_tensor_bytes();

// memoryStats() → [bytes, peak bytes, counted] of tensors on the working device: on the CPU the
// counting allocator's, on CUDA the caching allocator's allocated bytes (counted false: a CUDA
// libtorch built without its headers, which cannot be asked). resetMemoryPeak(): peak := bytes.
// releaseFreeMemory(): the C allocator's free pages back to the system (malloc_trim).
void define_memory_functions(napi_env env, napi_value exports);

}  // namespace sdfn
