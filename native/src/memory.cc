// Tensor memory accounting (memory.h). On the CPU, ATen's allocator is wrapped once by one that
// counts the usable size of every block it hands out and takes back (c10's own alloc_cpu/free_cpu
// underneath, so tensors keep their layout and alignment); the peak is the running total's maximum
// since the last reset. On CUDA the caching allocator keeps the same statistics (what PyTorch's
// torch.cuda.max_memory_allocated reads), in a build that found the CUDA headers.
#include "memory.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <malloc.h>
#include <torch/version.h>

#include <atomic>
#include <cstring>

#include "handles.h"
#include "napi.h"

#if defined(SDFN_CUDA_GRAPH) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#define SDFN_HAS_CUDA_STATS 1
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#else
#define SDFN_HAS_CUDA_STATS 0
#endif

// c10::Allocator::allocate lost its const in PyTorch 2.2 (and gained a pure copy_data in 2.3).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
#define SDFN_ALLOCATE_CONST
#else
#define SDFN_ALLOCATE_CONST const
#endif

namespace sdfn {
namespace {

std::atomic<int64_t> cpu_bytes{0}, cpu_peak{0};

void count(int64_t delta) {
  int64_t now = cpu_bytes.fetch_add(delta) + delta;
  int64_t peak = cpu_peak.load();
  while (now > peak && !cpu_peak.compare_exchange_weak(peak, now)) {
  }
}

void free_counted(void* data) {
  if (!data) return;
  count(-static_cast<int64_t>(malloc_usable_size(data)));
  c10::free_cpu(data);
}

// The data pointer is its own context (as c10's default allocator), so raw_allocate works too.
struct CountingCpuAllocator final : at::Allocator {
  at::DataPtr allocate(size_t nbytes) SDFN_ALLOCATE_CONST override {
    void* data = c10::alloc_cpu(nbytes);
    if (data) count(static_cast<int64_t>(malloc_usable_size(data)));
    return {data, data, &free_counted, at::Device(at::DeviceType::CPU)};
  }
  at::DeleterFnPtr raw_deleter() const override { return &free_counted; }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }
};

CountingCpuAllocator counting_allocator;

// [bytes, peak, counted] on the working device.
void stats(int64_t out[3]) {
  at::Device device = working_device();
  out[2] = 1;
  if (!device.is_cuda()) {
    out[0] = cpu_bytes.load();
    out[1] = cpu_peak.load();
    return;
  }
#if SDFN_HAS_CUDA_STATS
  auto index = device.has_index() ? device.index() : c10::cuda::current_device();
  auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  out[0] = s.allocated_bytes[0].current;  // [0]: the aggregate over pool kinds
  out[1] = s.allocated_bytes[0].peak;
#else
  out[0] = out[1] = -1;
  out[2] = 0;
#endif
}

napi_value MemoryStats(napi_env env, napi_callback_info info) {
  SDFN_TRY
  int64_t values[3];
  stats(values);
  napi_value result, counted;
  napi_create_array_with_length(env, 3, &result);
  napi_set_element(env, result, 0, make_number(env, static_cast<double>(values[0])));
  napi_set_element(env, result, 1, make_number(env, static_cast<double>(values[1])));
  napi_get_boolean(env, values[2] != 0, &counted);
  napi_set_element(env, result, 2, counted);
  return result;
  SDFN_CATCH
}

// releaseFreeMemory(): hands the C allocator's free memory back to the system (glibc malloc_trim:
// the free pages inside its heaps too, not only the top). An eager step frees its activations at
// its end, into free lists the allocator keeps: the resident set stays at the eager peak until then.
napi_value ReleaseFreeMemory(napi_env env, napi_callback_info info) {
  malloc_trim(0);
  return nullptr;
}

napi_value ResetMemoryPeak(napi_env env, napi_callback_info info) {
  SDFN_TRY
  cpu_peak.store(cpu_bytes.load());
#if SDFN_HAS_CUDA_STATS
  at::Device device = working_device();
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : c10::cuda::current_device());
#endif
  return nullptr;
  SDFN_CATCH
}

}  // namespace

void count_cpu_tensor_bytes() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  c10::SetCPUAllocator(&counting_allocator, /*priority=*/1);
}

void define_memory_functions(napi_env env, napi_value exports) {
  define_methods(env, exports, {
      method("memoryStats", MemoryStats),
      method("resetMemoryPeak", ResetMemoryPeak),
      method("releaseFreeMemory", ReleaseFreeMemory),
  });
}

}  // namespace sdfn
